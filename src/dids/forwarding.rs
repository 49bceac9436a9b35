//! A holder's own settings for calls to their number: where to forward, or what to say.

use chrono::Utc;
use uuid::Uuid;

use super::lookup::find;
use super::model::{Did, DidChanges, DidStatus};
use super::numbers::country_of;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

const MAX_INBOUND_MESSAGE: usize = 500;

/// A user's own number only: someone else's is NOT_FOUND, so ids reveal nothing.
pub async fn set_forwarding(
    state: &AppState,
    viewer: &Viewer,
    did_id: Uuid,
    forward_to: Option<&str>,
    inbound_message: Option<&str>,
) -> AppResult<Did> {
    // Omitted (None) keeps the current value; blank clears it; text sets it.
    let inbound_message =
        inbound_message.map(|m| Some(m.trim()).filter(|s| !s.is_empty()).map(str::to_owned));
    if inbound_message.as_ref().is_some_and(|m| {
        m.as_ref()
            .is_some_and(|m| m.chars().count() > MAX_INBOUND_MESSAGE)
    }) {
        return Err(AppError::bad_input(
            "inboundMessage",
            format!("at most {MAX_INBOUND_MESSAGE} characters"),
        ));
    }
    let mut conn = state.conn().await?;
    let did = find(&mut conn, did_id).await?;
    if did.assigned_user_id != Some(viewer.id) || did.status == DidStatus::Released {
        return Err(AppError::NotFound("phone number"));
    }
    // Forwarding dials out at the holder's cost: the same parser and number-type rule as any
    // other destination (checked again when a call is forwarded).
    let forward_to = match forward_to.map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(raw) => Some(Some(
            crate::compliance::numbers::parse_callable(
                &mut conn,
                "forwardTo",
                raw,
                match country_of(&did.phone_number).as_str() {
                    "ZZ" => "VN",
                    country => country,
                },
            )
            .await?
            .e164,
        )),
    };
    let changes = DidChanges {
        forward_to,
        inbound_message,
        updated_at: Some(Utc::now()),
        ..DidChanges::default()
    };
    Ok(Did::update(&mut conn, did_id, &changes).await?)
}
