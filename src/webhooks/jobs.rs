//! Retries processing of stored webhooks whose inline processing did not finish.

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::BackgroundJob;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct ProcessPendingWebhooks;

impl BackgroundJob for ProcessPendingWebhooks {
    const JOB_TYPE: &'static str = "process_pending_webhooks";

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
