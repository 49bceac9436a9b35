//! `apply`: the single path by which a call's state changes. Webhooks and reconciliation both
//! come here, so late, repeated and missing callbacks converge on the same final state.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::model::{Call, CallChanges, CallStatus, EventKind, EventSource, NewCallEvent};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::events::Event;

pub const EVENT_CALL_UPDATED: &str = "call.updated";

#[derive(Clone, Debug)]
pub struct StatusUpdate {
    pub call_id: Uuid,
    pub status: CallStatus,
    /// Twilio's `SequenceNumber`, when the update came from a callback.
    pub sequence: Option<i32>,
    pub duration_secs: Option<i32>,
    pub answered_by: Option<String>,
    pub twilio_sid: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub source: EventSource,
    pub detail: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Changed {
        from: CallStatus,
        to: CallStatus,
    },
    /// Recorded in the timeline, but the call's state stays as it was.
    Ignored(&'static str),
}

/// Why an update does not change the call, if it does not.
pub fn judge(current: CallStatus, next: CallStatus) -> Option<&'static str> {
    if current == next {
        Some("duplicate")
    } else if current.is_final() {
        Some("call already final")
    } else if next.rank() < current.rank() {
        Some("would move the call backwards")
    } else {
        None
    }
}

/// What the caller saw when it decided on an update; checked again under the row lock, since a
/// callback may have changed the call between the caller's read and this transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Any state: callbacks carry their own facts.
    Any,
    /// Reconciliation's "never placed": still no SID and quiet since before this instant.
    Unplaced { quiet_before: DateTime<Utc> },
}

pub async fn apply(state: &AppState, update: StatusUpdate) -> AppResult<Applied> {
    apply_if(state, update, Expect::Any).await
}

/// Why the row, as it is under the lock, no longer allows the update, if it does not.
fn stale(call: &Call, update: &StatusUpdate, expect: Expect) -> Option<&'static str> {
    if let (Some(held), Some(reported)) = (&call.twilio_sid, &update.twilio_sid) {
        if held != reported {
            return Some("the call holds another SID");
        }
    }
    match expect {
        Expect::Any => None,
        Expect::Unplaced { quiet_before } => {
            if call.twilio_sid.is_some() {
                Some("placed since reconciliation read it")
            } else if call.updated_at >= quiet_before {
                Some("heard from since reconciliation read it")
            } else {
                None
            }
        }
    }
}

pub async fn apply_if(
    state: &AppState,
    update: StatusUpdate,
    expect: Expect,
) -> AppResult<Applied> {
    let mut conn = state.conn().await?;
    let (call, applied) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let call = Call::find_for_update(conn, update.call_id)
                .await
                .map_err(|e| match e {
                    diesel::result::Error::NotFound => AppError::NotFound("call"),
                    other => other.into(),
                })?;
            apply_locked(conn, call, &update, expect).await
        })
        .await?;
    // Publishing may wait on Redis: the connection goes back to the pool first.
    drop(conn);
    publish(state, &call, &applied).await;
    Ok(applied)
}

