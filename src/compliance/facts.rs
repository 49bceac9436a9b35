//! The facts the gate judges, read in the caller's transaction: one way for a campaign's claim
//! (a batch of numbers) and for an extra leg (forward, transfer: one number), so all are judged
//! on the same record.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::gate::Facts;
use crate::error::{AppError, AppResult};

/// Locks `phone` to the end of the transaction and reads what the gate needs about calling it
/// for `owner_id`. The caller must record its call (an outbound row to `phone`) in the same
/// transaction if the gate lets it dial: the lock makes count-then-record one step for every
/// process dialing the number, so the caps hold under concurrency.
pub async fn gather(
    conn: &mut AsyncPgConnection,
    owner_id: Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> AppResult<Facts> {
    gather_batch(conn, owner_id, &[phone], now)
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no facts for {phone}")))
}

/// `gather` for several numbers at once, in a handful of statements whatever their count: the
/// facts come back in the order of `phones`. Every number is locked before anything is counted.
pub async fn gather_batch(
    conn: &mut AsyncPgConnection,
    owner_id: Uuid,
    phones: &[&str],
    now: DateTime<Utc>,
) -> AppResult<Vec<Facts>> {
    lock_numbers(conn, phones).await?;
    let list: Vec<&str> = phones.to_vec();
    let mut facts: HashMap<&str, Facts> = phones.iter().map(|p| (*p, Facts::default())).collect();
    for row in blocks(conn, owner_id, &list).await? {
        if let Some(f) = facts.get_mut(row.phone.as_str()) {
            match row.owner_id {
                None => f.on_platform_dnc = true,
                Some(_) => f.on_user_dnc = true,
            }
        }
    }
    for row in recent_attempts(conn, &list, now - Duration::hours(24)).await? {
        if let Some(f) = facts.get_mut(row.phone.as_str()) {
            f.attempts_24h.push(row.at);
            if row.owner_id == owner_id {
                f.user_attempts_24h.push(row.at);
            }
        }
    }
    let (caps, user_caps) = super::caps::for_owner(conn, owner_id).await?;
    // Read here, not trusted from input: a number may get into a table by any path.
    let numbers = super::numbers::facts(conn, phones).await?;
    Ok(phones
        .iter()
        .zip(numbers)
        .map(|(phone, number)| {
            let mut f = facts.get(phone).cloned().unwrap_or_default();
            f.caps = caps;
            f.user_caps = user_caps;
            f.number = number;
            f
        })
        .collect())
}

/// One transaction-scoped lock per number, taken in the order of the lock keys: two batches
/// sharing numbers wait for one another instead of each holding what the other needs.
async fn lock_numbers(conn: &mut AsyncPgConnection, phones: &[&str]) -> AppResult<()> {
    // A volatile function in the target list runs after the sort, row by row in key order.
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(k)
         FROM (SELECT DISTINCT hashtext(p) AS k FROM unnest($1::text[]) AS p) keys
         ORDER BY k",
    )
    .bind::<Array<Text>, _>(phones)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Block {
    #[diesel(sql_type = Text)]
    phone: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    owner_id: Option<Uuid>,
}

/// The platform's and `owner`'s do-not-call entries for any of `phones`.
async fn blocks(
    conn: &mut AsyncPgConnection,
    owner: Uuid,
    phones: &[&str],
) -> AppResult<Vec<Block>> {
    Ok(diesel::sql_query(
        "SELECT phone, owner_id FROM do_not_call
         WHERE phone = ANY($1) AND (owner_id IS NULL OR owner_id = $2)",
    )
    .bind::<Array<Text>, _>(phones)
    .bind::<SqlUuid, _>(owner)
    .load(conn)
    .await?)
}

#[derive(QueryableByName)]
struct Dialed {
    #[diesel(sql_type = Text)]
    phone: String,
    #[diesel(sql_type = SqlUuid)]
    owner_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

/// Outbound calls to any of `phones` since `since`, by anyone: campaign calls and extra legs
/// alike, as each rang the callee.
async fn recent_attempts(
    conn: &mut AsyncPgConnection,
    phones: &[&str],
    since: DateTime<Utc>,
) -> AppResult<Vec<Dialed>> {
    Ok(diesel::sql_query(
        "SELECT to_number AS phone, owner_id, created_at AS at FROM calls
         WHERE to_number = ANY($1) AND direction = 'OUTBOUND' AND created_at > $2
           -- A request Twilio never took rang nobody.
           AND NOT (status IN ('FAILED', 'CANCELED') AND twilio_sid IS NULL)",
    )
    .bind::<Array<Text>, _>(phones)
    .bind::<Timestamptz, _>(since)
    .load(conn)
    .await?)
}
