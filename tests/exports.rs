//! The calls CSV export over real HTTP: downloaded gzip-compressed as a browser asks for it, and
//! its signed link honoured only while the grantee still has the rights it was issued on.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::carrier::Carrier;
use crate::helpers::TestApp;

const EXPORT: &str = "mutation { exportCalls(input: {filter: {}}) { url } }";

/// Inserts `n` outbound calls for `owner`; returns their ids as text.
async fn calls(app: &TestApp, owner: &str, account: &str, n: usize) -> Vec<String> {
    app.execute_sql(&format!(
        "INSERT INTO calls (id, owner_id, twilio_account_id, direction, from_number, to_number, status)
         SELECT gen_random_uuid(), '{owner}', '{account}', 'OUTBOUND', '+842871010000',
                '+849' || lpad(i::text, 8, '0'), 'COMPLETED'
         FROM generate_series(1, {n}) i"
    ))
    .await;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let ids: Vec<Id> = diesel_async::RunQueryDsl::load(
        diesel::sql_query("SELECT id::text AS id FROM calls WHERE owner_id = $1::uuid ORDER BY id")
            .bind::<diesel::sql_types::Text, _>(owner),
        &mut conn,
    )
    .await
    .unwrap();
    ids.into_iter().map(|r| r.id).collect()
}

async fn export_link(app: &TestApp, token: &str) -> String {
    app.gql_as(token, EXPORT, json!({}))
        .await
        .str("exportCalls.url")
}

async fn get(url: &str, encoding: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap()
}

async fn status_of(url: &str) -> StatusCode {
    get(url, "identity").await.status()
}

/// The first column of every data row, sorted.
fn ids_in(csv: &str) -> Vec<String> {
    let mut ids: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().trim_matches('"').to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_calls_export_downloads_gzip_compressed_and_holds_every_row() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;
    let (_, _, token, user) = app.user().await;
    // More than two pages of 1,000, so the stream ends after several chunks.
    let expected = calls(&app, &user, &account, 2345).await;
    let url = export_link(&app, &token).await;

    let response = get(&url, "gzip, deflate, br").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-encoding"],
        "gzip",
        "a browser's request is answered compressed"
    );
    let compressed = response.bytes().await.unwrap();
    assert!(!compressed.is_empty(), "the compressed body is not empty");
    let mut csv = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut csv)
        .expect("a complete gzip stream");
    assert!(csv.starts_with("id,campaign_id,direction,from,to,status"));
    assert_eq!(csv.lines().count(), 2346, "a header and every call");
    assert_eq!(ids_in(&csv), expected);

    let plain = get(&url, "identity").await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(
        plain.text().await.unwrap(),
        csv,
        "compressed or not, the same rows"
    );

    // A user with no calls gets the header alone, compressed or not.
    let (_, _, empty, _) = app.user().await;
    let url = export_link(&app, &empty).await;
    let body = get(&url, "gzip").await.bytes().await.unwrap();
    let mut csv = String::new();
    match flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut csv) {
        Ok(_) => {}
        // Below the compression threshold the body is sent as is.
        Err(_) => csv = String::from_utf8(body.to_vec()).unwrap(),
    }
    assert_eq!(csv.lines().count(), 1, "{csv}");
}

#[tokio::test]
async fn an_export_link_works_only_while_its_grantee_keeps_the_rights_it_was_issued_on() {
    let app = TestApp::builder().listening().build().await;
    let admin = app.admin_token().await;
    let carrier = Carrier::start(1).await;
    let account = app.add_carrier_account(&admin, &carrier).await;

    // A suspended user's link stops working at once.
    let (_, _, token, user) = app.user().await;
    calls(&app, &user, &account, 3).await;
    let url = export_link(&app, &token).await;
    assert_eq!(status_of(&url).await, StatusCode::OK);
    app.gql_as(
        &admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { status } } }",
        json!({"i": {"id": user, "status": "SUSPENDED"}}),
    )
    .await
    .assert_ok();
    assert_eq!(status_of(&url).await, StatusCode::FORBIDDEN);

    // A password change ends every session, and the links issued in them.
    let (_, password, token, _) = app.user().await;
    let url = export_link(&app, &token).await;
    assert_eq!(status_of(&url).await, StatusCode::OK);
    app.gql_as(
        &token,
        "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken } }",
        json!({"i": {"currentPassword": password, "newPassword": "another good password"}}),
    )
    .await
    .assert_ok();
    assert_eq!(status_of(&url).await, StatusCode::FORBIDDEN);

    // An admin-wide export dies with the admin role.
    let email = crate::helpers::unique_email("second-admin");
    let second = app
        .gql_as(
            &admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"email": email, "password": "a good password", "role": "ADMIN"}}),
        )
        .await
        .str("createUser.user.id");
    let (second_token, _) = app.tokens(&email, "a good password").await;
    let url = export_link(&app, &second_token).await;
    let everyone = get(&url, "identity").await;
    assert_eq!(everyone.status(), StatusCode::OK);
    assert_eq!(
        everyone.text().await.unwrap().lines().count(),
        4,
        "an admin's export holds every user's calls"
    );
    app.gql_as(
        &admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { role } } }",
        json!({"i": {"id": second, "role": "USER"}}),
    )
    .await
    .assert_ok();
    assert_eq!(status_of(&url).await, StatusCode::FORBIDDEN);

    // The first admin's own link still works.
    let url = export_link(&app, &admin).await;
    assert_eq!(status_of(&url).await, StatusCode::OK);
}
