//! SePay bank-transaction webhook, authenticated with `Authorization: Apikey <key>`.

use serde::{Deserialize, Serialize};

use super::constant_time_eq;

pub const TRANSFER_IN: &str = "in";
pub const TRANSFER_OUT: &str = "out";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// SePay's transaction id: the dedup key, since SePay retries and may deliver twice.
    pub id: i64,
    /// Bank brand name, e.g. `Vietcombank`.
    pub gateway: String,
    /// Bank-side local time, `YYYY-MM-DD HH:MM:SS`.
    pub transaction_date: String,
    pub account_number: String,
    /// The payment code SePay extracted per the account's configuration, if any.
    pub code: Option<String>,
    /// The transfer memo as the bank reports it, usually wrapped in bank text.
    pub content: String,
    /// [`TRANSFER_IN`] or [`TRANSFER_OUT`].
    pub transfer_type: String,
    pub transfer_amount: i64,
    /// Account balance after the transaction.
    #[serde(default)]
    pub accumulated: i64,
    #[serde(default)]
    pub sub_account: Option<String>,
    #[serde(default)]
    pub reference_code: String,
    #[serde(default)]
    pub description: String,
}

/// Checks `Authorization: Apikey <key>` the way SePay's own sample does: exact prefix, then a
/// constant-time compare. An empty configured key never matches, so a missing setting cannot
/// turn into "accept `Apikey ` with nothing after it".
pub fn verify_apikey(expected_key: &str, authorization_header: Option<&str>) -> bool {
    let Some(given) = authorization_header.and_then(|h| h.strip_prefix("Apikey ")) else {
        return false;
    };
    !expected_key.is_empty() && constant_time_eq(given, expected_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const KEY: &str = "sk_live_9f8e7d6c5b4a";

    #[test]
    fn apikey_header() {
        assert!(verify_apikey(KEY, Some("Apikey sk_live_9f8e7d6c5b4a")));
        assert!(!verify_apikey(KEY, Some("Apikey sk_live_9f8e7d6c5b4b")));
        assert!(!verify_apikey(KEY, Some("Apikey sk_live_9f8e7d6c5b4")));
        assert!(!verify_apikey(KEY, Some("Bearer sk_live_9f8e7d6c5b4a")));
        assert!(!verify_apikey(KEY, Some("apikey sk_live_9f8e7d6c5b4a")));
        assert!(!verify_apikey(KEY, Some("sk_live_9f8e7d6c5b4a")));
        assert!(!verify_apikey(KEY, Some("")));
        assert!(!verify_apikey(KEY, None));
        assert!(!verify_apikey("", Some("Apikey ")));
    }

    #[test]
    fn documented_payload_parses() {
        let body = r#"{"id":92704,"gateway":"Vietcombank","transactionDate":"2023-03-25 14:02:37","accountNumber":"0123499999","code":null,"content":"chuyen tien mua iphone","transferType":"in","transferAmount":2277000,"accumulated":19077000,"subAccount":null,"referenceCode":"MBVCB.3278907687","description":""}"#;
        let hook: Webhook = serde_json::from_str(body).expect("documented payload");
        assert_eq!(hook.id, 92_704);
        assert_eq!(hook.gateway, "Vietcombank");
        assert_eq!(hook.transaction_date, "2023-03-25 14:02:37");
        assert_eq!(hook.account_number, "0123499999");
        assert_eq!(hook.code, None);
        assert_eq!(hook.content, "chuyen tien mua iphone");
        assert_eq!(hook.transfer_type, TRANSFER_IN);
        assert_eq!(hook.transfer_amount, 2_277_000);
        assert_eq!(hook.accumulated, 19_077_000);
        assert_eq!(hook.sub_account, None);
        assert_eq!(hook.reference_code, "MBVCB.3278907687");
    }

    #[test]
    fn detected_code_and_missing_optionals() {
        let body = r#"{"id":1,"gateway":"MBBank","transactionDate":"2024-01-01 00:00:00","accountNumber":"1","code":"RCAB12CD34","content":"RCAB12CD34 chuyen tien","transferType":"in","transferAmount":50000}"#;
        let hook: Webhook = serde_json::from_str(body).expect("minimal payload");
        assert_eq!(hook.code.as_deref(), Some("RCAB12CD34"));
        assert_eq!(hook.accumulated, 0);
        assert_eq!(hook.reference_code, "");
        let json = serde_json::to_value(&hook).expect("serializable");
        assert_eq!(json["transferAmount"], 50_000);
        assert_eq!(json["subAccount"], Value::Null);
    }
}
