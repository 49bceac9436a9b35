//! Admin user management, role guards, audit rows and pagination.

use serde_json::json;

use crate::helpers::{unique_email, TestApp};

const CREATE: &str =
    "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id email role } } }";
const UPDATE: &str =
    "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id role status name } } }";

#[tokio::test]
async fn admin_fields_are_forbidden_to_users_and_need_sign_in() {
    let app = TestApp::new().await;
    let (_, _, token, id) = app.user().await;
    let cases = [
        ("{ users { edges { node { id } } } }".to_owned(), json!({})),
        (format!("{{ user(id: \"{id}\") {{ id }} }}"), json!({})),
        (
            "{ auditLog { edges { node { id } } } }".to_owned(),
            json!({}),
        ),
        (
            CREATE.to_owned(),
            json!({"i": {"email": unique_email("x"), "password": "long enough"}}),
        ),
        (UPDATE.to_owned(), json!({"i": {"id": id, "role": "ADMIN"}})),
    ];
    for (query, vars) in cases {
        let as_user = app.gql_as(&token, &query, vars.clone()).await;
        assert_eq!(as_user.code(), "FORBIDDEN", "{query}: {}", as_user.body);
        let anonymous = app.gql(&query, vars).await;
        assert_eq!(
            anonymous.code(),
            "UNAUTHENTICATED",
            "{query}: {}",
            anonymous.body
        );
    }
}

#[tokio::test]
async fn a_user_cannot_read_another_user() {
    let app = TestApp::new().await;
    let (_, _, alice, _) = app.user().await;
    let (_, _, _, bob_id) = app.user().await;
    let r = app
        .gql_as(
            &alice,
            &format!("{{ user(id: \"{bob_id}\") {{ email }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert!(r.body["data"].is_null() || r.body["data"]["user"].is_null());
}

#[tokio::test]
async fn admin_creates_and_updates_users_and_every_action_is_audited() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let email = unique_email("staff");
    let created = app
        .gql_as(
            &admin,
            CREATE,
            json!({"i": {"email": email, "password": "long enough", "role": "ADMIN"}}),
        )
        .await;
    created.assert_ok();
    let id = created.str("createUser.user.id");
    assert_eq!(created.str("createUser.user.role"), "ADMIN");

    let updated = app
        .gql_as(
            &admin,
            UPDATE,
            json!({"i": {"id": id, "role": "USER", "name": "Lan"}}),
        )
        .await;
    updated.assert_ok();
    assert_eq!(updated.str("updateUser.user.role"), "USER");
    assert_eq!(updated.str("updateUser.user.name"), "Lan");

    let fetched = app
        .gql_as(
            &admin,
            &format!("{{ user(id: \"{id}\") {{ email }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(fetched.str("user.email"), email);

    let log = app
        .gql_as(
            &admin,
            "{ auditLog(first: 10) { edges { node { action targetId actorId details } } } }",
            json!({}),
        )
        .await;
    log.assert_ok();
    let actions: Vec<(String, String)> = log
        .data("auditLog.edges")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["action"].as_str().unwrap().to_owned(),
                e["node"]["targetId"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions[0],
        ("user.update".to_owned(), id.clone()),
        "newest first: {actions:?}"
    );
    assert_eq!(actions[1], ("user.create".to_owned(), id.clone()));
    assert_eq!(
        log.data("auditLog.edges")[0]["node"]["details"]["before"]["role"],
        "ADMIN"
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let missing = app
        .gql_as(
            &admin,
            &format!("{{ user(id: \"{}\") {{ id }} }}", uuid::Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(missing.code(), "NOT_FOUND");
    let malformed = app
        .gql_as(&admin, "{ user(id: \"1 OR 1=1\") { id } }", json!({}))
        .await;
    assert_eq!(
        (malformed.code(), malformed.field()),
        ("BAD_USER_INPUT", "id")
    );
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let me = app
        .gql_as(&admin, "{ me { id } }", json!({}))
        .await
        .str("me.id");
    let r = app
        .gql_as(
            &admin,
            UPDATE,
            json!({"i": {"id": me, "status": "SUSPENDED"}}),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn users_are_paged_with_keyset_cursors_and_filters() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    for _ in 0..3 {
        app.user().await;
    }
    let page = "query($after: String, $filter: UserFilter) { users(first: 2, after: $after, filter: $filter) {
        edges { cursor node { email role } } pageInfo { hasNextPage endCursor } } }";
    let first = app
        .gql_as(&admin, page, json!({"filter": {"role": "USER"}}))
        .await;
    first.assert_ok();
    assert_eq!(first.data("users.edges").as_array().unwrap().len(), 2);
    assert_eq!(first.data("users.pageInfo.hasNextPage"), true);
    let second = app
        .gql_as(
            &admin,
            page,
            json!({"after": first.str("users.pageInfo.endCursor"), "filter": {"role": "USER"}}),
        )
        .await;
    let rest = second.data("users.edges").as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(second.data("users.pageInfo.hasNextPage"), false);
    assert!(rest.iter().all(|e| e["node"]["role"] == "USER"));

    let too_many = app
        .gql_as(
            &admin,
            "{ users(first: 501) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (too_many.code(), too_many.field()),
        ("BAD_USER_INPUT", "first")
    );
    let bad_cursor = app
        .gql_as(
            &admin,
            "{ users(after: \"!!\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_cursor.code(), "BAD_USER_INPUT");
    let search = app
        .gql_as(
            &admin,
            "{ users(filter: {search: \"%\"}) { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        search.data("users.edges").as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
}
