//! Payment callbacks: MoMo IPN, ZaloPay callback, and SePay / Casso bank-transaction webhooks.
//! Every request's raw payload is stored before we answer; only a verified one is processed
//! (a forged one is kept, marked, and changes nothing); a duplicate is acknowledged and ignored.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use diesel::sql_types::{Jsonb, Text};
use diesel_async::RunQueryDsl;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{NewWebhookEvent, WebhookEvent};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::payments::model::TopUp;
use crate::payments::protocol::{self, casso, momo, sepay, zalopay};
use crate::payments::service::MEMO_PREFIX;
use crate::payments::settle::{self, Report};
use crate::server::ServerState;

fn raw_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(body)}))
}

/// Keeps a request that failed verification, for the record; it is never processed.
async fn store_rejected(app: &AppState, provider: &str, body: &[u8], why: &str) {
    let key = format!(
        "{provider}:rejected:{}",
        hex::encode(&Sha256::digest(body)[..16])
    );
    let stored = async {
        let mut conn = app.conn().await?;
        diesel::sql_query(
            "INSERT INTO webhook_events (provider, kind, dedupe_key, payload, processed_at, error)
             VALUES ($1, 'rejected', $2, $3, now(), $4) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind::<Text, _>(provider)
        .bind::<Text, _>(&key)
        .bind::<Jsonb, _>(raw_json(body))
        .bind::<Text, _>(why)
        .execute(&mut conn)
        .await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = stored.await {
        tracing::warn!(error = ?e, provider, "could not store a rejected payment webhook");
    }
    tracing::warn!(provider, why, "rejected a payment webhook");
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

/// Applies a stored, verified payment event; safe to run again.
pub async fn process(app: &AppState, id: i64) -> AppResult<()> {
    let event = WebhookEvent::find(&mut *app.conn().await?, id).await?;
    if event.processed_at.is_some() {
        return Ok(());
    }
    let outcome = match event.provider.as_str() {
        "momo" => process_momo(app, &event.payload).await,
        "zalopay" => process_zalopay(app, &event.payload).await,
        "sepay" | "casso" => process_bank(app, &event.payload).await,
        other => Err(AppError::internal(anyhow::anyhow!(
            "unknown payment provider {other}"
        ))),
    };
    let mut conn = app.conn().await?;
    match outcome {
        Ok(None) => WebhookEvent::mark(&mut conn, id, None).await?,
        // Processed, with a note for whoever reads the record (no matching order ...).
        Ok(Some(note)) => {
            diesel::sql_query(
                "UPDATE webhook_events SET processed_at = now(), error = $2 WHERE id = $1",
            )
            .bind::<diesel::sql_types::BigInt, _>(id)
            .bind::<Text, _>(note)
            .execute(&mut conn)
            .await?;
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn malformed(what: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("stored {what} payload cannot be read"))
}

async fn top_up_by_ref(app: &AppState, reference: &str) -> AppResult<Option<TopUp>> {
    match TopUp::by_ref(&mut *app.conn().await?, reference).await {
        Ok(t) => Ok(Some(t)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn process_momo(app: &AppState, payload: &Value) -> AppResult<Option<String>> {
    let ipn: momo::Ipn = serde_json::from_value(payload.clone()).map_err(|_| malformed("MoMo"))?;
    let Some(top_up) = top_up_by_ref(app, &ipn.order_id).await? else {
        return Ok(Some(format!("no top-up with orderId {}", ipn.order_id)));
    };
    let report = if ipn.result_code == momo::SUCCESS {
        Report::Paid {
            txn_id: format!("momo:{}", ipn.trans_id),
            amount: ipn.amount,
        }
    } else if momo::is_final_failure(ipn.result_code) {
        Report::Failed {
            reason: format!("MoMo {}: {}", ipn.result_code, ipn.message),
        }
    } else {
        return Ok(Some(format!(
            "MoMo result {} is not final",
            ipn.result_code
        )));
    };
    settle::apply(app, top_up.id, report).await?;
    Ok(None)
}

async fn process_zalopay(app: &AppState, payload: &Value) -> AppResult<Option<String>> {
    let data = payload
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("ZaloPay"))?;
    let data: zalopay::CallbackData =
        serde_json::from_str(data).map_err(|_| malformed("ZaloPay"))?;
    let Some(top_up) = top_up_by_ref(app, &data.app_trans_id).await? else {
        return Ok(Some(format!(
            "no top-up with app_trans_id {}",
            data.app_trans_id
        )));
    };
    // ZaloPay calls back only when it has the money.
    settle::apply(
        app,
        top_up.id,
        Report::Paid {
            txn_id: format!("zalopay:{}", data.zp_trans_id),
            amount: data.amount,
        },
    )
    .await?;
    Ok(None)
}

/// A bank credit, normalised from SePay's or Casso's format at the endpoint.
async fn process_bank(app: &AppState, payload: &Value) -> AppResult<Option<String>> {
    let txn = payload
        .get("txn")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("bank"))?;
    let amount = payload
        .get("amount")
        .and_then(Value::as_i64)
        .ok_or_else(|| malformed("bank"))?;
    let text = payload.get("text").and_then(Value::as_str).unwrap_or("");
    let Some(memo) = protocol::find_memo(text, MEMO_PREFIX) else {
        return Ok(Some(format!(
            "no top-up memo in the transfer text; {amount} VND left for review"
        )));
    };
    let Some(top_up) = top_up_by_ref(app, &memo).await? else {
        return Ok(Some(format!(
            "memo {memo} matches no top-up; {amount} VND left for review"
        )));
    };
    settle::apply(
        app,
        top_up.id,
        Report::Paid {
            txn_id: txn.to_owned(),
            amount,
        },
    )
    .await?;
    Ok(None)
}

/// `POST /webhooks/payments/momo`: MoMo's IPN. 204 once stored (or a duplicate).
pub async fn momo(State(server): State<ServerState>, body: Bytes) -> Response {
    let app = &server.app;
    let Some(settings) = &app.config.payments.momo else {
        store_rejected(app, "momo", &body, "MoMo is not configured").await;
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(ipn) = serde_json::from_slice::<momo::Ipn>(&body) else {
        store_rejected(app, "momo", &body, "not a MoMo IPN").await;
        return StatusCode::BAD_REQUEST.into_response();
    };
    if ipn.partner_code != settings.partner_code
        || !momo::verify_ipn(&settings.access_key, settings.secret_key.expose(), &ipn)
    {
        store_rejected(app, "momo", &body, "bad signature or partner").await;
        return StatusCode::BAD_REQUEST.into_response();
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
pub async fn zalopay(State(server): State<ServerState>, body: Bytes) -> Response {
    let app = &server.app;
    let Some(settings) = &app.config.payments.zalopay else {
        store_rejected(app, "zalopay", &body, "ZaloPay is not configured").await;
        return zalopay_reply(-1, "not configured");
    };
    let Ok(callback) = serde_json::from_slice::<zalopay::Callback>(&body) else {
        store_rejected(app, "zalopay", &body, "not a ZaloPay callback").await;
        return zalopay_reply(-1, "bad request");
    };
    if !zalopay::verify_callback(settings.key2.expose(), &callback) {
        store_rejected(app, "zalopay", &body, "bad mac").await;
        return zalopay_reply(-1, "mac not equal");
    }
    let Ok(data) = serde_json::from_str::<zalopay::CallbackData>(&callback.data) else {
        store_rejected(app, "zalopay", &body, "unreadable data").await;
        return zalopay_reply(-1, "bad data");
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

/// `POST /webhooks/payments/bank/sepay`: `Authorization: Apikey <key>`.
pub async fn sepay(State(server): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let app = &server.app;
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let verified = app
        .config
        .payments
        .bank
        .sepay_api_key
        .as_ref()
        .is_some_and(|key| sepay::verify_apikey(key.expose(), authorization));
    if !verified {
        store_rejected(app, "sepay", &body, "bad or missing API key").await;
        return (StatusCode::UNAUTHORIZED, Json(json!({"success": false}))).into_response();
    }
    let Ok(hook) = serde_json::from_slice::<sepay::Webhook>(&body) else {
        store_rejected(app, "sepay", &body, "not a SePay transaction").await;
        return (StatusCode::BAD_REQUEST, Json(json!({"success": false}))).into_response();
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
pub async fn casso(State(server): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    let app = &server.app;
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
        store_rejected(app, "casso", &body, "bad or missing signature").await;
        return (StatusCode::UNAUTHORIZED, Json(json!({"success": false}))).into_response();
    }
    let Ok(hook) = serde_json::from_slice::<casso::Webhook>(&body) else {
        store_rejected(app, "casso", &body, "not a Casso V2 transaction").await;
        return (StatusCode::BAD_REQUEST, Json(json!({"success": false}))).into_response();
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
