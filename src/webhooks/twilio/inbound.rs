//! Calls placed to our numbers, and their status callbacks.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::receive::{no_content, receive, Key};
use super::voice::apology;
use super::{param, twiml, unavailable};
use crate::app::AppState;
use crate::calls::leg::{self, Leg, LegKind, LegRequest};
use crate::dids::Did;
use crate::error::AppResult;
use crate::twilio::twiml::VoiceResponse;

/// Calls to our numbers: forward to the holder's number, play their message, or reject.
pub async fn inbound(
    State(app): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &app;
    let received = match receive(app, "inbound", None, Key::Body, (&uri, &headers, &body)).await {
        Ok(received) => received,
        Err(r) => return r,
    };
    let to = param(&received.params, "To").unwrap_or("");
    let did = match app.conn().await {
        Ok(mut conn) => Did::find_live_by_number(&mut conn, to).await.ok().flatten(),
        Err(e) => return unavailable(&e),
    };
    let did =
        did.filter(|d| d.twilio_account_id == received.account_id && d.assigned_user_id.is_some());
    let call_sid = param(&received.params, "CallSid").unwrap_or("");
    match inbound_response(app, did, call_sid).await {
        Ok(response) => twiml(response),
        Err(e) => {
            tracing::error!(error = ?e, "could not answer an inbound call");
            twiml(apology())
        }
    }
}

const NOT_TAKING_CALLS: &str = "Số điện thoại này hiện không nhận cuộc gọi.";

async fn inbound_response(
    app: &AppState,
    did: Option<Did>,
    call_sid: &str,
) -> AppResult<VoiceResponse> {
    let voice = Some("Google.vi-VN-Wavenet-A");
    let language = Some("vi-VN");
    let (Some(did), Some(owner)) = (&did, did.as_ref().and_then(|d| d.assigned_user_id)) else {
        return Ok(VoiceResponse::new().reject());
    };
    Ok(match (&did.forward_to, &did.inbound_message) {
        (Some(forward), _) if !call_sid.is_empty() => {
            // Forwarding is an outbound call at the holder's cost, checked like any other.
            let request = LegRequest {
                kind: LegKind::Forward,
                owner_id: owner,
                twilio_account_id: did.twilio_account_id,
                did_id: Some(did.id),
                from: &did.phone_number,
                to: forward,
                parent_sid: call_sid,
            };
            match leg::open(app, &request).await? {
                Leg::Dial(leg) => VoiceResponse::new().verb(leg::dial_verb(
                    &app.public_url,
                    &leg,
                    app.config.max_call_secs,
                )),
                Leg::Refused(why) => {
                    tracing::info!(did.id = %did.id, reason = why.reason(), "forwarding refused");
                    VoiceResponse::new()
                        .say(NOT_TAKING_CALLS, voice, language)
                        .hangup()
                }
            }
        }
        (_, Some(message)) => VoiceResponse::new()
            .say(message.clone(), voice, language)
            .hangup(),
        _ => VoiceResponse::new()
            .say(NOT_TAKING_CALLS, voice, language)
            .hangup(),
    })
}

pub async fn inbound_status(
    State(app): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &app,
            "inbound_status",
            None,
            Key::Event,
            (&uri, &headers, &body),
        )
        .await,
    )
}
