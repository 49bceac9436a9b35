//! MoMo Payment Gateway API v2, one-time wallet payment (`requestType=captureWallet`).

use serde::{Deserialize, Serialize};

use super::{constant_time_eq, hmac_sha256_hex};

pub const MIN_AMOUNT: i64 = 1_000;
pub const MAX_AMOUNT: i64 = 50_000_000;

pub const REQUEST_TYPE_CAPTURE_WALLET: &str = "captureWallet";
pub const ORDER_TYPE_WALLET: &str = "momo_wallet";

pub const SUCCESS: i32 = 0;
pub const BAD_SIGNATURE: i32 = 13;
pub const BAD_AMOUNT: i32 = 22;
pub const DUPLICATE_REQUEST: i32 = 40;
pub const DUPLICATE_ORDER: i32 = 41;
pub const ORDER_NOT_FOUND: i32 = 42;
pub const PENDING: i32 = 1000;
pub const EXPIRED: i32 = 1005;
pub const USER_DENIED: i32 = 1006;
/// Only reached with `autoCapture=false`; the merchant still has to capture or cancel.
pub const AUTHORIZED: i32 = 9000;

/// Body of `POST /v2/gateway/api/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub partner_code: String,
    /// Not a v2 body field, but MoMo's own Node sample still sends it, so it must not be rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    pub request_id: String,
    pub amount: i64,
    pub order_id: String,
    pub order_info: String,
    pub redirect_url: String,
    pub ipn_url: String,
    pub request_type: String,
    #[serde(default)]
    pub extra_data: String,
    #[serde(default)]
    pub lang: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponse {
    pub partner_code: String,
    pub request_id: String,
    pub order_id: String,
    pub amount: i64,
    pub response_time: i64,
    pub message: String,
    pub result_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deeplink: Option<String>,
    /// The text to render as a QR code, not an image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code_url: Option<String>,
    /// Sources disagree on what it covers, so nothing should depend on checking it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The IPN body MoMo POSTs to `ipnUrl`; the browser redirect carries the same fields as query
/// parameters, signed the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ipn {
    pub partner_code: String,
    pub order_id: String,
    pub request_id: String,
    pub amount: i64,
    pub order_info: String,
    pub order_type: String,
    pub trans_id: i64,
    pub result_code: i32,
    pub message: String,
    pub pay_type: String,
    pub response_time: i64,
    pub extra_data: String,
    pub signature: String,
}

/// Body of `POST /v2/gateway/api/query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRequest {
    pub partner_code: String,
    pub request_id: String,
    pub order_id: String,
    #[serde(default)]
    pub lang: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    pub partner_code: String,
    pub request_id: String,
    pub order_id: String,
    #[serde(default)]
    pub extra_data: String,
    pub amount: i64,
    /// Zero until MoMo has a transaction for the order (e.g. while still pending).
    #[serde(default)]
    pub trans_id: i64,
    #[serde(default)]
    pub pay_type: String,
    pub result_code: i32,
    pub message: String,
    pub response_time: i64,
}

/// The string MoMo signs for create. Keys in a–z order, every key present even when empty, values
/// raw (no URL encoding) — MoMo hashes exactly this text.
pub fn create_raw(access_key: &str, req: &CreateRequest) -> String {
    format!(
        "accessKey={access_key}&amount={}&extraData={}&ipnUrl={}&orderId={}&orderInfo={}\
         &partnerCode={}&redirectUrl={}&requestId={}&requestType={}",
        req.amount,
        req.extra_data,
        req.ipn_url,
        req.order_id,
        req.order_info,
        req.partner_code,
        req.redirect_url,
        req.request_id,
        req.request_type,
    )
}

pub fn create_signature(access_key: &str, secret_key: &str, req: &CreateRequest) -> String {
    hmac_sha256_hex(secret_key, &create_raw(access_key, req))
}

/// The merchant's own access key is used: the request's `accessKey` field, if any, is ignored.
pub fn verify_create(access_key: &str, secret_key: &str, req: &CreateRequest) -> bool {
    constant_time_eq(
        &create_signature(access_key, secret_key, req),
        &req.signature,
    )
}

/// The string MoMo signs for an IPN (and the redirect).
pub fn ipn_raw(access_key: &str, ipn: &Ipn) -> String {
    format!(
        "accessKey={access_key}&amount={}&extraData={}&message={}&orderId={}&orderInfo={}\
         &orderType={}&partnerCode={}&payType={}&requestId={}&responseTime={}&resultCode={}\
         &transId={}",
        ipn.amount,
        ipn.extra_data,
        ipn.message,
        ipn.order_id,
        ipn.order_info,
        ipn.order_type,
        ipn.partner_code,
        ipn.pay_type,
        ipn.request_id,
        ipn.response_time,
        ipn.result_code,
        ipn.trans_id,
    )
}

pub fn ipn_signature(access_key: &str, secret_key: &str, ipn: &Ipn) -> String {
    hmac_sha256_hex(secret_key, &ipn_raw(access_key, ipn))
}

/// Only proves MoMo sent it: the caller must still match partnerCode, orderId and amount against
/// its own order.
pub fn verify_ipn(access_key: &str, secret_key: &str, ipn: &Ipn) -> bool {
    constant_time_eq(&ipn_signature(access_key, secret_key, ipn), &ipn.signature)
}

/// The string MoMo signs for query.
pub fn query_raw(access_key: &str, req: &QueryRequest) -> String {
    format!(
        "accessKey={access_key}&orderId={}&partnerCode={}&requestId={}",
        req.order_id, req.partner_code, req.request_id,
    )
}

pub fn query_signature(access_key: &str, secret_key: &str, req: &QueryRequest) -> String {
    hmac_sha256_hex(secret_key, &query_raw(access_key, req))
}

pub fn verify_query(access_key: &str, secret_key: &str, req: &QueryRequest) -> bool {
    constant_time_eq(
        &query_signature(access_key, secret_key, req),
        &req.signature,
    )
}

/// A failure MoMo will not change any more, so the top-up can be closed as failed. Codes missing
/// from MoMo's table count as not final: the order is then reconciled through `/query` rather
/// than failed on a guess.
pub fn is_final_failure(code: i32) -> bool {
    matches!(
        code,
        98 | 99 | 1001..=1007 | 1017 | 1026 | 1080 | 1081 | 1088 | 2019 | 4001 | 4002 | 4100
    )
}

#[cfg(test)]
mod tests;
