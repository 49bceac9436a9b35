//! Contacts the gate or the balance kept from being dialed now: skipped or deferred, with why.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::compliance::SkipReason;
use crate::error::AppResult;

/// A contact the gate (or the balance) kept from being dialed now.
pub(super) struct SetAside {
    pub(super) id: i64,
    pub(super) state: &'static str,
    pub(super) until: Option<DateTime<Utc>>,
    pub(super) reason: SkipReason,
}

impl SetAside {
    pub(super) fn skip(id: i64, reason: SkipReason) -> Self {
        Self {
            id,
            state: "SKIPPED",
            until: None,
            reason,
        }
    }

    pub(super) fn defer(id: i64, until: DateTime<Utc>, reason: SkipReason) -> Self {
        Self {
            id,
            state: "PENDING",
            until: Some(until),
            reason,
        }
    }
}

pub(super) async fn set_aside(
    conn: &mut AsyncPgConnection,
    contacts: &[SetAside],
) -> AppResult<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    let states: Vec<&str> = contacts.iter().map(|c| c.state).collect();
    let untils: Vec<Option<DateTime<Utc>>> = contacts.iter().map(|c| c.until).collect();
    let reasons: Vec<&str> = contacts.iter().map(|c| c.reason.as_str()).collect();
    diesel::sql_query(
        "UPDATE campaign_contacts cc SET state = v.state, next_attempt_at = v.until, skip_reason = v.reason
         FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[]) AS v(id, state, until, reason)
         WHERE cc.id = v.id",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<Text>, _>(&states)
    .bind::<Array<Nullable<Timestamptz>>, _>(&untils)
    .bind::<Array<Text>, _>(&reasons)
    .execute(conn)
    .await?;
    Ok(())
}
