//! The TwiML a placed call plays, and the callbacks along the way: keypresses, AMD and a
//! leg's `<Dial>` report.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::receive::{no_content, receive, Key, Received};
use super::{param, twiml};
use crate::app::AppState;
use crate::twilio::twiml::VoiceResponse;

/// Said when a call's TwiML cannot be built; the caller hears an apology, not silence.
pub(super) fn apology() -> VoiceResponse {
    VoiceResponse::new()
        .say(
            "Xin lỗi, đã có lỗi xảy ra. Xin cảm ơn.",
            Some("Google.vi-VN-Wavenet-A"),
            Some("vi-VN"),
        )
        .hangup()
}

/// The TwiML a call plays: its campaign's message and menu, or a short greeting for a call
/// placed outside any campaign.
async fn voice_response(app: &AppState, received: &Received) -> VoiceResponse {
    let Some(call) = &received.call else {
        return VoiceResponse::new().reject();
    };
    if call.campaign_id.is_none() {
        return VoiceResponse::new()
            .say(
                "Xin chào. Đây là cuộc gọi từ Ringcast.",
                Some("Google.vi-VN-Wavenet-A"),
                Some("vi-VN"),
            )
            .hangup();
    }
    match crate::dispatcher::voice::twiml(app, call, param(&received.params, "AnsweredBy")).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(call.id = %call.id, error = ?e, "could not build the call's TwiML");
            apology()
        }
    }
}

pub async fn voice(
    State(app): State<AppState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(
        &app,
        "voice",
        Some(&call_id),
        Key::Body,
        (&uri, &headers, &body),
    )
    .await
    {
        Ok(received) => twiml(voice_response(&app, &received).await),
        Err(r) => r,
    }
}

pub async fn gather(
    State(app): State<AppState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(
        &app,
        "gather",
        Some(&call_id),
        Key::Body,
        (&uri, &headers, &body),
    )
    .await
    {
        Ok(received) => {
            let digits = param(&received.params, "Digits").unwrap_or("");
            let call_sid = param(&received.params, "CallSid");
            match &received.call {
                Some(call) => twiml(crate::dispatcher::voice::on_digits(&app, call, call_sid, digits).await.unwrap_or_else(|e| {
                    tracing::error!(call.id = %call.id, error = ?e, "could not answer a keypress");
                    apology()
                })),
                None => twiml(VoiceResponse::new().hangup()),
            }
        }
        Err(r) => r,
    }
}

pub async fn amd(
    State(app): State<AppState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &app,
            "amd",
            Some(&call_id),
            Key::Body,
            (&uri, &headers, &body),
        )
        .await,
    )
}

/// The carrier's report on an extra leg's `<Dial>`: settled, then the call ends.
pub async fn dial(
    State(app): State<AppState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(
        &app,
        "dial",
        Some(&call_id),
        Key::Body,
        (&uri, &headers, &body),
    )
    .await
    {
        Ok(_) => twiml(VoiceResponse::new().hangup()),
        Err(r) => r,
    }
}
