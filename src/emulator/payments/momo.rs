//! MoMo's one-time payment API (captureWallet): create, query, and the IPN to the merchant.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::{pay_page, PaymentSimulator};
use crate::payments::protocol::momo as proto;

#[derive(Clone, Debug)]
pub(super) struct Order {
    request_id: String,
    amount: i64,
    order_info: String,
    ipn_url: String,
    extra_data: String,
    result_code: i32,
    message: String,
    trans_id: i64,
}

pub(super) fn routes() -> Router<PaymentSimulator> {
    Router::new()
        .route("/v2/gateway/api/create", post(create))
        .route("/v2/gateway/api/query", post(query))
        .route("/momo/pay/{order_id}", get(page))
        .route("/momo/orders/{order_id}/pay", post(pay))
        .route("/momo/orders/{order_id}/decline", post(decline))
}

fn refuse(request: &proto::CreateRequest, code: i32, message: &str) -> Response {
    Json(json!({
        "partnerCode": request.partner_code, "requestId": request.request_id,
        "orderId": request.order_id, "amount": request.amount,
        "responseTime": PaymentSimulator::now_ms(), "message": message, "resultCode": code,
    }))
    .into_response()
}

async fn create(
    State(sim): State<PaymentSimulator>,
    Json(request): Json<proto::CreateRequest>,
) -> Response {
    let keys = &sim.shared.keys;
    if request.partner_code != keys.momo_partner_code
        || !proto::verify_create(&keys.momo_access_key, &keys.momo_secret_key, &request)
    {
        return refuse(
            &request,
            proto::BAD_SIGNATURE,
            "Merchant authentication failed.",
        );
    }
    if !(proto::MIN_AMOUNT..=proto::MAX_AMOUNT).contains(&request.amount) {
        return refuse(&request, proto::BAD_AMOUNT, "Amount out of allowed range.");
    }
    {
        let mut orders = sim.shared.momo.lock().unwrap_or_else(|p| p.into_inner());
        if orders.contains_key(&request.order_id) {
            return refuse(&request, proto::DUPLICATE_ORDER, "Duplicated orderId.");
        }
        if orders.values().any(|o| o.request_id == request.request_id) {
            return refuse(&request, proto::DUPLICATE_REQUEST, "Duplicated requestId.");
        }
        orders.insert(
            request.order_id.clone(),
            Order {
                request_id: request.request_id.clone(),
                amount: request.amount,
                order_info: request.order_info.clone(),
                ipn_url: request.ipn_url.clone(),
                extra_data: request.extra_data.clone(),
                result_code: proto::PENDING,
                message: "Transaction initiated, waiting for user confirmation.".into(),
                trans_id: 0,
            },
        );
    }
    let pay_url = format!("{}/momo/pay/{}", sim.base(), request.order_id);
    Json(json!({
        "partnerCode": request.partner_code, "requestId": request.request_id,
        "orderId": request.order_id, "amount": request.amount,
        "responseTime": PaymentSimulator::now_ms(), "message": "Successful.", "resultCode": proto::SUCCESS,
        "payUrl": pay_url,
        "deeplink": format!("momo://app?action=payWithApp&isScanQR=false&orderId={}", request.order_id),
        "qrCodeUrl": pay_url,
        "signature": proto::create_signature(&keys.momo_access_key, &keys.momo_secret_key, &request),
    }))
    .into_response()
}

