//! Applying a stored, verified payment event: find the top-up its gateway names and settle it,
//! or keep money that names no order we know for an admin.

use serde_json::Value;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::payments::model::TopUp;
use crate::payments::protocol::{self, momo, zalopay};
use crate::payments::service::MEMO_PREFIX;
use crate::payments::settle::{self, Applied, Report};
use crate::payments::unmatched::{self, Unmatched};
use crate::webhooks::model::WebhookEvent;

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
        Ok(Some(note)) => WebhookEvent::mark_with_note(&mut conn, id, &note).await?,
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

/// Money that names no order we know is kept for an admin, with what it did name.
async fn unmatched_without_order(
    app: &AppState,
    txn_id: &str,
    amount: i64,
    reason: &str,
    reference: Option<&str>,
) -> AppResult<Option<String>> {
    let payment = Unmatched {
        txn_id,
        amount,
        top_up: None,
        reason,
        reference,
    };
    unmatched::record(&mut *app.conn().await?, payment).await?;
    Ok(Some(format!("{reason}; recorded as an unmatched payment")))
}

/// The note a processed event keeps when settling did not credit its order.
fn settled_note(applied: &Applied) -> Option<String> {
    match applied {
        Applied::Unmatched => {
            Some("another payment for a settled top-up; recorded as an unmatched payment".into())
        }
        _ => None,
    }
}

async fn process_momo(app: &AppState, payload: &Value) -> AppResult<Option<String>> {
    let ipn: momo::Ipn = serde_json::from_value(payload.clone()).map_err(|_| malformed("MoMo"))?;
    let Some(top_up) = top_up_by_ref(app, &ipn.order_id).await? else {
        if ipn.result_code == momo::SUCCESS {
            let txn = format!("momo:{}", ipn.trans_id);
            let reason = format!("a MoMo payment for unknown orderId {}", ipn.order_id);
            return unmatched_without_order(app, &txn, ipn.amount, &reason, Some(&ipn.order_id))
                .await;
        }
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
    Ok(settled_note(&settle::apply(app, top_up.id, report).await?))
}

async fn process_zalopay(app: &AppState, payload: &Value) -> AppResult<Option<String>> {
    let data = payload
        .get("data")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("ZaloPay"))?;
    let data: zalopay::CallbackData =
        serde_json::from_str(data).map_err(|_| malformed("ZaloPay"))?;
    // ZaloPay calls back only when it has the money.
    let txn_id = format!("zalopay:{}", data.zp_trans_id);
    let Some(top_up) = top_up_by_ref(app, &data.app_trans_id).await? else {
        let reason = format!(
            "a ZaloPay payment for unknown app_trans_id {}",
            data.app_trans_id
        );
        return unmatched_without_order(
            app,
            &txn_id,
            data.amount,
            &reason,
            Some(&data.app_trans_id),
        )
        .await;
    };
    let report = Report::Paid {
        txn_id,
        amount: data.amount,
    };
    Ok(settled_note(&settle::apply(app, top_up.id, report).await?))
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
        let reference: String = text.trim().chars().take(200).collect();
        return unmatched_without_order(
            app,
            txn,
            amount,
            "a bank transfer with no top-up memo",
            Some(&reference),
        )
        .await;
    };
    let Some(top_up) = top_up_by_ref(app, &memo).await? else {
        let reason = format!("a bank transfer whose memo {memo} matches no top-up");
        return unmatched_without_order(app, txn, amount, &reason, Some(&memo)).await;
    };
    let report = Report::Paid {
        txn_id: txn.to_owned(),
        amount,
    };
    Ok(settled_note(&settle::apply(app, top_up.id, report).await?))
}
