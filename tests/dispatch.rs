//! Campaigns dialed for real: dispatcher -> emulator over HTTP -> our webhooks -> settled contacts.

use std::sync::Arc;
use std::time::Duration;

use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::calling_hours::vn_morning;
use crate::helpers::carrier::Carrier;
use crate::helpers::{self, campaign};
use crate::helpers::{eventually, TestApp};

async fn ready_campaign(
    app: &TestApp,
    admin: &str,
    carrier: &Carrier,
    contacts: Vec<Value>,
    extra: Value,
) -> (String, String) {
    let (token, _, did) = app.user_with_number(admin, carrier).await;
    let id = campaign::create(app, &token, &did, contacts, extra).await;
    (token, id)
}

async fn drive_until(
    app: &TestApp,
    dispatcher: &Dispatcher,
    token: &str,
    id: &str,
    want: &str,
) -> Value {
    let runner = app.runner();
    eventually(Duration::from_secs(120), "the campaign to finish", || async {
        dispatcher.tick().await.unwrap();
        runner.drain().await.unwrap();
        let c = app.gql_as(token, "query($id: ID!) { campaign(id: $id) { status contactCounts { total done failed machine optedOut skipped pending calling } } }", json!({"id": id})).await;
        (c.str("campaign.status") == want).then(|| c.data("campaign").clone())
    })
    .await
}

