//! `ringcast emulator`: the Twilio-compatible carrier on its own port.

use std::net::SocketAddr;

use rand::Rng;

use crate::config::Config;
use crate::emulator::Emulator;

pub async fn run(
    config: &Config,
    port: u16,
    account_sid: Option<String>,
    auth_token: Option<String>,
    numbers: usize,
) -> anyhow::Result<()> {
    let mut rng = rand::thread_rng();
    let account_sid =
        account_sid.unwrap_or_else(|| format!("AC{}", hex::encode(rng.gen::<[u8; 16]>())));
    let auth_token = auth_token.unwrap_or_else(|| hex::encode(rng.gen::<[u8; 16]>()));
    if !account_sid.starts_with("AC") || account_sid.len() != 34 {
        anyhow::bail!("--account-sid must be AC followed by 32 hex characters");
    }
    let emulator = Emulator::new(rng.gen(), config.emulator_time_scale);
    emulator.add_account(&account_sid, &auth_token, "Emulated account", numbers);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let addr = emulator
        .spawn(SocketAddr::from(([127, 0, 0, 1], port)), shutdown.clone())
        .await?;
    println!("Twilio emulator listening on http://{addr}");
    println!("  account SID: {account_sid}");
    println!("  auth token:  {auth_token}");
    println!(
        "  numbers:     {}",
        emulator.owned_numbers(&account_sid).join(", ")
    );
    println!("  REST:        http://{addr}/2010-04-01/Accounts/{account_sid}/Calls.json");
    println!("  ledger:      http://{addr}/emulator/ledger");
    super::serve::cancel_on_signal(shutdown.clone()).await;
    Ok(())
}
