//! Balance operations other than call holds: admin adjustments, top-up credits, listing the
//! ledger, the reconciliation sweep for holds left open, and balance events; what the GraphQL
//! resolvers read and change of rates and statements.

use std::collections::HashMap;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::ledger::{self, Balance, Entry, Kind, NewEntry};
pub use super::model::LedgerFilter;
use super::rates::{self, Rate, RateInput};
use super::statement::{self, Statement};
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::events::Event;
use crate::viewer::Viewer;

pub const EVENT_BALANCE_CHANGED: &str = "balance.changed";

/// Tells subscribers (on any node) that the user's balance moved; they re-read it.
pub async fn publish(state: &AppState, user_id: Uuid) {
    state
        .events
        .publish(Event::new(EVENT_BALANCE_CHANGED, user_id))
        .await;
}

pub async fn balance(state: &AppState, user_id: Uuid) -> AppResult<Balance> {
    ledger::read(&mut *state.conn().await?, user_id).await
}

/// Only admins may move money by hand; the reason is kept on the entry and in the audit log.
pub async fn adjust(
    state: &AppState,
    admin: &Viewer,
    user_id: Uuid,
    amount: i64,
    reason: &str,
) -> AppResult<Entry> {
    if amount == 0 || amount.abs() > 1_000_000_000_000 {
        return Err(AppError::bad_input(
            "amount",
            "a non-zero amount in VND (negative to debit)",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_input(
            "reason",
            "say why (1 to 500 characters)",
        ));
    }
    let mut conn = state.conn().await?;
    let entry = conn
        .transaction::<_, AppError, _>(async |conn| {
            ledger::open(conn, user_id).await?;
            let entry = ledger::post(
                conn,
                NewEntry {
                    user_id,
                    kind: Some(Kind::Adjustment),
                    amount,
                    actor_id: Some(admin.id),
                    reason: Some(reason),
                    ..NewEntry::default()
                },
            )
            .await?;
            crate::audit::service::record(
                conn,
                Some(admin.id),
                "billing.adjust",
                "user",
                &user_id.to_string(),
                serde_json::json!({"amount": amount, "reason": reason, "entry_id": entry.id}),
            )
            .await?;
            Ok(entry)
        })
        .await?;
    publish(state, user_id).await;
    Ok(entry)
}

/// Credits a top-up once: the unique index on (top_up_id, TOPUP) makes a second credit fail.
pub async fn credit_top_up(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    top_up_id: Uuid,
    amount: i64,
    reason: &str,
) -> AppResult<Entry> {
    ledger::post(
        conn,
        NewEntry {
            user_id,
            kind: Some(Kind::Topup),
            amount,
            top_up_id: Some(top_up_id),
            reason: Some(reason),
            ..NewEntry::default()
        },
    )
    .await
}

/// Newest first; `after` is the id of the last entry already seen.
pub async fn list(state: &AppState, filter: &LedgerFilter, seek: &Seek) -> AppResult<Vec<Entry>> {
    Ok(Entry::page(&mut *state.conn().await?, filter, seek).await?)
}

/// One entry, for its user or an ADMIN; NOT_FOUND for anyone else.
pub async fn entry(state: &AppState, viewer: &Viewer, id: i64) -> AppResult<Entry> {
    match Entry::find(&mut *state.conn().await?, id).await? {
        Some(e) if crate::events::for_viewer(viewer, e.user_id) => Ok(e),
        _ => Err(AppError::NotFound("ledger entry")),
    }
}

pub async fn count(state: AppState, filter: LedgerFilter) -> AppResult<i64> {
    Ok(Entry::count(&mut *state.conn().await?, &filter).await?)
}

/// What the charged calls of a campaign (or one call) have cost so far.
pub async fn charged(
    conn: &mut AsyncPgConnection,
    campaign_id: Option<Uuid>,
    call_id: Option<Uuid>,
) -> AppResult<i64> {
    Ok(Entry::charged(conn, campaign_id, call_id)
        .await?
        .unwrap_or(0))
}

/// `charged` for several campaigns in one statement; a campaign charged nothing is absent.
pub async fn charged_by_campaign(
    conn: &mut AsyncPgConnection,
    campaign_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, i64>> {
    Ok(Entry::charged_by_campaign(conn, campaign_ids).await?)
}

/// The rate a call was priced at when it was dispatched.
pub async fn rate_of_call(conn: &mut AsyncPgConnection, call_id: Uuid) -> AppResult<Option<Rate>> {
    Ok(Entry::held_rate(conn, call_id)
        .await?
        .and_then(|r| serde_json::from_value(r).ok()))
}

pub async fn rates(state: &AppState) -> AppResult<Vec<Rate>> {
    rates::list(&mut *state.conn().await?).await
}

/// The rate a call to `e164` would be priced at now.
pub async fn rate_for(state: &AppState, e164: &str) -> AppResult<Rate> {
    rates::for_number(&mut *state.conn().await?, e164).await
}

/// Sets a rate and audits it; the audit entry is written after the rate, on its own.
pub async fn set_rate(state: &AppState, admin: &Viewer, input: &RateInput) -> AppResult<Rate> {
    let mut conn = state.conn().await?;
    let rate = rates::set(&mut conn, input).await?;
    crate::audit::service::record(
        &mut conn,
        Some(admin.id),
        "billing.set_rate",
        "rate",
        &rate.prefix,
        serde_json::to_value(&rate).unwrap_or_default(),
    )
    .await?;
    Ok(rate)
}

/// Deletes a rate and audits it, as `set_rate` does.
pub async fn delete_rate(state: &AppState, admin: &Viewer, prefix: &str) -> AppResult<Rate> {
    let mut conn = state.conn().await?;
    let rate = rates::delete(&mut conn, prefix).await?;
    crate::audit::service::record(
        &mut conn,
        Some(admin.id),
        "billing.delete_rate",
        "rate",
        &rate.prefix,
        serde_json::json!({}),
    )
    .await?;
    Ok(rate)
}

pub async fn statement(state: &AppState, user_id: Uuid, month: &str) -> AppResult<Statement> {
    statement::build(&mut *state.conn().await?, user_id, month).await
}
