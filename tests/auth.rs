//! Sign-up, sign-in, refresh rotation and reuse detection, logout, password change,
//! suspension, throttling, and tokens that must not work.

use base64::Engine;
use serde_json::json;

use crate::helpers::{unique_email, TestApp};

const ME: &str = "{ me { id email role status } }";
const REFRESH: &str =
    "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }";

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::new().await;
    let (email, password, token, id) = app.user().await;
    let me = app.gql_as(&token, ME, json!({})).await;
    me.assert_ok();
    assert_eq!(me.str("me.email"), email);
    assert_eq!(me.str("me.id"), id);
    assert_eq!(me.str("me.role"), "USER");

    let login = app.login(&email.to_uppercase(), &password).await;
    login.assert_ok();
    assert_eq!(login.data("login.expiresIn"), 900);
    assert_eq!(app.gql(ME, json!({})).await.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn register_validates_and_rejects_duplicates() {
    let app = TestApp::new().await;
    let (email, ..) = app.user().await;
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let dup = app
        .gql(
            register,
            json!({"i": {"email": email, "password": "long enough"}}),
        )
        .await;
    assert_eq!((dup.code(), dup.field()), ("CONFLICT", "email"));
    let bad = app
        .gql(
            register,
            json!({"i": {"email": "not-an-email", "password": "long enough"}}),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "email"));
    let short = app
        .gql(
            register,
            json!({"i": {"email": unique_email("s"), "password": "short"}}),
        )
        .await;
    assert_eq!(
        (short.code(), short.field()),
        ("BAD_USER_INPUT", "password")
    );
}

#[tokio::test]
async fn register_is_refused_when_signup_is_disabled() {
    let app = TestApp::builder()
        .config(|c| c.allow_signup = false)
        .build()
        .await;
    let r = app
        .gql(
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({"i": {"email": unique_email("x"), "password": "long enough"}}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::new().await;
    let (email, ..) = app.user().await;
    let wrong = app.login(&email, "wrong password").await;
    let unknown = app.login(&unique_email("nobody"), "wrong password").await;
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    assert_eq!(wrong.code(), unknown.code());
    assert_eq!(wrong.message(), unknown.message());
}

#[tokio::test]
async fn five_failures_lock_the_email_with_a_retry_after() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    for _ in 0..5 {
        assert_eq!(
            app.login(&email, "wrong password").await.code(),
            "UNAUTHENTICATED"
        );
    }
    // Even the right password is refused while locked.
    let locked = app.login(&email, &password).await;
    assert_eq!(locked.code(), "RATE_LIMITED");
    let retry_after = locked.body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
}

#[tokio::test]
async fn many_failures_from_one_ip_lock_that_ip_for_every_email() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    for _ in 0..ringcast::auth::throttle::MAX_IP_FAILURES {
        app.login(&unique_email("guess"), "wrong password").await;
    }
    assert_eq!(app.login(&email, &password).await.code(), "RATE_LIMITED");
}

