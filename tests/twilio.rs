//! Twilio accounts, phone numbers and webhooks, against the emulator over HTTP.

use std::time::Duration;

use axum::http::StatusCode;
use diesel_async::RunQueryDsl;
use ringcast::twilio::types::CreateCall;
use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::{eventually, TestApp};

const ACCOUNT_FIELDS: &str = "id name accountSid authTokenLast4 apiBaseUrl callsPerSecond status isSimulated balance lastError";

#[tokio::test]
async fn accounts_are_added_tested_and_synced_and_the_token_never_leaves() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(3).await;
    let id = app.add_carrier_account(&admin, &carrier).await;

    let account = app
        .gql_as(
            &admin,
            &format!("query($id: ID!) {{ twilioAccount(id: $id) {{ {ACCOUNT_FIELDS} }} }}"),
            json!({"id": id}),
        )
        .await;
    account.assert_ok();
    assert_eq!(account.str("twilioAccount.status"), "UNKNOWN");
    assert_eq!(
        account.str("twilioAccount.authTokenLast4"),
        &carrier.auth_token[carrier.auth_token.len() - 4..]
    );
    assert!(
        !account.body.to_string().contains(&carrier.auth_token),
        "the token is never returned"
    );

    let tested = app.gql_as(&admin, &format!("mutation($id: ID!) {{ testTwilioAccount(input: {{id: $id}}) {{ twilioAccount {{ {ACCOUNT_FIELDS} }} }} }}"), json!({"id": id})).await;
    tested.assert_ok();
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "ACTIVE"
    );
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.balance"),
        "100.00"
    );

    let synced = app
        .gql_as(
            &admin,
            "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported updated onTwilio } }",
            json!({"id": id}),
        )
        .await;
    synced.assert_ok();
    assert_eq!(synced.data("syncTwilioAccount.imported"), 3);
    let again = app
        .gql_as(
            &admin,
            "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported updated } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        (
            again.data("syncTwilioAccount.imported"),
            again.data("syncTwilioAccount.updated")
        ),
        (&json!(0), &json!(3))
    );

    let dup = app
        .gql_as(
            &admin,
            "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
            json!({"i": {"name": "Again", "accountSid": carrier.account_sid, "authToken": "another-token-123"}}),
        )
        .await;
    assert_eq!((dup.code(), dup.field()), ("CONFLICT", "accountSid"));

    // The token must not appear in any table, log row or audit detail of the database.
    let output = std::process::Command::new(crate::helpers::db::pg_dump())
        .args(["--data-only", "--no-owner", &app.db.url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dump = String::from_utf8_lossy(&output.stdout);
    assert!(
        dump.contains(&carrier.account_sid),
        "the dump has the account"
    );
    assert!(
        !dump.contains(&carrier.auth_token),
        "the auth token is in the database in clear"
    );

    // A suspended account is seen as such.
    carrier
        .emulator
        .set_account_status(&carrier.account_sid, "suspended");
    let tested = app
        .gql_as(
            &admin,
            "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "SUSPENDED"
    );
}

#[tokio::test]
async fn wrong_credentials_mark_the_account_in_error_without_echoing_the_token() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let r = app
        .gql_as(
            &admin,
            "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
            json!({"i": {"name": "Bad", "accountSid": carrier.account_sid, "authToken": "definitely-wrong-token", "apiBaseUrl": carrier.base}}),
        )
        .await;
    let id = r.str("addTwilioAccount.twilioAccount.id");
    let tested = app.gql_as(&admin, "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status lastError } } }", json!({"id": id})).await;
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "ERROR"
    );
    assert!(tested
        .str("testTwilioAccount.twilioAccount.lastError")
        .contains("20003"));
    assert!(!tested.body.to_string().contains("definitely-wrong-token"));
    let bad = app
        .gql_as(
            &admin,
            "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
            json!({"i": {"name": "x", "accountSid": "AC123", "authToken": "whatever-123"}}),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "accountSid"));
}

