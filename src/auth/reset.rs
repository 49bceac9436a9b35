//! Password reset without email: an admin issues a one-time link and hands it to the user, who
//! sets a new password with it. Only the token's hash is stored; using the link ends every
//! other session of the account, as a password change does.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::RefreshToken;
use super::service::{start_session, Session};
use super::{tokens, AuthError};
use crate::app::AppState;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::users::service as users;
use crate::users::{password, User, UserStatus};
use crate::viewer::Viewer;

/// How long a link works: long enough to hand it over, short enough not to linger.
const VALID_FOR_HOURS: i64 = 24;

/// A link just issued; the token is shown once and never again.
pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// ADMIN only (the resolver's guard); audited. An unused earlier link of the user stops working.
pub async fn issue(state: &AppState, admin: &Viewer, user_id: Uuid) -> AppResult<Issued> {
    let token = tokens::new_refresh_token();
    let expires_at = Utc::now() + Duration::hours(VALID_FOR_HOURS);
    let hash = tokens::hash_refresh_token(&token);
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        users::find(conn, user_id).await?;
        diesel::sql_query(
            "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
        diesel::sql_query(
            "INSERT INTO password_resets (id, user_id, token_hash, issued_by, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<SqlUuid, _>(user_id)
        .bind::<Text, _>(&hash)
        .bind::<SqlUuid, _>(admin_id)
        .bind::<Timestamptz, _>(expires_at)
        .execute(conn)
        .await?;
        audit::service::record(
            conn,
            Some(admin_id),
            "user.password_reset_issued",
            "user",
            &user_id.to_string(),
            json!({"expires_at": expires_at}),
        )
        .await
    })
    .await?;
    Ok(Issued { token, expires_at })
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

/// Anonymous: the token is the credential. Marking the link used and setting the password are
/// one transaction, so a link works once even when two requests race with it.
pub async fn reset(state: &AppState, token: &str, new_password: &str) -> AppResult<Session> {
    password::validate("newPassword", new_password)?;
    let new_hash = password::hash(new_password).await?;
    let hash = tokens::hash_refresh_token(token);
    let state2 = state.clone();
    let mut conn = state.conn().await?;
    let session = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let claimed: Option<Claimed> = diesel::sql_query(
                "UPDATE password_resets SET used_at = now()
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
                 RETURNING user_id",
            )
            .bind::<Text, _>(&hash)
            .get_result(conn)
            .await
            .optional()?;
            let user_id = claimed.ok_or(AuthError::InvalidResetToken)?.user_id;
            let user = users::find(conn, user_id).await?;
            if user.status != UserStatus::Active {
                return Err(AuthError::Suspended.into());
            }
            users::set_password_hash(conn, user_id, new_hash).await?;
            User::bump_token_version(conn, user_id).await?;
            RefreshToken::revoke_all_for_user(conn, user_id, Utc::now()).await?;
            audit::service::record(
                conn,
                Some(user_id),
                "user.password_reset",
                "user",
                &user_id.to_string(),
                json!({}),
            )
            .await?;
            let user = User::find(conn, user_id).await?;
            start_session(&state2, conn, user, None).await
        })
        .await?;
    state
        .events
        .publish(Event::viewer_changed(session.user.id))
        .await;
    Ok(session)
}
