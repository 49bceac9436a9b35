//! The one path by which money reported by a gateway, a bank webhook or an admin becomes
//! balance: the top-up row is locked, judged, and credited in the same transaction, at most
//! once (the ledger's unique index on the top-up is the last line of defence).

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::{set_status, TopUp, TopUpStatus};
use super::unmatched::{self, Unmatched};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Event;

/// What a gateway, bank or admin says happened to a top-up.
#[derive(Clone, Debug)]
pub enum Report {
    /// Money arrived: `txn_id` is the gateway's or bank's transaction id, namespaced by source.
    Paid { txn_id: String, amount: i64 },
    /// The payer declined, the order failed or was cancelled (no money moved).
    Failed { reason: String },
    /// Nobody paid before the deadline.
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Credited,
    /// Money arrived but not as ordered; kept for an admin, never credited.
    NeedsReview,
    Failed,
    Expired,
    /// Nothing changed: already settled by this same report, or no longer open.
    Unchanged(&'static str),
    /// Another payment for an order already settled: recorded as an unmatched payment.
    Unmatched,
}

/// A top-up of the event's owner changed status; `topUpUpdated` re-reads the one it watches.
pub const EVENT_TOP_UP_UPDATED: &str = "top_up.updated";

pub async fn apply(state: &AppState, top_up_id: Uuid, report: Report) -> AppResult<Applied> {
    let mut conn = state.conn().await?;
    let (applied, user) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let top_up = TopUp::lock(conn, top_up_id).await?;
            let applied = apply_locked(conn, &top_up, &report).await?;
            Ok((applied, top_up.user_id))
        })
        .await?;
    if !matches!(applied, Applied::Unchanged(_) | Applied::Unmatched) {
        crate::billing::service::publish(state, user).await;
        state
            .events
            .publish(Event::new(EVENT_TOP_UP_UPDATED, user))
            .await;
    }
    Ok(applied)
}

async fn apply_locked(
    conn: &mut AsyncPgConnection,
    top_up: &TopUp,
    report: &Report,
) -> AppResult<Applied> {
    use TopUpStatus::*;
    match (top_up.status, report) {
        (Succeeded | NeedsReview, Report::Paid { txn_id, .. })
            if top_up.provider_txn_id.as_deref() == Some(txn_id.as_str()) =>
        {
            Ok(Applied::Unchanged("already recorded"))
        }
        (Succeeded | NeedsReview, Report::Paid { txn_id, amount }) => {
            // A second payment for one order is real money too: an admin must see it.
            unmatched::record(
                conn,
                Unmatched {
                    txn_id,
                    amount: *amount,
                    top_up: Some(top_up),
                    reason: "another payment for a top-up already settled",
                    reference: Some(&top_up.provider_ref),
                },
            )
            .await?;
            Ok(Applied::Unmatched)
        }
        (Pending | Expired | Failed, Report::Paid { txn_id, amount }) => {
            if *amount != top_up.amount || top_up.status == Failed {
                let reason = if *amount != top_up.amount {
                    format!(
                        "received {amount} VND for an order of {} VND",
                        top_up.amount
                    )
                } else {
                    "paid after the order was reported failed".to_owned()
                };
                set_status(
                    conn,
                    top_up.id,
                    NeedsReview,
                    Some(txn_id),
                    Some(*amount),
                    Some(&reason),
                )
                .await?;
                return Ok(Applied::NeedsReview);
            }
            let reason = format!("{} top-up {}", top_up.method, top_up.provider_ref);
            crate::billing::service::credit_top_up(
                conn,
                top_up.user_id,
                top_up.id,
                *amount,
                &reason,
            )
            .await?;
            set_status(
                conn,
                top_up.id,
                Succeeded,
                Some(txn_id),
                Some(*amount),
                None,
            )
            .await?;
            Ok(Applied::Credited)
        }
        (Pending, Report::Failed { reason }) => {
            set_status(conn, top_up.id, Failed, None, None, Some(reason)).await?;
            Ok(Applied::Failed)
        }
        (Pending, Report::Expired) => {
            set_status(
                conn,
                top_up.id,
                Expired,
                None,
                None,
                Some("not paid before the order expired"),
            )
            .await?;
            Ok(Applied::Expired)
        }
        (_, Report::Failed { .. } | Report::Expired) => {
            Ok(Applied::Unchanged("top-up no longer pending"))
        }
    }
}
