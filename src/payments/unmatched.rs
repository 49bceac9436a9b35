//! Money that arrived but settled no order (a second payment for a settled top-up, a transfer
//! whose memo matches nothing) is recorded for an admin, who credits it, notes that it was
//! refunded outside, or ignores it. Never silently dropped.

use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::model::TopUp;
use super::unmatched_model::{NewUnmatchedPayment, UnmatchedPayment, UnmatchedPaymentStatus};
use crate::app::AppState;
use crate::billing::ledger::{self, Kind, NewEntry};
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

/// A payment that settled nothing, as the webhook or settlement saw it.
pub struct Unmatched<'a> {
    /// Namespaced by source (`sepay:92704`, `momo:4088878653`); one record per payment.
    pub txn_id: &'a str,
    pub amount: i64,
    pub top_up: Option<&'a TopUp>,
    pub reason: &'a str,
    /// What the payment referred to (memo, order id), if anything.
    pub reference: Option<&'a str>,
}

/// Records the payment for review; `false` if it was recorded before.
pub async fn record(conn: &mut AsyncPgConnection, payment: Unmatched<'_>) -> AppResult<bool> {
    let provider = payment
        .txn_id
        .split_once(':')
        .map_or("unknown", |(source, _)| source);
    let inserted = NewUnmatchedPayment {
        id: Uuid::now_v7(),
        provider,
        txn_id: payment.txn_id,
        amount: payment.amount,
        top_up_id: payment.top_up.map(|t| t.id),
        user_id: payment.top_up.map(|t| t.user_id),
        reason: payment.reason,
        reference: payment.reference,
    }
    .insert(conn)
    .await?;
    if inserted {
        tracing::warn!(
            txn = payment.txn_id,
            amount = payment.amount,
            reason = payment.reason,
            "unmatched payment recorded for review"
        );
        metrics::counter!("payments_unmatched_total").increment(1);
    }
    Ok(inserted)
}

pub async fn page(
    state: &AppState,
    statuses: Option<&[UnmatchedPaymentStatus]>,
    seek: &Seek,
) -> AppResult<Vec<UnmatchedPayment>> {
    Ok(UnmatchedPayment::page(&mut *state.conn().await?, statuses, seek).await?)
}

pub async fn count(
    state: AppState,
    statuses: Option<Vec<UnmatchedPaymentStatus>>,
) -> AppResult<i64> {
    Ok(UnmatchedPayment::count(&mut *state.conn().await?, statuses.as_deref()).await?)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Credit,
    RefundedOutside,
    Ignore,
}

/// Closes a record once (the row is locked and must still need review); `Credit` posts the
/// amount to the payer's balance, or to `user_id` when the payment named no top-up.
pub async fn resolve(
    state: &AppState,
    admin: &Viewer,
    id: Uuid,
    resolution: Resolution,
    note: &str,
    user_id: Option<Uuid>,
) -> AppResult<UnmatchedPayment> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::bad_input(
            "note",
            "say what was done (1 to 500 characters)",
        ));
    }
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    let (resolved, credited) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let payment = UnmatchedPayment::lock(conn, id)
                .await
                .map_err(|e| match e {
                    DieselError::NotFound => AppError::NotFound("unmatched payment"),
                    other => other.into(),
                })?;
            if payment.status != UnmatchedPaymentStatus::NeedsReview {
                return Err(AppError::conflict(
                    "id",
                    format!("this payment was already resolved ({})", payment.status),
                ));
            }
            let mut credited = None;
            let status = match resolution {
                Resolution::Credit => {
                    let user = user_id.or(payment.user_id).ok_or_else(|| {
                        AppError::bad_input("userId", "say whose balance to credit")
                    })?;
                    crate::users::model::User::find(conn, user)
                        .await
                        .map_err(|_| AppError::NotFound("user"))?;
                    let reason = format!("payment {} ({}): {note}", payment.txn_id, payment.reason);
                    ledger::post(
                        conn,
                        NewEntry {
                            user_id: user,
                            kind: Some(Kind::Adjustment),
                            amount: payment.amount,
                            actor_id: Some(admin_id),
                            reason: Some(&reason),
                            ..NewEntry::default()
                        },
                    )
                    .await?;
                    credited = Some(user);
                    UnmatchedPaymentStatus::Credited
                }
                Resolution::RefundedOutside => UnmatchedPaymentStatus::RefundedOutside,
                Resolution::Ignore => UnmatchedPaymentStatus::Ignored,
            };
            let resolved = UnmatchedPayment::resolve(conn, id, status, note, admin_id).await?;
            crate::audit::service::record(
                conn,
                Some(admin_id),
                "payments.resolve_unmatched",
                "unmatched_payment",
                &id.to_string(),
                serde_json::json!({"status": status, "note": note, "amount": payment.amount,
                                   "txn_id": payment.txn_id, "credited_user": credited}),
            )
            .await?;
            Ok((resolved, credited))
        })
        .await?;
    if let Some(user) = credited {
        crate::billing::service::publish(state, user).await;
    }
    Ok(resolved)
}
