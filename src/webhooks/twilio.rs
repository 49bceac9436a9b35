//! Twilio's callbacks: signature first (403 otherwise, nothing stored), then the raw payload
//! stored under a unique key, then processing. A duplicate gets 2xx and changes nothing.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{NewWebhookEvent, WebhookEvent};
use crate::app::AppState;
use crate::calls::model::{Call, CallChanges, EventKind, EventSource};
use crate::calls::status::{self, StatusUpdate};
use crate::calls::CallStatus;
use crate::dids::Did;
use crate::error::{AppError, AppResult};
use crate::forwarded::public_base_url;
use crate::server::ServerState;
use crate::twilio::signature;
use crate::twilio::twiml::{Verb, VoiceResponse};
use crate::twilio_accounts::{service as accounts, TwilioAccount};

type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn twiml(response: VoiceResponse) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        response.to_xml(),
    )
        .into_response()
}

fn forbidden() -> Response {
    (StatusCode::FORBIDDEN, "Twilio request validation failed").into_response()
}

fn unavailable(e: &AppError) -> Response {
    tracing::error!(error = ?e, "webhook could not be stored");
    // Not 2xx: Twilio retries, and nothing was acknowledged that we do not have.
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

/// A verified request: its parameters and the account that signed it.
struct Verified {
    params: Params,
    account: TwilioAccount,
}

/// Checks `X-Twilio-Signature` with the auth token of the account named in `AccountSid`,
/// over the URL Twilio called (rebuilt from `PUBLIC_URL`, or forwarded headers behind a proxy).
async fn verify(
    app: &AppState,
    headers: &HeaderMap,
    uri: &OriginalUri,
    body: &[u8],
) -> Result<Verified, Response> {
    let params: Params = serde_urlencoded::from_bytes(body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "expected a form body").into_response())?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(forbidden)?;
    let sid = param(&params, "AccountSid").ok_or_else(forbidden)?;
    let mut conn = app.conn().await.map_err(|e| unavailable(&e))?;
    let account = TwilioAccount::find_by_sid(&mut conn, sid)
        .await
        .map_err(|e| unavailable(&e.into()))?
        .ok_or_else(forbidden)?;
    let token = accounts::open_token(app, &account).map_err(|e| unavailable(&e))?;
    let base = public_base_url(headers, &app.public_url, app.config.trust_proxy);
    let path = uri.0.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{base}{path}");
    if signature::validate(token.expose(), signature, &url, &params) {
        Ok(Verified { params, account })
    } else {
        tracing::warn!(url = %url, "rejected a webhook with a bad signature");
        Err(forbidden())
    }
}

fn body_hash(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..12])
}

/// Stores the payload; `None` for a duplicate.
async fn store(
    app: &AppState,
    kind: &str,
    key: &str,
    call_id: Option<Uuid>,
    params: &Params,
) -> AppResult<Option<i64>> {
    let payload = json!({"params": params});
    let mut conn = app.conn().await?;
    Ok(NewWebhookEvent {
        provider: "twilio",
        kind,
        dedupe_key: key,
        call_id,
        payload,
    }
    .insert(&mut conn)
    .await?)
}

