//! A Twilio account's credentials go only to Twilio or to an emulator this process was told
//! about: an admin cannot point an account at a listener of their own and read its token.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::any;
use axum::Router;
use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::TestApp;

/// A stand-in for the attacker's server: answers every request with `{}` and keeps each
/// request's `Authorization` header.
async fn listener() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let router = Router::new().fallback(any(move |headers: HeaderMap| {
        let record = record.clone();
        async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            record.lock().unwrap().push(auth);
            axum::Json(json!({"sid": "ACx", "status": "active", "incoming_phone_numbers": []}))
        }
    }));
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, router).await.unwrap() });
    (base, seen)
}

const UPDATE: &str = "mutation($i: UpdateTwilioAccountInput!) { updateTwilioAccount(input: $i) { twilioAccount { apiBaseUrl status } } }";
const TEST: &str =
    "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status lastError } } }";

#[tokio::test]
async fn an_admin_cannot_send_an_accounts_token_to_a_url_of_their_choice() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(0).await;
    let id = app.add_carrier_account(&admin, &carrier).await;
    let (evil, seen) = listener().await;

    // The attack as reported: move the account without the token, then test it.
    let moved = app
        .gql_as(&admin, UPDATE, json!({"i": {"id": id, "apiBaseUrl": evil}}))
        .await;
    assert_eq!(
        (moved.code(), moved.field()),
        ("BAD_USER_INPUT", "apiBaseUrl")
    );
    // Knowing a token is not enough either: the listener is not Twilio.
    let moved = app
        .gql_as(
            &admin,
            UPDATE,
            json!({"i": {"id": id, "apiBaseUrl": evil, "authToken": carrier.auth_token}}),
        )
        .await;
    assert_eq!(
        (moved.code(), moved.field()),
        ("BAD_USER_INPUT", "apiBaseUrl")
    );
    let added = app
        .gql_as(
            &admin,
            "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
            json!({"i": {"name": "Evil", "accountSid": format!("AC{}", uuid::Uuid::new_v4().simple()),
                         "authToken": "a-token-1234", "apiBaseUrl": evil}}),
        )
        .await;
    assert_eq!(
        (added.code(), added.field()),
        ("BAD_USER_INPUT", "apiBaseUrl")
    );
    let tested = app.gql_as(&admin, TEST, json!({"id": id})).await;
    tested.assert_ok();
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "ACTIVE"
    );

    // A bad URL that got into the database by any other road still receives nothing.
    app.execute_sql(&format!(
        "UPDATE twilio_accounts SET api_base_url = '{evil}' WHERE id = '{id}'"
    ))
    .await;
    let tested = app.gql_as(&admin, TEST, json!({"id": id})).await;
    tested.assert_ok();
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "ERROR"
    );
    assert!(tested
        .str("testTwilioAccount.twilioAccount.lastError")
        .contains("not sent"));
    let synced = app
        .gql_as(
            &admin,
            "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(synced.code(), "FORBIDDEN");

    assert!(
        seen.lock().unwrap().is_empty(),
        "the listener was sent {:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn moving_an_account_to_another_allowed_carrier_takes_its_token_again() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let first = Carrier::start(0).await;
    let id = app.add_carrier_account(&admin, &first).await;
    let second = Carrier::start(0).await;
    second
        .emulator
        .add_account(&first.account_sid, "the-second-token", "Moved", 0);

    let without_token = app
        .gql_as(
            &admin,
            UPDATE,
            json!({"i": {"id": id, "apiBaseUrl": second.base}}),
        )
        .await;
    assert_eq!(
        (without_token.code(), without_token.field()),
        ("BAD_USER_INPUT", "authToken")
    );
    let moved = app
        .gql_as(
            &admin,
            UPDATE,
            json!({"i": {"id": id, "apiBaseUrl": second.base, "authToken": "the-second-token"}}),
        )
        .await;
    moved.assert_ok();
    assert_eq!(
        moved.str("updateTwilioAccount.twilioAccount.apiBaseUrl"),
        second.base
    );
    assert_eq!(
        moved.str("updateTwilioAccount.twilioAccount.status"),
        "UNKNOWN"
    );
    let tested = app.gql_as(&admin, TEST, json!({"id": id})).await;
    assert_eq!(
        tested.str("testTwilioAccount.twilioAccount.status"),
        "ACTIVE"
    );
    // The same URL again is no move and needs no token.
    app.gql_as(
        &admin,
        UPDATE,
        json!({"i": {"id": id, "apiBaseUrl": format!("{}/", second.base), "name": "Renamed"}}),
    )
    .await
    .assert_ok();
}