#[tokio::test]
async fn purchase_assign_forward_and_release_a_number() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, user_token, user_id) = app.user().await;

    let available = app
        .gql_as(&admin, "query($a: ID!) { availableNumbers(twilioAccountId: $a, country: \"VN\", areaCode: \"28\") { phoneNumber isoCountry } }", json!({"a": account}))
        .await;
    available.assert_ok();
    let number = available.data("availableNumbers")[0]["phoneNumber"]
        .as_str()
        .unwrap()
        .to_owned();

    let bought = app
        .gql_as(
            &admin,
            "mutation($i: PurchaseDidInput!) { purchaseDid(input: $i) { did { id phoneNumber country status voiceUrl } } }",
            json!({"i": {"twilioAccountId": account, "phoneNumber": number}}),
        )
        .await;
    bought.assert_ok();
    let did = bought.str("purchaseDid.did.id");
    assert_eq!(bought.str("purchaseDid.did.country"), "VN");
    assert_eq!(
        bought.str("purchaseDid.did.voiceUrl"),
        format!("{}/webhooks/twilio/inbound", app.state.public_url)
    );
    assert_eq!(
        carrier.numbers(),
        vec![number.clone()],
        "bought on the carrier"
    );

    let assigned = app
        .gql_as(
            &admin,
            "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { assignedUserId } } }",
            json!({"i": {"didId": did, "userId": user_id}}),
        )
        .await;
    assert_eq!(assigned.str("assignDid.did.assignedUserId"), user_id);

    let mine = app
        .gql_as(
            &user_token,
            "{ myDids { edges { node { id phoneNumber } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine.data("myDids.edges")[0]["node"]["phoneNumber"],
        number.as_str()
    );
    let forwarding = "mutation($i: SetDidForwardingInput!) { setDidForwarding(input: $i) { did { forwardTo inboundMessage } } }";
    let set = app
        .gql_as(
            &user_token,
            forwarding,
            json!({"i": {"didId": did, "forwardTo": "+84 912 345 678"}}),
        )
        .await;
    assert_eq!(set.str("setDidForwarding.did.forwardTo"), "+84912345678");
    // A field left out keeps its value; a blank one clears it.
    let message_only = app
        .gql_as(
            &user_token,
            forwarding,
            json!({"i": {"didId": did, "inboundMessage": "Xin chào"}}),
        )
        .await;
    assert_eq!(
        message_only.str("setDidForwarding.did.forwardTo"),
        "+84912345678"
    );
    assert_eq!(
        message_only.str("setDidForwarding.did.inboundMessage"),
        "Xin chào"
    );
    let cleared = app
        .gql_as(
            &user_token,
            forwarding,
            json!({"i": {"didId": did, "forwardTo": ""}}),
        )
        .await;
    assert!(
        cleared.data("setDidForwarding.did.forwardTo").is_null(),
        "{:?}",
        cleared.body
    );
    assert_eq!(
        cleared.str("setDidForwarding.did.inboundMessage"),
        "Xin chào"
    );
    let bad = app
        .gql_as(
            &user_token,
            forwarding,
            json!({"i": {"didId": did, "forwardTo": "0912"}}),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "forwardTo"));

    // Another user cannot touch it, and the admin fields are closed to users.
    let (_, _, other_token, _) = app.user().await;
    let theirs = app
        .gql_as(
            &other_token,
            forwarding,
            json!({"i": {"didId": did, "inboundMessage": "hi"}}),
        )
        .await;
    assert_eq!(theirs.code(), "NOT_FOUND");
    for query in [
        "{ dids { edges { node { id } } } }",
        "{ twilioAccounts { edges { node { id } } } }",
    ] {
        assert_eq!(
            app.gql_as(&user_token, query, json!({})).await.code(),
            "FORBIDDEN",
            "{query}"
        );
    }
    let buy = app
        .gql_as(
            &user_token,
            "mutation($i: PurchaseDidInput!) { purchaseDid(input: $i) { did { id } } }",
            json!({"i": {"twilioAccountId": account, "phoneNumber": number}}),
        )
        .await;
    assert_eq!(buy.code(), "FORBIDDEN");

    let released = app.gql_as(&admin, "mutation($i: ReleaseDidInput!) { releaseDid(input: $i) { did { status assignedUserId releasedAt } } }", json!({"i": {"didId": did}})).await;
    released.assert_ok();
    assert_eq!(released.str("releaseDid.did.status"), "RELEASED");
    assert!(released.data("releaseDid.did.assignedUserId").is_null());
    assert!(carrier.numbers().is_empty(), "deleted on the carrier");
    let mine = app
        .gql_as(
            &user_token,
            "{ myDids { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine.data("myDids.edges").as_array().unwrap().len(), 0);
    let log = app
        .gql_as(
            &admin,
            "{ auditLog(first: 20) { edges { node { action } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = log
        .data("auditLog.edges")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    for action in [
        "did.purchase",
        "did.assign",
        "did.release",
        "twilio_account.add",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn configure_webhooks_re_points_every_number() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    app.gql_as(
        &admin,
        "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
        json!({"id": account}),
    )
    .await
    .assert_ok();
    let r = app
        .gql_as(
            &admin,
            "mutation { configureWebhooks(input: {}) { publicUrl updated failed { phoneNumber error } } }",
            json!({}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.data("configureWebhooks.updated"), 2);
    let client = carrier.client();
    for number in client.list_numbers().await.unwrap() {
        assert_eq!(
            number.voice_url,
            Some(format!("{}/webhooks/twilio/inbound", app.state.public_url))
        );
    }
}

/// A call row for `owner`, placed through `account`, as the dispatcher would record it.
async fn call_row(app: &TestApp, owner: &str, account: &str) -> uuid::Uuid {
    app.call_row(owner, account, "+842871010000", "+84912345671", 0)
        .await
}

async fn call_status(app: &TestApp, id: uuid::Uuid) -> (String, Option<i32>) {
    let mut conn = app.state.db.get().await.unwrap();
    let call = ringcast::calls::Call::find(&mut conn, id).await.unwrap();
    (call.status.as_str().to_owned(), call.duration_secs)
}

#[tokio::test]
async fn unsigned_or_forged_webhooks_get_403_and_store_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user_id) = app.user().await;
    let call = call_row(&app, &user_id, &account).await;
    let path = format!("/webhooks/twilio/status/{call}");
    let params = [
        ("AccountSid", carrier.account_sid.as_str()),
        ("CallSid", "CA1"),
        ("CallStatus", "completed"),
        ("SequenceNumber", "3"),
    ];

    let (status, _) = app.twilio_post(&path, &params, "not-the-token").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let unknown = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallStatus", "completed"),
    ];
    assert_eq!(
        app.twilio_post(&path, &unknown, &carrier.auth_token)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let request = axum::http::Request::post(&path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "AccountSid=AC1&CallStatus=completed",
        ))
        .unwrap();
    assert_eq!(
        app.send(request).await.0,
        StatusCode::FORBIDDEN,
        "no signature at all"
    );
    assert_eq!(app.count("webhook_events").await, 0);
    assert_eq!(call_status(&app, call).await.0, "QUEUED");

    let (status, _) = app.twilio_post(&path, &params, &carrier.auth_token).await;
    assert!(status.is_success());
    assert_eq!(call_status(&app, call).await.0, "COMPLETED");
}

