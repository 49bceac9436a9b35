//! Creating, listing, revoking and checking API keys.

use crate::db::keyset::Seek;
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::model::{ApiKey, NewApiKey};
use crate::app::AppState;
use crate::audit;
use crate::auth::AuthError;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::viewer::{ApiScope, UserStatus, Viewer};

/// Live keys one user may hold: enough for every integration, bounded for the per-user list.
pub const MAX_LIVE_KEYS: i64 = 50;
const MAX_NAME_CHARS: usize = 100;
/// `lastUsedAt` is written at most this often per key, so a busy key does not write per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

pub struct NewKey {
    pub name: String,
    pub scopes: Vec<ApiScope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just created; `secret` is shown this once and never stored.
pub struct Created {
    pub key: ApiKey,
    pub secret: String,
}

/// Only a password sign-in manages keys: a key that could mint or revoke keys could outlive
/// its own revocation, or widen itself.
fn require_person(viewer: &Viewer) -> AppResult<()> {
    if viewer.is_api_key() {
        return Err(AppError::Forbidden(
            "API keys cannot manage API keys; sign in with a password".into(),
        ));
    }
    Ok(())
}

/// Creates a key for the viewer; audited (the secret never is).
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: NewKey,
    ip: &str,
) -> AppResult<Created> {
    require_person(viewer)?;
    let name = input.name.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::bad_input(
            "name",
            format!("name must be 1 to {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    if input.scopes.len() > 8 {
        return Err(AppError::bad_input("scopes", "at most 8 scopes"));
    }
    let mut scopes = input.scopes;
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        return Err(AppError::bad_input("scopes", "give at least one scope"));
    }
    if scopes.contains(&ApiScope::Admin) && !viewer.is_admin() {
        return Err(AppError::Forbidden(
            "only an administrator may create a key with the ADMIN scope".into(),
        ));
    }
    let now = Utc::now();
    if input.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::bad_input(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    let id = Uuid::now_v7();
    let (secret, prefix) = super::generate(id);
    let hash = super::hash(&secret);
    let owner = viewer.id;
    let ip = ip.to_owned();
    let mut conn = state.conn().await?;
    let key = conn
        .transaction::<_, AppError, _>(async move |conn| {
            if ApiKey::count_live(conn, owner, now).await? >= MAX_LIVE_KEYS {
                return Err(AppError::bad_input(
                    "name",
                    format!("at most {MAX_LIVE_KEYS} live API keys per user; revoke one first"),
                ));
            }
            let key = NewApiKey {
                id,
                user_id: owner,
                name: &name,
                scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                prefix: &prefix,
                secret_hash: &hash,
                expires_at: input.expires_at,
            }
            .insert(conn)
            .await?;
            audit::service::record(
                conn,
                Some(owner),
                "api_key.created",
                "api_key",
                &id.to_string(),
                json!({ "name": key.name, "prefix": key.prefix, "scopes": key.scopes,
                        "expiresAt": key.expires_at, "ip": ip }),
            )
            .await?;
            Ok(key)
        })
        .await?;
    Ok(Created { key, secret })
}

/// The viewer's keys, or every user's for an admin; newest first.
pub async fn page(state: &AppState, viewer: &Viewer, seek: &Seek) -> AppResult<Vec<ApiKey>> {
    let mut conn = state.conn().await?;
    Ok(ApiKey::page(&mut conn, owner_filter(viewer), seek).await?)
}

pub async fn count(state: AppState, viewer: Viewer) -> AppResult<i64> {
    let mut conn = state.conn().await?;
    Ok(ApiKey::count(&mut conn, owner_filter(&viewer)).await?)
}

fn owner_filter(viewer: &Viewer) -> Option<Uuid> {
    (!viewer.is_admin()).then_some(viewer.id)
}

/// Revokes a key of the viewer (any key, for an admin); another user's key is NOT_FOUND.
/// Audited; sockets signed in with it close within a second (their re-check is told now).
pub async fn revoke(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<ApiKey> {
    require_person(viewer)?;
    let actor = viewer.clone();
    let mut conn = state.conn().await?;
    let key = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let key = ApiKey::find(conn, id)
                .await?
                .filter(|k| actor.is_admin() || k.user_id == actor.id)
                .ok_or(AppError::NotFound("API key"))?;
            if key.revoked_at.is_some() {
                return Ok(key);
            }
            let key = ApiKey::revoke(conn, id, Utc::now()).await?;
            audit::service::record(
                conn,
                Some(actor.id),
                "api_key.revoked",
                "api_key",
                &id.to_string(),
                json!({ "name": key.name, "prefix": key.prefix, "ownerId": key.user_id }),
            )
            .await?;
            Ok(key)
        })
        .await?;
    state
        .events
        .publish(Event::viewer_changed(key.user_id))
        .await;
    Ok(key)
}

/// The viewer a presented key stands for, and until when the key holds (`None`: no expiry).
/// Unknown, revoked and expired keys, and keys of a suspended user, are all the same
/// UNAUTHENTICATED. `ip` is the request's address: a use is recorded at most once a minute,
/// and a use from an address other than the last one is audited; `None` for re-checks.
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    ip: Option<&str>,
) -> AppResult<(Viewer, Option<DateTime<Utc>>)> {
    let id = super::key_id(secret).ok_or(AuthError::InvalidToken)?;
    let mut conn = state.conn().await?;
    let (key, role, status) = ApiKey::find_with_owner(&mut conn, id)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let now = Utc::now();
    let valid = super::matches(secret, &key.secret_hash)
        && key.revoked_at.is_none()
        && key.expires_at.is_none_or(|at| at > now)
        && status == UserStatus::Active;
    if !valid {
        return Err(AuthError::InvalidToken.into());
    }
    if let Some(ip) = ip {
        record_use(&mut conn, &key, ip, now).await?;
    }
    let viewer = Viewer {
        id: key.user_id,
        role,
        scopes: Some(key.scopes()),
    };
    Ok((viewer, key.expires_at))
}

async fn record_use(
    conn: &mut diesel_async::AsyncPgConnection,
    key: &ApiKey,
    ip: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let new_ip = key.last_used_ip.as_deref() != Some(ip);
    let stale = key.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY);
    if !new_ip && !stale {
        return Ok(());
    }
    let (id, owner, ip) = (key.id, key.user_id, ip.to_owned());
    let previous = key.last_used_ip.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        ApiKey::touch(conn, id, &ip, now).await?;
        if new_ip {
            audit::service::record(
                conn,
                Some(owner),
                "api_key.used_from_new_ip",
                "api_key",
                &id.to_string(),
                json!({ "ip": ip, "previousIp": previous }),
            )
            .await?;
        }
        Ok(())
    })
    .await
}
