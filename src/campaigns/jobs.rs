//! Retention: a finished campaign keeps its outcomes, not the personal data it only needed
//! while calling (the per-contact template variables). Compaction of the campaigns' counters.

use diesel::sql_types::{Integer, Timestamptz};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::jobs::{BackgroundJob, Job};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct PurgeFinishedCampaignData;

impl Job for PurgeFinishedCampaignData {
    const JOB_TYPE: &'static str = "purge_finished_campaign_data";
}

impl BackgroundJob for PurgeFinishedCampaignData {
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

/// Folds each campaign's counter deltas into one row, so reading the counters stays a sum of a
/// few rows however many statements changed the campaign. Rows another compaction holds are
/// skipped, never waited for; the sum is the same before and after.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default)]
pub struct CompactCampaignCounters;

impl Job for CompactCampaignCounters {
    const JOB_TYPE: &'static str = "compact_campaign_counters";
}

impl BackgroundJob for CompactCampaignCounters {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        let mut conn = state.db.get().await?;
        diesel::sql_query(
            "WITH gone AS (
               DELETE FROM campaign_counters WHERE id IN (
                 SELECT id FROM campaign_counters WHERE campaign_id IN (
                   SELECT campaign_id FROM campaign_counters GROUP BY campaign_id HAVING count(*) > 1)
                 FOR UPDATE SKIP LOCKED)
               RETURNING *)
             INSERT INTO campaign_counters (campaign_id, pending, calling, done, failed, reached_machine, opted_out,
                 skipped, skip_reasons, attempts, answered, busy, no_answer, calls_failed, machine,
                 in_progress, timed, duration_sum, cost)
             SELECT campaign_id, sum(pending), sum(calling), sum(done), sum(failed), sum(reached_machine),
                    sum(opted_out), sum(skipped), campaign_counters_sum_reasons(skip_reasons),
                    sum(attempts), sum(answered), sum(busy), sum(no_answer), sum(calls_failed),
                    sum(machine), sum(in_progress), sum(timed), sum(duration_sum), sum(cost)
             FROM gone GROUP BY campaign_id",
        )
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}
