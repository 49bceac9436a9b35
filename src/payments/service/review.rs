//! An admin's review of a top-up: credited by hand or rejected with a reason.

use uuid::Uuid;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::payments::model::{TopUp, TopUpStatus};
use crate::payments::settle::{self, Applied, Report};
use crate::viewer::Viewer;

/// The longest note or reason an admin's decision keeps (the user sees the reason).
const MAX_TEXT: usize = 500;

/// An admin credits a top-up by hand (a transfer seen on the statement, or one under review).
pub async fn confirm(
    state: &AppState,
    admin: &Viewer,
    id: Uuid,
    amount: Option<i64>,
    note: Option<&str>,
) -> AppResult<TopUp> {
    if note.is_some_and(|n| n.chars().count() > MAX_TEXT) {
        return Err(AppError::bad_input(
            "note",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    let mut conn = state.conn().await?;
    let top_up = TopUp::find(&mut conn, id).await?;
    let amount = amount.unwrap_or(top_up.received_amount.unwrap_or(top_up.amount));
    if amount <= 0 {
        return Err(AppError::bad_input("amount", "a positive amount in VND"));
    }
    if top_up.status == TopUpStatus::Succeeded {
        return Err(AppError::conflict("id", "this top-up was already credited"));
    }
    // A reviewed order is credited with what actually arrived, in the same key space as the
    // webhooks, so a late webhook for the same transfer cannot credit it again.
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE top_ups SET amount = $2, status = CASE WHEN status = 'NEEDS_REVIEW' OR status = 'FAILED' THEN 'PENDING' ELSE status END WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::BigInt, _>(amount),
        &mut conn,
    )
    .await?;
    let txn = top_up
        .provider_txn_id
        .clone()
        .unwrap_or_else(|| format!("admin:{id}"));
    let applied = settle::apply(
        state,
        id,
        Report::Paid {
            txn_id: txn,
            amount,
        },
    )
    .await?;
    if applied != Applied::Credited {
        return Err(AppError::conflict(
            "id",
            "this top-up cannot be credited now",
        ));
    }
    crate::audit::service::record(
        &mut conn,
        Some(admin.id),
        "payments.confirm_top_up",
        "top_up",
        &id.to_string(),
        serde_json::json!({"amount": amount, "note": note}),
    )
    .await?;
    TopUp::find(&mut conn, id).await
}

pub async fn reject(state: &AppState, admin: &Viewer, id: Uuid, reason: &str) -> AppResult<TopUp> {
    let length = reason.trim().chars().count();
    if length == 0 || length > MAX_TEXT {
        return Err(AppError::bad_input(
            "reason",
            format!("say why (1 to {MAX_TEXT} characters)"),
        ));
    }
    let mut conn = state.conn().await?;
    let top_up = TopUp::find(&mut conn, id).await?;
    if !matches!(
        top_up.status,
        TopUpStatus::Pending | TopUpStatus::NeedsReview
    ) {
        return Err(AppError::conflict(
            "id",
            format!("a {} top-up cannot be rejected", top_up.status),
        ));
    }
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE top_ups SET status = 'PENDING' WHERE id = $1 AND status = 'NEEDS_REVIEW'",
        )
        .bind::<diesel::sql_types::Uuid, _>(id),
        &mut conn,
    )
    .await?;
    settle::apply(
        state,
        id,
        Report::Failed {
            reason: format!("rejected by an admin: {}", reason.trim()),
        },
    )
    .await?;
    crate::audit::service::record(
        &mut conn,
        Some(admin.id),
        "payments.reject_top_up",
        "top_up",
        &id.to_string(),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    TopUp::find(&mut conn, id).await
}
