//! Balances against real campaigns: holds under concurrent dispatchers, charges to the đồng.

use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::vn_morning;
use crate::helpers::campaign;
use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

#[derive(QueryableByName)]
struct Sums {
    #[diesel(sql_type = BigInt)]
    posted: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    ledger_posted: i64,
    #[diesel(sql_type = BigInt)]
    ledger_held: i64,
    #[diesel(sql_type = BigInt)]
    lowest_available: i64,
}

async fn sums(app: &TestApp, user: &str) -> Sums {
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query(
        "SELECT b.posted, b.held,
                (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE user_id = b.user_id) AS ledger_posted,
                (SELECT coalesce(sum(held_change), 0)::bigint FROM ledger_entries WHERE user_id = b.user_id) AS ledger_held,
                (SELECT coalesce(min(available_after), 0)::bigint FROM ledger_entries WHERE user_id = b.user_id) AS lowest_available
         FROM balances b WHERE b.user_id = $1::uuid",
    )
    .bind::<Text, _>(user)
    .get_result(&mut conn)
    .await
    .unwrap()
}

async fn set_rate(app: &TestApp, admin: &str, rate: Value) {
    app.gql_as(
        admin,
        "mutation($i: SetRateInput!) { setRate(input: $i) { rate { prefix } } }",
        json!({ "i": rate }),
    )
    .await
    .assert_ok();
}

/// The price list written out independently of the server's code: (per minute, first
/// increment, next increments, connection fee).
fn expected_charge(rate: (i64, i64, i64, i64), duration: i64) -> i64 {
    let (per_minute, first, step, fee) = rate;
    let billed = match duration {
        0 => 0,
        d if d <= first => first,
        d => first + ((d - first) as f64 / step as f64).ceil() as i64 * step,
    };
    ((billed * per_minute) as f64 / 60.0).ceil() as i64 + fee
}

#[tokio::test]
async fn a_completed_campaign_is_charged_what_the_rates_and_the_carriers_durations_say() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    set_rate(&app, &admin, json!({"prefix": "84", "perMinute": 1200, "initialIncrement": 6, "billingIncrement": 6, "connectionFee": 100})).await;
    set_rate(&app, &admin, json!({"prefix": "8491", "perMinute": 1500, "initialIncrement": 60, "billingIncrement": 60})).await;
    let (token, user_id, did) = app.user_with_number(&admin, &carrier).await;
    let before = sums(&app, &user_id).await.posted;
    let contacts: Vec<Value> = (0..100)
        .map(|i| {
            // Half Viettel (+8491...), half on the wider +84 rate.
            let phone = if i % 2 == 0 {
                format!("0912{i:06}")
            } else {
                format!("0389{i:06}")
            };
            json!({"phone": phone, "name": "Khách", "vars": {"time": "9:00"}})
        })
        .collect();
    let id = campaign::create(&app, &token, &did, contacts, json!({})).await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let runner = app.runner();
    let stats = eventually(
        Duration::from_secs(120),
        "the campaign to complete",
        || async {
            dispatcher.tick().await.unwrap();
            runner.drain().await.unwrap();
            let c = app
                .gql_as(
                    &token,
                    "query($id: ID!) { campaign(id: $id) { status stats { cost } } }",
                    json!({"id": id}),
                )
                .await;
            (c.str("campaign.status") == "COMPLETED").then(|| c.data("campaign.stats").clone())
        },
    )
    .await;

    #[derive(QueryableByName)]
    struct Charged {
        #[diesel(sql_type = BigInt)]
        charged: i64,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let mut expected_total = 0;
    let ledger = carrier.emulator.ledger();
    assert_eq!(ledger.len(), 100);
    for entry in &ledger {
        let rate = if entry.to.starts_with("+8491") {
            (1500, 60, 60, 0)
        } else {
            (1200, 6, 6, 100)
        };
        let expected = expected_charge(rate, i64::from(entry.duration.unwrap_or(0)));
        let charged: Charged = diesel::sql_query(
            "SELECT coalesce(-sum(l.amount), 0)::bigint AS charged FROM ledger_entries l
             JOIN calls c ON c.id = l.call_id WHERE c.twilio_sid = $1 AND l.kind = 'CALL_CHARGE'",
        )
        .bind::<Text, _>(&entry.sid)
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(charged.charged, expected, "{entry:?}");
        expected_total += expected;
    }
    assert!(expected_total > 0);
    assert_eq!(stats["cost"], expected_total);
    let after = sums(&app, &user_id).await;
    assert_eq!(after.posted, before - expected_total, "charged to the đồng");
    assert_eq!(after.held, 0, "every hold released");
    assert_eq!(after.posted, after.ledger_posted);
    assert_eq!(after.held, after.ledger_held);
    let me = app
        .gql_as(
            &token,
            "{ me { balance { posted available held } } }",
            json!({}),
        )
        .await;
    assert_eq!(me.data("me.balance.available"), &json!(after.posted));
}

