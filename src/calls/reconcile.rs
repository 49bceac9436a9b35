//! Reconciliation: calls we have not heard the end of are asked about on Twilio, and whatever
//! Twilio says goes through `status::apply` like any webhook. A request whose answer was lost is
//! found by listing calls To/From since it was made, and adopted; it is never dialed again.

use chrono::{DateTime, Duration, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

use super::model::{Call, EventSource};
use super::status::{self, Expect, StatusUpdate};
use super::CallStatus;
use crate::app::AppState;
use crate::db::schema::calls;
use crate::error::AppResult;
use crate::twilio::types::{Call as TwilioCall, CallFilter};
use crate::twilio_accounts::{service as accounts, TwilioAccount};

/// A request without a SID this long after its send mark (`updated_at`) is looked for on Twilio.
pub const LOST_REQUEST_AFTER: Duration = Duration::minutes(2);
/// Not found on Twilio this long after the request: it was never placed.
pub const NEVER_PLACED_AFTER: Duration = Duration::minutes(10);
/// A placed call silent this long is asked about (its callbacks may have been lost).
pub const SILENT_AFTER: Duration = Duration::minutes(15);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub checked: usize,
    pub updated: usize,
    pub adopted: usize,
    pub never_placed: usize,
}

pub async fn run(state: &AppState) -> AppResult<Report> {
    let stale: Vec<Call> = awaiting(Utc::now())
        .order(calls::id)
        .limit(500)
        .select(Call::as_select())
        .load(&mut *state.conn().await?)
        .await?;
    let mut report = Report::default();
    for call in stale {
        report.checked += 1;
        match reconcile_one(state, &call).await? {
            Outcome::Unknown => {}
            Outcome::Asked {
                adopted,
                never_placed,
                applied,
            } => {
                report.adopted += usize::from(adopted);
                report.never_placed += usize::from(never_placed);
                report.updated += usize::from(applied);
            }
        }
    }
    Ok(report)
}

/// What one call's reconciliation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Twilio could not be asked, or had nothing to say yet.
    Unknown,
    Asked {
        adopted: bool,
        never_placed: bool,
        applied: bool,
    },
}

/// Reconciles one call from `seen`, the row as read at the start of the run. The row may have
/// changed since (a callback stored its SID, say): `status::apply_if` decides again under the
/// row lock, so a stale read can never close a call the carrier placed.
pub async fn reconcile_one(state: &AppState, seen: &Call) -> AppResult<Outcome> {
    let now = Utc::now();
    let account = TwilioAccount::find(&mut *state.conn().await?, seen.twilio_account_id).await?;
    let client = accounts::client_for(state, &account)?;
    let mut adopted = false;
    let remote = match &seen.twilio_sid {
        Some(sid) => client.fetch_call(sid).await.ok(),
        None => {
            let filter = CallFilter {
                to: Some(seen.to_number.to_string()),
                from: Some(seen.from_number.to_string()),
                started_after: Some(seen.created_at - Duration::minutes(1)),
                ..CallFilter::default()
            };
            // One unanswered question must not stop the rest of the run.
            let found = match client.list_calls(&filter).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(call.id = %seen.id, error = %e, "could not list calls on Twilio; will ask again");
                    return Ok(Outcome::Unknown);
                }
            };
            let candidate = adoptable(state, seen.id, found).await?;
            adopted = candidate.is_some();
            candidate
        }
    };
    let mut never_placed = false;
    let (update, expect) = match remote {
        Some(remote) => match CallStatus::from_twilio(&remote.status) {
            Some(status) => ((status, Some(remote)), Expect::Any),
            None => return Ok(Outcome::Unknown),
        },
        None if seen.twilio_sid.is_none() && now - seen.updated_at > NEVER_PLACED_AFTER => {
            never_placed = true;
            (
                (CallStatus::Failed, None),
                Expect::Unplaced {
                    quiet_before: now - NEVER_PLACED_AFTER,
                },
            )
        }
        None => return Ok(Outcome::Unknown),
    };
    let (status, remote) = update;
    let applied = status::apply_if(
        state,
        StatusUpdate {
            call_id: seen.id,
            status,
            sequence: None,
            duration_secs: remote
                .as_ref()
                .and_then(|r| r.duration_secs())
                .map(|d| d as i32),
            answered_by: remote.as_ref().and_then(|r| r.answered_by.clone()),
            twilio_sid: remote.as_ref().map(|r| r.sid.clone()),
            occurred_at: Utc::now(),
            source: EventSource::Reconcile,
            detail: match &remote {
                Some(r) => json!({"call_sid": r.sid, "twilio_status": r.status}),
                None => {
                    json!({"reason": "not found on Twilio: the request never placed a call"})
                }
            },
        },
        expect,
    )
    .await?;
    let applied = matches!(applied, status::Applied::Changed { .. });
    Ok(Outcome::Asked {
        adopted,
        never_placed: never_placed && applied,
        applied,
    })
}

/// Calls not final whose request outcome is unknown or whose callbacks have gone quiet.
fn awaiting(now: DateTime<Utc>) -> calls::BoxedQuery<'static, Pg> {
    calls::table
        .filter(calls::status.eq_any(["QUEUED", "INITIATED", "RINGING", "IN_PROGRESS"]))
        .filter(
            calls::twilio_sid
                .is_null()
                .and(calls::updated_at.lt(now - LOST_REQUEST_AFTER))
                .or(calls::twilio_sid
                    .is_not_null()
                    .and(calls::updated_at.lt(now - SILENT_AFTER))),
        )
        .into_boxed()
}

/// How many calls the next reconciliation run will ask Twilio about.
pub async fn awaiting_count(conn: &mut AsyncPgConnection) -> AppResult<i64> {
    Ok(awaiting(Utc::now()).count().get_result(conn).await?)
}

/// The first listed call whose SID no other call of ours has taken. The call itself may hold it
/// already (a callback stored it after the run read the row): that is the same call, not a
/// reason to think the request was never placed.
async fn adoptable(
    state: &AppState,
    call_id: uuid::Uuid,
    found: Vec<TwilioCall>,
) -> AppResult<Option<TwilioCall>> {
    let mut conn = state.conn().await?;
    for candidate in found {
        let taken: i64 = calls::table
            .filter(calls::twilio_sid.eq(&candidate.sid))
            .filter(calls::id.ne(call_id))
            .count()
            .get_result(&mut conn)
            .await?;
        if taken == 0 {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}
