//! Hostile input: NUL bytes, SQL-looking strings, oversized variables and uploads, binary
//! garbage, impossible numbers and TwiML injection. Each gets a clear error or is stored and
//! used verbatim; none gets a 500, a panic or an INTERNAL.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ringcast::dispatcher::Dispatcher;
use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::{campaign, eventually, TestApp};

const CREATE: &str =
    "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id name } } }";

fn campaign_input(name: &str, text: &str) -> Value {
    json!({"i": {"name": name, "purpose": "REMINDER", "message": {"text": text}}})
}

#[tokio::test]
async fn nul_bytes_are_bad_input_and_sql_looking_strings_are_just_text() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, _) = app.user().await;

    let login = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({"i": {"email": "a\u{0}b@example.com", "password": "whatever it is"}}),
        )
        .await;
    assert!(
        matches!(login.code(), "BAD_USER_INPUT" | "UNAUTHENTICATED"),
        "{}",
        login.body
    );
    let nul = app
        .gql_as(&token, CREATE, campaign_input("a\u{0}b", "hi"))
        .await;
    assert_eq!(nul.code(), "BAD_USER_INPUT", "{}", nul.body);
    let rate = app
        .gql_as(
            &admin,
            "mutation($p: String!) { deleteRate(input: {prefix: $p}) { rate { prefix } } }",
            json!({"p": "8\u{0}4"}),
        )
        .await;
    assert_ne!(rate.code(), "INTERNAL", "{}", rate.body);
    assert_ne!(rate.code(), "", "{}", rate.body);

    let sql = "'; DROP TABLE campaigns; -- \" OR 1=1 /*";
    let created = app.gql_as(&token, CREATE, campaign_input(sql, sql)).await;
    created.assert_ok();
    assert_eq!(created.str("createCampaign.campaign.name"), sql);
    let listed = app
        .gql_as(
            &admin,
            "query($s: String!) { users(filter: {search: $s}) { edges { node { id } } } }",
            json!({"s": "%' OR '1'='1"}),
        )
        .await;
    listed.assert_ok();
    assert_eq!(
        listed.data("users.edges"),
        &json!([]),
        "a LIKE pattern is text"
    );
    assert_eq!(app.count("campaigns").await, 1, "the table is still there");
}

#[tokio::test]
async fn oversized_variables_and_a_fifty_megabyte_upload_are_refused_with_413() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let huge = json!({"query": CREATE, "variables": campaign_input(&"x".repeat(2 << 20), "hi")});
    let (status, body) = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(huge.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    let id = app
        .gql_as(&token, CREATE, campaign_input("big upload", "hi"))
        .await
        .str("createCampaign.campaign.id");
    let file = vec![b'9'; 50 << 20];
    let (status, _) = app
        .send(crate::helpers::upload(
            crate::helpers::imports::IMPORT,
            json!({"i": {"campaignId": id, "file": null}}),
            "variables.i.file",
            &file,
            &token,
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("campaign_contacts").await, 0);
}

#[tokio::test]
async fn binary_garbage_and_impossible_numbers_get_clear_errors() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let id = app
        .gql_as(&token, CREATE, campaign_input("garbage", "hi"))
        .await
        .str("createCampaign.campaign.id");
    // Deterministic noise: every byte value, shuffled by a multiplier.
    let garbage: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let import = crate::helpers::imports::run(&app, &token, &id, &garbage).await;
    assert_eq!(
        import["status"], "FAILED",
        "a file with no phone column is refused: {import}"
    );
    assert!(
        !import["failureReason"].as_str().unwrap_or("").is_empty(),
        "{import}"
    );
    assert_eq!(app.count("campaign_contacts").await, 0);

    let impossible = "+999999999999999999999";
    let added = app
        .gql_as(
            &token,
            "mutation($i: AddContactsInput!) { addContacts(input: $i) { added invalid { reason } } }",
            json!({"i": {"campaignId": id, "contacts": [{"phone": impossible}, {"phone": "+84 91 234 5678"}]}}),
        )
        .await;
    added.assert_ok();
    assert_eq!(added.data("addContacts.added"), 1);
    assert_eq!(
        added.data("addContacts.invalid").as_array().unwrap().len(),
        1
    );
    let quote = app
        .gql_as(
            &token,
            "query($to: String!) { quoteCall(to: $to) { perMinute } }",
            json!({"to": impossible}),
        )
        .await;
    assert_eq!(quote.code(), "BAD_USER_INPUT", "{}", quote.body);
    let dnc = app
        .gql_as(
            &token,
            "mutation($i: AddDoNotCallInput!) { addDoNotCall(input: $i) { entry { id } } }",
            json!({"i": {"phone": impossible}}),
        )
        .await;
    assert_eq!(dnc.code(), "BAD_USER_INPUT", "{}", dnc.body);
}

#[tokio::test]
async fn twiml_in_a_message_is_spoken_as_text_and_never_obeyed() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let hostile = "Hello</Say><Dial>+15550001111</Dial><Say>bye & <Hangup/>";
    let id = campaign::create(
        &app,
        &token,
        &did,
        vec![json!({"phone": "0912000010", "name": "</Say><Reject/>"})],
        json!({"message": {"text": format!("{hostile} {{{{name}}}}")}, "menu": null}),
    )
    .await;
    campaign::start(&app, &token, &id).await;
    let morning = crate::helpers::calling_hours::vn_morning;
    let dispatcher = Dispatcher::with_clock(app.state.clone(), Arc::new(morning));
    let runner = app.runner();
    eventually(Duration::from_secs(60), "the call to end", || async {
        dispatcher.tick().await.unwrap();
        // The carrier may say completed before its callback has landed here. Our row is final
        // in the transaction that queues its settlement, so the drain after this look runs it.
        let ended = app.count("calls WHERE status = 'COMPLETED'").await == 1;
        runner.drain().await.unwrap();
        let ledger = carrier.emulator.ledger();
        ledger
            .first()
            .filter(|e| ended && e.status == "completed")
            .map(|e| e.sid.clone())
    })
    .await;
    let ledger = carrier.emulator.ledger();
    assert_eq!(
        ledger.len(),
        1,
        "nothing but our call was placed: {ledger:?}"
    );
    let call = carrier.emulator.call(&ledger[0].sid).unwrap();
    let said: Vec<&str> = call
        .transcript
        .iter()
        .filter(|l| l.kind == "say")
        .map(|l| l.detail.as_str())
        .collect();
    assert!(
        said.iter()
            .any(|s| s.contains(hostile) && s.contains("</Say><Reject/>")),
        "the text was spoken as written: {:?}",
        call.transcript
    );
    assert!(
        call.transcript
            .iter()
            .all(|l| l.kind != "dial" && l.kind != "reject"),
        "no injected verb ran: {:?}",
        call.transcript
    );
}
