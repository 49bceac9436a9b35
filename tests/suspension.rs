//! A suspended user's campaigns stop at once: nothing more is dialed, not even calls already
//! claimed and waiting for their pacing slot, and lifting the suspension does not restart them.

use std::sync::Arc;
use std::time::Duration;

use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::vn_morning;
use crate::helpers::campaign;
use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

const CAMPAIGN: &str =
    "query($id: ID!) { campaign(id: $id) { status pauseReason contactCounts { pending done } } }";

const RESUME: &str =
    "mutation($i: ResumeCampaignInput!) { resumeCampaign(input: $i) { campaign { status } } }";

async fn set_status(app: &TestApp, admin: &str, user: &str, status: &str) {
    app.gql_as(
        admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { status } } }",
        json!({"i": {"id": user, "status": status}}),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn suspending_a_user_stops_their_running_campaign_at_once_and_lifting_it_does_not_resume() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, owner, did) = app.user_with_number(&admin, &carrier).await;
    let email = app
        .gql_as(&token, "{ me { email } }", json!({}))
        .await
        .str("me.email");
    let contacts: Vec<Value> = (0..30)
        .map(|i| json!({"phone": format!("0912{i:05}1")}))
        .collect();
    // Slow pacing: one tick claims every contact due within the next 30 s, each waiting for
    // its slot; those waiting must not go out once the owner is suspended.
    let slow = json!({"pacing": {"callsPerSecond": 5, "maxConcurrent": 50}});
    let id = campaign::create(&app, &token, &did, contacts, slow).await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let runner = app.runner();
    eventually(Duration::from_secs(20), "the first call", || async {
        dispatcher.tick().await.unwrap();
        (!carrier.emulator.ledger().is_empty()).then_some(())
    })
    .await;

    set_status(&app, &admin, &owner, "SUSPENDED").await;
    let at_suspension = carrier.emulator.ledger().len();
    let c = app.gql_as(&admin, CAMPAIGN, json!({"id": id})).await;
    assert_eq!(c.str("campaign.status"), "PAUSED", "{}", c.body);
    assert_eq!(c.str("campaign.pauseReason"), "OWNER_SUSPENDED");
    // Nobody, not even an admin, restarts it while the owner is suspended.
    let resumed = app.gql_as(&admin, RESUME, json!({"i": {"id": id}})).await;
    assert!(
        resumed.message().contains("OWNER_SUSPENDED"),
        "{}",
        resumed.body
    );

    // Every claimed call ends (placed ones finish, waiting ones are closed unplaced), and
    // the dispatcher keeps ticking meanwhile.
    eventually(Duration::from_secs(30), "claimed calls to end", || async {
        dispatcher.tick().await.unwrap();
        runner.drain().await.unwrap();
        (app.count("calls WHERE ended_at IS NULL").await == 0).then_some(())
    })
    .await;
    runner.drain().await.unwrap();
    let after = carrier.emulator.ledger().len();
    // One request may have been on the wire as the suspension committed.
    assert!(
        after <= at_suspension + 1,
        "{at_suspension} calls at suspension, {after} after"
    );
    let c = app.gql_as(&admin, CAMPAIGN, json!({"id": id})).await;
    assert!(
        c.data("campaign.contactCounts.pending").as_i64().unwrap() >= 30 - after as i64,
        "contacts not called keep their turn: {}",
        c.body
    );

    // Lifting the suspension leaves the campaign paused for its owner to resume.
    set_status(&app, &admin, &owner, "ACTIVE").await;
    for _ in 0..3 {
        dispatcher.tick().await.unwrap();
    }
    assert_eq!(carrier.emulator.ledger().len(), after);
    let c = app.gql_as(&admin, CAMPAIGN, json!({"id": id})).await;
    assert_eq!(c.str("campaign.status"), "PAUSED");
    assert_eq!(c.str("campaign.pauseReason"), "OWNER_SUSPENDED");

    // The owner resumes: every contact is dialed exactly once in all.
    let (token, _) = app.tokens(&email, "a good password").await;
    app.gql_as(&token, RESUME, json!({"i": {"id": id}}))
        .await
        .assert_ok();
    // Contacts whose call was closed unplaced are due again from the real "now", past the
    // fixed morning: judge the rest of the run tomorrow morning.
    let tomorrow = Dispatcher::with_clock(
        app.state.clone(),
        Arc::new(|| vn_morning() + chrono::Duration::days(1)),
    );
    eventually(
        Duration::from_secs(60),
        "the campaign to finish",
        || async {
            tomorrow.tick().await.unwrap();
            runner.drain().await.unwrap();
            let c = app.gql_as(&token, CAMPAIGN, json!({"id": id})).await;
            (c.str("campaign.status") == "COMPLETED").then_some(())
        },
    )
    .await;
    let ledger = carrier.emulator.ledger();
    let mut dialed: Vec<&str> = ledger.iter().map(|e| e.to.as_str()).collect();
    dialed.sort_unstable();
    dialed.dedup();
    assert_eq!((ledger.len(), dialed.len()), (30, 30));
}
