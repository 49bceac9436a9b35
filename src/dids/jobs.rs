//! Periodic number health and idle release.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::BackgroundJob;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct UpdateDidHealth;

impl BackgroundJob for UpdateDidHealth {
    const JOB_TYPE: &'static str = "update_did_health";

    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let changed = super::service::update_health(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        tracing::info!(changed, "updated phone number health");
        Ok(())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ReleaseIdleDids;

impl BackgroundJob for ReleaseIdleDids {
    const JOB_TYPE: &'static str = "release_idle_dids";

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
