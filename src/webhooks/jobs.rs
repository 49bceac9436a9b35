//! Retries processing of stored webhooks whose inline processing did not finish, and deletes
//! processed payloads past their retention.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ProcessPendingWebhooks;

impl Job for ProcessPendingWebhooks {
    const JOB_TYPE: &'static str = "process_pending_webhooks";
}

impl BackgroundJob for ProcessPendingWebhooks {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let before = chrono::Utc::now() - chrono::Duration::seconds(30);
        let ids = {
            let mut conn = state.db.get().await?;
            super::model::WebhookEvent::pending_ids(&mut conn, before, 500).await?
        };
        for id in ids {
            if let Err(e) = super::process(&state, id).await {
                tracing::warn!(webhook.id = id, error = ?e, "stored webhook still fails to process");
            }
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct PurgeOldWebhooks;

impl Job for PurgeOldWebhooks {
    const JOB_TYPE: &'static str = "purge_old_webhooks";
}

impl BackgroundJob for PurgeOldWebhooks {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let days = i64::from(state.config.webhook_retention_days);
        let before = chrono::Utc::now() - chrono::Duration::days(days);
        let purged = {
            let mut conn = state.db.get().await?;
            super::model::WebhookEvent::purge_processed(&mut conn, before).await?
        };
        if purged > 0 {
            tracing::info!(
                purged,
                days,
                "deleted processed webhook payloads past retention"
            );
        }
        Ok(())
    }
}