#[tokio::test]
async fn duplicate_and_out_of_order_callbacks_converge() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user_id) = app.user().await;
    let call = call_row(&app, &user_id, &account).await;
    let path = format!("/webhooks/twilio/status/{call}");
    let sid = carrier.account_sid.clone();
    let event = |seq: &'static str, status: &'static str, duration: &'static str| {
        vec![
            ("AccountSid", sid.clone()),
            ("CallSid", "CA0123".to_owned()),
            ("SequenceNumber", seq.to_owned()),
            ("CallStatus", status.to_owned()),
            ("CallDuration", duration.to_owned()),
        ]
    };
    // completed arrives first, then a late ringing, then completed again.
    for params in [
        event("3", "completed", "42"),
        event("1", "ringing", ""),
        event("3", "completed", "42"),
        event("2", "in-progress", ""),
    ] {
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _) = app.twilio_post(&path, &borrowed, &carrier.auth_token).await;
        assert!(status.is_success(), "{status}");
    }
    assert_eq!(
        call_status(&app, call).await,
        ("COMPLETED".to_owned(), Some(42))
    );
    assert_eq!(
        app.count("webhook_events").await,
        3,
        "the duplicate was not stored again"
    );
    let mut conn = app.state.db.get().await.unwrap();
    let timeline = ringcast::calls::Call::events(&mut conn, call)
        .await
        .unwrap();
    let applied: Vec<(Option<String>, bool)> = timeline
        .iter()
        .map(|e| (e.status.clone(), e.applied))
        .collect();
    assert_eq!(
        applied,
        vec![
            (Some("COMPLETED".into()), true),
            (Some("RINGING".into()), false),
            (Some("IN_PROGRESS".into()), false)
        ]
    );
}

