//! A bank account watched by SePay and Casso: a simulated incoming transfer is announced to
//! our webhooks in SePay's format (`Authorization: Apikey`) and/or Casso's V2 format
//! (`X-Casso-Signature`).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{pay_page, PaymentSimulator};
use crate::payments::protocol::casso;

/// `POST /bank/transfers`: someone transfers `amount` with `content` as the transfer note.
#[derive(Deserialize, Debug, Clone)]
pub struct Transfer {
    pub amount: i64,
    pub content: String,
    /// `sepay`, `casso` or `both` (default `sepay`).
    #[serde(default)]
    pub via: Option<String>,
    /// Reuse a transaction id to replay a delivery.
    #[serde(default)]
    pub id: Option<i64>,
}

#[derive(Deserialize)]
struct PayQuery {
    memo: String,
    amount: i64,
}

pub(super) fn routes() -> Router<PaymentSimulator> {
    Router::new()
        .route("/bank/transfers", post(transfer))
        .route("/bank/pay", get(page))
        .route("/bank/pay", post(pay_from_page))
}

async fn page(Query(q): Query<PayQuery>) -> Response {
    pay_page(
        "Bank transfer (simulated)",
        &format!("Transfer {} VND with the note {}", q.amount, q.memo),
        &[(
            "Transfer now",
            &format!("/bank/pay?memo={}&amount={}", q.memo, q.amount),
        )],
    )
    .into_response()
}

async fn pay_from_page(sim: State<PaymentSimulator>, Query(q): Query<PayQuery>) -> Response {
    transfer(
        sim,
        Json(Transfer {
            amount: q.amount,
            content: format!(
                "MBVCB.{}.{}.CT tu 0123456789 NGUYEN VAN A",
                q.amount, q.memo
            ),
            via: None,
            id: None,
        }),
    )
    .await
}

async fn transfer(State(sim): State<PaymentSimulator>, Json(t): Json<Transfer>) -> Response {
    let id = t.id.unwrap_or_else(|| sim.txn_id());
    let via = t.via.as_deref().unwrap_or("sepay");
    let base = &sim.shared.webhook_base;
    let keys = &sim.shared.keys;
    let mut results = serde_json::Map::new();
    if via == "sepay" || via == "both" {
        let body = json!({
            "id": id, "gateway": "Vietcombank",
            "transactionDate": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            "accountNumber": "0011001234567", "code": null, "content": t.content,
            "transferType": "in", "transferAmount": t.amount, "accumulated": 0,
            "subAccount": null, "referenceCode": format!("FT{id}"), "description": t.content,
        });
        let status = sim
            .shared
            .http
            .post(format!("{base}/webhooks/payments/bank/sepay"))
            .header("Authorization", format!("Apikey {}", keys.sepay_api_key))
            .json(&body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        results.insert("sepay".into(), json!({"body": body, "status": status}));
    }
    if via == "casso" || via == "both" {
        let body = json!({"error": 0, "data": {
            "id": id, "reference": format!("FT{id}"), "description": t.content, "amount": t.amount,
            "runningBalance": 0,
            "transactionDateTime": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            "accountNumber": "0011001234567", "bankName": "Vietcombank", "bankAbbreviation": "VCB",
            "virtualAccountNumber": "", "virtualAccountName": "", "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "0123456789", "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        }});
        let t_ms = PaymentSimulator::now_ms().to_string();
        let signature = casso::header(&keys.casso_checksum_key, &t_ms, &body);
        let status = sim
            .shared
            .http
            .post(format!("{base}/webhooks/payments/bank/casso"))
            .header(casso::SIGNATURE_HEADER, signature)
            .header("Content-Type", "application/json")
            .body(casso::canonical_json(&body))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        results.insert("casso".into(), json!({"body": body, "status": status}));
    }
    Json(serde_json::Value::Object(results)).into_response()
}