#[tokio::test]
async fn a_campaign_runs_to_completion_and_matches_the_carriers_ledger() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    // 100 numbers per emulator scenario (the last digit picks the outcome).
    let contacts: Vec<Value> = (0..1000)
        .map(|i| json!({"phone": format!("0912{i:06}"), "name": format!("Khách {i}"), "vars": {"time": "9:00"}}))
        .collect();
    let (token, id) = ready_campaign(&app, &admin, &carrier, contacts, json!({})).await;
    // A live dashboard listens before the start.
    let mut socket = app
        .subscribe_as(
            &token,
            &format!("subscription {{ callUpdated(campaignId: \"{id}\") {{ id status to }} }}"),
        )
        .await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let campaign = drive_until(&app, &dispatcher, &token, &id, "COMPLETED").await;

    let ledger = carrier.emulator.ledger();
    assert_eq!(ledger.len(), 1000, "every contact dialed exactly once");
    let mut dialed: Vec<&str> = ledger.iter().map(|e| e.to.as_str()).collect();
    dialed.sort();
    dialed.dedup();
    assert_eq!(dialed.len(), 1000, "no number dialed twice");
    // Outcomes by last digit: 3 busy, 4 no answer, 5 failed; 7 presses 9 (opt-out); the rest answer.
    let counts = &campaign["contactCounts"];
    assert_eq!(counts["total"], 1000);
    assert_eq!(counts["failed"], 300, "{campaign}");
    assert_eq!(counts["optedOut"], 100, "{campaign}");
    assert_eq!(counts["done"], 600, "{campaign}");

    // Our calls agree with the carrier's ledger, call by call.
    let mut conn = app.state.db.get().await.unwrap();
    for entry in &ledger {
        let status: String = diesel_async::RunQueryDsl::get_result(
            diesel::sql_query("SELECT status FROM calls WHERE twilio_sid = $1")
                .bind::<diesel::sql_types::Text, _>(&entry.sid),
            &mut conn,
        )
        .await
        .map(|r: StatusRow| r.status)
        .unwrap();
        assert_eq!(
            status,
            entry.status.to_uppercase().replace('-', "_"),
            "{}",
            entry.to
        );
    }
    // The message was spoken with the contact's variables, and the opt-outs are on the list.
    let answered = ledger.iter().find(|e| e.to.ends_with('1')).unwrap();
    let said = carrier.emulator.call(&answered.sid).unwrap().transcript;
    assert!(
        said.iter().any(|l| l.kind == "say"
            && l.detail.starts_with("Chào Khách")
            && l.detail.contains("9:00")),
        "{said:?}"
    );
    let dnc = app
        .gql_as(
            &token,
            "{ doNotCallEntries(first: 500) { edges { node { phone source } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        dnc.data("doNotCallEntries.edges").as_array().unwrap().len(),
        100
    );

    // The calls, their timelines and keypresses, as the owner sees them.
    let calls = app
        .gql_as(&token, "query($c: ID!) { calls(first: 500, filter: {campaignId: $c}) { pageInfo { hasNextPage } edges { node { id to status durationSecs digits events { status applied } } } } }", json!({"c": id}))
        .await;
    calls.assert_ok();
    let edges = calls.data("calls.edges").as_array().unwrap();
    assert_eq!(edges.len(), 500);
    assert_eq!(calls.data("calls.pageInfo.hasNextPage"), true);
    let pressed_nine = edges
        .iter()
        .filter(|e| e["node"]["digits"] == json!(["9"]))
        .count();
    assert_eq!(pressed_nine, 50);
    let call_id = edges[0]["node"]["id"].as_str().unwrap().to_owned();
    let (_, _, stranger, _) = app.user().await;
    assert_eq!(
        app.gql_as(
            &stranger,
            "query($id: ID!) { call(id: $id) { id } }",
            json!({"id": call_id})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql_as(
            &stranger,
            "query($c: ID!) { calls(filter: {campaignId: $c}) { edges { cursor } } }",
            json!({"c": id})
        )
        .await
        .code(),
        "NOT_FOUND"
    );
    // The CSV export streams every call of the campaign behind a signed, expiring link.
    let export = app
        .gql_as(
            &token,
            "mutation($c: ID!) { exportCalls(input: {filter: {campaignId: $c}}) { url expiresAt } }",
            json!({"c": id}),
        )
        .await;
    let url = export.str("exportCalls.url");
    let path = url.strip_prefix(&*app.state.public_url).unwrap().to_owned();
    let (status, body) = app
        .send(
            axum::http::Request::get(&path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK);
    let csv = String::from_utf8(body).unwrap();
    assert_eq!(csv.lines().count(), 1001, "a header and 1,000 calls");
    assert!(csv.starts_with("id,campaign_id,direction,from,to,status"));
    let forged = path.replace("sig=", "sig=AAAA");
    let (status, _) = app
        .send(
            axum::http::Request::get(&forged)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::FORBIDDEN);
    let theirs = app
        .gql_as(
            &stranger,
            "mutation($c: ID!) { exportCalls(input: {filter: {campaignId: $c}}) { url } }",
            json!({"c": id}),
        )
        .await;
    assert_eq!(theirs.code(), "NOT_FOUND");

    let stats = app
        .gql_as(&token, "query($id: ID!) { campaign(id: $id) { stats { attempts answered busy noAnswer failed machine optedOut answerRate estimatedSecondsLeft contacts { done } } } }", json!({"id": id}))
        .await;
    let stats = stats.data("campaign.stats");
    assert_eq!(
        (
            stats["attempts"].as_i64(),
            stats["answered"].as_i64(),
            stats["busy"].as_i64(),
            stats["noAnswer"].as_i64(),
            stats["failed"].as_i64()
        ),
        (Some(1000), Some(700), Some(100), Some(100), Some(100)),
        "{stats}"
    );
    // The same figures, counted from the carrier's side.
    let carrier_count = |status: &str| ledger.iter().filter(|e| e.status == status).count() as i64;
    assert_eq!(
        (
            stats["answered"].as_i64(),
            stats["busy"].as_i64(),
            stats["noAnswer"].as_i64(),
            stats["failed"].as_i64()
        ),
        (
            Some(carrier_count("completed")),
            Some(carrier_count("busy")),
            Some(carrier_count("no-answer")),
            Some(carrier_count("failed"))
        )
    );
    assert_eq!(stats["answerRate"], 0.7);
    assert_eq!(stats["optedOut"], 100);
    assert!(
        stats["estimatedSecondsLeft"].is_null(),
        "a completed campaign has nothing left"
    );
    let event = socket.next_payload(Duration::from_secs(10)).await;
    assert!(
        event["data"]["callUpdated"]["to"]
            .as_str()
            .unwrap()
            .starts_with("+84912"),
        "{event}"
    );
}

#[derive(diesel::QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
}

