//! ZaloPay API v2: create order, payment callback and order query.

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use serde::{Deserialize, Serialize};

use super::{constant_time_eq, hmac_sha256_hex};

pub const RETURN_SUCCESS: i32 = 1;
pub const RETURN_FAIL: i32 = 2;
/// Unpaid or still being processed; the caller keeps polling until expiry.
pub const RETURN_PROCESSING: i32 = 3;

pub const SUB_TIME_INVALID: i32 = -54;
pub const SUB_DUPLICATE_APP_TRANS_ID: i32 = -68;
pub const SUB_USER_CANCELLED: i32 = -329;
pub const SUB_BAD_PARAMS: i32 = -401;
pub const SUB_BAD_MAC: i32 = -402;
pub const SUB_RATE_LIMITED: i32 = -429;
pub const SUB_SYSTEM_ERROR: i32 = -500;
pub const SUB_MAINTENANCE: i32 = -999;

pub const CALLBACK_TYPE_ORDER: i32 = 1;

/// Callback reply codes. Anything other than OK or DUPLICATE makes ZaloPay retry (up to 3 times).
pub const CALLBACK_OK: i32 = 1;
pub const CALLBACK_DUPLICATE: i32 = 2;
pub const CALLBACK_RETRY: i32 = 0;
pub const CALLBACK_BAD_MAC: i32 = -1;

/// Default order lifetime when `expire_duration_seconds` is absent.
pub const DEFAULT_EXPIRY_SECONDS: i64 = 15 * 60;

/// Body of `POST /v2/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrder {
    pub app_id: i64,
    pub app_user: String,
    /// Must start with today's `yymmdd` in Vietnam time; see [`app_trans_id`].
    pub app_trans_id: String,
    pub app_time: i64,
    pub amount: i64,
    /// JSON array as a string, `"[]"` when empty.
    pub item: String,
    /// JSON object as a string, `"{}"` when empty; `redirecturl` inside it steers the browser.
    pub embed_data: String,
    pub description: String,
    /// `""` offers every method.
    #[serde(default)]
    pub bank_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_duration_seconds: Option<i64>,
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateResponse {
    pub return_code: i32,
    pub return_message: String,
    #[serde(default)]
    pub sub_return_code: i32,
    #[serde(default)]
    pub sub_return_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zp_trans_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_token: Option<String>,
    /// A VietQR EMVCo payload, not an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
}

