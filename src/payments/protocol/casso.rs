//! Casso webhook V2: one bank transaction per POST, signed in `X-Casso-Signature`.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::Sha512;

use super::constant_time_eq;

pub const SIGNATURE_HEADER: &str = "X-Casso-Signature";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub error: i32,
    pub data: Transaction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Casso's transaction id: the dedup key, since Casso may deliver the same one twice.
    pub id: i64,
    pub reference: String,
    pub description: String,
    /// Negative for money leaving the account.
    pub amount: i64,
    #[serde(default)]
    pub running_balance: i64,
    pub transaction_date_time: String,
    pub account_number: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub bank_name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub bank_abbreviation: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub virtual_account_number: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub virtual_account_name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub counter_account_name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub counter_account_number: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub counter_account_bank_id: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub counter_account_bank_name: String,
}

/// Optional text fields arrive as `""` in Casso's sample, but integrations report `null` too.
fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Compact JSON with object keys sorted A→Z at every depth: the form Casso signs. Sorting is done
/// here rather than trusting `serde_json::Map`, whose order flips to insertion order as soon as
/// any crate in the build enables `preserve_order`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // Scalars print compactly and with standard escaping on their own.
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lowercase hex of HMAC-SHA512(checksum key, `<t>.<canonical body>`).
pub fn signature(checksum_key: &str, timestamp_ms: &str, body: &Value) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac =
        Hmac::<Sha512>::new_from_slice(checksum_key.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp_ms.as_bytes());
    mac.update(b".");
    mac.update(canonical_json(body).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Casso-Signature` value: `t=<timestamp ms>,v1=<hex>`.
pub fn header(checksum_key: &str, timestamp_ms: &str, body: &Value) -> String {
    format!(
        "t={timestamp_ms},v1={}",
        signature(checksum_key, timestamp_ms, body)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    pub timestamp_ms: &'a str,
    pub v1: &'a str,
}

/// Splits `t=...,v1=...`; callers that enforce freshness read `timestamp_ms` from here.
pub fn parse_header(value: &str) -> Option<SignatureHeader<'_>> {
    let (mut t, mut v1) = (None, None);
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", ts)) => t = Some(ts),
            Some(("v1", sig)) => v1 = Some(sig),
            _ => {}
        }
    }
    let timestamp_ms = t.filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))?;
    Some(SignatureHeader {
        timestamp_ms,
        v1: v1?,
    })
}

/// Checks the signature of a raw webhook body. The body is re-parsed because Casso signs the
/// sorted form, not the bytes it sends. Does not check the timestamp's age.
pub fn verify(checksum_key: &str, header_value: &str, raw_body: &[u8]) -> bool {
    let Some(header) = parse_header(header_value) else {
        return false;
    };
    let Ok(body) = serde_json::from_slice::<Value>(raw_body) else {
        return false;
    };
    constant_time_eq(
        &signature(checksum_key, header.timestamp_ms, &body),
        header.v1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Casso's published test vector.
    const KEY: &str = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs";
    const T: &str = "1727948258788";
    const BODY: &str = r#"{"error":0,"data":{"id":0,"reference":"MA_GIAO_DICH_THU_NGHIEM","description":"giao dich thu nghiem","amount":599000,"runningBalance":25000000,"transactionDateTime":"2024-10-03 15:06:37","accountNumber":"88888888","bankName":"VPBank","bankAbbreviation":"VPB","virtualAccountNumber":"","virtualAccountName":"","counterAccountName":"NGUYEN VAN A","counterAccountNumber":"8888888888","counterAccountBankId":"970415","counterAccountBankName":"VietinBank"}}"#;
    const V1: &str = "ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7dde0868fc667faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3";

    fn body() -> Value {
        serde_json::from_str(BODY).expect("vector body")
    }

    #[test]
    fn published_checksum_vector() {
        assert_eq!(signature(KEY, T, &body()), V1);
        assert_eq!(header(KEY, T, &body()), format!("t={T},v1={V1}"));
        assert!(verify(KEY, &format!("t={T},v1={V1}"), BODY.as_bytes()));
    }

    #[test]
    fn unsorted_serialisation_does_not_match() {
        let mut mac = Hmac::<Sha512>::new_from_slice(KEY.as_bytes()).expect("any key length");
        mac.update(format!("{T}.{BODY}").as_bytes());
        let unsorted = hex::encode(mac.finalize().into_bytes());
        assert_ne!(unsorted, V1);
    }

    #[test]
    fn canonical_form_sorts_every_level() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":"é\"/"}],"c":null},"A":true}"#)
                .expect("json");
        assert_eq!(
            canonical_json(&value),
            r#"{"A":true,"a":{"c":null,"d":[{"y":"é\"/","z":1}]},"b":1}"#
        );
        assert_eq!(
            canonical_json(&body()),
            r#"{"data":{"accountNumber":"88888888","amount":599000,"bankAbbreviation":"VPB","bankName":"VPBank","counterAccountBankId":"970415","counterAccountBankName":"VietinBank","counterAccountName":"NGUYEN VAN A","counterAccountNumber":"8888888888","description":"giao dich thu nghiem","id":0,"reference":"MA_GIAO_DICH_THU_NGHIEM","runningBalance":25000000,"transactionDateTime":"2024-10-03 15:06:37","virtualAccountName":"","virtualAccountNumber":""},"error":0}"#
        );
    }

    #[test]
    fn verify_rejects_tampering_and_garbage() {
        let good = format!("t={T},v1={V1}");
        assert!(verify(KEY, &format!("v1={V1}, t={T}"), BODY.as_bytes()));
        assert!(!verify(
            KEY,
            &good,
            BODY.replace("599000", "5990000").as_bytes()
        ));
        assert!(!verify(
            KEY,
            &format!("t=1727948258789,v1={V1}"),
            BODY.as_bytes()
        ));
        assert!(!verify("other-key", &good, BODY.as_bytes()));
        assert!(!verify(KEY, &good, b"not json"));
        assert!(!verify(KEY, &format!("v1={V1}"), BODY.as_bytes()));
        assert!(!verify(KEY, &format!("t={T}"), BODY.as_bytes()));
        assert!(!verify(KEY, &format!("t=abc,v1={V1}"), BODY.as_bytes()));
        assert!(!verify(KEY, "", BODY.as_bytes()));
    }

    #[test]
    fn parse_header_extracts_both_parts() {
        assert_eq!(
            parse_header("t=1727948258788,v1=abc"),
            Some(SignatureHeader {
                timestamp_ms: "1727948258788",
                v1: "abc"
            })
        );
        assert_eq!(parse_header("t=,v1=abc"), None);
    }

    #[test]
    fn vector_body_parses_into_webhook() {
        let webhook: Webhook = serde_json::from_str(BODY).expect("vector body");
        assert_eq!(webhook.error, 0);
        assert_eq!(webhook.data.reference, "MA_GIAO_DICH_THU_NGHIEM");
        assert_eq!(webhook.data.amount, 599_000);
        assert_eq!(webhook.data.running_balance, 25_000_000);
        assert_eq!(webhook.data.transaction_date_time, "2024-10-03 15:06:37");
        assert_eq!(webhook.data.counter_account_bank_id, "970415");
    }

    #[test]
    fn optional_strings_tolerate_null_and_absence() {
        let body = r#"{"error":0,"data":{"id":7,"reference":"FT1","description":"RCAB12CD34","amount":-1000,"transactionDateTime":"2024-10-03 15:06:37","accountNumber":"1","bankName":null}}"#;
        let webhook: Webhook = serde_json::from_str(body).expect("parses");
        assert_eq!(webhook.data.amount, -1000);
        assert_eq!(webhook.data.running_balance, 0);
        assert_eq!(webhook.data.bank_name, "");
        assert_eq!(webhook.data.counter_account_name, "");
    }
}
