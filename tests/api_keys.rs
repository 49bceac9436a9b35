//! API keys: a key works over HTTP and websockets within its scopes and fails outside them,
//! revoking it locks it out at once (open sockets too), and its secret is never shown again.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::carrier::Carrier;
use crate::helpers::ws::{Init, WsClient};
use crate::helpers::{campaign, TestApp};

const CREATE: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name scopes prefix createdAt lastUsedAt expiresAt revokedAt ownerId } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } } }";
const LIST: &str = "{ apiKeys { edges { node { id name scopes prefix createdAt lastUsedAt expiresAt revokedAt ownerId } } } }";
const ME: &str = "{ me { id } }";
const ADD_DNC: &str = "mutation($i: AddDoNotCallInput!) { addDoNotCall(input: $i) { added } }";
const USER_UPDATED: &str = "subscription { userUpdated { id name } }";

/// Creates a key as `token`; returns (secret, key id).
async fn key(app: &TestApp, token: &str, scopes: &[&str]) -> (String, String) {
    let r = app
        .gql_as(
            token,
            CREATE,
            json!({"i": {"name": "crm sync", "scopes": scopes}}),
        )
        .await;
    r.assert_ok();
    (
        r.str("createApiKey.secret"),
        r.str("createApiKey.apiKey.id"),
    )
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]["apiKeys"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_read_key_reads_but_may_not_change_anything_and_its_secret_is_shown_once() {
    let app = TestApp::new().await;
    let (_, _, token, user_id) = app.user().await;
    let created = app
        .gql_as(
            &token,
            CREATE,
            json!({"i": {"name": "crm", "scopes": ["READ"]}}),
        )
        .await;
    created.assert_ok();
    let secret = created.str("createApiKey.secret");
    let prefix = created.str("createApiKey.apiKey.prefix");
    assert!(
        secret.starts_with("rk_") && secret.starts_with(&prefix),
        "{secret}"
    );
    assert!(secret.len() > prefix.len() + 40);

    let me = app.gql_as(&secret, ME, json!({})).await;
    me.assert_ok();
    assert_eq!(me.str("me.id"), user_id);

    let refused = app
        .gql_as(&secret, ADD_DNC, json!({"i": {"phone": "+84912345678"}}))
        .await;
    assert_eq!(refused.code(), "FORBIDDEN", "{}", refused.body);
    assert!(refused.message().contains("CAMPAIGNS"), "{}", refused.body);
    assert_eq!(app.count("do_not_call").await, 0);

    // A key never manages keys nor the sign-in of its owner.
    let minted = app
        .gql_as(
            &secret,
            CREATE,
            json!({"i": {"name": "x", "scopes": ["READ"]}}),
        )
        .await;
    assert_eq!(minted.code(), "FORBIDDEN", "{}", minted.body);
    let password = app
        .gql_as(
            &secret,
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken } }",
            json!({"i": {"currentPassword": "a good password", "newPassword": "another good one"}}),
        )
        .await;
    assert_eq!(password.code(), "FORBIDDEN", "{}", password.body);

    // Used twice in a row: one write of lastUsedAt and one audited first address.
    app.gql_as(&secret, ME, json!({})).await.assert_ok();
    let list = app.gql_as(&token, LIST, json!({})).await;
    list.assert_ok();
    let node = &list.data("apiKeys.edges")[0]["node"];
    assert_eq!(node["scopes"], json!(["READ"]));
    assert!(node["lastUsedAt"].is_string(), "{node}");
    assert!(!list.body.to_string().contains(&secret));
    let audit = app.rows_as_json("SELECT * FROM audit_log").await.join("\n");
    assert!(audit.contains("api_key.created"), "{audit}");
    assert_eq!(
        audit.matches("api_key.used_from_new_ip").count(),
        1,
        "{audit}"
    );
    let random = secret.rsplit('_').next().unwrap();
    assert!(
        !audit.contains(random),
        "the secret is in the audit log: {audit}"
    );
}

#[tokio::test]
async fn a_campaigns_key_creates_a_campaign_and_only_an_admin_mints_an_admin_key() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let (token, _, did) = app.user_with_number(&admin, &carrier).await;
    let (secret, _) = key(&app, &token, &["CAMPAIGNS", "READ"]).await;
    let id = campaign::create(&app, &secret, &did, vec![], json!({})).await;
    assert!(!id.is_empty());

    let billing = app
        .gql_as(
            &secret,
            "mutation($i: CreateTopUpInput!) { createTopUp(input: $i) { topUp { id } } }",
            json!({"i": {"amount": 100000, "method": "BANK_TRANSFER"}}),
        )
        .await;
    assert_eq!(billing.code(), "FORBIDDEN", "{}", billing.body);
    assert!(billing.message().contains("BILLING"), "{}", billing.body);

    let asked = app
        .gql_as(
            &token,
            CREATE,
            json!({"i": {"name": "x", "scopes": ["ADMIN"]}}),
        )
        .await;
    assert_eq!(asked.code(), "FORBIDDEN", "{}", asked.body);
    assert_eq!(app.count("api_keys").await, 1);

    // An admin's key without ADMIN is refused admin mutations, naming the scope.
    let (admin_read, _) = key(&app, &admin, &["READ"]).await;
    let r = app
        .gql_as(
            &admin_read,
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": "00000000-0000-0000-0000-000000000000", "name": "x"}}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN", "{}", r.body);
    assert!(r.message().contains("ADMIN"), "{}", r.body);
    let (admin_key, _) = key(&app, &admin, &["READ", "ADMIN"]).await;
    app.gql_as(&admin_key, "{ users { edges { node { id } } } }", json!({}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn keys_are_private_to_their_owner_and_an_admin_sees_and_revokes_all() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, alice, _) = app.user().await;
    let (_, _, bob, _) = app.user().await;
    let (_, alices) = key(&app, &alice, &["READ"]).await;
    let (_, bobs) = key(&app, &bob, &["READ"]).await;

    let seen = ids(&app.gql_as(&bob, LIST, json!({})).await.body);
    assert_eq!(seen, vec![bobs.clone()]);
    let r = app.gql_as(&bob, REVOKE, json!({"id": alices})).await;
    assert_eq!(r.code(), "NOT_FOUND", "{}", r.body);

    let all = ids(&app.gql_as(&admin, LIST, json!({})).await.body);
    assert!(all.contains(&alices) && all.contains(&bobs), "{all:?}");
    let r = app.gql_as(&admin, REVOKE, json!({"id": alices})).await;
    r.assert_ok();
    assert!(r.data("revokeApiKey.apiKey.revokedAt").is_string());
    let audit = app.rows_as_json("SELECT * FROM audit_log").await.join("\n");
    assert!(audit.contains("api_key.revoked"), "{audit}");
}

