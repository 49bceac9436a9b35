//! The platform's per-number cap counts every tenant's calls; what a tenant is told about a
//! deferral must not give away when another tenant called.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Timelike, Utc};
use ringcast::dispatcher::Dispatcher;
use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, eventually, TestApp};

#[tokio::test]
async fn a_cap_deferral_does_not_reveal_another_tenants_call_time() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let (_, other, _) = app.user_with_number(&admin, &carrier).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    // 10:00 in Vietnam, inside the reminder window.
    let today = Utc::now().date_naive();
    let now = Utc.from_utc_datetime(&today.and_hms_opt(3, 0, 0).unwrap());

    // The other tenant called the number 20 minutes and 17 seconds ago.
    let target = "+84912345671";
    let account: String = {
        #[derive(diesel::QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Text)]
            id: String,
        }
        let mut conn = app.state.db.get().await.unwrap();
        let id: Id = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query("SELECT id::text AS id FROM twilio_accounts WHERE account_sid = $1")
                .bind::<diesel::sql_types::Text, _>(&carrier.account_sid),
            &mut conn,
        )
        .await
        .unwrap();
        id.id
    };
    let their_call_at = now - chrono::Duration::seconds(20 * 60 + 17);
    let call = app
        .call_row(&other, &account, &carrier.numbers()[0], target, 0)
        .await;
    app.execute_sql(&format!(
        "UPDATE calls SET created_at = '{}' WHERE id = '{call}'",
        their_call_at.to_rfc3339()
    ))
    .await;

    let id = campaign::create(
        &app,
        &token,
        &did,
        vec![json!({"phone": target, "vars": {"time": "9:00"}})],
        json!({}),
    )
    .await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(move || now));
    let contact = eventually(Duration::from_secs(30), "the cap to defer the contact", || async {
        dispatcher.tick().await.unwrap();
        let r = app
            .gql_as(
                &token,
                "query($c: ID!) { contacts(campaignId: $c) { edges { node { state skipReason nextAttemptAt } } } }",
                json!({"c": id}),
            )
            .await;
        let node = r.data("contacts.edges")[0]["node"].clone();
        (node["skipReason"] == "CAP").then_some(node)
    })
    .await;
    assert_eq!(contact["state"], "PENDING");
    assert!(carrier.emulator.ledger().is_empty(), "nothing was dialed");

    let next: DateTime<Utc> = contact["nextAttemptAt"].as_str().unwrap().parse().unwrap();
    let exact = their_call_at + chrono::Duration::hours(1);
    assert_ne!(
        next, exact,
        "the deferral is not their call time plus the gap"
    );
    assert!(next > exact, "and never earlier than the cap allows");
    assert!(
        next - exact <= chrono::Duration::minutes(15),
        "within a quarter hour of it: {next}"
    );
    assert_eq!(
        (next.minute() % 15, next.second(), next.nanosecond()),
        (0, 0, 0),
        "on the quarter-hour grid: {next}"
    );
}