#[tokio::test]
async fn an_opt_out_blocks_every_later_campaign_of_that_user() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    // Ends in 7: the emulator's callee presses 9, the opt-out key.
    let (token, first) = ready_campaign(
        &app,
        &admin,
        &carrier,
        vec![json!({"phone": "0912345677"})],
        json!({}),
    )
    .await;
    campaign::start(&app, &token, &first).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    drive_until(&app, &dispatcher, &token, &first, "COMPLETED").await;

    let did = app
        .gql_as(&token, "{ myDids { edges { node { id } } } }", json!({}))
        .await
        .data("myDids.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app
        .gql_as(
            &token,
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
            json!({"i": {"name": "again", "purpose": "SURVEY", "message": {"text": "hi"}, "callerIds": [did],
                "consent": {"basis": "EXPRESS_ORAL", "source": "call", "collectedAt": "2026-01-01T00:00:00Z"}}}),
        )
        .await
        .str("createCampaign.campaign.id");
    app.gql_as(
        &token,
        "mutation($i: AddContactsInput!) { addContacts(input: $i) { added } }",
        json!({"i": {"campaignId": second, "contacts": [{"phone": "+84912345677"}]}}),
    )
    .await
    .assert_ok();
    campaign::start(&app, &token, &second).await;
    let mut socket = app.ws_as(&token).await;
    socket
        .subscribe("p", &format!("subscription {{ campaignProgress(campaignId: \"{second}\") {{ campaignId contacts {{ total pending }} }} }}"))
        .await;
    let snapshot = socket.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        snapshot["data"]["campaignProgress"]["campaignId"],
        second.as_str(),
        "{snapshot}"
    );
    assert_eq!(snapshot["data"]["campaignProgress"]["contacts"]["total"], 1);
    let done = drive_until(&app, &dispatcher, &token, &second, "COMPLETED").await;
    assert_eq!(done["contactCounts"]["skipped"], 1, "{done}");
    let contact = app
        .gql_as(
            &token,
            "query($id: ID!) { contacts(campaignId: $id) { edges { node { state skipReason } } } }",
            json!({"id": second}),
        )
        .await;
    assert_eq!(
        contact.data("contacts.edges")[0]["node"]["skipReason"],
        "DNC"
    );
    assert_eq!(
        carrier.emulator.ledger().len(),
        1,
        "the second campaign never dialed"
    );
}

async fn pause_reason(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql_as(
        token,
        "query($id: ID!) { campaign(id: $id) { pauseReason } }",
        json!({"id": id}),
    )
    .await
    .data("campaign.pauseReason")
    .clone()
}

#[tokio::test]
async fn a_contact_whose_call_reached_a_machine_ends_machine_not_failed() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    // Last digit 6: a machine answers; 1: a person; 5: the call fails.
    let contacts = ["0915000006", "0915000016", "0915000001", "0915000005"]
        .map(|phone| json!({"phone": phone}))
        .to_vec();
    let settings = json!({
        "answeringMachine": "HANG_UP_ON_MACHINE",
        "retry": {"maxAttempts": 1, "retryOn": []}
    });
    let (token, id) = ready_campaign(&app, &admin, &carrier, contacts, settings).await;
    campaign::start(&app, &token, &id).await;
    let done = drive_until(&app, &dispatcher, &token, &id, "COMPLETED").await;
    let counts = &done["contactCounts"];
    assert_eq!(
        [
            &counts["machine"],
            &counts["done"],
            &counts["failed"],
            &counts["total"]
        ],
        [&json!(2), &json!(1), &json!(1), &json!(4)],
        "{done}"
    );
    let listed = app
        .gql_as(
            &token,
            "query($id: ID!) {
               contacts(campaignId: $id, filter: {states: [MACHINE]}) { totalCount edges { node { phone state lastOutcome } } }
               campaign(id: $id) { stats { machine answered contacts { machine } } }
             }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(listed.data("contacts.totalCount"), 2, "{:?}", listed.body);
    for edge in listed
        .data("contacts.edges")
        .as_array()
        .into_iter()
        .flatten()
    {
        assert_eq!(edge["node"]["state"], "MACHINE");
        assert_eq!(edge["node"]["lastOutcome"], "MACHINE");
    }
    let stats = listed.data("campaign.stats");
    assert_eq!(
        [
            &stats["machine"],
            &stats["answered"],
            &stats["contacts"]["machine"]
        ],
        [&json!(2), &json!(1), &json!(2)],
        "{stats}"
    );
    crate::helpers::counters::assert_counters_match_recount(&app).await;
}

