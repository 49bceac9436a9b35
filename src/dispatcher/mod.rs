//! The dispatcher: in every `serve` and `worker` process, claims due contacts a campaign's
//! batch at a time, passes each through the compliance gate, records the attempts, and places
//! the calls. Processes share the work through SKIP LOCKED claims (each on a campaign of its
//! own) and the per-account and per-campaign pacing rows.

pub mod claim;
pub mod lag;
pub mod place;
pub mod settle;
pub mod voice;

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use diesel_async::RunQueryDsl;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::AppState;

/// Contacts claimed per tick, a batch at a time; each placement then runs in its own task.
const PER_TICK: usize = 200;
const IDLE: Duration = Duration::from_millis(250);

type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<Utc> + Send + Sync>;

pub struct Dispatcher {
    state: AppState,
    /// Calling windows are judged at this time (fixed in tests).
    clock: Clock,
    /// The campaign claimed from last: the next claim starts after it (round robin).
    cursor: Mutex<Option<Uuid>>,
}

impl Dispatcher {
    pub fn new(state: AppState) -> Self {
        Self::with_clock(state, std::sync::Arc::new(Utc::now))
    }

    pub fn with_clock(state: AppState, clock: Clock) -> Self {
        Self {
            state,
            clock,
            cursor: Mutex::new(None),
        }
    }

    /// Claims and starts up to `PER_TICK` calls; returns how many contacts it handled.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        self.promote_scheduled().await?;
        self.complete_finished().await?;
        let mut handled = 0;
        // A tick takes several batches; a signal between two of them must stop the next one,
        // not only the next tick (a whole tick's claims used to be recorded after SIGTERM).
        while handled < PER_TICK && !self.state.shutdown.is_cancelled() {
            let mut cursor = *self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
            let claimed = claim::next(&self.state, (self.clock)(), &mut cursor).await;
            *self.cursor.lock().unwrap_or_else(PoisonError::into_inner) = cursor;
            let Some(batch) = claimed.map_err(|e| e.into_anyhow())? else {
                break;
            };
            handled += batch.placements.len() + batch.set_aside;
            if let Some(campaign) = batch.paused {
                handled += 1;
                crate::campaigns::service::publish_state(&self.state, &campaign).await;
            }
            if !batch.placements.is_empty() {
                crate::billing::service::publish(&self.state, batch.owner_id).await;
            }
            for placement in batch.placements {
                let state = self.state.clone();
                tokio::spawn(async move {
                    let id = placement.call.id;
                    if let Err(e) = place::place(&state, placement).await {
                        tracing::error!(call.id = %id, error = ?e, "placing a call failed");
                    }
                });
            }
        }
        Ok(handled)
    }

    /// SCHEDULED campaigns whose start time has come begin running.
    async fn promote_scheduled(&self) -> anyhow::Result<()> {
        let mut conn = self.state.db.get().await?;
        diesel::sql_query(
            "UPDATE campaigns SET status = 'RUNNING', updated_at = now()
             WHERE status = 'SCHEDULED' AND COALESCE((schedule->>'start_at')::timestamptz, now()) <= now()
               -- A suspended owner's campaign waits; it starts once the suspension is lifted.
               AND EXISTS (SELECT 1 FROM users u WHERE u.id = campaigns.owner_id AND u.status = 'ACTIVE')",
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

/// Settles a campaign call's contact once `calls` announces the call ended: its next step
/// needs the final state. Registered for `CallEnded` by the startup code.
pub async fn on_call_ended(state: AppState, ended: crate::calls::CallEnded) -> anyhow::Result<()> {
    settle::settle(&state, ended.call_id)
        .await
        .map_err(|e| e.into_anyhow())
}
