//! Giving numbers back to Twilio: one on request, or every number left idle too long.

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::lookup::get;
use super::model::{Did, DidChanges, DidStatus};
use crate::app::AppState;
use crate::audit;
use crate::error::AppResult;
use crate::twilio_accounts;
use crate::viewer::Viewer;

/// Deletes the number on Twilio and keeps our row as RELEASED for history.
pub async fn release(
    state: &AppState,
    actor: Option<&Viewer>,
    did_id: Uuid,
    reason: &str,
) -> AppResult<Did> {
    let did = get(state, did_id).await?;
    if did.status == DidStatus::Released {
        return Ok(did);
    }
    let account = twilio_accounts::service::get(state, did.twilio_account_id).await?;
    let client = twilio_accounts::service::client_for(state, &account)?;
    client.release_number(&did.twilio_sid).await?;
    let mut conn = state.conn().await?;
    let changes = DidChanges {
        status: Some(DidStatus::Released),
        assigned_user_id: Some(None),
        released_at: Some(Some(Utc::now())),
        updated_at: Some(Utc::now()),
        ..DidChanges::default()
    };
    let released = Did::update(&mut conn, did_id, &changes).await?;
    audit::service::record(
        &mut conn,
        actor.map(|a| a.id),
        "did.release",
        "did",
        &did_id.to_string(),
        json!({"phone_number": did.phone_number, "reason": reason, "was_assigned_to": did.assigned_user_id}),
    )
    .await?;
    Ok(released)
}

/// Releases numbers with no call for `idle_days` (creation counts as use).
pub async fn release_idle(state: &AppState, idle_days: u32) -> AppResult<usize> {
    let cutoff = Utc::now() - Duration::days(i64::from(idle_days));
    let live = Did::live(&mut *state.conn().await?).await?;
    let mut released = 0;
    for did in live {
        let last_use = did.last_used_at.unwrap_or(did.created_at);
        if last_use < cutoff
            && !twilio_accounts::service::get(state, did.twilio_account_id)
                .await?
                .is_simulated
        {
            release(state, None, did.id, &format!("idle for {idle_days} days")).await?;
            released += 1;
        }
    }
    Ok(released)
}
