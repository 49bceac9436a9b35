//! A Twilio-compatible carrier: Twilio's REST paths for accounts, calls and numbers, simulated
//! call progress, our TwiML fetched and run, signed callbacks, and a control API under
//! `/emulator/` for scenarios, faults and the ledger of every call placed.
//!
//! Our own Twilio client talks to it exactly as to Twilio; only the base URL differs.

mod control;
pub mod payments;
mod progress;
mod render;
mod rest;
pub mod scenario;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;

pub use scenario::{Outcome, Scenario};
pub use state::{Faults, LedgerEntry, TranscriptLine};

#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

struct Shared {
    world: Mutex<state::World>,
    http: reqwest::Client,
    /// Real seconds per simulated second: 0.001 makes a 30 s call take 30 ms.
    time_scale: f64,
}

/// A call as the emulator saw it, for tests and the control API.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CallRecord {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub status: String,
    pub duration: Option<u32>,
    pub answered_by: Option<String>,
    pub transcript: Vec<TranscriptLine>,
}

impl Emulator {
    pub fn new(seed: u64, time_scale: f64) -> Self {
        Self {
            shared: Arc::new(Shared {
                world: Mutex::new(state::World::new(seed)),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .unwrap_or_default(),
                time_scale: time_scale.max(0.0),
            }),
        }
    }

    /// Registers an account that owns `owned_numbers` numbers (alternately Vietnamese and US).
    pub fn add_account(
        &self,
        sid: &str,
        auth_token: &str,
        friendly_name: &str,
        owned_numbers: usize,
    ) {
        self.with(|w| w.add_account(sid, auth_token, friendly_name, owned_numbers));
    }

    pub fn set_account_status(&self, sid: &str, status: &str) {
        self.with(|w| {
            if let Some(a) = w.accounts.get_mut(sid) {
                a.status = status.to_owned();
            }
        });
    }

    pub fn set_calls_per_second(&self, sid: &str, cps: f64) {
        self.with(|w| {
            if let Some(a) = w.accounts.get_mut(sid) {
                a.calls_per_second = cps;
            }
        });
    }

    /// Gives back a number the account held before a restart, under its old SID.
    pub fn restore_number(
        &self,
        account_sid: &str,
        phone: &str,
        sid: &str,
        voice_url: Option<String>,
        status_callback: Option<String>,
    ) {
        self.with(|w| {
            w.available.retain(|a| a.phone_number != phone);
            let mut number = w.own_number(account_sid, phone, voice_url, status_callback);
            w.numbers.remove(&number.sid);
            number.sid = sid.to_owned();
            w.numbers.insert(number.sid.clone(), number);
        });
    }

    pub fn owned_numbers(&self, account_sid: &str) -> Vec<String> {
        self.with(|w| {
            let mut numbers: Vec<String> = w
                .numbers
                .values()
                .filter(|n| n.account_sid == account_sid)
                .map(|n| n.phone_number.clone())
                .collect();
            numbers.sort();
            numbers
        })
    }

    pub fn set_scenario(&self, scenario: Scenario) {
        self.with(|w| {
            if let Scenario::Random { seed, .. } = &scenario {
                w.rng = rand::SeedableRng::seed_from_u64(*seed);
            }
            w.scenario = scenario;
        });
    }

    pub fn set_faults(&self, faults: Faults) {
        self.with(|w| {
            w.outage_until = (faults.outage_ms > 0)
                .then(|| std::time::Instant::now() + Duration::from_millis(faults.outage_ms));
            w.faults = faults;
        });
    }

    /// A call from `from` to one of the accounts' numbers: answered, the number's voice URL
    /// run (forwarding, a message), its status callback told. The call's SID, if `to` is ours.
    pub fn inbound_call(&self, from: &str, to: &str) -> Option<String> {
        let call = self.with(|w| {
            let number = w.numbers.values().find(|n| n.phone_number == to)?.clone();
            let now = chrono::Utc::now();
            let call = state::EmuCall {
                sid: state::sid("CA", &mut w.rng),
                account_sid: number.account_sid.clone(),
                to: to.to_owned(),
                from: from.to_owned(),
                phone_number_sid: Some(number.sid.clone()),
                status: "ringing".into(),
                answered_by: None,
                created: now,
                updated: now,
                start_time: None,
                end_time: None,
                duration: None,
                url: number.voice_url.clone(),
                method: number.voice_method.clone(),
                twiml: None,
                status_callback: number.status_callback.clone(),
                status_callback_method: number.status_callback_method.clone(),
                status_callback_events: Vec::new(),
                timeout_secs: 60,
                machine_detection: None,
                async_amd: false,
                async_amd_callback: None,
                end_requested: None,
                direction: "inbound".into(),
                parent_call_sid: None,
                transcript: Vec::new(),
            };
            w.call_order.push(call.sid.clone());
            w.calls.insert(call.sid.clone(), call.clone());
            Some(call)
        })?;
        tokio::spawn(progress::run_inbound(self.clone(), call.sid.clone()));
        Some(call.sid)
    }

    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.with(|w| w.ledger.clone())
    }

    pub fn call(&self, sid: &str) -> Option<CallRecord> {
        self.with(|w| {
            w.calls.get(sid).map(|c| CallRecord {
                sid: c.sid.clone(),
                to: c.to.clone(),
                from: c.from.clone(),
                status: c.status.clone(),
                duration: c.duration,
                answered_by: c.answered_by.clone(),
                transcript: c.transcript.clone(),
            })
        })
    }

    pub fn router(&self) -> Router {
        rest::routes(self)
            .merge(control::routes())
            .with_state(self.clone())
    }

    /// Serves on `addr` until `shutdown`; returns the bound address.
    pub async fn spawn(
        &self,
        addr: SocketAddr,
        shutdown: CancellationToken,
    ) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let router = self.router();
        // The Twilio client of this process may send credentials to a carrier it runs itself,
        // and only for as long as it runs (the port may be someone else's afterwards).
        let base = format!("http://{bound}");
        if let Err(e) = crate::twilio::endpoint::allow(&base) {
            tracing::warn!(error = %e, %base, "emulator URL not allowed for the Twilio client");
        }
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
            crate::twilio::endpoint::disallow(&base);
            if let Err(e) = served {
                tracing::warn!(error = %e, "emulator server stopped");
            }
        });
        Ok(bound)
    }

    fn with<T>(&self, f: impl FnOnce(&mut state::World) -> T) -> T {
        // A panic elsewhere must not take the carrier down with it.
        let mut world = self
            .shared
            .world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut world)
    }

    fn time_scale(&self) -> f64 {
        self.shared.time_scale
    }

    fn http(&self) -> reqwest::Client {
        self.shared.http.clone()
    }

    async fn sleep_sim(&self, secs: f64) {
        let real = secs * self.shared.time_scale;
        if real > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(real)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}
