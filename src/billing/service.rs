//! Balance operations other than call holds: admin adjustments, top-up credits, listing the
//! ledger, the reconciliation sweep for holds left open, and balance events.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::ledger::{self, Balance, Entry, Kind, NewEntry, ENTRY_COLUMNS};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::calls::model::Call;
use crate::error::{AppError, AppResult};
use crate::events::Event;

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
            crate::users::model::User::find(conn, user_id)
                .await
                .map_err(|_| AppError::NotFound("user"))?;
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

#[derive(Clone, Debug, Default)]
pub struct LedgerFilter {
    pub user_id: Option<Uuid>,
    pub kinds: Option<Vec<Kind>>,
    pub campaign_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Newest first; `after` is the id of the last entry already seen.
pub async fn list(
    state: &AppState,
    filter: &LedgerFilter,
    after: Option<i64>,
    limit: i64,
) -> AppResult<Vec<Entry>> {
    let kinds: Option<Vec<String>> = filter
        .kinds
        .as_ref()
        .map(|ks| ks.iter().map(|k| k.as_str().to_owned()).collect());
    Ok(diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} FROM ledger_entries
         WHERE ($1::uuid IS NULL OR user_id = $1)
           AND ($2::text[] IS NULL OR kind = ANY($2))
           AND ($3::uuid IS NULL OR campaign_id = $3)
           AND ($4::uuid IS NULL OR call_id = $4)
           AND ($5::timestamptz IS NULL OR created_at >= $5)
           AND ($6::timestamptz IS NULL OR created_at < $6)
           AND ($7::bigint IS NULL OR id < $7)
         ORDER BY id DESC LIMIT $8"
    ))
    .bind::<Nullable<SqlUuid>, _>(filter.user_id)
    .bind::<Nullable<Array<Text>>, _>(kinds)
    .bind::<Nullable<SqlUuid>, _>(filter.campaign_id)
    .bind::<Nullable<SqlUuid>, _>(filter.call_id)
    .bind::<Nullable<Timestamptz>, _>(filter.since)
    .bind::<Nullable<Timestamptz>, _>(filter.until)
    .bind::<Nullable<BigInt>, _>(after)
    .bind::<BigInt, _>(limit)
    .load(&mut *state.conn().await?)
    .await?)
}

#[derive(diesel::QueryableByName)]
struct Total {
    #[diesel(sql_type = Nullable<BigInt>)]
    total: Option<i64>,
}

/// What the charged calls of a campaign (or one call) have cost so far.
pub async fn charged(
    conn: &mut AsyncPgConnection,
    campaign_id: Option<Uuid>,
    call_id: Option<Uuid>,
) -> AppResult<i64> {
    let row: Total = diesel::sql_query(
        "SELECT -sum(amount)::bigint AS total FROM ledger_entries
         WHERE kind = 'CALL_CHARGE' AND ($1::uuid IS NULL OR campaign_id = $1)
           AND ($2::uuid IS NULL OR call_id = $2) AND ($1::uuid IS NOT NULL OR $2::uuid IS NOT NULL)",
    )
    .bind::<Nullable<SqlUuid>, _>(campaign_id)
    .bind::<Nullable<SqlUuid>, _>(call_id)
    .get_result(conn)
    .await?;
    Ok(row.total.unwrap_or(0))
}

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
                if !ledger::settle_call(conn, &call).await? {
                    return Ok(None);
                }
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
            publish(state, owner).await;
        }
    }
    Ok(settled)
}

#[derive(diesel::QueryableByName)]
struct HeldRate {
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    rate: Option<serde_json::Value>,
}

/// The rate a call was priced at when it was dispatched.
pub async fn rate_of_call(
    conn: &mut AsyncPgConnection,
    call_id: Uuid,
) -> AppResult<Option<super::rates::Rate>> {
    let rows: Vec<HeldRate> = diesel::sql_query(
        "SELECT rate FROM ledger_entries WHERE call_id = $1 AND kind = 'CALL_HOLD'",
    )
    .bind::<SqlUuid, _>(call_id)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.rate)
        .and_then(|r| serde_json::from_value(r).ok()))
}
