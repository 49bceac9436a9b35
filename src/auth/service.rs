//! Sign-in flows. Every refresh token belongs to a family (one sign-in); presenting a used
//! token revokes the family (RFC 9700 reuse detection).

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{LoginFailure, NewRefreshToken, RefreshToken, SignupAttempt};
use super::{throttle, tokens, AuthError, Viewer};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::users::password;
use crate::users::service::{self as users, NewAccount};
use crate::users::{User, UserStatus};

pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: User,
}

/// Self sign-up from the client address `ip`, throttled per address.
pub async fn register(state: &AppState, account: NewAccount, ip: &str) -> AppResult<Session> {
    if !state.config.allow_signup {
        return Err(AuthError::SignupDisabled.into());
    }
    throttle::signup(&mut *state.conn().await?, ip, Utc::now()).await?;
    let user = users::create(state, None, account).await?;
    let mut conn = state.conn().await?;
    start_session(state, &mut conn, user, None).await
}

pub async fn login(
    state: &AppState,
    email: &str,
    password_input: &str,
    ip: &str,
) -> AppResult<Session> {
    let email = users::normalize_email(email);
    let now = Utc::now();
    let mut conn = state.conn().await?;
    let attempt = throttle::begin_login(&mut conn, &email, ip, now).await?;
    let user = User::find_by_email(&mut conn, &email).await?;
    let ok = password::verify(
        password_input,
        user.as_ref().map(|u| u.password_hash.as_str()),
    )
    .await?;
    // A failure stays recorded: `begin_login` counted it already.
    let user = match (ok, user) {
        (true, Some(user)) => user,
        _ => return Err(AuthError::InvalidCredentials.into()),
    };
    attempt.succeeded(&mut conn, &email, ip).await?;
    if user.status != UserStatus::Active {
        return Err(AuthError::Suspended.into());
    }
    start_session(state, &mut conn, user, None).await
}

enum Rotation {
    Rotated(Box<Session>),
    /// The family's user: their open websockets re-check at once.
    Reused(Uuid),
    Invalid,
}

pub async fn refresh(state: &AppState, presented: &str) -> AppResult<Session> {
    let hash = tokens::hash_refresh_token(presented);
    let state2 = state.clone();
    let mut conn = state.conn().await?;
    let outcome = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let now = Utc::now();
            let Some(token) = RefreshToken::find_by_hash_for_update(conn, &hash).await? else {
                return Ok(Rotation::Invalid);
            };
            if token.used_at.is_some() || token.revoked_at.is_some() {
                // Committed with the error below: a stolen token must not stay usable.
                RefreshToken::revoke_family(conn, token.family_id, now).await?;
                return Ok(Rotation::Reused(token.user_id));
            }
            if token.expires_at <= now {
                return Ok(Rotation::Invalid);
            }
            let user = User::find(conn, token.user_id).await?;
            if user.status != UserStatus::Active {
                RefreshToken::revoke_family(conn, token.family_id, now).await?;
                return Ok(Rotation::Invalid);
            }
            RefreshToken::mark_used(conn, token.id, now).await?;
            let session = start_session(&state2, conn, user, Some(token.family_id)).await?;
            Ok(Rotation::Rotated(Box::new(session)))
        })
        .await?;
    match outcome {
        Rotation::Rotated(session) => Ok(*session),
        Rotation::Reused(user_id) => {
            tracing::warn!("refresh token reuse detected; family revoked");
            state.events.publish(Event::viewer_changed(user_id)).await;
            Err(AuthError::RefreshReuse.into())
        }
        Rotation::Invalid => Err(AuthError::InvalidToken.into()),
    }
}

/// Ends the sign-in the token belongs to. Unknown tokens are ignored: logging out twice is fine.
pub async fn logout(state: &AppState, presented: &str) -> AppResult<()> {
    let hash = tokens::hash_refresh_token(presented);
    let mut conn = state.conn().await?;
    if let Some(token) = RefreshToken::find_by_hash_for_update(&mut conn, &hash).await? {
        RefreshToken::revoke_family(&mut conn, token.family_id, Utc::now()).await?;
        state
            .events
            .publish(Event::viewer_changed(token.user_id))
            .await;
    }
    Ok(())
}

