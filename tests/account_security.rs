//! Sessions and accounts under attack: tokens end with their sign-in, failed logins cannot
//! lock a user out from elsewhere, sign-ups are throttled and look-alike emails are one
//! account, and the last admin cannot be removed.

use axum::body::Body;
use axum::http::Request;
use serde_json::{json, Value};

use crate::helpers::app::Gql;
use crate::helpers::{unique_email, TestApp};

const ME: &str = "{ me { id } }";
const LOGIN: &str =
    "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id } } }";
const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id email } } }";
const UPDATE_USER: &str =
    "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { role status } } }";

/// An app that believes `X-Forwarded-For`, so a test can speak from any address.
async fn behind_proxy() -> TestApp {
    TestApp::builder()
        .config(|c| c.trust_proxy = true)
        .build()
        .await
}

async fn gql_from(app: &TestApp, ip: &str, query: &str, variables: Value) -> Gql {
    let request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("x-forwarded-for", ip)
        .body(Body::from(
            json!({"query": query, "variables": variables}).to_string(),
        ))
        .unwrap();
    let (status, body) = app.send(request).await;
    Gql {
        status,
        body: serde_json::from_slice(&body).unwrap(),
    }
}

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Gql {
    let i = json!({"i": {"email": email, "password": password}});
    gql_from(app, ip, LOGIN, i).await
}

#[tokio::test]
async fn logout_ends_the_access_token_at_once() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    let (access, refresh) = app.tokens(&email, &password).await;
    let (other_access, _) = app.tokens(&email, &password).await;
    app.gql_as(&access, ME, json!({})).await.assert_ok();
    app.gql(
        "mutation($i: LogoutInput!) { logout(input: $i) { ok } }",
        json!({"i": {"refreshToken": refresh}}),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.gql_as(&access, ME, json!({})).await.code(),
        "UNAUTHENTICATED"
    );
    // Another sign-in of the same user goes on.
    app.gql_as(&other_access, ME, json!({})).await.assert_ok();
}

#[tokio::test]
async fn refresh_token_reuse_ends_the_familys_access_tokens() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    let (first_access, r1) = app.tokens(&email, &password).await;
    let refresh = "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }";
    let rotated = app.gql(refresh, json!({"i": {"refreshToken": r1}})).await;
    let second_access = rotated.str("refreshToken.accessToken");
    app.gql_as(&second_access, ME, json!({})).await.assert_ok();
    // The old refresh token, replayed (stolen): the whole family ends, access tokens included.
    let replay = app.gql(refresh, json!({"i": {"refreshToken": r1}})).await;
    assert_eq!(replay.code(), "UNAUTHENTICATED");
    for token in [&first_access, &second_access] {
        assert_eq!(
            app.gql_as(token, ME, json!({})).await.code(),
            "UNAUTHENTICATED"
        );
    }
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_user_out_from_another() {
    let app = behind_proxy().await;
    let (email, password, ..) = app.user().await;
    for who in [email.as_str(), app.admin_email.as_str()] {
        let right = if who == email {
            password.as_str()
        } else {
            app.admin_password.as_str()
        };
        for _ in 0..8 {
            let r = login_from(&app, "203.0.113.7", who, "wrong password").await;
            assert!(
                ["UNAUTHENTICATED", "RATE_LIMITED"].contains(&r.code()),
                "{}",
                r.body
            );
        }
        // The attacker's address is locked, even with the right password...
        let locked = login_from(&app, "203.0.113.7", who, right).await;
        assert_eq!(locked.code(), "RATE_LIMITED", "{}", locked.body);
        // ...but the user, elsewhere, signs in.
        login_from(&app, "198.51.100.20", who, right)
            .await
            .assert_ok();
    }
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address() {
    let app = behind_proxy().await;
    let register = |ip: &'static str| {
        let app = &app;
        async move {
            let i = json!({"i": {"email": unique_email("bulk"), "password": "a good password"}});
            gql_from(app, ip, REGISTER, i).await
        }
    };
    let max = ringcast::auth::throttle::MAX_SIGNUPS;
    let burst =
        futures_util::future::join_all((0..max + 10).map(|_| register("203.0.113.9"))).await;
    let created = burst.iter().filter(|r| r.code().is_empty()).count();
    let limited = burst.iter().filter(|r| r.code() == "RATE_LIMITED").count();
    assert_eq!((created, limited), (max, 10));
    assert!(burst
        .iter()
        .any(|r| r.body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some_and(|s| s > 0)));
    // Another address is not affected.
    register("198.51.100.30").await.assert_ok();
}