#[tokio::test]
async fn a_key_signs_a_websocket_in_and_revoking_it_closes_the_socket_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, user_id) = app.user().await;
    let (secret, key_id) = key(&app, &token, &["READ"]).await;
    let mut socket = app.subscribe_as(&secret, USER_UPDATED).await;
    let mut seen = None;
    for n in 0..50 {
        app.gql_as(
            &admin,
            "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
            json!({"i": {"id": user_id, "name": format!("renamed {n}")}}),
        )
        .await
        .assert_ok();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        while let Ok(msg) =
            tokio::time::timeout_at(deadline, socket.next_message(Duration::from_secs(5))).await
        {
            if msg["type"] == "next" {
                seen = Some(msg);
            }
        }
        if seen.is_some() {
            break;
        }
    }
    let seen = seen.expect("the key's subscription saw an event");
    assert_eq!(
        seen["payload"]["data"]["userUpdated"]["id"],
        user_id.as_str()
    );

    let revoked_at = Instant::now();
    app.gql_as(&token, REVOKE, json!({"id": key_id}))
        .await
        .assert_ok();
    let (_, code) = socket.until_close(Duration::from_secs(5)).await;
    assert_eq!(code, Some(4403));
    eprintln!(
        "socket closed {:?} after the revocation",
        revoked_at.elapsed()
    );

    let after = app.gql_as(&secret, ME, json!({})).await;
    assert_eq!(after.code(), "UNAUTHENTICATED", "{}", after.body);
    let addr = app.serve().await;
    match WsClient::connect(addr, json!({"authorization": format!("Bearer {secret}")})).await {
        Init::Closed { code, .. } => assert_eq!(code, 4403),
        Init::Ack(_) => panic!("a revoked key opened a websocket"),
    }
}

#[tokio::test]
async fn a_key_without_read_may_not_subscribe() {
    let app = TestApp::new().await;
    let (_, _, token, _) = app.user().await;
    let (secret, _) = key(&app, &token, &["BILLING"]).await;
    let mut socket = app.ws_as(&secret).await;
    socket.subscribe("1", USER_UPDATED).await;
    let msg = socket.next_message(Duration::from_secs(5)).await;
    assert_eq!(msg["id"], "1", "{msg}");
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );
    assert!(msg.to_string().contains("READ"), "{msg}");
}

#[tokio::test]
async fn expired_unknown_forged_and_suspended_keys_are_unauthenticated() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (_, _, token, user_id) = app.user().await;
    let (secret, key_id) = key(&app, &token, &["READ"]).await;
    let (prefix, _) = secret.rsplit_once('_').unwrap();
    let forged = format!("{prefix}_{}", "A".repeat(43));
    let unknown = format!("rk_{}_{}", uuid::Uuid::now_v7().simple(), "A".repeat(43));
    for bad in ["rk_garbage", forged.as_str(), unknown.as_str()] {
        let r = app.gql_as(bad, ME, json!({})).await;
        assert_eq!(r.code(), "UNAUTHENTICATED", "{bad}: {}", r.body);
        assert_eq!(r.status.as_u16(), 401, "{bad}: {}", r.body);
        assert!(!r.body.to_string().contains(bad), "{}", r.body);
    }
    app.gql_as(&secret, ME, json!({})).await.assert_ok();

    let past = app
        .gql_as(
            &token,
            CREATE,
            json!({"i": {"name": "x", "scopes": ["READ"], "expiresAt": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(past.code(), "BAD_USER_INPUT", "{}", past.body);
    app.execute_sql(&format!(
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '{key_id}'"
    ))
    .await;
    let r = app.gql_as(&secret, ME, json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);

    let (live, _) = key(&app, &token, &["READ"]).await;
    app.gql_as(&live, ME, json!({})).await.assert_ok();
    app.gql_as(
        &admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }",
        json!({"i": {"id": user_id, "status": "SUSPENDED"}}),
    )
    .await
    .assert_ok();
    let r = app.gql_as(&live, ME, json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED", "{}", r.body);
}