/// Revokes every session of the user, including outstanding access tokens, and starts a new one.
pub async fn change_password(
    state: &AppState,
    viewer: &Viewer,
    current: &str,
    new: &str,
) -> AppResult<Session> {
    password::validate("newPassword", new)?;
    let mut conn = state.conn().await?;
    let user = User::find(&mut conn, viewer.id).await?;
    if !password::verify(current, Some(&user.password_hash)).await? {
        return Err(AuthError::WrongCurrentPassword.into());
    }
    let new_hash = password::hash(new).await?;
    let state2 = state.clone();
    let user_id = user.id;
    let session = conn
        .transaction::<_, AppError, _>(async move |conn| {
            users::set_password_hash(conn, user_id, new_hash).await?;
            User::bump_token_version(conn, user_id).await?;
            RefreshToken::revoke_all_for_user(conn, user_id, Utc::now()).await?;
            let user = User::find(conn, user_id).await?;
            start_session(&state2, conn, user, None).await
        })
        .await?;
    state.events.publish(Event::viewer_changed(user_id)).await;
    Ok(session)
}

/// Who a bearer credential stands for, and until when it holds.
pub struct Authenticated {
    pub viewer: Viewer,
    /// The access token's expiry; an API key's, or `None` for a key that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Resolves a bearer credential, an access token or an API key (`rk_…`), to the current user,
/// who must still be active. An access token must belong to a sign-in (refresh family) that is
/// still live: logout and reuse detection end its access tokens too. The one place that decides
/// whether a credential is valid (HTTP and websockets). `ip` is where a request comes from
/// (recorded for API keys); `None` for a re-check of a credential already accepted.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    ip: Option<&str>,
) -> AppResult<Authenticated> {
    if super::api_keys::is_api_key(token) {
        let (viewer, expires_at) = super::api_keys::service::authenticate(state, token, ip).await?;
        return Ok(Authenticated { viewer, expires_at });
    }
    let claims = tokens::decode_access_token(state.keys.jwt_secret.expose(), token)?;
    let mut conn = state.conn().await?;
    let Some((user, live)) =
        RefreshToken::user_with_live_family(&mut conn, claims.sub, claims.sid).await?
    else {
        return Err(AuthError::InvalidToken.into());
    };
    if !live || user.status != UserStatus::Active || user.token_version != claims.ver {
        return Err(AuthError::InvalidToken.into());
    }
    Ok(Authenticated {
        viewer: Viewer {
            id: user.id,
            role: user.role,
            scopes: None,
        },
        expires_at: DateTime::from_timestamp(claims.exp, 0),
    })
}

pub(super) async fn start_session(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    user: User,
    family: Option<Uuid>,
) -> AppResult<Session> {
    let now: DateTime<Utc> = Utc::now();
    let ttl = state.config.access_token_ttl.as_secs() as i64;
    let family_id = family.unwrap_or_else(Uuid::now_v7);
    let access_token =
        tokens::issue_access_token(state.keys.jwt_secret.expose(), &user, family_id, ttl, now)?;
    let refresh_token = tokens::new_refresh_token();
    let refresh_ttl =
        chrono::Duration::from_std(state.config.refresh_token_ttl).map_err(AppError::internal)?;
    NewRefreshToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        family_id,
        token_hash: &tokens::hash_refresh_token(&refresh_token),
        expires_at: now + refresh_ttl,
    }
    .insert(conn)
    .await?;
    Ok(Session {
        access_token,
        refresh_token,
        expires_in: ttl,
        user,
    })
}

/// Signs a user in without a password, for tools that already hold the database (benchmarks).
pub async fn session_without_password(state: &AppState, user_id: Uuid) -> AppResult<Session> {
    let mut conn = state.conn().await?;
    let user = users::find(&mut conn, user_id).await?;
    start_session(state, &mut conn, user, None).await
}

/// Deletes expired refresh tokens, and login failures and sign-ups older than their windows.
pub async fn purge_expired(state: &AppState) -> AppResult<(usize, usize)> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let tokens = RefreshToken::delete_expired(&mut conn, now).await?;
    let failures = LoginFailure::delete_older_than(&mut conn, now - throttle::WINDOW).await?
        + SignupAttempt::delete_older_than(&mut conn, now - throttle::SIGNUP_WINDOW).await?;
    Ok((tokens, failures))
}
