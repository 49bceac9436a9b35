//! Holds left open after their call ended, found and settled by the reconciliation job.

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::Call;
use crate::app::AppState;
use crate::billing::ledger;
use crate::error::{AppError, AppResult};

#[derive(diesel::QueryableByName)]
struct HeldCall {
    #[diesel(sql_type = SqlUuid)]
    call_id: Uuid,
}

/// Holds whose call has ended but were never settled (the end was recorded by a path that
/// failed half-way, or before billing existed): charged and released now, with the reason on
/// the entries. Holds of calls still in flight stay until their outcome is known.
pub async fn settle_orphaned_holds(state: &AppState) -> AppResult<usize> {
    let orphans: Vec<HeldCall> = diesel::sql_query(
        "SELECT h.call_id FROM ledger_entries h JOIN calls c ON c.id = h.call_id
         WHERE h.kind = 'CALL_HOLD'
           AND c.status IN ('COMPLETED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED')
           AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.call_id = h.call_id AND r.kind = 'HOLD_RELEASE')
         LIMIT 500",
    )
    .load(&mut *state.conn().await?)
    .await?;
    let mut settled = 0;
    for orphan in orphans {
        let mut conn = state.conn().await?;
        let owner = conn
            .transaction::<_, AppError, _>(async |conn| {
                let call = Call::find_for_update(conn, orphan.call_id).await?;
                // Before the ledger locks the balance: the call row's foreign keys are locked first.
                let Some(charge) = ledger::charge_due(conn, call.billed()).await? else {
                    return Ok(None);
                };
                Call::set_cost(conn, call.id, charge).await?;
                ledger::settle_call(conn, call.billed()).await?;
                crate::audit::service::record(
                    conn,
                    None,
                    "billing.settle_orphaned_hold",
                    "call",
                    &call.id.to_string(),
                    serde_json::json!({"owner_id": call.owner_id, "status": call.status.as_str()}),
                )
                .await?;
                Ok(Some(call.owner_id))
            })
            .await?;
        if let Some(owner) = owner {
            tracing::warn!(call.id = %orphan.call_id, "settled a hold left open after its call ended");
            settled += 1;
            crate::billing::service::publish(state, owner).await;
        }
    }
    Ok(settled)
}
