//! The periodic top-up sweep: gateways are asked about open orders and old ones expire.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct PollTopUps;

impl Job for PollTopUps {
    const JOB_TYPE: &'static str = "poll_top_ups";
}

impl BackgroundJob for PollTopUps {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let changed = super::service::poll(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        if changed > 0 {
            tracing::info!(changed, "top-ups settled or expired by the sweep");
        }
        Ok(())
    }
}