#[tokio::test]
async fn the_emulator_runs_our_twiml_and_its_callbacks_finish_the_call() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user_id) = app.user().await;
    let call = call_row(&app, &user_id, &account).await;
    let public = app.state.public_url.to_string();
    let placed = carrier
        .client()
        .create_call(&CreateCall {
            to: "+84912345670".into(),
            from: carrier.numbers()[0].clone(),
            url: Some(format!("{public}/webhooks/twilio/voice/{call}")),
            status_callback: Some(format!("{public}/webhooks/twilio/status/{call}")),
            status_callback_events: ["initiated", "ringing", "answered", "completed"]
                .map(String::from)
                .to_vec(),
            ..CreateCall::default()
        })
        .await
        .unwrap();
    eventually(Duration::from_secs(10), "the call to complete", || async {
        (call_status(&app, call).await.0 == "COMPLETED").then_some(())
    })
    .await;
    let record = carrier.emulator.call(&placed.sid).unwrap();
    assert!(
        record
            .transcript
            .iter()
            .any(|l| l.kind == "say" && l.detail.contains("Ringcast")),
        "{:?}",
        record.transcript
    );
    let mut conn = app.state.db.get().await.unwrap();
    let stored = ringcast::calls::Call::find(&mut conn, call).await.unwrap();
    assert_eq!(stored.twilio_sid.as_deref(), Some(placed.sid.as_str()));
    assert!(stored.answered_at.is_some() && stored.ended_at.is_some());

    // A keypress reaches the gather webhook and lands in the timeline.
    let (status, body) = app
        .twilio_post(
            &format!("/webhooks/twilio/gather/{call}"),
            &[
                ("AccountSid", &carrier.account_sid),
                ("CallSid", &placed.sid),
                ("Digits", "1"),
            ],
            &carrier.auth_token,
        )
        .await;
    assert!(status.is_success() && body.contains("<Hangup/>"), "{body}");
    let timeline = ringcast::calls::Call::events(&mut conn, call)
        .await
        .unwrap();
    assert!(timeline.iter().any(|e| e.detail["digits"] == "1"));
}

async fn inbound(app: &TestApp, carrier: &Carrier, to: &str) -> (StatusCode, String) {
    let call_sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    let params = [
        ("AccountSid", carrier.account_sid.as_str()),
        ("CallSid", &call_sid),
        ("From", "+84987654321"),
        ("To", to),
    ];
    app.twilio_post("/webhooks/twilio/inbound", &params, &carrier.auth_token)
        .await
}

#[tokio::test]
async fn inbound_calls_forward_play_or_reject() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    app.gql_as(
        &admin,
        "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
        json!({"id": account}),
    )
    .await
    .assert_ok();
    let did = app
        .gql_as(
            &admin,
            "{ dids { edges { node { id phoneNumber } } } }",
            json!({}),
        )
        .await;
    let did_id = did.data("dids.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let number = did.data("dids.edges")[0]["node"]["phoneNumber"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, unassigned) = inbound(&app, &carrier, &number).await;
    assert!(unassigned.contains("<Reject"), "{unassigned}");
    let (_, unknown) = inbound(&app, &carrier, "+84999999999").await;
    assert!(unknown.contains("<Reject"), "{unknown}");

    let (_, _, user_token, user_id) = app.user().await;
    app.gql_as(
        &admin,
        "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
        json!({"i": {"didId": did_id, "userId": user_id}}),
    )
    .await
    .assert_ok();
    // A forwarded leg shows the number as caller ID, which needs a tested (ACTIVE) account.
    app.gql_as(
        &admin,
        "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status } } }",
        json!({"id": account}),
    )
    .await
    .assert_ok();
    let forwarding =
        "mutation($i: SetDidForwardingInput!) { setDidForwarding(input: $i) { did { id } } }";
    app.gql_as(
        &user_token,
        forwarding,
        json!({"i": {"didId": did_id, "inboundMessage": "Chúng tôi sẽ gọi lại <sớm>"}}),
    )
    .await
    .assert_ok();
    let (_, message) = inbound(&app, &carrier, &number).await;
    assert!(
        message.contains("Chúng tôi sẽ gọi lại &lt;sớm&gt;"),
        "{message}"
    );
    app.gql_as(
        &user_token,
        forwarding,
        json!({"i": {"didId": did_id, "forwardTo": "+84912000111"}}),
    )
    .await
    .assert_ok();
    let (_, dial) = inbound(&app, &carrier, &number).await;
    assert!(
        dial.contains(&format!("<Dial callerId=\"{number}\""))
            && dial.contains("+84912000111</Dial>"),
        "{dial}"
    );
}

