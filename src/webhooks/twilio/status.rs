//! Applying a stored event: status callbacks, `<Dial>` reports, AMD results and keypresses.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::receive::{no_content, receive, Key};
use super::{param, Params};
use crate::app::AppState;
use crate::calls::model::{Call, CallChanges, EventKind, EventSource};
use crate::calls::status::{self, StatusUpdate};
use crate::calls::CallStatus;
use crate::error::{AppError, AppResult};
use crate::webhooks::model::WebhookEvent;

/// Applies a stored event; safe to call again (the sweep job does). Every handler is
/// idempotent, so no connection is held across them: a handler needing its own connection
/// can never wait on one this function holds.
pub async fn process(app: &AppState, id: i64) -> AppResult<()> {
    let event = WebhookEvent::find(&mut *app.conn().await?, id).await?;
    if event.processed_at.is_some() {
        return Ok(());
    }
    let params: Params =
        serde_json::from_value(event.payload["params"].clone()).unwrap_or_default();
    settle(app, id, &event.kind, event.call_id, &params).await
}

/// Runs the handler for a stored event and records the outcome on it.
pub(super) async fn settle(
    app: &AppState,
    id: i64,
    kind: &str,
    call_id: Option<Uuid>,
    params: &Params,
) -> AppResult<()> {
    let outcome = match (kind, call_id) {
        ("status", Some(call_id)) | ("voice", Some(call_id)) => {
            match status_update(call_id, params) {
                Some(update) => status::apply(app, update).await.map(|_| ()),
                None => Ok(()),
            }
        }
        ("amd", Some(call_id)) => apply_amd(app, call_id, params).await,
        ("dial", Some(call_id)) => apply_dial(app, call_id, params).await,
        ("gather", Some(call_id)) => {
            crate::dispatcher::voice::apply_digits(
                app,
                call_id,
                param(params, "Digits").unwrap_or(""),
            )
            .await
        }
        _ => Ok(()),
    };
    let mut conn = app.conn().await?;
    match outcome {
        // The call is not ours (deleted or never existed): nothing to apply, keep the record.
        Ok(()) | Err(AppError::NotFound(_)) => WebhookEvent::mark(&mut conn, id, None).await?,
        Err(e) => {
            WebhookEvent::mark(&mut conn, id, Some(&e.message())).await?;
            return Err(e);
        }
    }
    Ok(())
}

/// What a status (or voice) callback says about its call, if it names a status we know.
pub(super) fn status_update(call_id: Uuid, params: &Params) -> Option<StatusUpdate> {
    let call_status = param(params, "CallStatus").and_then(CallStatus::from_twilio)?;
    let occurred_at = param(params, "Timestamp")
        .and_then(crate::twilio::types::parse_rfc2822)
        .unwrap_or_else(Utc::now);
    Some(StatusUpdate {
        call_id,
        status: call_status,
        sequence: param(params, "SequenceNumber").and_then(|s| s.parse().ok()),
        duration_secs: param(params, "CallDuration").and_then(|s| s.parse().ok()),
        answered_by: param(params, "AnsweredBy").map(str::to_owned),
        twilio_sid: param(params, "CallSid").map(str::to_owned),
        occurred_at,
        source: EventSource::Webhook,
        detail: json!({
            "call_sid": param(params, "CallSid"),
            "sip_response_code": param(params, "SipResponseCode"),
            "answered_by": param(params, "AnsweredBy"),
        }),
    })
}

/// The `<Dial action>` report of an extra leg: its outcome and duration settle its hold.
async fn apply_dial(app: &AppState, call_id: Uuid, params: &Params) -> AppResult<()> {
    let Some(dial_status) = param(params, "DialCallStatus").and_then(|s| match s {
        // The leg was answered and the parent call hung up first: it still talked.
        "answered" => Some(CallStatus::Completed),
        other => CallStatus::from_twilio(other).filter(|s| s.is_final()),
    }) else {
        return Ok(());
    };
    let update = StatusUpdate {
        call_id,
        status: dial_status,
        sequence: None,
        duration_secs: param(params, "DialCallDuration").and_then(|s| s.parse().ok()),
        answered_by: None,
        twilio_sid: param(params, "DialCallSid").map(str::to_owned),
        occurred_at: Utc::now(),
        source: EventSource::Webhook,
        detail: json!({
            "dial_call_sid": param(params, "DialCallSid"),
            "dial_call_status": param(params, "DialCallStatus"),
            "parent_call_sid": param(params, "CallSid"),
        }),
    };
    status::apply(app, update).await.map(|_| ())
}

async fn apply_amd(app: &AppState, call_id: Uuid, params: &Params) -> AppResult<()> {
    let answered_by = param(params, "AnsweredBy").map(str::to_owned);
    let mut conn = app.conn().await?;
    status::record_event(
        &mut conn,
        call_id,
        EventKind::Amd,
        EventSource::Webhook,
        json!({"answered_by": answered_by}),
    )
    .await?;
    let changes = CallChanges {
        answered_by: Some(answered_by),
        ..CallChanges::default()
    };
    Call::update(&mut conn, call_id, &changes).await?;
    Ok(())
}

pub async fn status(
    State(app): State<AppState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &app,
            "status",
            Some(&call_id),
            Key::Event,
            (&uri, &headers, &body),
        )
        .await,
    )
}
