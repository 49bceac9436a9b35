//! Faults during real campaigns: a carrier that drops, repeats and reorders callbacks and
//! refuses requests, and a dispatcher process killed again and again. Each ends with the same
//! verdict: our calls agree with the carrier's ledger, every charge is right, no number was
//! dialed twice.

use std::time::Duration;

use ringcast::dispatcher::Dispatcher;
use ringcast::emulator::{Faults, Scenario};
use serde_json::{json, Value};

use crate::helpers::app::STARTING_BALANCE;
use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::carrier::Carrier;
use crate::helpers::counters::assert_counters_match_recount;
use crate::helpers::node::Node;
use crate::helpers::verdict::{assert_matches_carrier, set_default_rate};
use crate::helpers::{campaign, eventually, TestApp};

/// Calls whose callbacks went quiet, or whose request's answer was lost, look old enough for
/// reconciliation (which waits minutes in production); then it runs.
async fn reconcile_now(app: &TestApp) {
    app.execute_sql(
        "UPDATE calls SET updated_at = updated_at - interval '30 minutes'
         WHERE status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')
           AND updated_at < now() - interval '5 seconds'",
    )
    .await;
    // A carrier answering 500 leaves that call for the next run; the run itself must not fail.
    if let Err(e) = ringcast::calls::reconcile::run(&app.state).await {
        panic!("reconciliation failed: {e:?}");
    }
}

async fn status(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql_as(
        token,
        "query($id: ID!) { campaign(id: $id) { status contactCounts { total done failed machine pending calling } } }",
        json!({"id": id}),
    )
    .await
    .data("campaign")
    .clone()
}

/// Caps that let a never-placed attempt be retried at once; only one call per number ever
/// reaches the carrier, which is what the verdict checks.
async fn relaxed_caps(app: &TestApp, admin: &str) {
    app.gql_as(
        admin,
        "mutation { setPlatformCallingCaps(input: {maxPer24h: 10, minGapMinutes: 0}) { caps { maxPer24h } } }",
        json!({}),
    )
    .await
    .assert_ok();
}

/// A user with a number and a campaign of `size` contacts in calling hours now, one attempt each
/// (plus the retries of attempts the carrier never saw), priced at the verdict's rate.
async fn ready(size: usize, extra: Value) -> (TestApp, Carrier, String, String, String) {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    relaxed_caps(&app, &admin).await;
    set_default_rate(&app, &admin).await;
    let (token, user, did) = app.user_with_number(&admin, &carrier).await;
    let contacts: Vec<Value> = numbers_open_now(size)
        .into_iter()
        .map(|n| json!({"phone": n}))
        .collect();
    let mut settings = json!({"retry": {"maxAttempts": 1, "retryOn": []}});
    for (k, v) in extra.as_object().into_iter().flatten() {
        settings[k] = v.clone();
    }
    let id = campaign::create(&app, &token, &did, contacts, settings).await;
    (app, carrier, token, user, id)
}

