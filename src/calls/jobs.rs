//! The periodic reconciliation of calls we have not heard the end of.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ReconcileCalls;

impl Job for ReconcileCalls {
    const JOB_TYPE: &'static str = "reconcile_calls";
}

impl BackgroundJob for ReconcileCalls {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let report = super::reconcile::run(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        if report.checked > 0 {
            tracing::info!(?report, "reconciled calls with Twilio");
        }
        // Once every call's outcome is known, no hold may stay open.
        super::holds::settle_orphaned_holds(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        Ok(())
    }
}

/// A campaign call reached its final status; enqueued in the same transaction. Whoever moves
/// the contact on (the dispatcher) handles it; `calls` does not know who that is.
#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
pub struct CallEnded {
    pub call_id: Uuid,
}

impl Job for CallEnded {
    // The row's name predates the message; queued rows keep running under it.
    const JOB_TYPE: &'static str = "settle_call";
    const PRIORITY: i16 = 10;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("settle:{}", self.call_id))
    }
}

/// Counts each number's finished calls over a day and a week and hands them to the pool,
/// which records its health verdict.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct UpdateDidHealth;

impl Job for UpdateDidHealth {
    const JOB_TYPE: &'static str = "update_did_health";
}

impl BackgroundJob for UpdateDidHealth {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let now = chrono::Utc::now();
        let (day, week) = {
            let mut conn = state.db.get().await?;
            let day =
                super::model::Call::outcomes_by_did(&mut conn, now - chrono::Duration::hours(24))
                    .await?;
            let week =
                super::model::Call::outcomes_by_did(&mut conn, now - chrono::Duration::days(7))
                    .await?;
            (day, week)
        };
        let changed = crate::dids::service::update_health(&state, &day, &week)
            .await
            .map_err(|e| e.into_anyhow())?;
        tracing::info!(changed, "updated phone number health");
        Ok(())
    }
}