#[tokio::test]
async fn a_campaign_pauses_itself_when_most_calls_fail_or_its_account_is_suspended() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    // Numbers ending in 5 fail at the carrier.
    let failing: Vec<Value> = (0..40)
        .map(|i| json!({"phone": format!("0912345{i:02}5")}))
        .collect();
    let (token, id) = ready_campaign(
        &app,
        &admin,
        &carrier,
        failing,
        json!({"pacing": {"callsPerSecond": 50, "maxConcurrent": 1}}),
    )
    .await;
    campaign::start(&app, &token, &id).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let paused = drive_until(&app, &dispatcher, &token, &id, "PAUSED").await;
    assert_eq!(pause_reason(&app, &token, &id).await, "FAILURE_RATE");
    assert!(
        paused["contactCounts"]["pending"].as_i64().unwrap() > 0,
        "it stopped before the list was burned: {paused}"
    );
    // In-flight calls end; nothing new is dialed while paused.
    let dialed = assert_quiet(&app, &dispatcher, &carrier).await;

    // A second campaign, healthy numbers, but its Twilio account is suspended.
    let (token2, second) = ready_campaign(
        &app,
        &admin,
        &carrier,
        vec![json!({"phone": "0912345001"})],
        json!({}),
    )
    .await;
    campaign::start(&app, &token2, &second).await;
    app.execute_sql("UPDATE twilio_accounts SET status = 'SUSPENDED'")
        .await;
    drive_until(&app, &dispatcher, &token2, &second, "PAUSED").await;
    assert_eq!(
        pause_reason(&app, &token2, &second).await,
        "TWILIO_ACCOUNT_SUSPENDED"
    );
    let contact = app
        .gql_as(
            &token2,
            "query($id: ID!) { contacts(campaignId: $id) { edges { node { state skipReason } } } }",
            json!({"id": second}),
        )
        .await;
    assert_eq!(
        contact.data("contacts.edges")[0]["node"]["state"],
        "PENDING",
        "the contact waits for the account rather than being skipped"
    );
    assert_eq!(carrier.emulator.ledger().len(), dialed);
}

async fn act(app: &TestApp, token: &str, mutation: &str, id: &str) {
    app.gql_as(
        token,
        &format!(
            "mutation($i: {}!) {{ {mutation}(input: $i) {{ campaign {{ status }} }} }}",
            helpers::input_type(mutation)
        ),
        json!({"i": {"id": id}}),
    )
    .await
    .assert_ok();
}

/// Ticks and settles until the carrier has seen at least `calls` calls in all.
async fn dial_until(app: &TestApp, dispatcher: &Dispatcher, carrier: &Carrier, calls: usize) {
    let runner = app.runner();
    eventually(Duration::from_secs(30), "calls to be placed", || async {
        dispatcher.tick().await.unwrap();
        runner.drain().await.unwrap();
        (carrier.emulator.ledger().len() >= calls).then_some(())
    })
    .await;
}

/// Waits for every call to end and be settled, then checks a few more ticks dial nothing.
async fn assert_quiet(app: &TestApp, dispatcher: &Dispatcher, carrier: &Carrier) -> usize {
    let runner = app.runner();
    eventually(
        Duration::from_secs(10),
        "in-flight calls to end",
        || async {
            // Looked at before the drain: a call that ends in between has its settlement
            // queued by then (same transaction), and the drain runs it.
            let open = app.count("calls WHERE ended_at IS NULL").await;
            runner.drain().await.unwrap();
            (open == 0).then_some(())
        },
    )
    .await;
    let dialed = carrier.emulator.ledger().len();
    for _ in 0..3 {
        dispatcher.tick().await.unwrap();
    }
    assert_eq!(
        carrier.emulator.ledger().len(),
        dialed,
        "nothing dialed while stopped"
    );
    dialed
}