#[tokio::test]
async fn fifty_campaigns_dispatching_at_once_never_take_the_available_balance_below_zero() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    // Default rate 1,000 VND/min and 600 s calls: each call holds 10,000 VND.
    let (token, user_id, did) = app.user_with_number(&admin, &carrier).await;
    app.credit(&user_id, 55_000 - crate::helpers::app::STARTING_BALANCE)
        .await;
    let mut ids = Vec::new();
    for c in 0..50 {
        let contacts: Vec<Value> = (0..4)
            .map(|i| json!({"phone": format!("0913{c:03}{i:03}"), "name": "Khách", "vars": {"time": "9:00"}}))
            .collect();
        ids.push(campaign::create(&app, &token, &did, contacts, json!({})).await);
    }
    for id in &ids {
        campaign::start(&app, &token, id).await;
    }
    // Two dispatchers claim at the same time, as two worker processes would.
    let dispatchers: Vec<Dispatcher> = (0..2)
        .map(|_| Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning)))
        .collect();
    let runner = app.runner();
    let paused = eventually(
        Duration::from_secs(180),
        "every campaign to stop",
        || async {
            let (a, b) = tokio::join!(dispatchers[0].tick(), dispatchers[1].tick());
            a.unwrap();
            b.unwrap();
            runner.drain().await.unwrap();
            let s = sums(&app, &user_id).await;
            assert!(s.posted - s.held >= 0, "available went below zero");
            let r = app
                .gql_as(
                    &token,
                    "{ campaigns(first: 100) { edges { node { status pauseReason } } } }",
                    json!({}),
                )
                .await;
            let nodes: Vec<Value> = r
                .data("campaigns.edges")
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .collect();
            let done = nodes
                .iter()
                .all(|n| n["status"] == "COMPLETED" || n["status"] == "PAUSED");
            (done && s.held == 0).then(|| {
                nodes
                    .iter()
                    .filter(|n| n["pauseReason"] == "INSUFFICIENT_BALANCE")
                    .count()
            })
        },
    )
    .await;
    // The last call's final callback can land after the loop's drain, its settle job with it.
    runner.drain().await.unwrap();
    assert!(paused > 0, "the balance ran out before the lists did");
    assert!(
        app.count("campaign_contacts WHERE skip_reason = 'BALANCE' AND state = 'PENDING'")
            .await
            > 0,
        "contacts stopped by the balance say so and wait"
    );
    let end = sums(&app, &user_id).await;
    assert!(
        end.lowest_available >= 0,
        "no entry left available below zero"
    );
    assert_eq!(
        end.posted, end.ledger_posted,
        "posted balance is the sum of the ledger"
    );
    assert_eq!(end.held, end.ledger_held);
    assert!(end.posted < 55_000 && end.posted >= 0, "{}", end.posted);
    let quote = app
        .gql_as(
            &token,
            "{ quoteCall(to: \"0912345678\") { to hold firstMinute maxDurationSecs } }",
            json!({}),
        )
        .await;
    assert_eq!(quote.data("quoteCall.hold"), &json!(10_000));
    assert_eq!(quote.data("quoteCall.to"), &json!("+84912345678"));
}
