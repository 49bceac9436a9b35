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
mod tests {
    use super::*;

    // Public sandbox pair from MoMo's own Node sample; never valid in production.
    const ACCESS_KEY: &str = "F8BBA842ECF85";
    const SECRET_KEY: &str = "K951B6PE1waDMi640xX08PD3vg6EkVlz";

    fn create_request() -> CreateRequest {
        CreateRequest {
            partner_code: "MOMO".to_owned(),
            access_key: None,
            request_id: "MOMO1712108682648".to_owned(),
            amount: 50_000,
            order_id: "MOMO1712108682648".to_owned(),
            order_info: "Nạp tiền RingCast".to_owned(),
            redirect_url: "https://example.test/momo/return".to_owned(),
            ipn_url: "https://example.test/momo/ipn".to_owned(),
            request_type: REQUEST_TYPE_CAPTURE_WALLET.to_owned(),
            extra_data: String::new(),
            lang: "vi".to_owned(),
            signature: String::new(),
        }
    }

    fn ipn() -> Ipn {
        Ipn {
            partner_code: "MOMO".to_owned(),
            order_id: "MOMO1712108682648".to_owned(),
            request_id: "MOMO1712108682648".to_owned(),
            amount: 50_000,
            order_info: "Nạp tiền RingCast".to_owned(),
            order_type: ORDER_TYPE_WALLET.to_owned(),
            trans_id: 4_088_878_653,
            result_code: SUCCESS,
            message: "Successful.".to_owned(),
            pay_type: "qr".to_owned(),
            response_time: 1_721_720_663_942,
            extra_data: "eyJza3VzIjoiIn0=".to_owned(),
            signature: "707745c08aafb05df9bb0c7b39acb59eb5420010d97b37f3f9e7fe8f725188df"
                .to_owned(),
        }
    }

    // Expected hex values were computed independently with Python's `hmac` module.
    #[test]
    fn create_signature_layout_and_value() {
        let mut req = create_request();
        assert_eq!(
            create_raw(ACCESS_KEY, &req),
            "accessKey=F8BBA842ECF85&amount=50000&extraData=\
             &ipnUrl=https://example.test/momo/ipn&orderId=MOMO1712108682648\
             &orderInfo=Nạp tiền RingCast&partnerCode=MOMO\
             &redirectUrl=https://example.test/momo/return&requestId=MOMO1712108682648\
             &requestType=captureWallet"
        );
        let signature = create_signature(ACCESS_KEY, SECRET_KEY, &req);
        assert_eq!(
            signature,
            "3ab3a234c8a6bec2cd9144bb9d80ae094698bf85daa0649f1c6ee1a82c9cbd4d"
        );
        req.signature = signature;
        assert!(verify_create(ACCESS_KEY, SECRET_KEY, &req));
        // A client-sent accessKey must not change what is signed.
        req.access_key = Some("attacker".to_owned());
        assert!(verify_create(ACCESS_KEY, SECRET_KEY, &req));
        req.order_info = "Nap tien RingCast".to_owned();
        assert!(!verify_create(ACCESS_KEY, SECRET_KEY, &req));
    }

    #[test]
    fn ipn_signature_layout_and_value() {
        let ipn = ipn();
        assert_eq!(
            ipn_raw(ACCESS_KEY, &ipn),
            "accessKey=F8BBA842ECF85&amount=50000&extraData=eyJza3VzIjoiIn0=\
             &message=Successful.&orderId=MOMO1712108682648&orderInfo=Nạp tiền RingCast\
             &orderType=momo_wallet&partnerCode=MOMO&payType=qr&requestId=MOMO1712108682648\
             &responseTime=1721720663942&resultCode=0&transId=4088878653"
        );
        assert_eq!(ipn_signature(ACCESS_KEY, SECRET_KEY, &ipn), ipn.signature);
        assert!(verify_ipn(ACCESS_KEY, SECRET_KEY, &ipn));
    }

    #[test]
    fn tampered_or_wrongly_keyed_ipn_fails() {
        let mut changed = ipn();
        changed.amount = 500_000;
        assert!(!verify_ipn(ACCESS_KEY, SECRET_KEY, &changed));
        let mut changed = ipn();
        changed.result_code = USER_DENIED;
        assert!(!verify_ipn(ACCESS_KEY, SECRET_KEY, &changed));
        assert!(!verify_ipn(ACCESS_KEY, "another-secret", &ipn()));
        assert!(!verify_ipn("another-access", SECRET_KEY, &ipn()));
    }

    #[test]
    fn query_signature_layout_and_value() {
        let req = QueryRequest {
            partner_code: "MOMO".to_owned(),
            request_id: "MOMO1712108682648".to_owned(),
            order_id: "MOMO1712108682648".to_owned(),
            lang: "vi".to_owned(),
            signature: "9c4bda2145f9f8407182b327f92e313d74f8ee6cb3560a36a8c22b66b561ee31"
                .to_owned(),
        };
        assert_eq!(
            query_raw(ACCESS_KEY, &req),
            "accessKey=F8BBA842ECF85&orderId=MOMO1712108682648&partnerCode=MOMO\
             &requestId=MOMO1712108682648"
        );
        assert_eq!(query_signature(ACCESS_KEY, SECRET_KEY, &req), req.signature);
        assert!(verify_query(ACCESS_KEY, SECRET_KEY, &req));
    }

