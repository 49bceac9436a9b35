//! `updateUser`: role, status and name changes with their effects.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit;
use crate::auth::model::RefreshToken;
use crate::campaigns;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::users::model::{Role, User, UserChanges, UserStatus};
use crate::users::service as users;
use crate::viewer::Viewer;

pub struct UserUpdate {
    pub id: Uuid,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub name: Option<String>,
}

/// Admin update. Suspension revokes every session at once.
pub async fn update(state: &AppState, admin: &Viewer, update: UserUpdate) -> AppResult<User> {
    if update.id == admin.id
        && (update.role == Some(Role::User) || update.status == Some(UserStatus::Suspended))
    {
        return Err(AppError::bad_input(
            "id",
            "admins cannot demote or suspend themselves",
        ));
    }
    let name = update
        .name
        .as_deref()
        .map(|n| users::parse_name(Some(n)))
        .transpose()?;
    let admin_id = admin.id;
    // Open websockets of the user re-check their viewer (role, status) and close on a change.
    let viewer_may_change = update.role.is_some() || update.status.is_some();
    let may_remove_admin =
        update.role == Some(Role::User) || update.status == Some(UserStatus::Suspended);
    let mut conn = state.conn().await?;
    let (user, paused) = conn
        .transaction::<_, AppError, _>(async move |conn| {
            if may_remove_admin {
                guard_last_admin(conn, admin_id, update.id).await?;
            }
            let before = users::find(conn, update.id).await?;
            let changes = UserChanges {
                name,
                role: update.role,
                status: update.status,
                password_hash: None,
                updated_at: Some(chrono::Utc::now()),
            };
            let after = User::update(conn, update.id, &changes).await?;
            let mut paused = Vec::new();
            if after.status == UserStatus::Suspended && before.status != UserStatus::Suspended {
                RefreshToken::revoke_all_for_user(conn, after.id, chrono::Utc::now()).await?;
                // The dispatcher also refuses to claim for a suspended owner (the user row
                // locked in each claim), so no call starts once this commits.
                let why = campaigns::autopause::reason::OWNER_SUSPENDED;
                paused = campaigns::autopause::pause_owner(conn, after.id, why).await?;
            }
            audit::service::record(
                conn,
                Some(admin_id),
                "user.update",
                "user",
                &after.id.to_string(),
                json!({
                    "before": {"role": before.role, "status": before.status, "name": before.name},
                    "after": {"role": after.role, "status": after.status, "name": after.name},
                }),
            )
            .await?;
            Ok((after, paused))
        })
        .await?;
    for campaign in &paused {
        campaigns::service::publish_state(state, campaign).await;
    }
    state
        .events
        .publish(Event::new(users::EVENT_USER_UPDATED, user.id))
        .await;
    if viewer_may_change {
        state.events.publish(Event::viewer_changed(user.id)).await;
    }
    Ok(user)
}

/// Serialises every change that can take an admin away (one advisory lock), then refuses the
/// one that would leave no active admin. Two admins demoting each other at once: the second
/// finds its actor no longer an admin.
async fn guard_last_admin(
    conn: &mut AsyncPgConnection,
    actor_id: Uuid,
    target_id: Uuid,
) -> AppResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('users.active_admins'))")
        .execute(conn)
        .await?;
    let actor = users::find(conn, actor_id).await?;
    if actor.role != Role::Admin || actor.status != UserStatus::Active {
        return Err(AppError::Forbidden(
            "you are no longer an active admin".into(),
        ));
    }
    let others = User::count_active_admins_except(conn, target_id).await?;
    if others == 0 {
        return Err(AppError::conflict(
            "id",
            "this is the last active admin; make another admin first",
        ));
    }
    Ok(())
}
