//! The Twilio request for a recorded attempt. It is sent once: an unknown outcome is left for
//! reconciliation through Twilio's call list, never retried blindly.

use chrono::Utc;
use diesel_async::RunQueryDsl;
use serde_json::json;

use super::claim::Placement;
use crate::app::AppState;
use crate::calls::model::{Call, CallChanges, EventSource};
use crate::calls::status::{self, StatusUpdate};
use crate::calls::CallStatus;
use crate::campaigns::settings::AmdMode;
use crate::error::AppResult;
use crate::twilio::types::CreateCall;
use crate::twilio_accounts::service as accounts;

pub async fn place(state: &AppState, placement: Placement) -> AppResult<()> {
    let wait = placement.not_before - Utc::now();
    if let Ok(wait) = wait.to_std() {
        // A process told to stop sends nothing new, however soon the slot would come.
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.shutdown.cancelled() => {}
        }
    }
    let call = &placement.call;
    let marked = mark_sent(state, call.id).await?;
    if marked == 0 {
        tracing::warn!(call.id = %call.id, "call closed before its request was sent; not sending");
        return Ok(());
    }
    // A claim waits up to 30 s for its pacing slot: an owner suspended meanwhile, or a SIGTERM,
    // must not see it placed. Canceled unplaced, it is not a failure and the contact gets another
    // attempt (on whichever node is still running).
    let unsent = if state.shutdown.is_cancelled() {
        Some("shutting down before the call was placed")
    } else if !owner_active(state, call.owner_id).await? {
        Some("owner suspended before the call was placed")
    } else {
        None
    };
    if let Some(reason) = unsent {
        tracing::info!(call.id = %call.id, reason, "call canceled before its request was sent");
        status::apply(
            state,
            StatusUpdate {
                call_id: call.id,
                status: CallStatus::Canceled,
                sequence: None,
                duration_secs: Some(0),
                answered_by: None,
                twilio_sid: None,
                occurred_at: Utc::now(),
                source: EventSource::Dispatch,
                detail: json!({"error": reason}),
            },
        )
        .await?;
        return Ok(());
    }
    let base = &state.public_url;
    let amd = placement.campaign.amd_mode != AmdMode::Off;
    let request = CreateCall {
        to: call.to_number.to_string(),
        from: call.from_number.to_string(),
        url: Some(format!("{base}/webhooks/twilio/voice/{}", call.id)),
        twiml: None,
        status_callback: Some(format!("{base}/webhooks/twilio/status/{}", call.id)),
        status_callback_events: ["initiated", "ringing", "answered", "completed"]
            .map(String::from)
            .to_vec(),
        timeout_secs: Some(30),
        // The hold covers a call this long, so the carrier must not let one run longer.
        time_limit_secs: Some(state.config.max_call_secs),
        machine_detection: amd.then(|| "Enable".to_owned()),
        // Synchronous detection: AnsweredBy arrives with the TwiML request, which then decides.
        async_amd: false,
        async_amd_status_callback: None,
    };
    let client = accounts::client_for(state, &placement.account)?;
    match client.create_call(&request).await {
        Ok(created) => {
            let changes = CallChanges {
                twilio_sid: Some(Some(created.sid)),
                updated_at: Some(Utc::now()),
                ..CallChanges::default()
            };
            Call::update(&mut *state.conn().await?, call.id, &changes).await?;
        }
        Err(e) if e.was_not_processed() || e.status().is_some_and(|s| (400..500).contains(&s)) => {
            // Twilio refused it (or never saw it): the attempt ends as FAILED, with the reason.
            tracing::warn!(call.id = %call.id, error = %e, "Twilio did not accept the call");
            status::apply(
                state,
                StatusUpdate {
                    call_id: call.id,
                    status: CallStatus::Failed,
                    sequence: None,
                    duration_secs: Some(0),
                    answered_by: None,
                    twilio_sid: None,
                    occurred_at: Utc::now(),
                    source: EventSource::Dispatch,
                    detail: json!({"error": e.to_string(), "twilio_code": e.code()}),
                },
            )
            .await?;
        }
        Err(e) => {
            // Sent, outcome unknown: reconciliation finds it on Twilio or declares it never placed.
            tracing::warn!(call.id = %call.id, error = %e, "unknown outcome of a call request; left for reconciliation");
            diesel::sql_query("UPDATE calls SET updated_at = now() WHERE id = $1")
                .bind::<diesel::sql_types::Uuid, _>(call.id)
                .execute(&mut *state.conn().await?)
                .await?;
        }
    }
    Ok(())
}

/// How long a placement waits for the database to take its send mark: nothing has been sent
/// yet, so waiting out a restart is safe, and the call goes out once the database is back
/// instead of sitting unsent until reconciliation's ten-minute grace has passed.
const MARK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);
const MARK_RETRY: std::time::Duration = std::time::Duration::from_millis(250);

/// The send mark: reconciliation times a SID-less call from here, and a call it has already
/// closed (this process stalled past its grace period) is never sent. Rows marked: 0 or 1.
async fn mark_sent(state: &AppState, call_id: uuid::Uuid) -> AppResult<usize> {
    let deadline = tokio::time::Instant::now() + MARK_PATIENCE;
    loop {
        let attempt = async {
            diesel::sql_query(
                "UPDATE calls SET updated_at = now() WHERE id = $1 AND status = 'QUEUED' AND twilio_sid IS NULL",
            )
            .bind::<diesel::sql_types::Uuid, _>(call_id)
            .execute(&mut *state.conn().await?)
            .await
            .map_err(crate::error::AppError::from)
        };
        match attempt.await {
            Ok(marked) => return Ok(marked),
            Err(e) if tokio::time::Instant::now() < deadline && !state.shutdown.is_cancelled() => {
                tracing::debug!(call.id = %call_id, error = ?e, "send mark not taken yet; retrying");
                tokio::time::sleep(MARK_RETRY).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn owner_active(state: &AppState, owner_id: uuid::Uuid) -> AppResult<bool> {
    let owner = crate::users::service::get(state, owner_id).await?;
    Ok(owner.status == crate::users::UserStatus::Active)
}