#[tokio::test]
async fn pause_stops_new_calls_resume_continues_cancel_stops_and_retries_follow_the_policy() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(3).await;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(vn_morning));
    let slow = json!({"pacing": {"callsPerSecond": 50, "maxConcurrent": 1}});

    // Pause and resume: every contact is still called exactly once.
    let answered: Vec<Value> = (0..30)
        .map(|i| json!({"phone": format!("0912{i:05}1")}))
        .collect();
    let (token, id) = ready_campaign(&app, &admin, &carrier, answered, slow.clone()).await;
    campaign::start(&app, &token, &id).await;
    dial_until(&app, &dispatcher, &carrier, 5).await;
    act(&app, &token, "pauseCampaign", &id).await;
    assert_eq!(pause_reason(&app, &token, &id).await, "MANUAL");
    let at_pause = assert_quiet(&app, &dispatcher, &carrier).await;
    assert!(at_pause < 30, "paused before the end");
    act(&app, &token, "resumeCampaign", &id).await;
    drive_until(&app, &dispatcher, &token, &id, "COMPLETED").await;
    let ledger = carrier.emulator.ledger();
    let mut dialed: Vec<&str> = ledger.iter().map(|e| e.to.as_str()).collect();
    dialed.sort_unstable();
    dialed.dedup();
    assert_eq!((ledger.len(), dialed.len()), (30, 30));

    // Cancel: nothing more is dialed, ever.
    let more: Vec<Value> = (0..30)
        .map(|i| json!({"phone": format!("0913{i:05}1")}))
        .collect();
    let (token2, cancelled) = ready_campaign(&app, &admin, &carrier, more, slow).await;
    campaign::start(&app, &token2, &cancelled).await;
    dial_until(&app, &dispatcher, &carrier, 33).await;
    act(&app, &token2, "cancelCampaign", &cancelled).await;
    let at_cancel = assert_quiet(&app, &dispatcher, &carrier).await;
    assert!(at_cancel < 60);
    let resumed = app
        .gql_as(
            &token2,
            "mutation($i: ResumeCampaignInput!) { resumeCampaign(input: $i) { campaign { status } } }",
            json!({"i": {"id": cancelled}}),
        )
        .await;
    assert_eq!(resumed.code(), "CONFLICT");

    // Retries: BUSY is retried once more after the delay; NO_ANSWER and FAILED are not.
    let before = carrier.emulator.ledger().len();
    let (token3, retried) = ready_campaign(
        &app,
        &admin,
        &carrier,
        vec![
            json!({"phone": "0914000003"}),
            json!({"phone": "0914000013"}),
            json!({"phone": "0914000004"}),
            json!({"phone": "0914000005"}),
        ],
        json!({"retry": {"maxAttempts": 2, "retryOn": ["BUSY"], "delaySecs": 60}}),
    )
    .await;
    campaign::start(&app, &token3, &retried).await;
    dial_until(&app, &dispatcher, &carrier, before + 4).await;
    assert_quiet(&app, &dispatcher, &carrier).await;
    let waiting = app
        .count("campaign_contacts WHERE state = 'PENDING' AND next_attempt_at > now() + interval '30 seconds'")
        .await;
    assert_eq!(waiting, 2, "the busy numbers wait out the delay");
    // Two mornings on, the delay is long past at any hour (vn_morning is up to a day behind
    // the real clock that stamped it), and the caps allow a second call.
    let tomorrow = Dispatcher::with_clock(
        app.state.clone(),
        Arc::new(|| vn_morning() + chrono::Duration::days(2)),
    );
    let done = drive_until(&app, &tomorrow, &token3, &retried, "COMPLETED").await;
    let ledger = carrier.emulator.ledger();
    let calls_to = |n: &str| ledger[before..].iter().filter(|e| e.to == n).count();
    assert_eq!(
        (
            calls_to("+84914000003"),
            calls_to("+84914000013"),
            calls_to("+84914000004"),
            calls_to("+84914000005")
        ),
        (2, 2, 1, 1),
        "{done}"
    );
    assert_eq!(done["contactCounts"]["failed"], 4, "{done}");
}
