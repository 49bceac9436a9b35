//! Payment gateway simulators: MoMo (`/v2/gateway/api/*`), ZaloPay (`/v2/create`, `/v2/query`)
//! and a bank that sends SePay and Casso transaction webhooks. They speak the real wire
//! protocols (paths, fields, signatures, reply codes), so our real gateway clients and webhook
//! handlers are what runs against them.
//!
//! Control calls stand in for the payer: `POST /momo/orders/{orderId}/pay|decline`,
//! `POST /zalopay/orders/{app_trans_id}/pay|decline`, `POST /bank/transfers`; each pay page
//! (the `payUrl` of a simulated top-up) has buttons for them.

mod bank;
mod momo;
mod zalopay;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::config::payments::{MomoSettings, PaymentSettings, ZaloPaySettings};
use crate::config::Secret;
use crate::keys::Keys;

pub use bank::Transfer;

/// The credentials both sides use: the simulator signs and checks with them, and our
/// gateway clients are configured with the same.
#[derive(Clone, Debug)]
pub struct SimKeys {
    pub momo_partner_code: String,
    pub momo_access_key: String,
    pub momo_secret_key: String,
    pub zalopay_app_id: i64,
    pub zalopay_key1: String,
    pub zalopay_key2: String,
    pub sepay_api_key: String,
    pub casso_checksum_key: String,
}

impl SimKeys {
    /// Derived from the install's encryption key: unique per install, stable across restarts,
    /// and never a published default someone could sign forged webhooks with.
    pub fn derive(keys: &Keys) -> Self {
        let derive = |label: &str| {
            let mut mac = Hmac::<Sha256>::new_from_slice(keys.encryption_key.expose().as_bytes())
                .unwrap_or_else(|_| unreachable!());
            mac.update(b"ringcast-payment-simulator:");
            mac.update(label.as_bytes());
            hex::encode(&mac.finalize().into_bytes()[..16])
        };
        Self {
            momo_partner_code: "MOMOSIM00000001".into(),
            momo_access_key: derive("momo-access"),
            momo_secret_key: derive("momo-secret"),
            zalopay_app_id: 2553,
            zalopay_key1: derive("zalopay-key1"),
            zalopay_key2: derive("zalopay-key2"),
            sepay_api_key: derive("sepay"),
            casso_checksum_key: derive("casso"),
        }
    }
}

#[derive(Clone)]
pub struct PaymentSimulator {
    shared: Arc<Shared>,
}

struct Shared {
    keys: SimKeys,
    base: String,
    /// Where bank webhooks go (our server's public URL).
    webhook_base: String,
    http: reqwest::Client,
    momo: Mutex<HashMap<String, momo::Order>>,
    zalopay: Mutex<HashMap<String, zalopay::Order>>,
    next_txn: std::sync::atomic::AtomicI64,
}

impl PaymentSimulator {
    /// Starts the simulator for every gateway `settings` leaves unconfigured and points those
    /// settings at it. `None` when every gateway is real.
    pub async fn attach(
        settings: &mut PaymentSettings,
        keys: &Keys,
        webhook_base: &str,
        shutdown: CancellationToken,
    ) -> std::io::Result<Option<Self>> {
        // Either aggregator makes bank transfers real: its webhooks confirm them, and the
        // other one, left unset, accepts nothing.
        let bank_configured =
            settings.bank.sepay_api_key.is_some() || settings.bank.casso_checksum_key.is_some();
        if settings.momo.is_some() && settings.zalopay.is_some() && bank_configured {
            return Ok(None);
        }
        let sim = Self::start(SimKeys::derive(keys), webhook_base, shutdown).await?;
        let k = &sim.shared.keys;
        let base = sim.base().to_owned();
        if settings.momo.is_none() {
            settings.momo = Some(MomoSettings {
                endpoint: base.clone(),
                partner_code: k.momo_partner_code.clone(),
                access_key: k.momo_access_key.clone(),
                secret_key: Secret::new(&k.momo_secret_key),
            });
            settings.simulated.push("momo");
        }
        if settings.zalopay.is_none() {
            settings.zalopay = Some(ZaloPaySettings {
                endpoint: base.clone(),
                app_id: k.zalopay_app_id,
                key1: Secret::new(&k.zalopay_key1),
                key2: Secret::new(&k.zalopay_key2),
            });
            settings.simulated.push("zalopay");
        }
        if !bank_configured {
            settings.bank.sepay_api_key = Some(Secret::new(&k.sepay_api_key));
            settings.bank.casso_checksum_key = Some(Secret::new(&k.casso_checksum_key));
            settings.simulated.push("bank");
        }
        settings.simulator_url = Some(base.clone());
        tracing::info!(simulator = %base, gateways = ?settings.simulated, "payments: using the built-in gateway simulator for unconfigured gateways");
        Ok(Some(sim))
    }

    /// Serves the simulator on a free 127.0.0.1 port.
    pub async fn start(
        keys: SimKeys,
        webhook_base: &str,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let sim = Self {
            shared: Arc::new(Shared {
                keys,
                base,
                webhook_base: webhook_base.trim_end_matches('/').to_owned(),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .unwrap_or_default(),
                momo: Mutex::new(HashMap::new()),
                zalopay: Mutex::new(HashMap::new()),
                next_txn: std::sync::atomic::AtomicI64::new(4_088_878_653),
            }),
        };
        let router = sim.router();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "payment simulator stopped");
            }
        });
        Ok(sim)
    }

    pub fn base(&self) -> &str {
        &self.shared.base
    }

    pub fn keys(&self) -> &SimKeys {
        &self.shared.keys
    }

    pub fn router(&self) -> Router {
        momo::routes()
            .merge(zalopay::routes())
            .merge(bank::routes())
            .with_state(self.clone())
    }

    fn txn_id(&self) -> i64 {
        self.shared
            .next_txn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// The payer's page: what is being paid and buttons for the outcomes.
fn pay_page(title: &str, detail: &str, actions: &[(&str, &str)]) -> axum::response::Html<String> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let buttons: String = actions
        .iter()
        .map(|(label, path)| {
            format!(
                "<form method=\"post\" action=\"{}\"><button>{}</button></form>",
                escape(path),
                escape(label)
            )
        })
        .collect();
    axum::response::Html(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>{t}</title><h1>{t}</h1><p>{d}</p>\
         <p><em>Simulated gateway: no real money moves.</em></p>{buttons}",
        t = escape(title),
        d = escape(detail)
    ))
}