#[tokio::test]
async fn refresh_rotates_and_each_token_works_once() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    let (_, r1) = app.tokens(&email, &password).await;
    let rotated = app.gql(REFRESH, json!({"i": {"refreshToken": r1}})).await;
    rotated.assert_ok();
    let (a2, r2) = (
        rotated.str("refreshToken.accessToken"),
        rotated.str("refreshToken.refreshToken"),
    );
    assert_ne!(r1, r2);
    app.gql_as(&a2, ME, json!({})).await.assert_ok();
    app.gql(REFRESH, json!({"i": {"refreshToken": r2}}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_family_only() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    let (_, r1) = app.tokens(&email, &password).await;
    let (_, other_session) = app.tokens(&email, &password).await;
    let r2 = app
        .gql(REFRESH, json!({"i": {"refreshToken": r1}}))
        .await
        .str("refreshToken.refreshToken");

    let reuse = app.gql(REFRESH, json!({"i": {"refreshToken": r1}})).await;
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    // The legitimate holder's newer token died with the family.
    assert_eq!(
        app.gql(REFRESH, json!({"i": {"refreshToken": r2}}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    // Another sign-in of the same user is a different family and keeps working.
    app.gql(REFRESH, json!({"i": {"refreshToken": other_session}}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    let (_, refresh) = app.tokens(&email, &password).await;
    let out = app
        .gql(
            "mutation($i: LogoutInput!) { logout(input: $i) { ok } }",
            json!({"i": {"refreshToken": refresh}}),
        )
        .await;
    assert_eq!(out.data("logout.ok"), true);
    assert_eq!(
        app.gql(REFRESH, json!({"i": {"refreshToken": refresh}}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_session() {
    let app = TestApp::new().await;
    let (email, password, access, _) = app.user().await;
    let (_, refresh) = app.tokens(&email, &password).await;
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { accessToken } }";

    let wrong = app
        .gql_as(
            &access,
            change,
            json!({"i": {"currentPassword": "nope nope", "newPassword": "brand new pass"}}),
        )
        .await;
    assert_eq!(
        (wrong.code(), wrong.field()),
        ("BAD_USER_INPUT", "currentPassword")
    );

    let changed = app
        .gql_as(
            &access,
            change,
            json!({"i": {"currentPassword": password, "newPassword": "brand new pass"}}),
        )
        .await;
    changed.assert_ok();
    assert_eq!(
        app.gql_as(&access, ME, json!({})).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(REFRESH, json!({"i": {"refreshToken": refresh}}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    app.gql_as(&changed.str("changePassword.accessToken"), ME, json!({}))
        .await
        .assert_ok();
    assert_eq!(app.login(&email, &password).await.code(), "UNAUTHENTICATED");
    app.login(&email, "brand new pass").await.assert_ok();
}

#[tokio::test]
async fn a_suspended_users_tokens_stop_working_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin_token().await;
    let (email, password, access, id) = app.user().await;
    let (_, refresh) = app.tokens(&email, &password).await;
    app.gql_as(
        &admin,
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { status } } }",
        json!({"i": {"id": id, "status": "SUSPENDED"}}),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.gql_as(&access, ME, json!({})).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(REFRESH, json!({"i": {"refreshToken": refresh}}))
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(app.login(&email, &password).await.code(), "FORBIDDEN");
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_unauthenticated() {
    let app = TestApp::new().await;
    let (email, password, access, id) = app.user().await;
    let (_, refresh) = app.tokens(&email, &password).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = access.split('.').collect();

    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("ADMIN");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let alg_none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );

    let user = ringcast::users::User {
        id: id.parse().unwrap(),
        email: email.clone(),
        name: String::new(),
        password_hash: String::new(),
        role: ringcast::users::Role::User,
        status: ringcast::users::UserStatus::Active,
        token_version: 0,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    };
    let issue = |secret: &str, at: chrono::DateTime<chrono::Utc>| {
        ringcast::auth::tokens::issue_access_token(secret, &user, uuid::Uuid::now_v7(), 900, at)
            .unwrap()
    };
    let expired = issue(
        &app.jwt_secret,
        chrono::Utc::now() - chrono::Duration::minutes(16),
    );
    let wrong_secret = issue("not the server's secret", chrono::Utc::now());

    for (what, token) in [
        ("tampered", tampered),
        ("alg none", alg_none),
        ("expired", expired),
        ("wrong secret", wrong_secret),
        ("refresh token as access token", refresh),
        ("garbage", "garbage".to_owned()),
    ] {
        let r = app.gql_as(&token, ME, json!({})).await;
        assert_eq!(r.code(), "UNAUTHENTICATED", "{what}: {}", r.body);
    }

    app.execute_sql(&format!("DELETE FROM users WHERE id = '{id}'"))
        .await;
    assert_eq!(
        app.gql_as(&access, ME, json!({})).await.code(),
        "UNAUTHENTICATED",
        "deleted user"
    );
}
