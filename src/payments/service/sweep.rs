//! The sweep over open orders: asks each gateway for its final word, expires the overdue.

use chrono::{Duration, Utc};

use crate::app::AppState;
use crate::error::AppResult;
use crate::payments::gateways::{GatewayError, Momo, ZaloPay};
use crate::payments::model::{TopUp, TopUpMethod};
use crate::payments::protocol::momo;
use crate::payments::settle::{self, Applied, Report};

/// Asks the gateways about open orders (ZaloPay calls back only on success; an IPN may be
/// lost) and expires orders past their deadline.
pub async fn poll(state: &AppState) -> AppResult<usize> {
    let open = TopUp::pending_gateway_orders(
        &mut *state.conn().await?,
        Utc::now() - Duration::seconds(20),
    )
    .await?;
    let mut changed = 0;
    for top_up in open {
        let report = match ask(state, &top_up).await {
            Ok(Some(report)) => Some(report),
            Ok(None) | Err(_) if Utc::now() > top_up.expires_at => Some(Report::Expired),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(top_up.id = %top_up.id, error = %e, "could not ask the gateway about a top-up");
                None
            }
        };
        if let Some(report) = report {
            if !matches!(
                settle::apply(state, top_up.id, report).await?,
                Applied::Unchanged(_)
            ) {
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// The gateway's final word on an order, if it has one.
async fn ask(state: &AppState, top_up: &TopUp) -> Result<Option<Report>, GatewayError> {
    let payments = &state.config.payments;
    match top_up.method {
        TopUpMethod::BankTransfer => Ok(None),
        TopUpMethod::Momo => {
            let Some(settings) = &payments.momo else {
                return Ok(None);
            };
            let r = Momo {
                settings,
                http: &state.http,
            }
            .query(&top_up.provider_ref)
            .await?;
            Ok(if r.result_code == momo::SUCCESS {
                Some(Report::Paid {
                    txn_id: format!("momo:{}", r.trans_id),
                    amount: r.amount,
                })
            } else if momo::is_final_failure(r.result_code) {
                Some(Report::Failed {
                    reason: format!("MoMo {}: {}", r.result_code, r.message),
                })
            } else {
                None
            })
        }
        TopUpMethod::Zalopay => {
            let Some(settings) = &payments.zalopay else {
                return Ok(None);
            };
            let r = ZaloPay {
                settings,
                http: &state.http,
            }
            .query(&top_up.provider_ref)
            .await?;
            Ok(match r.return_code {
                1 => Some(Report::Paid {
                    txn_id: format!("zalopay:{}", r.zp_trans_id),
                    amount: r.amount,
                }),
                2 => Some(Report::Failed {
                    reason: format!("ZaloPay {}: {}", r.sub_return_code, r.sub_return_message),
                }),
                _ => None,
            })
        }
    }
}
