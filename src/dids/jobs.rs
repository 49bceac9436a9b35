//! Periodic release of idle numbers (their health is counted from calls, in `calls::jobs`).

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ReleaseIdleDids;

impl Job for ReleaseIdleDids {
    const JOB_TYPE: &'static str = "release_idle_dids";
}

impl BackgroundJob for ReleaseIdleDids {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let Some(days) = state.config.did_idle_release_days else {
            return Ok(());
        };
        let released = super::service::release_idle(&state, days)
            .await
            .map_err(|e| e.into_anyhow())?;
        tracing::info!(released, days, "released idle phone numbers");
        Ok(())
    }
}
