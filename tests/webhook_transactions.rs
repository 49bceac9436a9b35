//! A status callback is stored, applied and marked in one transaction; the accounts that sign
//! callbacks are cached, and an edit drops the cache at once.

use axum::http::StatusCode;
use diesel_async::RunQueryDsl;
use ringcast::jobs::BackgroundJob;
use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::TestApp;

async fn call_status(app: &TestApp, id: uuid::Uuid) -> String {
    let mut conn = app.state.db.get().await.unwrap();
    let call = ringcast::calls::Call::find(&mut conn, id).await.unwrap();
    call.status.as_str().to_owned()
}

/// `(processed, error)` of every stored payload for `call`.
async fn stored(app: &TestApp, call: uuid::Uuid) -> Vec<(bool, Option<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        processed: bool,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        error: Option<String>,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT processed_at IS NOT NULL AS processed, error FROM webhook_events \
         WHERE call_id = '{call}' ORDER BY id"
    ))
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| (r.processed, r.error)).collect()
}

#[tokio::test]
async fn a_failed_apply_answers_2xx_only_once_stored_and_the_sweep_applies_it_later() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, _, user_id) = app.user().await;
    let call = app
        .call_row(&user_id, &account, "+842871010000", "+84912345671", 0)
        .await;
    let path = format!("/webhooks/twilio/status/{call}");
    let params = [
        ("AccountSid", carrier.account_sid.as_str()),
        ("CallSid", "CA0000000000000000000000000000fail"),
        ("CallStatus", "completed"),
        ("CallDuration", "17"),
        ("SequenceNumber", "4"),
    ];

    // The payload cannot be stored: no 2xx, so Twilio retries, and nothing was applied.
    app.execute_sql(
        "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'injected by the test'; END $$",
    )
    .await;
    app.execute_sql(
        "CREATE TRIGGER test_refuse_store BEFORE INSERT ON webhook_events \
         FOR EACH ROW EXECUTE FUNCTION test_refuse()",
    )
    .await;
    let (status, _) = app.twilio_post(&path, &params, &carrier.auth_token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.count("webhook_events").await, 0);
    assert_eq!(call_status(&app, call).await, "QUEUED");
    app.execute_sql("DROP TRIGGER test_refuse_store ON webhook_events")
        .await;

    // Stored, but the apply fails: 2xx, the payload kept unprocessed with the reason.
    app.execute_sql(&format!(
        "CREATE TRIGGER test_refuse_apply BEFORE INSERT ON call_events \
         FOR EACH ROW WHEN (NEW.call_id = '{call}') EXECUTE FUNCTION test_refuse()"
    ))
    .await;
    let (status, _) = app.twilio_post(&path, &params, &carrier.auth_token).await;
    assert!(status.is_success(), "{status}");
    let kept = stored(&app, call).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(!kept[0].0, "left unprocessed for the sweep: {kept:?}");
    assert!(
        kept[0].1.as_deref().is_some_and(|e| !e.is_empty()),
        "{kept:?}"
    );
    assert_eq!(
        call_status(&app, call).await,
        "QUEUED",
        "the apply rolled back"
    );
    assert_eq!(app.count("call_events").await, 0);

    // A repeat of the delivery is a duplicate: the sweep, not Twilio, owes the apply.
    let (status, _) = app.twilio_post(&path, &params, &carrier.auth_token).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(call_status(&app, call).await, "QUEUED");

    app.execute_sql("DROP TRIGGER test_refuse_apply ON call_events")
        .await;
    // The sweep takes payloads that have waited past its grace.
    app.execute_sql("UPDATE webhook_events SET received_at = now() - interval '5 minutes'")
        .await;
    ringcast::webhooks::jobs::ProcessPendingWebhooks
        .run(app.state.clone())
        .await
        .unwrap();
    assert_eq!(call_status(&app, call).await, "COMPLETED");
    assert_eq!(stored(&app, call).await, vec![(true, None)]);
    let mut conn = app.state.db.get().await.unwrap();
    let call_row = ringcast::calls::Call::find(&mut conn, call).await.unwrap();
    assert_eq!(call_row.duration_secs, Some(17));
}

#[tokio::test]
async fn a_new_or_removed_auth_token_takes_effect_on_the_next_webhook() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let path = "/webhooks/twilio/inbound/status";
    let params = |seq: &'static str| {
        [
            ("AccountSid", carrier.account_sid.clone()),
            ("CallSid", "CA00000000000000000000000000000001".to_owned()),
            ("CallStatus", "completed".to_owned()),
            ("SequenceNumber", seq.to_owned()),
        ]
    };
    let post = async |seq: &'static str, token: &str| {
        let params = params(seq);
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.twilio_post(path, &borrowed, token).await.0
    };
    // Signed with the token as it is: accepted, and the account is now cached.
    assert!(post("1", &carrier.auth_token).await.is_success());

    let new_token = "rotated-token-5678";
    let update = "mutation($i: UpdateTwilioAccountInput!) { updateTwilioAccount(input: $i) { twilioAccount { authTokenLast4 } } }";
    app.gql_as(
        &admin,
        update,
        json!({"i": {"id": account, "authToken": new_token}}),
    )
    .await
    .assert_ok();
    assert_eq!(
        post("2", &carrier.auth_token).await,
        StatusCode::FORBIDDEN,
        "the old token is refused at once, not when the cache expires"
    );
    assert!(post("3", new_token).await.is_success());

    let remove =
        "mutation($i: DeleteTwilioAccountInput!) { deleteTwilioAccount(input: $i) { deletedId } }";
    app.gql_as(&admin, remove, json!({"i": {"id": account}}))
        .await
        .assert_ok();
    assert_eq!(
        post("4", new_token).await,
        StatusCode::FORBIDDEN,
        "a removed account signs nothing"
    );
}
