//! Periodic health check of every Twilio account.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct CheckTwilioAccounts;

impl Job for CheckTwilioAccounts {
    const JOB_TYPE: &'static str = "check_twilio_accounts";
}

impl BackgroundJob for CheckTwilioAccounts {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let accounts = {
            let mut conn = state.db.get().await?;
            super::TwilioAccount::all(&mut conn).await?
        };
        for account in accounts {
            // One account failing to answer is a status, not a job failure.
            match super::service::test(&state, account.id).await {
                Ok(checked) => {
                    tracing::info!(twilio.account = %checked.account_sid, status = %checked.status, "checked Twilio account")
                }
                Err(e) => {
                    tracing::warn!(twilio.account = %account.account_sid, error = ?e, "could not check Twilio account")
                }
            }
        }
        Ok(())
    }
}
