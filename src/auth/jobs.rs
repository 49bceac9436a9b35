//! Periodic clean-up of authentication rows.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct PurgeExpiredTokens;

impl Job for PurgeExpiredTokens {
    const JOB_TYPE: &'static str = "purge_expired_tokens";
}

impl BackgroundJob for PurgeExpiredTokens {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let (tokens, failures) = super::service::purge_expired(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        tracing::info!(
            tokens,
            failures,
            "purged expired refresh tokens and login failures"
        );
        Ok(())
    }
}