async fn query(
    State(sim): State<PaymentSimulator>,
    Json(request): Json<proto::QueryRequest>,
) -> Response {
    let keys = &sim.shared.keys;
    if !proto::verify_query(&keys.momo_access_key, &keys.momo_secret_key, &request) {
        return Json(json!({"partnerCode": request.partner_code, "requestId": request.request_id,
            "orderId": request.order_id, "amount": 0, "resultCode": proto::BAD_SIGNATURE,
            "message": "Merchant authentication failed.", "responseTime": PaymentSimulator::now_ms()}))
        .into_response();
    }
    let order = sim
        .shared
        .momo
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&request.order_id)
        .cloned();
    let Some(order) = order else {
        return Json(
            json!({"partnerCode": request.partner_code, "requestId": request.request_id,
            "orderId": request.order_id, "amount": 0, "resultCode": proto::ORDER_NOT_FOUND,
            "message": "orderId not found.", "responseTime": PaymentSimulator::now_ms()}),
        )
        .into_response();
    };
    Json(json!({
        "partnerCode": request.partner_code, "requestId": request.request_id, "orderId": request.order_id,
        "extraData": order.extra_data, "amount": order.amount, "transId": order.trans_id, "payType": "qr",
        "resultCode": order.result_code, "refundTrans": [], "message": order.message,
        "responseTime": PaymentSimulator::now_ms(),
    }))
    .into_response()
}

async fn page(State(sim): State<PaymentSimulator>, Path(order_id): Path<String>) -> Response {
    let order = sim
        .shared
        .momo
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&order_id)
        .cloned();
    match order {
        Some(o) => pay_page(
            "MoMo (simulated)",
            &format!("{}: {} VND", o.order_info, o.amount),
            &[
                ("Pay", &format!("/momo/orders/{order_id}/pay")),
                ("Decline", &format!("/momo/orders/{order_id}/decline")),
            ],
        )
        .into_response(),
        None => (StatusCode::NOT_FOUND, "no such order").into_response(),
    }
}

async fn pay(sim: State<PaymentSimulator>, order_id: Path<String>) -> Response {
    finish(sim, order_id, proto::SUCCESS, "Successful.").await
}

async fn decline(sim: State<PaymentSimulator>, order_id: Path<String>) -> Response {
    finish(
        sim,
        order_id,
        proto::USER_DENIED,
        "Transaction denied by user.",
    )
    .await
}

/// Settles the order as the payer chose and sends the signed IPN; answers with the IPN body
/// and the merchant's HTTP status (MoMo expects 204).
async fn finish(
    State(sim): State<PaymentSimulator>,
    Path(order_id): Path<String>,
    code: i32,
    message: &str,
) -> Response {
    let keys = sim.shared.keys.clone();
    let order = {
        let mut orders = sim.shared.momo.lock().unwrap_or_else(|p| p.into_inner());
        let Some(order) = orders.get_mut(&order_id) else {
            return (StatusCode::NOT_FOUND, "no such order").into_response();
        };
        if order.result_code != proto::PENDING {
            return (StatusCode::CONFLICT, "order already finished").into_response();
        }
        order.result_code = code;
        order.message = message.to_owned();
        if code == proto::SUCCESS {
            order.trans_id = sim.txn_id();
        }
        order.clone()
    };
    let mut ipn = proto::Ipn {
        partner_code: keys.momo_partner_code.clone(),
        order_id: order_id.clone(),
        request_id: order.request_id.clone(),
        amount: order.amount,
        order_info: order.order_info.clone(),
        order_type: "momo_wallet".into(),
        trans_id: order.trans_id,
        result_code: code,
        message: message.to_owned(),
        pay_type: "qr".into(),
        response_time: PaymentSimulator::now_ms(),
        extra_data: order.extra_data.clone(),
        signature: String::new(),
    };
    ipn.signature = proto::ipn_signature(&keys.momo_access_key, &keys.momo_secret_key, &ipn);
    let status = match sim.shared.http.post(&order.ipn_url).json(&ipn).send().await {
        Ok(r) => r.status().as_u16(),
        Err(e) => {
            tracing::warn!(error = %e, "simulated MoMo could not deliver the IPN");
            0
        }
    };
    if status != 204 {
        tracing::warn!(
            status,
            "merchant answered the MoMo IPN with something other than 204"
        );
    }
    Json(json!({"ipn": ipn, "merchantStatus": status})).into_response()
}
