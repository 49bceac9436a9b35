//! Posting to the append-only ledger. Every entry locks the user's `balances` row, so a check
//! ("is there enough?") and the entry it guards are one step under any number of dispatchers.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::rates::Rate;
use crate::calls::model::Call;
use crate::error::{AppError, AppResult};

crate::text_enum! {
    pub enum LedgerEntryKind {
        Topup => "TOPUP",
        CallHold => "CALL_HOLD",
        HoldRelease => "HOLD_RELEASE",
        CallCharge => "CALL_CHARGE",
        Refund => "REFUND",
        Adjustment => "ADJUSTMENT",
    }
}

pub type Kind = LedgerEntryKind;

#[derive(QueryableByName, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    #[diesel(sql_type = BigInt)]
    pub posted: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
}

impl Balance {
    pub fn available(&self) -> i64 {
        self.posted - self.held
    }
}

#[derive(QueryableByName, Clone, Debug)]
pub struct Entry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = BigInt)]
    pub held_change: i64,
    #[diesel(sql_type = BigInt)]
    pub posted_after: i64,
    #[diesel(sql_type = BigInt)]
    pub available_after: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub call_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub campaign_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub top_up_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub actor_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub const ENTRY_COLUMNS: &str = "id, user_id, kind, amount, held_change, posted_after, available_after, call_id, campaign_id, top_up_id, actor_id, reason, created_at";

/// An entry to post: `amount` moves the posted balance, `held_change` the open holds.
#[derive(Clone, Debug, Default)]
pub struct NewEntry<'a> {
    pub user_id: Uuid,
    pub kind: Option<Kind>,
    pub amount: i64,
    pub held_change: i64,
    pub call_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub top_up_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub reason: Option<&'a str>,
    pub rate: Option<serde_json::Value>,
}

/// The user's balance, locked until the transaction ends (created at zero if new).
pub async fn lock(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Balance> {
    diesel::sql_query("INSERT INTO balances (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
    Ok(
        diesel::sql_query("SELECT posted, held FROM balances WHERE user_id = $1 FOR UPDATE")
            .bind::<SqlUuid, _>(user_id)
            .get_result(conn)
            .await?,
    )
}

/// The balance as of now, without locking.
pub async fn read(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Balance> {
    let rows: Vec<Balance> =
        diesel::sql_query("SELECT posted, held FROM balances WHERE user_id = $1")
            .bind::<SqlUuid, _>(user_id)
            .load(conn)
            .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Appends one entry and moves the balance with it; refuses anything that would take the
/// available balance below zero.
pub async fn post(conn: &mut AsyncPgConnection, entry: NewEntry<'_>) -> AppResult<Entry> {
    let kind = entry
        .kind
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("ledger entry without a kind")))?;
    let before = lock(conn, entry.user_id).await?;
    let after = Balance {
        posted: before.posted + entry.amount,
        held: before.held + entry.held_change,
    };
    if after.available() < 0 || after.held < 0 {
        return Err(AppError::InsufficientBalance(format!(
            "available balance is {} VND",
            before.available()
        )));
    }
    diesel::sql_query(
        "UPDATE balances SET posted = $2, held = $3, updated_at = now() WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(entry.user_id)
    .bind::<BigInt, _>(after.posted)
    .bind::<BigInt, _>(after.held)
    .execute(conn)
    .await?;
    Ok(diesel::sql_query(format!(
        "INSERT INTO ledger_entries (user_id, kind, amount, held_change, posted_after, available_after,
             call_id, campaign_id, top_up_id, actor_id, reason, rate)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING {ENTRY_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(entry.user_id)
    .bind::<Text, _>(kind.as_str())
    .bind::<BigInt, _>(entry.amount)
    .bind::<BigInt, _>(entry.held_change)
    .bind::<BigInt, _>(after.posted)
    .bind::<BigInt, _>(after.available())
    .bind::<Nullable<SqlUuid>, _>(entry.call_id)
    .bind::<Nullable<SqlUuid>, _>(entry.campaign_id)
    .bind::<Nullable<SqlUuid>, _>(entry.top_up_id)
    .bind::<Nullable<SqlUuid>, _>(entry.actor_id)
    .bind::<Nullable<Text>, _>(entry.reason)
    .bind::<Nullable<Jsonb>, _>(entry.rate)
    .get_result(conn)
    .await?)
}

/// Holds `amount` (the price of a call of the longest allowed duration) for `call`; the caller
/// has checked the available balance under `lock` in the same transaction.
pub async fn hold_call(
    conn: &mut AsyncPgConnection,
    call: &Call,
    rate: &Rate,
    amount: i64,
) -> AppResult<()> {
    let reason = format!(
        "hold for a call to {} at {} VND/min",
        call.to_number, rate.per_minute
    );
    post(
        conn,
        NewEntry {
            user_id: call.owner_id,
            kind: Some(Kind::CallHold),
            held_change: amount,
            call_id: Some(call.id),
            campaign_id: call.campaign_id,
            reason: Some(&reason),
            rate: serde_json::to_value(rate).ok(),
            ..NewEntry::default()
        },
    )
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct OpenHold {
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = Nullable<Jsonb>)]
    rate: Option<serde_json::Value>,
}

/// Charges a finished call from its duration at the rate it was held at and releases the rest
/// of its hold. Returns whether anything was written (a call without an open hold is left).
pub async fn settle_call(conn: &mut AsyncPgConnection, call: &Call) -> AppResult<bool> {
    let open: Vec<OpenHold> = diesel::sql_query(
        "SELECT h.held_change AS held, h.rate FROM ledger_entries h
         WHERE h.call_id = $1 AND h.kind = 'CALL_HOLD'
           AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.call_id = $1 AND r.kind = 'HOLD_RELEASE')",
    )
    .bind::<SqlUuid, _>(call.id)
    .load(conn)
    .await?;
    let Some(open) = open.into_iter().next() else {
        return Ok(false);
    };
    let rate: Option<Rate> = open.rate.and_then(|r| serde_json::from_value(r).ok());
    let duration = i64::from(call.duration_secs.unwrap_or(0));
    let priced = match &rate {
        Some(rate) => rate.charge(duration, call.twilio_sid.is_some()),
        None => 0,
    };
    // The carrier's time limit keeps a call inside its hold; should one overrun, the hold is
    // the most it can cost, so the available balance stays at or above zero.
    let charge = priced.min(open.held);
    if charge > 0 {
        let reason = format!("{} s to {} ({})", duration, call.to_number, call.status);
        post(
            conn,
            NewEntry {
                user_id: call.owner_id,
                kind: Some(Kind::CallCharge),
                amount: -charge,
                held_change: -charge,
                call_id: Some(call.id),
                campaign_id: call.campaign_id,
                reason: Some(&reason),
                ..NewEntry::default()
            },
        )
        .await?;
    }
    let reason = format!("call {} ended {}", call.id, call.status);
    post(
        conn,
        NewEntry {
            user_id: call.owner_id,
            kind: Some(Kind::HoldRelease),
            held_change: -(open.held - charge),
            call_id: Some(call.id),
            campaign_id: call.campaign_id,
            reason: Some(&reason),
            ..NewEntry::default()
        },
    )
    .await?;
    Ok(true)
}