#[tokio::test]
async fn look_alike_emails_are_one_account() {
    let app = TestApp::new().await;
    let local = format!("victim{}", uuid::Uuid::new_v4().simple());
    let email = format!("{local}@example.com");
    let password = "a good password";
    app.gql(
        REGISTER,
        json!({"i": {"email": email, "password": password}}),
    )
    .await
    .assert_ok();
    let full_width: String = local
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    let (head, tail) = local.split_at(3);
    for look_alike in [
        format!("{head}\u{200B}{tail}@example.com"),
        format!("\u{FEFF}{local}@exa\u{200D}mple.com"),
        format!("{full_width}@example.com"),
        format!("{}@EXAMPLE.COM", local.to_uppercase()),
    ] {
        let r = app
            .gql(
                REGISTER,
                json!({"i": {"email": look_alike, "password": password}}),
            )
            .await;
        assert_eq!(r.code(), "CONFLICT", "{look_alike:?}: {}", r.body);
        // And it signs in to the one account.
        let login = app.login(&look_alike, password).await;
        login.assert_ok();
        assert_eq!(login.str("login.user.email"), email);
    }
    assert_eq!(
        app.count(&format!("users WHERE email LIKE '%{}%'", &local[6..]))
            .await,
        1
    );
}

async fn second_admin(app: &TestApp, admin: &str) -> (String, String) {
    let email = unique_email("admin2");
    let created = app
        .gql_as(
            admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
            json!({"i": {"email": email, "password": "admin password 2", "role": "ADMIN"}}),
        )
        .await;
    let id = created.str("createUser.user.id");
    let token = app.tokens(&email, "admin password 2").await.0;
    (id, token)
}

async fn admin_id(app: &TestApp, token: &str) -> String {
    app.gql_as(token, ME, json!({})).await.str("me.id")
}

async fn active_admins(app: &TestApp) -> i64 {
    app.count("users WHERE role = 'ADMIN' AND status = 'ACTIVE'")
        .await
}

#[tokio::test]
async fn two_admins_cannot_remove_each_other_one_after_the_other() {
    // The second request authenticated while both were admins (the race, made deterministic
    // by holding the viewers): it must not go through once the first has committed.
    let app = TestApp::new().await;
    let first = app.admin_token().await;
    let (second_id, _) = second_admin(&app, &first).await;
    let first_id = admin_id(&app, &first).await;
    let viewer = |id: &str| ringcast::auth::Viewer {
        id: id.parse().unwrap(),
        role: ringcast::users::Role::Admin,
        scopes: None,
    };
    for (role, status) in [
        (Some(ringcast::users::Role::User), None),
        (None, Some(ringcast::users::UserStatus::Suspended)),
    ] {
        let change = |id: &str| ringcast::moderation::service::UserUpdate {
            id: id.parse().unwrap(),
            role,
            status,
            name: None,
        };
        ringcast::moderation::service::update(&app.state, &viewer(&first_id), change(&second_id))
            .await
            .unwrap();
        let second = ringcast::moderation::service::update(
            &app.state,
            &viewer(&second_id),
            change(&first_id),
        )
        .await;
        assert!(second.is_err(), "both admins removed");
        assert_eq!(active_admins(&app).await, 1);
        // Restore the second admin for the next round.
        app.execute_sql(&format!(
            "UPDATE users SET role = 'ADMIN', status = 'ACTIVE' WHERE id = '{second_id}'"
        ))
        .await;
    }
}

#[tokio::test]
async fn concurrent_demotions_and_suspensions_leave_an_admin() {
    let app = TestApp::new().await;
    let first_id = admin_id(&app, &app.admin_token().await).await;
    for change in [json!({"role": "USER"}), json!({"status": "SUSPENDED"})] {
        let first = app.admin_token().await;
        let (second_id, second) = second_admin(&app, &first).await;
        let input = |id: &str| {
            let mut i = change.clone();
            i["id"] = json!(id);
            json!({"i": i})
        };
        let (a, b) = tokio::join!(
            app.gql_as(&first, UPDATE_USER, input(&second_id)),
            app.gql_as(&second, UPDATE_USER, input(&first_id)),
        );
        let succeeded = [&a, &b].iter().filter(|r| r.code().is_empty()).count();
        assert_eq!(succeeded, 1, "{} / {}", a.body, b.body);
        assert_eq!(active_admins(&app).await, 1);
        // Back to the first admin alone for the next round.
        app.execute_sql(&format!(
            "UPDATE users SET role = CASE WHEN id = '{first_id}' THEN 'ADMIN' ELSE 'USER' END, \
             status = 'ACTIVE'"
        ))
        .await;
    }
}
