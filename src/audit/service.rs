//! Writing and reading the audit trail.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{AuditEntry, AuditFilter, NewAuditEntry};
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

/// Call inside the transaction that makes the change, so the row exists exactly when it does.
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor_id: Option<Uuid>,
    action: &str,
    target_type: &str,
    target_id: &str,
    details: serde_json::Value,
) -> AppResult<()> {
    NewAuditEntry {
        actor_id,
        action,
        target_type,
        target_id,
        details,
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn page(
    state: &AppState,
    filter: &AuditFilter,
    seek: &Seek,
) -> AppResult<Vec<AuditEntry>> {
    let mut conn = state.conn().await?;
    Ok(AuditEntry::page(&mut conn, filter, seek).await?)
}

/// One entry, for an admin; NOT_FOUND for anyone else, as for an entry that does not exist.
pub async fn get(state: &AppState, viewer: &Viewer, id: i64) -> AppResult<AuditEntry> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    if !viewer.is_admin() {
        return Err(AppError::NotFound("audit entry"));
    }
    crate::db::schema::audit_log::table
        .find(id)
        .select(AuditEntry::as_select())
        .first(&mut *state.conn().await?)
        .await
        .optional()?
        .ok_or(AppError::NotFound("audit entry"))
}

pub async fn count(state: AppState, filter: AuditFilter) -> AppResult<i64> {
    Ok(AuditEntry::count(&mut *state.conn().await?, &filter).await?)
}
