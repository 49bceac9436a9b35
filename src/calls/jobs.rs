//! The periodic reconciliation of calls we have not heard the end of.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::BackgroundJob;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ReconcileCalls;

impl BackgroundJob for ReconcileCalls {
    const JOB_TYPE: &'static str = "reconcile_calls";

    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let report = super::reconcile::run(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        if report.checked > 0 {
            tracing::info!(?report, "reconciled calls with Twilio");
        }
        // Once every call's outcome is known, no hold may stay open.
        crate::billing::service::settle_orphaned_holds(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        Ok(())
    }
}