/// What ZaloPay POSTs to the callback URL, only once the money has actually arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// A JSON document as a string: the mac covers these exact bytes, so it is parsed into
    /// [`CallbackData`] only after [`verify_callback`].
    pub data: String,
    pub mac: String,
    #[serde(rename = "type")]
    pub kind: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackData {
    pub app_id: i64,
    pub app_trans_id: String,
    pub app_time: i64,
    pub app_user: String,
    pub amount: i64,
    pub embed_data: String,
    pub item: String,
    pub zp_trans_id: i64,
    pub server_time: i64,
    pub channel: i32,
    #[serde(default)]
    pub merchant_user_id: String,
    #[serde(default)]
    pub user_fee_amount: i64,
    #[serde(default)]
    pub discount_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackReply {
    pub return_code: i32,
    pub return_message: String,
}

/// Body of `POST /v2/query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub app_id: i64,
    pub app_trans_id: String,
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResponse {
    pub return_code: i32,
    pub return_message: String,
    #[serde(default)]
    pub sub_return_code: i32,
    #[serde(default)]
    pub sub_return_message: String,
    #[serde(default)]
    pub is_processing: bool,
    #[serde(default)]
    pub amount: i64,
    /// Zero until paid.
    #[serde(default)]
    pub zp_trans_id: i64,
}

/// HMAC(key1, `app_id|app_trans_id|app_user|amount|app_time|embed_data|item`).
pub fn create_mac(key1: &str, order: &CreateOrder) -> String {
    let input = format!(
        "{}|{}|{}|{}|{}|{}|{}",
        order.app_id,
        order.app_trans_id,
        order.app_user,
        order.amount,
        order.app_time,
        order.embed_data,
        order.item,
    );
    hmac_sha256_hex(key1, &input)
}

pub fn verify_create(key1: &str, order: &CreateOrder) -> bool {
    constant_time_eq(&create_mac(key1, order), &order.mac)
}

/// HMAC(key2, data) over the `data` string exactly as sent, never a re-serialisation of it.
pub fn callback_mac(key2: &str, data: &str) -> String {
    hmac_sha256_hex(key2, data)
}

pub fn verify_callback(key2: &str, callback: &Callback) -> bool {
    constant_time_eq(&callback_mac(key2, &callback.data), &callback.mac)
}

/// HMAC(key1, `app_id|app_trans_id|key1`): ZaloPay really does put key1 inside the input too.
pub fn query_mac(key1: &str, app_id: i64, app_trans_id: &str) -> String {
    hmac_sha256_hex(key1, &format!("{app_id}|{app_trans_id}|{key1}"))
}

pub fn verify_query(key1: &str, req: &QueryRequest) -> bool {
    constant_time_eq(&query_mac(key1, req.app_id, &req.app_trans_id), &req.mac)
}

/// `yymmdd_<suffix>` with the date taken in Vietnam (UTC+7): ZaloPay rejects ids whose prefix is
/// not the current Vietnamese date, which differs from the UTC date for 7 hours a day.
pub fn app_trans_id(now: DateTime<Utc>, suffix: &str) -> String {
    format!("{}_{suffix}", vn_date_prefix(now))
}

/// Whether `app_trans_id` starts with the current Vietnamese `yymmdd`.
pub fn date_prefix_ok(app_trans_id: &str, now: DateTime<Utc>) -> bool {
    app_trans_id
        .get(..6)
        .is_some_and(|prefix| prefix == vn_date_prefix(now))
}

fn vn_date_prefix(now: DateTime<Utc>) -> String {
    now.with_timezone(&Ho_Chi_Minh).format("%y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Sandbox app 2553, published in ZaloPay's docs and samples.
    const KEY1: &str = "PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL";
    const KEY2: &str = "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz";

    const DOC_DATA: &str = r#"{"app_id":2553,"app_trans_id":"200904_2553_1598435687208","app_time":1599189392817,"app_user":"demo","amount":10000,"embed_data":"{\"merchantinfo\":\"embeddata123\",\"promotioninfo\":\"\"}","item":"[{\"itemid\":\"knb\",\"itemname\":\"kim nguyen bao\",\"itemprice\":198400,\"itemquantity\":1}]","zp_trans_id":200904000000389,"server_time":1599189413498,"channel":38,"merchant_user_id":"7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc","user_fee_amount":0,"discount_amount":0}"#;
    const DOC_MAC: &str = "d8d33baf449b31d7f9b94fa50d7c942c08cd4d83f28fa185557da21acb104f67";

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("test timestamp")
            .with_timezone(&Utc)
    }

    #[test]
    fn published_callback_vector() {
        assert_eq!(callback_mac(KEY2, DOC_DATA), DOC_MAC);
        let callback = Callback {
            data: DOC_DATA.to_owned(),
            mac: DOC_MAC.to_owned(),
            kind: CALLBACK_TYPE_ORDER,
        };
        assert!(verify_callback(KEY2, &callback));
        assert!(!verify_callback(KEY1, &callback));
        let tampered = Callback {
            data: DOC_DATA.replace("\"amount\":10000", "\"amount\":100000"),
            ..callback
        };
        assert!(!verify_callback(KEY2, &tampered));
    }

    #[test]
    fn callback_envelope_and_data_parse() {
        let body = serde_json::json!({"data": DOC_DATA, "mac": DOC_MAC, "type": 1}).to_string();
        let callback: Callback = serde_json::from_str(&body).expect("envelope");
        assert_eq!(callback.kind, CALLBACK_TYPE_ORDER);
        assert!(verify_callback(KEY2, &callback));
        let data: CallbackData = serde_json::from_str(&callback.data).expect("data");
        assert_eq!(data.app_id, 2553);
        assert_eq!(data.app_trans_id, "200904_2553_1598435687208");
        assert_eq!(data.amount, 10_000);
        assert_eq!(data.zp_trans_id, 200_904_000_000_389);
        assert_eq!(data.server_time, 1_599_189_413_498);
        assert_eq!(data.channel, 38);
        assert_eq!(
            data.embed_data,
            r#"{"merchantinfo":"embeddata123","promotioninfo":""}"#
        );
        assert_eq!(
            data.merchant_user_id,
            "7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc"
        );
    }

    // Expected macs were computed independently with Python's `hmac` module.
    #[test]
    fn create_mac_field_order() {
        let mut order = CreateOrder {
            app_id: 2553,
            app_user: "demo".to_owned(),
            app_trans_id: "261124_42".to_owned(),
            app_time: 1_763_919_000_000,
            amount: 50_000,
            item: "[]".to_owned(),
            embed_data: r#"{"redirecturl":"https://example.test/zp/return"}"#.to_owned(),
            description: "RingCast - Nap tien #42".to_owned(),
            bank_code: String::new(),
            callback_url: None,
            expire_duration_seconds: None,
            mac: String::new(),
        };
        let mac = create_mac(KEY1, &order);
        assert_eq!(
            mac,
            "f6f077ceb6c9dff0d017c60ebb07d55107c1e590ab24aabe7660d3d660765a67"
        );
        order.mac = mac;
        assert!(verify_create(KEY1, &order));
        assert!(!verify_create(KEY2, &order));
        // The description is not covered by the mac.
        order.description = "changed".to_owned();
        assert!(verify_create(KEY1, &order));
        order.amount = 5_000;
        assert!(!verify_create(KEY1, &order));
    }

    #[test]
    fn query_mac_includes_key1() {
        let mac = query_mac(KEY1, 2553, "261124_42");
        assert_eq!(
            mac,
            "32f53dd9521b935c076f39bc1d850dea9daf8c1441026725bb1cb340d9913275"
        );
        let req = QueryRequest {
            app_id: 2553,
            app_trans_id: "261124_42".to_owned(),
            mac,
        };
        assert!(verify_query(KEY1, &req));
        assert!(!verify_query(KEY2, &req));
    }

    #[test]
    fn app_trans_id_uses_vietnam_date() {
        // 17:30 UTC is already 00:30 the next day in Ho Chi Minh City.
        let now = at("2026-11-23T17:30:00Z");
        assert_eq!(app_trans_id(now, "42"), "261124_42");
        assert_eq!(app_trans_id(at("2026-11-23T16:59:59Z"), "42"), "261123_42");
        assert!(date_prefix_ok("261124_42", now));
        assert!(!date_prefix_ok("261123_42", now));
        assert!(!date_prefix_ok("26112", now));
        assert!(!date_prefix_ok("", now));
        assert!(!date_prefix_ok("2611ạ4_42", now));
    }

    #[test]
    fn create_order_json_omits_absent_options() {
        let body = r#"{"app_id":2553,"app_user":"demo","app_trans_id":"261124_42","app_time":1763919000000,"amount":50000,"item":"[]","embed_data":"{}","description":"d","mac":"m"}"#;
        let order: CreateOrder = serde_json::from_str(body).expect("parses");
        assert_eq!(order.bank_code, "");
        assert_eq!(order.callback_url, None);
        let json = serde_json::to_value(&order).expect("serializable");
        assert!(json.get("callback_url").is_none());
        assert!(json.get("expire_duration_seconds").is_none());
        assert_eq!(json["app_trans_id"], "261124_42");
    }

    #[test]
    fn sdk_query_mock_parses() {
        let body = r#"{"return_code":1,"return_message":"","sub_return_code":1,"sub_return_message":"","amount":5000,"is_processing":false,"zp_trans_id":230512000007041}"#;
        let resp: QueryResponse = serde_json::from_str(body).expect("parses");
        assert_eq!(resp.return_code, RETURN_SUCCESS);
        assert!(!resp.is_processing);
        assert_eq!(resp.amount, 5000);
        assert_eq!(resp.zp_trans_id, 230_512_000_007_041);
    }
}