/// The update applied to `call`, which the caller has locked `FOR UPDATE` in the transaction
/// `conn` is in. Nothing is published: that is for after the commit (`publish`).
pub async fn apply_locked(
    conn: &mut diesel_async::AsyncPgConnection,
    call: Call,
    update: &StatusUpdate,
    expect: Expect,
) -> AppResult<(Call, Applied)> {
    let outdated = stale(&call, update, expect);
    let verdict = outdated.or_else(|| judge(call.status, update.status));
    NewCallEvent {
        call_id: call.id,
        kind: EventKind::Status,
        source: update.source,
        status: Some(update.status.as_str()),
        sequence_number: update.sequence,
        detail: update.detail.clone(),
        applied: verdict.is_none(),
        occurred_at: update.occurred_at,
    }
    .insert(conn)
    .await?;
    if let Some(reason) = verdict {
        // A late final callback may still carry facts the earlier one lacked.
        if outdated.is_none()
            && call.status == update.status
            && update.status.is_final()
            && call.duration_secs.is_none()
            && update.duration_secs.is_some()
        {
            let changes = CallChanges {
                duration_secs: Some(update.duration_secs),
                ..CallChanges::default()
            };
            Call::update(conn, call.id, &changes).await?;
        }
        return Ok((call, Applied::Ignored(reason)));
    }
    let mut changes = CallChanges {
        status: Some(update.status),
        updated_at: Some(Utc::now()),
        ..CallChanges::default()
    };
    if call.twilio_sid.is_none() && update.twilio_sid.is_some() {
        changes.twilio_sid = Some(update.twilio_sid.clone());
    }
    if update.answered_by.is_some() {
        changes.answered_by = Some(update.answered_by.clone());
    }
    if update.status == CallStatus::InProgress && call.answered_at.is_none() {
        changes.answered_at = Some(Some(update.occurred_at));
    }
    if update.status.is_final() {
        changes.ended_at = Some(Some(update.occurred_at));
        changes.duration_secs = Some(Some(update.duration_secs.unwrap_or(0)));
        // The charge settling will post, in the same write as the final state: a second write
        // to the row in this transaction would take its foreign keys' locks (campaign, owner,
        // account) after the balance's, and deadlock against the dispatcher.
        let billed = crate::billing::ledger::BilledCall {
            id: call.id,
            owner_id: call.owner_id,
            campaign_id: call.campaign_id,
            to_number: &call.to_number,
            duration_secs: Some(update.duration_secs.unwrap_or(0)),
            placed: call.twilio_sid.is_some() || update.twilio_sid.is_some(),
            status: update.status.as_str(),
        };
        changes.cost_vnd = crate::billing::ledger::charge_due(conn, billed).await?;
        // A completed call that we never saw answered still was.
        if update.status == CallStatus::Completed && call.answered_at.is_none() {
            changes.answered_at = Some(Some(update.occurred_at));
        }
    }
    let from = call.status;
    let call = Call::update(conn, call.id, &changes).await?;
    if update.status.is_final() {
        // Charged with the final state, in its transaction: never twice, never lost.
        crate::billing::ledger::settle_call(conn, call.billed()).await?;
    }
    if update.status.is_final() && call.contact_id.is_some() {
        // Announced after commit by a job: the contact's next step needs the final state.
        crate::jobs::enqueue(conn, &super::CallEnded { call_id: call.id }).await?;
    }
    Ok((
        call,
        Applied::Changed {
            from,
            to: update.status,
        },
    ))
}

/// Tells subscribers about a change, once its transaction has committed.
pub async fn publish(state: &AppState, call: &Call, applied: &Applied) {
    if matches!(applied, Applied::Changed { .. }) {
        let mut event = Event::new(EVENT_CALL_UPDATED, call.owner_id);
        event.call_id = Some(call.id);
        event.campaign_id = call.campaign_id;
        event.status = Some(call.status.as_str().to_owned());
        state.events.publish(event).await;
        if call.status.is_final() {
            crate::billing::service::publish(state, call.owner_id).await;
        }
    }
}

/// Records a keypress or machine-detection result in the call's timeline.
pub async fn record_event(
    conn: &mut diesel_async::AsyncPgConnection,
    call_id: Uuid,
    kind: EventKind,
    source: EventSource,
    detail: serde_json::Value,
) -> AppResult<()> {
    NewCallEvent {
        call_id,
        kind,
        source,
        status: None,
        sequence_number: None,
        detail,
        applied: true,
        occurred_at: Utc::now(),
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_backwards_never_after_final() {
        use CallStatus::*;
        assert_eq!(judge(Queued, Ringing), None);
        assert_eq!(judge(Ringing, InProgress), None);
        assert_eq!(judge(Queued, Completed), None, "a missed middle is fine");
        assert_eq!(judge(Completed, Ringing), Some("call already final"));
        assert_eq!(
            judge(InProgress, Ringing),
            Some("would move the call backwards")
        );
        assert_eq!(judge(Ringing, Ringing), Some("duplicate"));
        assert_eq!(judge(Busy, Completed), Some("call already final"));
    }
}
