//! Claims in batches: a campaign's due contacts are taken, gated and recorded together, and the
//! per-number cap and the all-or-nothing record still hold.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::calling_hours::vn_morning;
use crate::helpers::campaign;
use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

fn dispatcher(app: &TestApp) -> Dispatcher {
    Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning))
}

fn dial_counts(carrier: &Carrier) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for entry in carrier.emulator.ledger() {
        *counts.entry(entry.to).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn two_dispatchers_claiming_batches_of_fifty_campaigns_dial_a_shared_number_no_more_than_the_cap(
) {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(5).await;
    // Two a day with no gap: the race between batches, not the gap, must hold the line.
    app.gql_as(
        &admin,
        "mutation { setPlatformCallingCaps(input: {maxPer24h: 2, minGapMinutes: 0}) { caps { maxPer24h } } }",
        json!({}),
    )
    .await
    .assert_ok();
    // On the real clock, as the caps count calls by their real creation time.
    let numbers = numbers_open_now(151);
    let shared = numbers[0].as_str();
    let mut unique = numbers[1..].iter();
    for _user in 0..5 {
        let (token, _, did) = app.user_with_number(&admin, &carrier).await;
        for _ in 0..10 {
            // Every batch holds the shared number among others.
            let mut contacts = vec![json!({"phone": shared})];
            contacts.extend((0..3).map(|_| json!({"phone": unique.next().unwrap()})));
            let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
            campaign::start(&app, &token, &id).await;
        }
    }
    let (a, b) = (
        Dispatcher::new(app.state.clone()),
        Dispatcher::new(app.state.clone()),
    );
    let runner = app.runner();
    eventually(Duration::from_secs(90), "every contact handled", || async {
        let (x, y) = tokio::join!(a.tick(), b.tick());
        x.unwrap();
        y.unwrap();
        runner.drain().await.unwrap();
        let settled = app
            .count(&format!(
                "campaign_contacts WHERE phone <> '{shared}' AND state IN ('DONE', 'FAILED', 'OPTED_OUT')"
            ))
            .await;
        let shared_handled = app
            .count(&format!(
                "campaign_contacts WHERE phone = '{shared}' AND (state = 'DONE' OR skip_reason = 'CAP')"
            ))
            .await;
        (settled == 150 && shared_handled == 50).then_some(())
    })
    .await;
    let counts = dial_counts(&carrier);
    assert_eq!(
        counts.get(shared),
        Some(&2),
        "the carrier rang the shared number exactly as often as the cap allows: {counts:?}"
    );
    assert_eq!(counts.len(), 151);
    assert!(counts.values().all(|n| *n <= 2), "{counts:?}");
    assert_eq!(
        app.count(&format!(
            "campaign_contacts WHERE phone = '{shared}' AND state = 'PENDING' AND skip_reason = 'CAP'"
        ))
        .await,
        48,
        "the other 48 wait for the cap to reopen"
    );
    runner.drain().await.unwrap();
}

#[tokio::test]
async fn a_batch_failing_half_way_leaves_no_call_hold_or_contact_change_behind() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, user_id, did) = app.user_with_number(&admin, &carrier).await;
    let contacts: Vec<Value> = (0..10)
        .map(|i| json!({"phone": format!("0912{i:05}3")}))
        .collect();
    let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
    campaign::start(&app, &token, &id).await;
    // The sixth hold fails, after the batch's calls and five of its holds are written. The
    // sequence is not rolled back with the claim, so the failure happens once.
    app.execute_sql("CREATE SEQUENCE test_holds").await;
    app.execute_sql(
        "CREATE FUNCTION test_fail_sixth_hold() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.kind = 'CALL_HOLD' AND nextval('test_holds') = 6 THEN
                 RAISE EXCEPTION 'injected failure on the sixth hold';
             END IF;
             RETURN NEW;
         END $$",
    )
    .await;
    app.execute_sql(
        "CREATE TRIGGER test_fail_sixth_hold BEFORE INSERT ON ledger_entries
             FOR EACH ROW EXECUTE FUNCTION test_fail_sixth_hold()",
    )
    .await;
    let ledger_before = app.count("ledger_entries").await;
    app.execute_sql(
        "CREATE TABLE test_pacing AS SELECT id, dispatch_next_at FROM campaigns
         UNION ALL SELECT id, dispatch_next_at FROM twilio_accounts",
    )
    .await;

    let dispatcher = dispatcher(&app);
    let failed = dispatcher.tick().await.unwrap_err();
    assert!(
        format!("{failed:#}").contains("injected failure"),
        "{failed:#}"
    );
    assert_eq!(
        app.count("test_holds WHERE last_value = 6").await,
        1,
        "the batch reached the sixth hold"
    );
    assert_eq!(app.count("calls").await, 0, "no call is left");
    assert_eq!(
        app.count("ledger_entries").await,
        ledger_before,
        "no hold is left"
    );
    assert_eq!(
        app.count(&format!(
            "balances WHERE user_id = '{user_id}' AND held = 0"
        ))
        .await,
        1,
        "nothing is held"
    );
    assert_eq!(
        app.count(
            "campaign_contacts WHERE state = 'PENDING' AND attempts = 0 AND skip_reason IS NULL AND next_attempt_at IS NULL"
        )
        .await,
        10,
        "every contact is as it was"
    );
    assert_eq!(app.count("dids WHERE last_used_at IS NOT NULL").await, 0);
    assert_eq!(
        app.count(
            "test_pacing t WHERE t.dispatch_next_at IS DISTINCT FROM COALESCE(
                 (SELECT dispatch_next_at FROM campaigns WHERE id = t.id),
                 (SELECT dispatch_next_at FROM twilio_accounts WHERE id = t.id))"
        )
        .await,
        0,
        "no pacing slot is taken"
    );
    assert!(carrier.emulator.ledger().is_empty(), "nothing was dialed");

    // The next claim takes the same contacts and dials each once.
    let runner = app.runner();
    eventually(
        Duration::from_secs(60),
        "the campaign to complete",
        || async {
            dispatcher.tick().await.unwrap();
            runner.drain().await.unwrap();
            let c = app
                .gql_as(
                    &token,
                    "query($id: ID!) { campaign(id: $id) { status } }",
                    json!({"id": id}),
                )
                .await;
            (c.str("campaign.status") == "COMPLETED").then_some(())
        },
    )
    .await;
    let counts = dial_counts(&carrier);
    assert_eq!(counts.len(), 10);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}
