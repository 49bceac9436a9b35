//! Retention: a finished campaign keeps its outcomes, not the personal data it only needed
//! while calling (the per-contact template variables).

use diesel::sql_types::{Integer, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::BackgroundJob;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct PurgeFinishedCampaignData;

impl BackgroundJob for PurgeFinishedCampaignData {
    const JOB_TYPE: &'static str = "purge_finished_campaign_data";

    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let days = state.config.campaign_retention_days;
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        let mut conn = state.db.get().await?;
        // Batches keep each statement short on campaigns with millions of contacts.
        let mut cleared = 0;
        loop {
            let n = diesel::sql_query(
                "UPDATE campaign_contacts SET vars = '{}'::jsonb WHERE id IN (
                   SELECT cc.id FROM campaign_contacts cc JOIN campaigns c ON c.id = cc.campaign_id
                   WHERE c.status IN ('COMPLETED', 'CANCELLED') AND c.completed_at < $1
                     AND cc.vars <> '{}'::jsonb
                   LIMIT $2)",
            )
            .bind::<Timestamptz, _>(before)
            .bind::<Integer, _>(BATCH)
            .execute(&mut conn)
            .await?;
            cleared += n;
            if n < BATCH as usize {
                break;
            }
        }
        if cleared > 0 {
            tracing::info!(cleared, days, "dropped template data of finished campaigns");
        }
        Ok(())
    }
}

const BATCH: i32 = 10_000;
