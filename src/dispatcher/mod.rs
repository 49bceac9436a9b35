//! The dispatcher: in every `serve` and `worker` process, claims due contacts, passes each
//! through the compliance gate, records the attempt, and places the call. Processes share the
//! work through SKIP LOCKED claims and the per-account and per-campaign pacing rows.

pub mod claim;
pub mod lag;
pub mod place;
pub mod settle;
pub mod voice;

use std::time::Duration;

use chrono::Utc;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::AppState;
use crate::jobs::BackgroundJob;

/// Claims per tick; each placement then runs in its own task.
const BATCH: usize = 50;
const IDLE: Duration = Duration::from_millis(250);

type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<Utc> + Send + Sync>;

pub struct Dispatcher {
    state: AppState,
    /// Calling windows are judged at this time (fixed in tests).
    clock: Clock,
}

impl Dispatcher {
    pub fn new(state: AppState) -> Self {
        Self::with_clock(state, std::sync::Arc::new(Utc::now))
    }

    pub fn with_clock(state: AppState, clock: Clock) -> Self {
        Self { state, clock }
    }

    /// Claims and starts up to `BATCH` calls; returns how many contacts it handled.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        self.promote_scheduled().await?;
        self.complete_finished().await?;
        let mut handled = 0;
        while handled < BATCH {
            match claim::next(&self.state, (self.clock)())
                .await
                .map_err(|e| e.into_anyhow())?
            {
                claim::Claimed::Nothing => break,
                claim::Claimed::Handled => handled += 1,
                claim::Claimed::Paused(campaign) => {
                    handled += 1;
                    crate::campaigns::service::publish_state(&self.state, &campaign).await;
                }
                claim::Claimed::Placed(placement) => {
                    handled += 1;
                    crate::billing::service::publish(&self.state, placement.call.owner_id).await;
                    let state = self.state.clone();
                    tokio::spawn(async move {
                        let id = placement.call.id;
                        if let Err(e) = place::place(&state, *placement).await {
                            tracing::error!(call.id = %id, error = ?e, "placing a call failed");
                        }
                    });
                }
            }
        }
        Ok(handled)
    }

    /// SCHEDULED campaigns whose start time has come begin running.
    async fn promote_scheduled(&self) -> anyhow::Result<()> {
        let mut conn = self.state.db.get().await?;
        diesel::sql_query(
            "UPDATE campaigns SET status = 'RUNNING', updated_at = now()
             WHERE status = 'SCHEDULED' AND COALESCE((schedule->>'start_at')::timestamptz, now()) <= now()",
        )
        .execute(&mut conn)
        .await?;
        Ok(())
    }

    /// RUNNING campaigns with nothing pending or in progress (every contact skipped, say) are done.
    async fn complete_finished(&self) -> anyhow::Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Done {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        let done: Vec<Done> = {
            let mut conn = self.state.db.get().await?;
            diesel::sql_query(
                "UPDATE campaigns c SET status = 'COMPLETED', completed_at = now(), updated_at = now()
                 WHERE c.status = 'RUNNING' AND NOT EXISTS (
                     SELECT 1 FROM campaign_contacts cc WHERE cc.campaign_id = c.id AND cc.state IN ('PENDING', 'CALLING'))
                 RETURNING c.id",
            )
            .load(&mut conn)
            .await?
        };
        for row in done {
            let mut conn = self.state.db.get().await?;
            let campaign = crate::campaigns::Campaign::find(&mut conn, row.id).await?;
            crate::campaigns::service::publish_state(&self.state, &campaign).await;
        }
        Ok(())
    }

    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let idle = match self.tick().await {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "dispatcher tick failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(IDLE) => {}
                }
            }
        }
    }
}

/// Enqueued with a call's final status, in the same transaction.
#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
pub struct SettleCall {
    pub call_id: Uuid,
}

impl BackgroundJob for SettleCall {
    const JOB_TYPE: &'static str = "settle_call";
    const PRIORITY: i16 = 10;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("settle:{}", self.call_id))
    }

    async fn run(self, state: AppState) -> anyhow::Result<()> {
        settle::settle(&state, self.call_id)
            .await
            .map_err(|e| e.into_anyhow())
    }
}