#[tokio::test]
async fn signatures_behind_a_trusted_proxy_use_the_forwarded_url() {
    let app = TestApp::builder()
        .config(|c| c.trust_proxy = true)
        .build()
        .await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    app.add_carrier_account(&admin, &carrier).await;
    let params = vec![
        ("AccountSid".to_owned(), carrier.account_sid.clone()),
        ("CallSid".to_owned(), "CA9".to_owned()),
        ("To".to_owned(), "+1".to_owned()),
    ];
    let signed_for =
        |url: &str| ringcast::twilio::signature::sign(&carrier.auth_token, url, &params);
    let request = |signature: String| {
        axum::http::Request::post("/webhooks/twilio/inbound/status")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "calls.example.com")
            .header("x-twilio-signature", signature)
            .body(axum::body::Body::from(
                serde_urlencoded::to_string(&params).unwrap(),
            ))
            .unwrap()
    };
    let ok = app
        .send(request(signed_for(
            "https://calls.example.com/webhooks/twilio/inbound/status",
        )))
        .await
        .0;
    assert!(ok.is_success(), "{ok}");
    let local = app
        .send(request(signed_for(&format!(
            "{}/webhooks/twilio/inbound/status",
            app.state.public_url
        ))))
        .await
        .0;
    assert_eq!(local, StatusCode::FORBIDDEN);
    let mut conn = app.state.db.get().await.unwrap();
    diesel::sql_query("DELETE FROM webhook_events")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn number_health_is_computed_and_idle_numbers_are_released() {
    let app = TestApp::builder()
        .config(|c| c.did_idle_release_days = Some(30))
        .build()
        .await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(2).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    app.gql_as(
        &admin,
        "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
        json!({"id": account}),
    )
    .await
    .assert_ok();
    let dids = app
        .gql_as(
            &admin,
            "{ dids { edges { node { id phoneNumber } } } }",
            json!({}),
        )
        .await;
    let sick = dids.data("dids.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let idle = dids.data("dids.edges")[1]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, _, user_id) = app.user().await;
    // 25 calls in the last day through one number, 20 of them failed.
    app.execute_sql(&format!(
        "INSERT INTO calls (id, owner_id, twilio_account_id, did_id, direction, from_number, to_number, status)
         SELECT gen_random_uuid(), '{user_id}', '{account}', '{sick}', 'OUTBOUND', '+1', '+2',
                CASE WHEN n <= 20 THEN 'FAILED' ELSE 'COMPLETED' END
         FROM generate_series(1, 25) n"
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE dids SET created_at = now() - interval '40 days' WHERE id = '{idle}'"
    ))
    .await;

    let mut conn = app.state.db.get().await.unwrap();
    for job in ["update_did_health", "release_idle_dids"] {
        diesel::sql_query(format!(
            "INSERT INTO background_jobs (job_type, data) VALUES ('{job}', 'null')"
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    drop(conn);
    let runner = app.runner();
    let ran = runner.drain().await.unwrap();
    assert!(
        ran.iter()
            .all(|o| matches!(o, ringcast::jobs::runner::JobOutcome::Succeeded { .. })),
        "{ran:?}"
    );

    let after = app
        .gql_as(&admin, "{ dids { edges { node { id status health { calls24h failureRate24h answerRate24h } } } } }", json!({}))
        .await;
    let by_id = |id: &str| {
        after
            .data("dids.edges")
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == id)
            .unwrap()["node"]
            .clone()
    };
    let sick_node = by_id(&sick);
    assert_eq!(sick_node["status"], "UNHEALTHY", "{sick_node}");
    assert_eq!(sick_node["health"]["calls24h"], 25);
    assert_eq!(sick_node["health"]["failureRate24h"], 0.8);
    // The sick number was used recently; only the idle one goes.
    assert_eq!(by_id(&idle)["status"], "RELEASED");
    assert_eq!(carrier.numbers().len(), 1);
    let log = app
        .gql_as(
            &admin,
            "{ auditLog(first: 10) { edges { node { action actorId details } } } }",
            json!({}),
        )
        .await;
    let release = log
        .data("auditLog.edges")
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["action"] == "did.release")
        .cloned()
        .unwrap();
    assert!(
        release["node"]["actorId"].is_null(),
        "released by the system"
    );
    assert!(release["node"]["details"]["reason"]
        .as_str()
        .unwrap()
        .contains("idle"));
}

#[tokio::test]
async fn callbacks_reordered_and_duplicated_by_the_carrier_still_converge() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user_id) = app.user().await;
    // Set through the control API over HTTP, as an integrator would.
    let http = reqwest::Client::new();
    let faults = json!({"duplicate_callbacks": 100.0, "reorder_callbacks": 50.0});
    assert!(http
        .post(format!("{}/emulator/faults", carrier.base))
        .json(&faults)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    let public = app.state.public_url.to_string();
    let mut calls = Vec::new();
    for to in [
        "+84912345670",
        "+84912345673",
        "+84912345674",
        "+84912345676",
    ] {
        let call = call_row(&app, &user_id, &account).await;
        carrier
            .client()
            .create_call(&CreateCall {
                to: to.into(),
                from: carrier.numbers()[0].clone(),
                url: Some(format!("{public}/webhooks/twilio/voice/{call}")),
                status_callback: Some(format!("{public}/webhooks/twilio/status/{call}")),
                status_callback_events: ["initiated", "ringing", "answered", "completed"]
                    .map(String::from)
                    .to_vec(),
                timeout_secs: Some(20),
                ..CreateCall::default()
            })
            .await
            .unwrap();
        calls.push(call);
    }
    let expected = ["COMPLETED", "BUSY", "NO_ANSWER", "COMPLETED"];
    for (call, want) in calls.iter().zip(expected) {
        eventually(
            Duration::from_secs(10),
            "the call's final state",
            || async { (call_status(&app, *call).await.0 == want).then_some(()) },
        )
        .await;
    }
    // Let every held-back callback arrive, then check nothing moved a final call.
    let ledger = carrier.emulator.ledger();
    assert_eq!(ledger.len(), 4, "each number dialed once");
    eventually(Duration::from_secs(10), "the late callbacks", || async {
        let seen = app.count("call_events").await;
        (seen >= 12).then_some(())
    })
    .await;
    for (call, want) in calls.iter().zip(expected) {
        assert_eq!(call_status(&app, *call).await.0, want);
    }
}

#[tokio::test]
async fn accounts_can_be_updated_and_removed_only_when_empty() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let update = "mutation($i: UpdateTwilioAccountInput!) { updateTwilioAccount(input: $i) { twilioAccount { name callsPerSecond authTokenLast4 status } } }";
    let r = app.gql_as(&admin, update, json!({"i": {"id": account, "name": "Main", "callsPerSecond": 5.0, "authToken": "new-token-abcd"}})).await;
    r.assert_ok();
    assert_eq!(
        r.str("updateTwilioAccount.twilioAccount.authTokenLast4"),
        "abcd"
    );
    assert_eq!(r.str("updateTwilioAccount.twilioAccount.status"), "UNKNOWN");
    let bad = app
        .gql_as(
            &admin,
            update,
            json!({"i": {"id": account, "callsPerSecond": -1.0}}),
        )
        .await;
    assert_eq!(
        (bad.code(), bad.field()),
        ("BAD_USER_INPUT", "callsPerSecond")
    );

    // Restore the right token so sync and release reach the carrier.
    app.gql_as(
        &admin,
        update,
        json!({"i": {"id": account, "authToken": carrier.auth_token}}),
    )
    .await
    .assert_ok();
    app.gql_as(
        &admin,
        "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
        json!({"id": account}),
    )
    .await
    .assert_ok();
    let remove =
        "mutation($i: DeleteTwilioAccountInput!) { deleteTwilioAccount(input: $i) { deletedId } }";
    assert_eq!(
        app.gql_as(&admin, remove, json!({"i": {"id": account}}))
            .await
            .code(),
        "CONFLICT"
    );
    let did = app
        .gql_as(&admin, "{ dids { edges { node { id } } } }", json!({}))
        .await
        .data("dids.edges")[0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, _, user_id) = app.user().await;
    app.gql_as(
        &admin,
        "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
        json!({"i": {"didId": did, "userId": user_id}}),
    )
    .await
    .assert_ok();
    let unassigned = app
        .gql_as(
            &admin,
            "mutation($i: UnassignDidInput!) { unassignDid(input: $i) { did { assignedUserId } } }",
            json!({"i": {"didId": did}}),
        )
        .await;
    assert!(unassigned.data("unassignDid.did.assignedUserId").is_null());
    app.gql_as(
        &admin,
        "mutation($i: ReleaseDidInput!) { releaseDid(input: $i) { did { status } } }",
        json!({"i": {"didId": did}}),
    )
    .await
    .assert_ok();
    app.gql_as(&admin, remove, json!({"i": {"id": account}}))
        .await
        .assert_ok();
    let gone = app
        .gql_as(
            &admin,
            "query($id: ID!) { twilioAccount(id: $id) { id } }",
            json!({"id": account}),
        )
        .await;
    assert_eq!(gone.code(), "NOT_FOUND");
}
