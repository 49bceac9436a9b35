//! ZaloPay's order API v2: create, query, and the callback (sent only when paid).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{pay_page, PaymentSimulator};
use crate::payments::protocol::{vietqr, zalopay as proto};

#[derive(Clone, Debug)]
pub(super) struct Order {
    app_user: String,
    app_time: i64,
    amount: i64,
    embed_data: String,
    item: String,
    description: String,
    callback_url: Option<String>,
    /// 3 unpaid, 1 paid, 2 failed.
    status: i32,
    zp_trans_id: i64,
    expires_at: DateTime<Utc>,
}

pub(super) fn routes() -> Router<PaymentSimulator> {
    Router::new()
        .route("/v2/create", post(create))
        .route("/v2/query", post(query))
        .route("/zalopay/pay/{app_trans_id}", get(page))
        .route("/zalopay/orders/{app_trans_id}/pay", post(pay))
        .route("/zalopay/orders/{app_trans_id}/decline", post(decline))
}

/// ZaloPay takes JSON, a form, or URL query parameters (its own quickstart uses the last).
fn read<T: DeserializeOwned>(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Option<T> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return serde_json::from_slice(body).ok();
    }
    if !body.is_empty() {
        return serde_urlencoded::from_bytes(body).ok();
    }
    serde_urlencoded::from_str(&serde_urlencoded::to_string(query).ok()?).ok()
}

fn fail(sub: i32, message: &str) -> Response {
    Json(
        json!({"return_code": proto::RETURN_FAIL, "return_message": "Giao dịch thất bại",
        "sub_return_code": sub, "sub_return_message": message}),
    )
    .into_response()
}

async fn create(
    State(sim): State<PaymentSimulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(order) = read::<proto::CreateOrder>(&headers, &query, &body) else {
        return fail(proto::SUB_BAD_PARAMS, "Invalid parameters");
    };
    let keys = &sim.shared.keys;
    if order.app_id != keys.zalopay_app_id || !proto::verify_create(&keys.zalopay_key1, &order) {
        return fail(proto::SUB_BAD_MAC, "Invalid app or mac");
    }
    let now = Utc::now();
    if !proto::date_prefix_ok(&order.app_trans_id, now) || order.amount <= 0 {
        return fail(
            proto::SUB_BAD_PARAMS,
            "app_trans_id must start with today's yymmdd (GMT+7)",
        );
    }
    let expire = order
        .expire_duration_seconds
        .unwrap_or(proto::DEFAULT_EXPIRY_SECONDS)
        .clamp(300, 2_592_000);
    {
        let mut orders = sim.shared.zalopay.lock().unwrap_or_else(|p| p.into_inner());
        if orders.contains_key(&order.app_trans_id) {
            return fail(proto::SUB_DUPLICATE_APP_TRANS_ID, "Duplicate app_trans_id");
        }
        orders.insert(
            order.app_trans_id.clone(),
            Order {
                app_user: order.app_user.clone(),
                app_time: order.app_time,
                amount: order.amount,
                embed_data: order.embed_data.clone(),
                item: order.item.clone(),
                description: order.description.clone(),
                callback_url: order.callback_url.clone(),
                status: proto::RETURN_PROCESSING,
                zp_trans_id: 0,
                expires_at: now + chrono::Duration::seconds(expire),
            },
        );
    }
    let token = hex::encode(
        &sha2::Digest::finalize(sha2::Digest::chain_update(
            <sha2::Sha256 as sha2::Digest>::new(),
            order.app_trans_id.as_bytes(),
        ))[..12],
    );
    let qr = vietqr::payload(&vietqr::Transfer {
        bank_bin: "970454",
        account_number: "99",
        amount: Some(order.amount),
        purpose: &order.app_trans_id.chars().take(25).collect::<String>(),
    })
    .ok();
    Json(json!({
        "return_code": proto::RETURN_SUCCESS, "return_message": "Giao dịch thành công",
        "sub_return_code": 1, "sub_return_message": "Giao dịch thành công",
        "order_url": format!("{}/zalopay/pay/{}", sim.base(), order.app_trans_id),
        "zp_trans_token": token, "order_token": token, "qr_code": qr,
    }))
    .into_response()
}

