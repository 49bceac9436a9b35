//! Top-up orders: created here (the row is durable before any gateway is asked), settled in
//! `settle`, polled and expired by `PollTopUps`.

use chrono::{Duration, Utc};
use rand::Rng;
use uuid::Uuid;

use super::gateways::{GatewayError, Momo, ZaloPay};
use super::model::{set_links, NewTopUp, TopUp, TopUpMethod, TopUpStatus};
use super::protocol::{momo, vietqr, zalopay};
use super::settle::{self, Report};
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::payments::sort::TopUpOrderField;
use crate::viewer::Viewer;

mod review;
mod sweep;

pub use review::{confirm, reject};
pub use sweep::poll;

/// Transfer memos are this prefix and 8 characters; banks return them inside their own text.
pub const MEMO_PREFIX: &str = "RC";

const BANK_TTL: Duration = Duration::hours(24);
const MOMO_TTL: Duration = Duration::minutes(30);
const ZALOPAY_TTL: Duration = Duration::minutes(15);
/// A user may have this many unpaid orders at once.
const MAX_PENDING: i64 = 10;

fn code(len: usize) -> String {
    // No 0/O or 1/I: people read memos aloud and type them into banking apps.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn limits(state: &AppState, method: TopUpMethod) -> (i64, i64) {
    match method {
        TopUpMethod::Momo => (momo::MIN_AMOUNT, momo::MAX_AMOUNT),
        _ => (
            state.config.payments.min_amount,
            state.config.payments.max_amount,
        ),
    }
}

fn unavailable(what: &str, e: GatewayError) -> AppError {
    tracing::warn!(error = %e, "{what} request failed");
    AppError::UpstreamUnavailable(format!(
        "{what} did not answer; the order stays pending and is checked again shortly"
    ))
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    method: TopUpMethod,
    amount: i64,
) -> AppResult<TopUp> {
    let (min, max) = limits(state, method);
    if amount < min || amount > max {
        return Err(AppError::bad_input(
            "amount",
            format!("{method} top-ups are {min} to {max} VND"),
        ));
    }
    let mut conn = state.conn().await?;
    let pending = TopUp::list(
        &mut conn,
        Some(viewer.id),
        Some(&[TopUpStatus::Pending]),
        TopUpOrderField::CreatedAt,
        &Seek {
            from: None,
            descending: true,
            limit: MAX_PENDING + 1,
        },
    )
    .await?
    .len() as i64;
    if pending >= MAX_PENDING {
        return Err(AppError::conflict(
            "method",
            format!(
                "you already have {MAX_PENDING} unpaid top-ups; pay or wait for them to expire"
            ),
        ));
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    let payments = &state.config.payments;
    match method {
        TopUpMethod::BankTransfer => {
            let memo = format!("{MEMO_PREFIX}{}", code(8));
            let bank = &payments.bank;
            let qr = vietqr::payload(&vietqr::Transfer {
                bank_bin: &bank.bin,
                account_number: &bank.account_number,
                amount: Some(amount),
                purpose: &memo,
            })
            .map_err(|e| AppError::internal(anyhow::anyhow!("VietQR payload: {e}")))?;
            let pay_url = match &payments.simulator_url {
                Some(sim) if payments.simulated.contains(&"bank") => {
                    format!("{sim}/bank/pay?memo={memo}&amount={amount}")
                }
                _ => format!(
                    "https://img.vietqr.io/image/{}-{}-compact2.png?amount={amount}&addInfo={memo}&accountName={}",
                    bank.bin,
                    bank.account_number,
                    bank.account_name.replace(' ', "%20")
                ),
            };
            NewTopUp {
                id,
                user_id: viewer.id,
                method,
                amount,
                provider_ref: &memo,
                transfer_memo: Some(&memo),
                pay_url: Some(&pay_url),
                qr_payload: Some(&qr),
                expires_at: now + BANK_TTL,
            }
            .insert(&mut conn)
            .await
        }
        TopUpMethod::Momo => {
            let settings = payments.momo.as_ref().ok_or_else(|| {
                AppError::UpstreamUnavailable("MoMo is not configured on this server".into())
            })?;
            let order_id = format!("{MEMO_PREFIX}{}", id.simple());
            open_order(
                &mut conn,
                id,
                viewer,
                method,
                amount,
                &order_id,
                now + MOMO_TTL,
            )
            .await?;
            drop(conn);
            let base = &state.public_url;
            let created = Momo {
                settings,
                http: &state.http,
            }
            .create(
                &order_id,
                amount,
                &format!("Ringcast top-up {order_id}"),
                &format!("{base}/payments/return"),
                &format!("{base}/webhooks/payments/momo"),
            )
            .await
            .map_err(|e| unavailable("MoMo", e))?;
            if created.result_code != momo::SUCCESS {
                let why = format!("MoMo {}: {}", created.result_code, created.message);
                return Err(refused(state, id, why).await);
            }
            set_links(
                &mut *state.conn().await?,
                id,
                created.pay_url.as_deref(),
                created.deeplink.as_deref(),
                created.qr_code_url.as_deref(),
            )
            .await
        }
        TopUpMethod::Zalopay => {
            let settings = payments.zalopay.as_ref().ok_or_else(|| {
                AppError::UpstreamUnavailable("ZaloPay is not configured on this server".into())
            })?;
            let app_trans_id = zalopay::app_trans_id(now, &code(12));
            let expires = now + ZALOPAY_TTL;
            open_order(
                &mut conn,
                id,
                viewer,
                method,
                amount,
                &app_trans_id,
                expires,
            )
            .await?;
            drop(conn);
            let created = ZaloPay {
                settings,
                http: &state.http,
            }
            .create(
                &app_trans_id,
                &viewer.id.simple().to_string(),
                amount,
                &format!("Ringcast - top-up {app_trans_id}"),
                &format!("{}/webhooks/payments/zalopay", state.public_url),
                ZALOPAY_TTL.num_seconds(),
            )
            .await
            .map_err(|e| unavailable("ZaloPay", e))?;
            if created.return_code != 1 {
                let why = format!(
                    "ZaloPay {}: {}",
                    created.sub_return_code, created.sub_return_message
                );
                return Err(refused(state, id, why).await);
            }
            set_links(
                &mut *state.conn().await?,
                id,
                created.order_url.as_deref(),
                None,
                created.qr_code.as_deref(),
            )
            .await
        }
    }
}

/// A gateway order is recorded before the gateway is asked, so a crash in between leaves a
/// row the sweep can ask about rather than a payment we know nothing of.
async fn open_order(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
    viewer: &Viewer,
    method: TopUpMethod,
    amount: i64,
    reference: &str,
    expires_at: chrono::DateTime<Utc>,
) -> AppResult<TopUp> {
    NewTopUp {
        id,
        user_id: viewer.id,
        method,
        amount,
        provider_ref: reference,
        transfer_memo: None,
        pay_url: None,
        qr_payload: None,
        expires_at,
    }
    .insert(conn)
    .await
}

/// The gateway said no: the order fails with its reason, which the caller also sees.
async fn refused(state: &AppState, id: Uuid, why: String) -> AppError {
    if let Err(e) = settle::apply(
        state,
        id,
        Report::Failed {
            reason: why.clone(),
        },
    )
    .await
    {
        return e;
    }
    AppError::UpstreamUnavailable(format!("the gateway refused the order ({why})"))
}

/// The viewer's own top-up, or any for an admin.
pub async fn get(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<TopUp> {
    let top_up = TopUp::find(&mut *state.conn().await?, id).await?;
    if top_up.user_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("top-up"));
    }
    Ok(top_up)
}
