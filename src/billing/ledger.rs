//! Posting to the append-only ledger. Every entry locks the user's `balances` row, so a check
//! ("is there enough?") and the entry it guards are one step under any number of dispatchers.

use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::NewHolds;
pub use super::model::{Balance, Entry, LedgerEntryKind, NewEntry, ENTRY_COLUMNS};
use super::rates::Rate;
use crate::error::{AppError, AppResult};

pub type Kind = LedgerEntryKind;

/// The user's balance, locked until the transaction ends (created at zero if new).
pub async fn lock(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Balance> {
    Balance::ensure(conn, user_id).await?;
    Ok(Balance::lock(conn, user_id).await?)
}

/// Makes sure `user_id` has a balance; its row references the user, so a user that does not
/// exist is refused here as not found.
pub async fn open(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<()> {
    Balance::ensure(conn, user_id).await.map_err(|e| match e {
        DbError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            AppError::NotFound("user")
        }
        other => other.into(),
    })
}

/// The balance as of now, without locking.
pub async fn read(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Balance> {
    Ok(Balance::find(conn, user_id).await?.unwrap_or_default())
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
    after.set(conn, entry.user_id).await?;
    Ok(entry.insert(conn, kind, after).await?)
}

/// What the ledger knows of a call: who pays, where it went, how long it lasted and how it
/// ended. Built by `calls`, which the ledger sits below.
#[derive(Clone, Copy, Debug)]
pub struct BilledCall<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub to_number: &'a str,
    pub duration_secs: Option<i32>,
    /// The carrier took the request (it has a SID); a call never placed is never charged.
    pub placed: bool,
    pub status: &'a str,
}

/// Holds `amount` (the price of a call of the longest allowed duration) for `call`; the caller
/// has checked the available balance under `lock` in the same transaction.
pub async fn hold_call(
    conn: &mut AsyncPgConnection,
    call: BilledCall<'_>,
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

/// One call's hold in a batch: `amount` at `rate`.
pub struct CallHold<'a> {
    pub call: BilledCall<'a>,
    pub rate: &'a Rate,
    pub amount: i64,
}

/// Holds every call of a claim (one owner) in two statements: the balance moves once and the
/// entries go in as one multi-row insert, each with the balance after it, in `holds` order.
/// `before` is the balance the caller read under `lock` in this transaction and checked the
/// total against.
pub async fn hold_calls(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    before: Balance,
    holds: &[CallHold<'_>],
) -> AppResult<()> {
    let total: i64 = holds.iter().map(|h| h.amount).sum();
    let after = Balance {
        posted: before.posted,
        held: before.held + total,
    };
    if after.available() < 0 {
        return Err(AppError::InsufficientBalance(format!(
            "available balance is {} VND",
            before.available()
        )));
    }
    Balance::set_held(conn, user_id, after.held).await?;
    let mut held = before.held;
    let mut available = Vec::with_capacity(holds.len());
    for h in holds {
        held += h.amount;
        available.push(before.posted - held);
    }
    let rows = NewHolds {
        calls: holds.iter().map(|h| h.call.id).collect(),
        campaigns: holds.iter().map(|h| h.call.campaign_id).collect(),
        amounts: holds.iter().map(|h| h.amount).collect(),
        available,
        reasons: holds
            .iter()
            .map(|h| {
                format!(
                    "hold for a call to {} at {} VND/min",
                    h.call.to_number, h.rate.per_minute
                )
            })
            .collect(),
        rates: holds
            .iter()
            .map(|h| serde_json::to_value(h.rate).ok())
            .collect(),
    };
    rows.insert(conn, user_id, before.posted).await?;
    Ok(())
}

/// What `settle_call` will charge this call, read before it writes anything (so the call row
/// can carry its cost before the balance is locked); `None` when it has no open hold.
pub async fn charge_due(
    conn: &mut AsyncPgConnection,
    call: BilledCall<'_>,
) -> AppResult<Option<i64>> {
    Ok(Entry::open_hold(conn, call.id)
        .await?
        .map(|open| charge_of(open.rate, open.held, &call)))
}

fn charge_of(rate: Option<serde_json::Value>, held: i64, call: &BilledCall<'_>) -> i64 {
    let rate: Option<Rate> = rate.and_then(|r| serde_json::from_value(r).ok());
    let duration = i64::from(call.duration_secs.unwrap_or(0));
    let priced = match &rate {
        Some(rate) => rate.charge(duration, call.placed),
        None => 0,
    };
    // The carrier's time limit keeps a call inside its hold; should one overrun, the hold is
    // the most it can cost, so the available balance stays at or above zero.
    priced.min(held)
}

/// Charges a finished call from its duration at the rate it was held at and releases the rest
/// of its hold. Returns the charge, or `None` when nothing was written (no open hold).
pub async fn settle_call(
    conn: &mut AsyncPgConnection,
    call: BilledCall<'_>,
) -> AppResult<Option<i64>> {
    let Some(open) = Entry::open_hold(conn, call.id).await? else {
        return Ok(None);
    };
    let duration = i64::from(call.duration_secs.unwrap_or(0));
    let charge = charge_of(open.rate.clone(), open.held, &call);
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
    Ok(Some(charge))
}