async fn query(
    State(sim): State<PaymentSimulator>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(request) = read::<proto::QueryRequest>(&headers, &query, &body) else {
        return fail(proto::SUB_BAD_PARAMS, "Invalid parameters");
    };
    let keys = &sim.shared.keys;
    if request.app_id != keys.zalopay_app_id || !proto::verify_query(&keys.zalopay_key1, &request) {
        return fail(proto::SUB_BAD_MAC, "Invalid app or mac");
    }
    let mut orders = sim.shared.zalopay.lock().unwrap_or_else(|p| p.into_inner());
    let Some(order) = orders.get_mut(&request.app_trans_id) else {
        return fail(-92, "Order not found");
    };
    if order.status == proto::RETURN_PROCESSING && Utc::now() > order.expires_at {
        order.status = proto::RETURN_FAIL;
    }
    let (sub, message) = match order.status {
        proto::RETURN_SUCCESS => (1, "Giao dịch thành công"),
        proto::RETURN_FAIL => (proto::SUB_TIME_INVALID, "Giao dịch thất bại"),
        _ => (-49, "Giao dịch chưa được thanh toán"),
    };
    Json(
        json!({"return_code": order.status, "return_message": message, "sub_return_code": sub,
        "sub_return_message": message, "is_processing": order.status == proto::RETURN_PROCESSING,
        "amount": order.amount, "zp_trans_id": order.zp_trans_id}),
    )
    .into_response()
}

async fn page(State(sim): State<PaymentSimulator>, Path(id): Path<String>) -> Response {
    let order = sim
        .shared
        .zalopay
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned();
    match order {
        Some(o) => pay_page(
            "ZaloPay (simulated)",
            &format!("{}: {} VND", o.description, o.amount),
            &[
                ("Pay", &format!("/zalopay/orders/{id}/pay")),
                ("Decline", &format!("/zalopay/orders/{id}/decline")),
            ],
        )
        .into_response(),
        None => (StatusCode::NOT_FOUND, "no such order").into_response(),
    }
}

/// The payer cancels: ZaloPay sends no callback; the merchant learns it from `/v2/query`.
async fn decline(State(sim): State<PaymentSimulator>, Path(id): Path<String>) -> Response {
    let mut orders = sim.shared.zalopay.lock().unwrap_or_else(|p| p.into_inner());
    match orders.get_mut(&id) {
        Some(o) if o.status == proto::RETURN_PROCESSING => {
            o.status = proto::RETURN_FAIL;
            Json(json!({"declined": true})).into_response()
        }
        Some(_) => (StatusCode::CONFLICT, "order already finished").into_response(),
        None => (StatusCode::NOT_FOUND, "no such order").into_response(),
    }
}

/// The payer pays: the order is paid and the signed callback is sent, retried up to 3 more
/// times unless the merchant answers return_code 1 or 2. Answers with the callback body and
/// the merchant's replies.
async fn pay(State(sim): State<PaymentSimulator>, Path(id): Path<String>) -> Response {
    let order = {
        let mut orders = sim.shared.zalopay.lock().unwrap_or_else(|p| p.into_inner());
        let Some(order) = orders.get_mut(&id) else {
            return (StatusCode::NOT_FOUND, "no such order").into_response();
        };
        if order.status != proto::RETURN_PROCESSING {
            return (StatusCode::CONFLICT, "order already finished").into_response();
        }
        order.status = proto::RETURN_SUCCESS;
        order.zp_trans_id = sim.txn_id();
        order.clone()
    };
    let data = proto::CallbackData {
        app_id: sim.shared.keys.zalopay_app_id,
        app_trans_id: id.clone(),
        app_time: order.app_time,
        app_user: order.app_user.clone(),
        amount: order.amount,
        embed_data: order.embed_data.clone(),
        item: order.item.clone(),
        zp_trans_id: order.zp_trans_id,
        server_time: PaymentSimulator::now_ms(),
        channel: 38,
        merchant_user_id: String::new(),
        user_fee_amount: 0,
        discount_amount: 0,
    };
    let data = serde_json::to_string(&data).unwrap_or_default();
    let callback = json!({
        "data": data,
        "mac": proto::callback_mac(&sim.shared.keys.zalopay_key2, &data),
        "type": proto::CALLBACK_TYPE_ORDER,
    });
    let mut replies = Vec::new();
    if let Some(url) = &order.callback_url {
        for _ in 0..4 {
            let reply = match sim.shared.http.post(url).json(&callback).send().await {
                Ok(r) => r.json::<serde_json::Value>().await.unwrap_or_default(),
                Err(e) => json!({"error": e.to_string()}),
            };
            let code = reply.get("return_code").and_then(|c| c.as_i64());
            replies.push(reply);
            if matches!(code, Some(1 | 2)) {
                break;
            }
        }
    }
    Json(json!({"callback": callback, "replies": replies})).into_response()
}
