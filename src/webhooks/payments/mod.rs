//! Payment callbacks: MoMo IPN, ZaloPay callback, and SePay / Casso bank-transaction webhooks.
//! Every verified payload is stored before we answer and then processed; a duplicate is
//! acknowledged and ignored. A request that fails verification changes nothing: its first
//! 4 KiB and its SHA-256 are kept as evidence, until its source has had `PER_MINUTE`
//! rejections this minute, after which it gets 429 and nothing is kept. Bodies are capped at
//! `MAX_BODY_BYTES` (413 above): a real notification is a few KB.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{NewWebhookEvent, WebhookEvent};
use super::rejections::Rejections;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::payments::protocol::{casso, momo, sepay, zalopay};

mod process;

pub use process::process;

fn raw_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(body)}))
}

/// A gateway notification is a few KB; anything near this is not one.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How much of a rejected body is kept as evidence (with the hash of all of it).
const STORED_HEAD_BYTES: usize = 4 * 1024;

/// Who sent a request, and the rejection budget of the address it came from.
pub struct Caller {
    source: String,
    rejections: Rejections,
}

impl Caller {
    fn new(app: &AppState, headers: &HeaderMap, peer: SocketAddr, rejections: Rejections) -> Self {
        let ip = crate::forwarded::client_ip(headers, peer, app.config.trust_proxy);
        Self {
            source: source_key(&ip),
            rejections,
        }
    }
}

/// One budget per IPv4 address, and per /64 for IPv6 (one subscriber's usual allocation), so
/// rotating through one's own addresses buys nothing.
fn source_key(ip: &str) -> String {
    let Ok(std::net::IpAddr::V6(v6)) = ip.parse::<std::net::IpAddr>() else {
        return ip.to_owned();
    };
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// What is kept of a rejected body: its start, its size and the hash of all of it.
fn rejected_record(body: &[u8]) -> Value {
    let head = &body[..body.len().min(STORED_HEAD_BYTES)];
    json!({
        "sha256": hex::encode(Sha256::digest(body)),
        "bytes": body.len(),
        "truncated": body.len() > STORED_HEAD_BYTES,
        "head": String::from_utf8_lossy(head),
    })
}

/// Answers a request that failed verification with `answer`, keeping a bounded record of it,
/// or with 429 and no record once its source has used up its rejections for the minute.
async fn reject(
    app: &AppState,
    caller: &Caller,
    provider: &str,
    body: &[u8],
    why: &str,
    answer: Response,
) -> Response {
    if !caller.rejections.admit(&caller.source) {
        metrics::counter!("payment_webhooks_throttled_total").increment(1);
        let retry = caller.rejections.retry_after(&caller.source).to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry)],
            "too many rejected notifications from this address",
        )
            .into_response();
    }
    let digest = Sha256::digest(body);
    let key = format!("{provider}:rejected:{}", hex::encode(&digest[..16]));
    let stored = async {
        let mut conn = app.conn().await?;
        WebhookEvent::store_rejected(&mut conn, provider, &key, rejected_record(body), why).await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = stored.await {
        tracing::warn!(error = ?e, provider, "could not store a rejected payment webhook");
    }
    tracing::warn!(provider, why, source = %caller.source, "rejected a payment webhook");
    answer
}

/// Stores a verified payload under its dedupe key and processes it; `Ok(false)` for a
/// duplicate (already stored, so already processed or being processed).
async fn store_and_process(
    app: &AppState,
    provider: &'static str,
    key: &str,
    payload: Value,
) -> AppResult<bool> {
    let id = {
        let mut conn = app.conn().await?;
        NewWebhookEvent {
            provider,
            kind: "payment",
            dedupe_key: key,
            call_id: None,
            payload,
        }
        .insert(&mut conn)
        .await?
    };
    let Some(id) = id else {
        return Ok(false);
    };
    // Stored: a failure from here on is retried by the sweep job, so we still acknowledge.
    if let Err(e) = process(app, id).await {
        tracing::warn!(webhook.id = id, error = ?e, "payment webhook stored; processing will be retried");
    }
    Ok(true)
}

fn unavailable(e: &AppError) -> Response {
    tracing::error!(error = ?e, "payment webhook could not be stored");
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

/// `POST /webhooks/payments/momo`: MoMo's IPN. 204 once stored (or a duplicate).
pub async fn momo(
    State(app): State<AppState>,
    Extension(rejections): Extension<Rejections>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &app;
    let caller = Caller::new(app, &headers, peer, rejections);
    let Some(settings) = &app.config.payments.momo else {
        let answer = StatusCode::NOT_FOUND.into_response();
        return reject(
            app,
            &caller,
            "momo",
            &body,
            "MoMo is not configured",
            answer,
        )
        .await;
    };
    let Ok(ipn) = serde_json::from_slice::<momo::Ipn>(&body) else {
        let answer = StatusCode::BAD_REQUEST.into_response();
        return reject(app, &caller, "momo", &body, "not a MoMo IPN", answer).await;
    };
    if ipn.partner_code != settings.partner_code
        || !momo::verify_ipn(&settings.access_key, settings.secret_key.expose(), &ipn)
    {
        let answer = StatusCode::BAD_REQUEST.into_response();
        return reject(
            app,
            &caller,
            "momo",
            &body,
            "bad signature or partner",
            answer,
        )
        .await;
    }
    let key = format!("momo:{}:{}:{}", ipn.order_id, ipn.trans_id, ipn.result_code);
    match store_and_process(app, "momo", &key, raw_json(&body)).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => unavailable(&e),
    }
}