    #[test]
    fn doc_ipn_example_parses() {
        let body = r#"{"orderType":"momo_wallet","amount":1000,"partnerCode":"MOMOT5BZ20231213_TEST","orderId":"Partner_Transaction_ID_1721720620078","extraData":"eyJza3VzIjoiIn0=","signature":"7b9f4ca7cf0d","transId":4088878653,"responseTime":1721720663942,"resultCode":0,"message":"Successful.","payType":"qr","requestId":"Request_ID_1721720620078","orderInfo":"Thank you for your purchase at MoMo_test"}"#;
        let ipn: Ipn = serde_json::from_str(body).expect("doc example");
        assert_eq!(ipn.amount, 1000);
        assert_eq!(ipn.trans_id, 4_088_878_653);
        assert_eq!(ipn.pay_type, "qr");
        assert_eq!(ipn.order_id, "Partner_Transaction_ID_1721720620078");
    }

    #[test]
    fn create_request_json_accepts_and_omits_access_key() {
        let mut req = create_request();
        let json = serde_json::to_value(&req).expect("serializable");
        assert_eq!(json["partnerCode"], "MOMO");
        assert_eq!(json["ipnUrl"], "https://example.test/momo/ipn");
        assert!(json.get("accessKey").is_none());
        req.access_key = Some(ACCESS_KEY.to_owned());
        let json = serde_json::to_string(&req).expect("serializable");
        let back: CreateRequest = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back.access_key.as_deref(), Some(ACCESS_KEY));
    }

    #[test]
    fn query_response_defaults_missing_trans_fields() {
        let body = r#"{"partnerCode":"MOMO","requestId":"r1","orderId":"o1","amount":50000,"resultCode":1000,"message":"pending","responseTime":1721720663942}"#;
        let resp: QueryResponse = serde_json::from_str(body).expect("parses");
        assert_eq!(resp.trans_id, 0);
        assert_eq!(resp.pay_type, "");
        assert_eq!(resp.result_code, PENDING);
    }

    #[test]
    fn final_failures_follow_momo_table() {
        for code in [
            98, 99, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1017, 1026, 1080, 1081, 1088, 2019,
            4001, 4002, 4100,
        ] {
            assert!(is_final_failure(code), "{code} is final");
        }
        for code in [
            0, 10, 11, 12, 13, 20, 21, 22, 40, 41, 42, 43, 45, 47, 1000, 7000, 7002, 9000, 1008,
        ] {
            assert!(!is_final_failure(code), "{code} is not a final failure");
        }
    }

    /// Published: a create request signed with MoMo's public sandbox keys (code-index id
    /// 35886342581), including Vietnamese text in orderInfo.
    #[test]
    fn published_create_vector() {
        let request = CreateRequest {
            partner_code: "MOMOBKUN20180529".into(),
            access_key: None,
            request_id: "f7a8f62f4234-0bba-405f-8178-1a516ea1fe3c".into(),
            amount: 10000,
            order_id: "1629181466064:0123456778".into(),
            order_info: "Thanh toán qua ví MoMo".into(),
            redirect_url: "https://webhook.site/94e534cb-a54a-4313-8e91-c42f7aa2e145".into(),
            ipn_url: "https://webhook.site/94e534cb-a54a-4313-8e91-c42f7aa2e145".into(),
            request_type: "captureWallet".into(),
            extra_data: String::new(),
            lang: "vi".into(),
            signature: String::new(),
        };
        assert_eq!(
            create_signature(
                "klm05TvNBzhg7h7j",
                "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
                &request
            ),
            "a0e6c8676f651f4d8980f04d10ee562fe027d9bacb7df0031c32e3ca42096473"
        );
    }

    /// Published: result signatures MoMo's sandbox produced (redirects carry the IPN fields),
    /// code-index ids 6360523086 and 44349057898.
    #[test]
    fn published_ipn_vectors() {
        let sandbox = |partner: &str,
                       order: &str,
                       request: &str,
                       amount: i64,
                       info: &str,
                       trans: i64,
                       message: &str,
                       pay_type: &str,
                       time: i64,
                       signature: &str| Ipn {
            partner_code: partner.into(),
            order_id: order.into(),
            request_id: request.into(),
            amount,
            order_info: info.into(),
            order_type: "momo_wallet".into(),
            trans_id: trans,
            result_code: 0,
            message: message.into(),
            pay_type: pay_type.into(),
            response_time: time,
            extra_data: String::new(),
            signature: signature.into(),
        };
        let first = sandbox(
            "MOMOBKUN20180529",
            "df007bbc-dc6d-4bf5-adf0-340f6f0f8bd9",
            "46f4f696-15a1-473e-ac61-4583d1508250",
            41000,
            "Thanh toan don hang NghiaMT Shop",
            3108065159,
            "Successful.",
            "qr",
            1702605117023,
            "3f9dc92d7b4e2b95145362ce0484fdd08f63a003ccea7734a39954e2d187c720",
        );
        assert!(verify_ipn(
            "klm05TvNBzhg7h7j",
            "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
            &first
        ));
        let second = sandbox(
            "MOMO",
            "MOMO1713984978976",
            "MOMO1713984978976",
            1000,
            "30k",
            4029232035,
            "Thành công.",
            "credit",
            1713985045244,
            "0d6f0e650eb5d320c3a65df17a620f01c09d0eae742d3eb7e84177b2ebda6fe0",
        );
        assert!(verify_ipn(
            "F8BBA842ECF85",
            "K951B6PE1waDMi640xX08PD3vg6EkVlz",
            &second
        ));
        assert!(!verify_ipn(
            "klm05TvNBzhg7h7j",
            "at67qH6mk8w5Y1nAyMoYKMWACiEi2bsa",
            &second
        ));
    }
}