#[tokio::test]
async fn a_2000_call_campaign_through_a_chaotic_carrier_ends_exactly_as_the_carrier_says() {
    let (app, carrier, token, user, id) =
        ready(2000, json!({"answeringMachine": "HANG_UP_ON_MACHINE"})).await;
    // Every outcome, not only answered calls, so each is checked against the carrier's ledger.
    carrier.emulator.set_scenario(Scenario::Random {
        seed: 15,
        busy: 0.1,
        no_answer: 0.1,
        failed: 0.1,
        machine: 0.1,
        digits: Some("1".into()),
    });
    carrier.emulator.set_faults(Faults {
        drop_callbacks: 20.0,
        duplicate_callbacks: 10.0,
        reorder_callbacks: 10.0,
        rest_429: 2.5,
        rest_500: 2.5,
        ..Faults::default()
    });
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::new(app.state.clone());
    let runner = app.runner();
    let done = eventually(
        Duration::from_secs(300),
        "the campaign to complete",
        || async {
            dispatcher.tick().await.unwrap();
            runner.drain().await.unwrap();
            reconcile_now(&app).await;
            runner.drain().await.unwrap();
            let c = status(&app, &token, &id).await;
            (c["status"] == "COMPLETED").then_some(c)
        },
    )
    .await;
    let counts = &done["contactCounts"];
    let count = |state: &str| counts[state].as_i64().unwrap_or(-1);
    assert_eq!(
        count("done") + count("failed") + count("machine"),
        2000,
        "{done}"
    );
    // A contact whose every request the carrier refused (5 % each, three tries: the campaign's
    // one attempt and two more for requests never placed) ends FAILED without ringing; about
    // one run in five has one. Every other contact rang exactly once.
    let unreached = app
        .count(
            "campaign_contacts c WHERE NOT EXISTS \
             (SELECT 1 FROM calls WHERE contact_id = c.id AND twilio_sid IS NOT NULL)",
        )
        .await;
    assert_eq!(
        app.count(
            "campaign_contacts c WHERE state = 'FAILED' AND attempts = 3 AND NOT EXISTS \
             (SELECT 1 FROM calls WHERE contact_id = c.id AND twilio_sid IS NOT NULL)",
        )
        .await,
        unreached,
        "a contact the carrier never rang was tried three times and failed"
    );
    assert!(unreached <= 5, "{unreached} contacts never rang");
    let ledger = carrier.emulator.ledger();
    assert_eq!(ledger.len() as i64, 2000 - unreached);
    for status in ["completed", "busy", "no-answer", "failed"] {
        assert!(
            ledger.iter().any(|c| c.status == status),
            "the mix has {status} calls"
        );
    }
    let machines = ledger
        .iter()
        .filter(|c| {
            c.answered_by
                .as_deref()
                .is_some_and(|a| a.starts_with("machine"))
        })
        .count();
    assert!(machines > 0, "the mix has machines");
    // One attempt each: a contact the carrier's machine answered ends MACHINE, not FAILED.
    assert_eq!(count("machine"), machines as i64, "{done}");
    assert_eq!(
        app.count("calls WHERE answered_by LIKE 'machine%'").await,
        machines as i64,
        "every machine the carrier saw, and no other"
    );
    assert!(
        app.count("calls WHERE twilio_sid IS NULL").await > 0,
        "the carrier refused some requests, so some attempts were never placed"
    );
    assert_matches_carrier(&app, &carrier, &user, STARTING_BALANCE).await;
    assert_counters_match_recount(&app).await;
}

#[tokio::test]
async fn a_dispatcher_killed_five_times_mid_campaign_loses_and_doubles_nothing() {
    // Paced below the claim rate, so recorded attempts are always waiting for their slot when
    // the process dies.
    let (app, carrier, token, user, id) = ready(
        400,
        json!({"pacing": {"callsPerSecond": 10, "maxConcurrent": 25}}),
    )
    .await;
    campaign::start(&app, &token, &id).await;
    for kill in 0..5 {
        let node = Node::worker(&app).await;
        // A random moment: somewhere in the next 10 to 50 calls.
        let target = carrier.emulator.ledger().len() + 10 + rand::random::<u32>() as usize % 40;
        eventually(
            Duration::from_secs(60),
            "the worker to make progress",
            || async { (carrier.emulator.ledger().len() >= target).then_some(()) },
        )
        .await;
        node.kill().await;
        reconcile_now(&app).await;
        eprintln!(
            "kill {}: {} calls placed",
            kill + 1,
            carrier.emulator.ledger().len()
        );
    }
    let last = Node::worker(&app).await;
    let done = eventually(
        Duration::from_secs(120),
        "the campaign to complete",
        || async {
            reconcile_now(&app).await;
            let c = status(&app, &token, &id).await;
            (c["status"] == "COMPLETED").then_some(c)
        },
    )
    .await;
    last.stop().await;
    app.drain_jobs().await;
    assert_eq!(done["contactCounts"]["done"], 400, "{done}");
    assert_eq!(carrier.emulator.ledger().len(), 400);
    assert_matches_carrier(&app, &carrier, &user, STARTING_BALANCE).await;
    assert_counters_match_recount(&app).await;
}