/// Applies a stored event exactly once; safe to call again (the sweep job does).
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
    let outcome = match (event.kind.as_str(), event.call_id) {
        ("status", Some(call_id)) | ("voice", Some(call_id)) => {
            apply_status(app, call_id, &params).await
        }
        ("amd", Some(call_id)) => apply_amd(app, call_id, &params).await,
        ("gather", Some(call_id)) => {
            crate::dispatcher::voice::apply_digits(
                app,
                call_id,
                param(&params, "Digits").unwrap_or(""),
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

async fn apply_status(app: &AppState, call_id: Uuid, params: &Params) -> AppResult<()> {
    let Some(call_status) = param(params, "CallStatus").and_then(CallStatus::from_twilio) else {
        return Ok(());
    };
    let occurred_at = param(params, "Timestamp")
        .and_then(crate::twilio::types::parse_rfc2822)
        .unwrap_or_else(Utc::now);
    let update = StatusUpdate {
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

/// The call a webhook path names, only if it belongs to the account that signed the request.
async fn owned_call(app: &AppState, call_id: &str, account: &TwilioAccount) -> Option<Call> {
    let id = Uuid::parse_str(call_id).ok()?;
    let mut conn = app.conn().await.ok()?;
    Call::find(&mut conn, id)
        .await
        .ok()
        .filter(|c| c.twilio_account_id == account.id)
}

/// How a delivery is told apart from a repeat of itself.
enum Key {
    /// Status callbacks: one per call, sequence number and status.
    Event,
    /// Requests that expect TwiML: the body itself.
    Body,
}

/// What every Twilio webhook does first.
struct Received {
    params: Params,
    account: TwilioAccount,
    call: Option<Call>,
}

/// Verifies the signature, finds the call the path names (only if the signing account placed
/// it), stores the payload under its dedupe key, and processes it inline; a processing
/// failure is left for the sweep job, since the payload is already safe.
async fn receive(
    app: &AppState,
    kind: &str,
    call_id: Option<&str>,
    key: Key,
    (uri, headers, body): (&OriginalUri, &HeaderMap, &Bytes),
) -> Result<Received, Response> {
    let Verified { params, account } = verify(app, headers, uri, body).await?;
    let call = match call_id {
        Some(id) => owned_call(app, id, &account).await,
        None => None,
    };
    let discriminator = match key {
        Key::Event => format!(
            "{}:{}:{}",
            param(&params, "CallSid").unwrap_or(""),
            param(&params, "SequenceNumber").unwrap_or(""),
            param(&params, "CallStatus").unwrap_or(""),
        ),
        Key::Body => body_hash(body),
    };
    let dedupe_key = format!("twilio:{kind}:{}:{discriminator}", call_id.unwrap_or("-"));
    match store(app, kind, &dedupe_key, call.as_ref().map(|c| c.id), &params).await {
        Ok(Some(id)) => {
            if let Err(e) = process(app, id).await {
                tracing::warn!(webhook.id = id, error = ?e, "webhook stored; processing will be retried");
            }
        }
        Ok(None) => {}
        Err(e) => return Err(unavailable(&e)),
    }
    Ok(Received {
        params,
        account,
        call,
    })
}

fn no_content(received: Result<Received, Response>) -> Response {
    match received {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

pub async fn status(
    State(server): State<ServerState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &server.app,
            "status",
            Some(&call_id),
            Key::Event,
            (&uri, &headers, &body),
        )
        .await,
    )
}

/// Said when a call's TwiML cannot be built; the caller hears an apology, not silence.
fn apology() -> VoiceResponse {
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
    State(server): State<ServerState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(
        &server.app,
        "voice",
        Some(&call_id),
        Key::Body,
        (&uri, &headers, &body),
    )
    .await
    {
        Ok(received) => twiml(voice_response(&server.app, &received).await),
        Err(r) => r,
    }
}

pub async fn gather(
    State(server): State<ServerState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(
        &server.app,
        "gather",
        Some(&call_id),
        Key::Body,
        (&uri, &headers, &body),
    )
    .await
    {
        Ok(received) => {
            let digits = param(&received.params, "Digits").unwrap_or("");
            match &received.call {
                Some(call) => twiml(crate::dispatcher::voice::on_digits(&server.app, call, digits).await.unwrap_or_else(|e| {
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
    State(server): State<ServerState>,
    Path(call_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &server.app,
            "amd",
            Some(&call_id),
            Key::Body,
            (&uri, &headers, &body),
        )
        .await,
    )
}

/// Calls to our numbers: forward to the holder's number, play their message, or reject.
pub async fn inbound(
    State(server): State<ServerState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &server.app;
    let received = match receive(app, "inbound", None, Key::Body, (&uri, &headers, &body)).await {
        Ok(received) => received,
        Err(r) => return r,
    };
    let to = param(&received.params, "To").unwrap_or("");
    let did = match app.conn().await {
        Ok(mut conn) => Did::find_live_by_number(&mut conn, to).await.ok().flatten(),
        Err(e) => return unavailable(&e),
    };
    twiml(inbound_response(did.filter(|d| {
        d.twilio_account_id == received.account.id && d.assigned_user_id.is_some()
    })))
}

fn inbound_response(did: Option<Did>) -> VoiceResponse {
    let voice = Some("Google.vi-VN-Wavenet-A");
    let language = Some("vi-VN");
    match did {
        Some(did) => match (&did.forward_to, &did.inbound_message) {
            (Some(forward), _) => VoiceResponse::new().verb(Verb::Dial {
                number: forward.clone(),
                caller_id: Some(did.phone_number.clone()),
                timeout: Some(30),
                action: None,
            }),
            (None, Some(message)) => VoiceResponse::new()
                .say(message.clone(), voice, language)
                .hangup(),
            (None, None) => VoiceResponse::new()
                .say(
                    "Số điện thoại này hiện không nhận cuộc gọi.",
                    voice,
                    language,
                )
                .hangup(),
        },
        None => VoiceResponse::new().reject(),
    }
}

pub async fn inbound_status(
    State(server): State<ServerState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    no_content(
        receive(
            &server.app,
            "inbound_status",
            None,
            Key::Event,
            (&uri, &headers, &body),
        )
        .await,
    )
}
