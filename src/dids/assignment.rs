//! Giving a number to a user, or taking it back.

use chrono::Utc;
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::lookup::find;
use super::model::{Did, DidChanges, DidStatus};
use crate::app::AppState;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

pub async fn assign(
    state: &AppState,
    admin: &Viewer,
    did_id: Uuid,
    user_id: Option<Uuid>,
) -> AppResult<Did> {
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        let did = find(conn, did_id).await?;
        if did.status == DidStatus::Released {
            return Err(AppError::bad_input("didId", "this number has been released"));
        }
        if let Some(user_id) = user_id {
            crate::users::service::find(conn, user_id).await?;
        }
        let changes = DidChanges {
            assigned_user_id: Some(user_id),
            // A new holder starts with their own settings, not the last one's.
            forward_to: (did.assigned_user_id != user_id).then_some(None),
            inbound_message: (did.assigned_user_id != user_id).then_some(None),
            updated_at: Some(Utc::now()),
            ..DidChanges::default()
        };
        let updated = Did::update(conn, did_id, &changes).await?;
        audit::service::record(
            conn,
            Some(admin_id),
            if user_id.is_some() { "did.assign" } else { "did.unassign" },
            "did",
            &did_id.to_string(),
            json!({"phone_number": did.phone_number, "from_user": did.assigned_user_id, "to_user": user_id}),
        )
        .await?;
        Ok(updated)
    })
    .await
}