fn zalopay_reply(code: i32, message: &str) -> Response {
    Json(json!({"return_code": code, "return_message": message})).into_response()
}

/// `POST /webhooks/payments/zalopay`: `{data, mac, type}`; answers `{return_code, return_message}`.
pub async fn zalopay(
    State(app): State<AppState>,
    Extension(rejections): Extension<Rejections>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &app;
    let caller = Caller::new(app, &headers, peer, rejections);
    let Some(settings) = &app.config.payments.zalopay else {
        let answer = zalopay_reply(-1, "not configured");
        return reject(
            app,
            &caller,
            "zalopay",
            &body,
            "ZaloPay is not configured",
            answer,
        )
        .await;
    };
    let Ok(callback) = serde_json::from_slice::<zalopay::Callback>(&body) else {
        let answer = zalopay_reply(-1, "bad request");
        return reject(
            app,
            &caller,
            "zalopay",
            &body,
            "not a ZaloPay callback",
            answer,
        )
        .await;
    };
    if !zalopay::verify_callback(settings.key2.expose(), &callback) {
        let answer = zalopay_reply(-1, "mac not equal");
        return reject(app, &caller, "zalopay", &body, "bad mac", answer).await;
    }
    let Ok(data) = serde_json::from_str::<zalopay::CallbackData>(&callback.data) else {
        let answer = zalopay_reply(-1, "bad data");
        return reject(app, &caller, "zalopay", &body, "unreadable data", answer).await;
    };
    let key = format!("zalopay:{}:{}", data.app_trans_id, data.zp_trans_id);
    match store_and_process(app, "zalopay", &key, raw_json(&body)).await {
        Ok(true) => zalopay_reply(1, "success"),
        // Already handled: ZaloPay stops retrying on 2.
        Ok(false) => zalopay_reply(2, "already processed"),
        // 0 asks ZaloPay to call again.
        Err(e) => {
            tracing::error!(error = ?e, "ZaloPay callback could not be stored");
            zalopay_reply(0, "try again")
        }
    }
}

fn bank_ack() -> Response {
    Json(json!({"success": true})).into_response()
}

fn bank_refusal(status: StatusCode) -> Response {
    (status, Json(json!({"success": false}))).into_response()
}

/// `POST /webhooks/payments/bank/sepay`: `Authorization: Apikey <key>`.
pub async fn sepay(
    State(app): State<AppState>,
    Extension(rejections): Extension<Rejections>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &app;
    let caller = Caller::new(app, &headers, peer, rejections);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let verified = app
        .config
        .payments
        .bank
        .sepay_api_key
        .as_ref()
        .is_some_and(|key| sepay::verify_apikey(key.expose(), authorization));
    if !verified {
        let answer = bank_refusal(StatusCode::UNAUTHORIZED);
        return reject(
            app,
            &caller,
            "sepay",
            &body,
            "bad or missing API key",
            answer,
        )
        .await;
    }
    let Ok(hook) = serde_json::from_slice::<sepay::Webhook>(&body) else {
        let answer = bank_refusal(StatusCode::BAD_REQUEST);
        return reject(
            app,
            &caller,
            "sepay",
            &body,
            "not a SePay transaction",
            answer,
        )
        .await;
    };
    if hook.transfer_type != "in" || hook.transfer_amount <= 0 {
        return bank_ack();
    }
    let text = format!(
        "{} {} {}",
        hook.code.clone().unwrap_or_default(),
        hook.content,
        hook.description
    );
    let payload = json!({
        "txn": format!("sepay:{}", hook.id),
        "amount": hook.transfer_amount,
        "text": text,
        "raw": raw_json(&body),
    });
    match store_and_process(app, "sepay", &format!("sepay:{}", hook.id), payload).await {
        Ok(_) => bank_ack(),
        Err(e) => unavailable(&e),
    }
}

/// `POST /webhooks/payments/bank/casso`: Webhook V2, `X-Casso-Signature: t=..,v1=..`.
pub async fn casso(
    State(app): State<AppState>,
    Extension(rejections): Extension<Rejections>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &app;
    let caller = Caller::new(app, &headers, peer, rejections);
    let signature = headers
        .get("x-casso-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let verified = app
        .config
        .payments
        .bank
        .casso_checksum_key
        .as_ref()
        .is_some_and(|key| casso::verify(key.expose(), signature, &body));
    if !verified {
        let answer = bank_refusal(StatusCode::UNAUTHORIZED);
        return reject(
            app,
            &caller,
            "casso",
            &body,
            "bad or missing signature",
            answer,
        )
        .await;
    }
    let Ok(hook) = serde_json::from_slice::<casso::Webhook>(&body) else {
        let answer = bank_refusal(StatusCode::BAD_REQUEST);
        return reject(
            app,
            &caller,
            "casso",
            &body,
            "not a Casso V2 transaction",
            answer,
        )
        .await;
    };
    let txn = hook.data;
    if txn.amount <= 0 {
        return bank_ack();
    }
    let payload = json!({
        "txn": format!("casso:{}", txn.id),
        "amount": txn.amount,
        "text": txn.description,
        "raw": raw_json(&body),
    });
    match store_and_process(app, "casso", &format!("casso:{}", txn.id), payload).await {
        Ok(_) => bank_ack(),
        Err(e) => unavailable(&e),
    }
}

#[cfg(test)]
mod tests;
