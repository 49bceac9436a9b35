//! Writing and reading the audit trail.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{AuditEntry, AuditFilter, NewAuditEntry};
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::AppResult;

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

pub async fn count(state: AppState, filter: AuditFilter) -> AppResult<i64> {
    Ok(AuditEntry::count(&mut *state.conn().await?, &filter).await?)
}
