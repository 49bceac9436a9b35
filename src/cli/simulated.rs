//! The "Simulated" account: with no real Twilio account configured, `serve` runs the emulator
//! in-process and registers it as an account with a few Vietnamese and US numbers, so
//! everything works at once. Its credentials persist; its numbers are restored on restart.
//!
//! The emulator listens on 127.0.0.1 of the node that started it: one node, development use.

use std::net::SocketAddr;

use rand::Rng;

use crate::app::AppState;
use crate::dids::{self, Did};
use crate::emulator::Emulator;
use crate::twilio_accounts::model::TwilioAccount;
use crate::twilio_accounts::service::{self, AccountInput};

pub const NAME: &str = "Simulated";
const STARTING_NUMBERS: usize = 4;

fn anyhow(e: crate::error::AppError) -> anyhow::Error {
    e.into_anyhow()
}

/// Starts the emulator when a simulated account exists or no real account does.
pub async fn start(state: &AppState) -> anyhow::Result<Option<Emulator>> {
    let mut conn = state.db.get().await?;
    let existing = TwilioAccount::simulated(&mut conn).await?;
    if existing.is_none() && TwilioAccount::any_real(&mut conn).await? {
        return Ok(None);
    }
    let mut rng = rand::thread_rng();
    let emulator = Emulator::new(rng.gen(), state.config.emulator_time_scale);
    let addr = emulator
        .spawn(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            state.shutdown.clone(),
        )
        .await?;
    let base = format!("http://{addr}");
    match existing {
        Some(account) => {
            // The emulator forgets everything on restart, so its credentials need not survive
            // either; a fresh token also survives a changed ENCRYPTION_KEY.
            let token = hex::encode(rng.gen::<[u8; 16]>());
            emulator.add_account(&account.account_sid, &token, NAME, 0);
            emulator.set_calls_per_second(&account.account_sid, account.calls_per_second);
            for did in Did::live(&mut conn)
                .await?
                .into_iter()
                .filter(|d| d.twilio_account_id == account.id)
            {
                let hooks = dids::service::webhooks_for(&state.public_url);
                emulator.restore_number(
                    &account.account_sid,
                    &did.phone_number,
                    &did.twilio_sid,
                    hooks.voice_url,
                    hooks.status_callback,
                );
            }
            service::reset_simulated(state, account.id, &token, &base)
                .await
                .map_err(anyhow)?;
            tracing::info!(emulator = %base, "Twilio: using the simulated account (built-in emulator)");
        }
        None => {
            let sid = format!("AC{}", hex::encode(rng.gen::<[u8; 16]>()));
            let token = hex::encode(rng.gen::<[u8; 16]>());
            emulator.add_account(&sid, &token, NAME, STARTING_NUMBERS);
            let input = AccountInput {
                name: NAME.into(),
                account_sid: sid,
                auth_token: token,
                api_base_url: Some(base.clone()),
                calls_per_second: Some(10.0),
            };
            let account = service::add(state, None, input, true)
                .await
                .map_err(anyhow)?;
            emulator.set_calls_per_second(&account.account_sid, account.calls_per_second);
            crate::dids::accounts::sync(state, None, account.id)
                .await
                .map_err(anyhow)?;
            dids::service::configure_webhooks(state, None, None)
                .await
                .map_err(anyhow)?;
            tracing::info!(emulator = %base, "Twilio: no account configured; registered the built-in emulator as \"Simulated\"");
        }
    }
    Ok(Some(emulator))
}
