//! Workers that claim and run jobs until shutdown; `drain` runs them to completion for tests.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::queue::{self, NOTIFY_CHANNEL};
use super::Registry;
use crate::config::JobSettings;
use crate::db::DbPool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Succeeded {
        id: i64,
        job_type: String,
    },
    Failed {
        id: i64,
        job_type: String,
        error: String,
    },
}

#[derive(Clone)]
pub struct Runner {
    pool: DbPool,
    registry: Arc<Registry>,
    settings: JobSettings,
}

/// Longest wait between retries, however many failures came before.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

impl Runner {
    pub fn new(pool: DbPool, registry: Registry, settings: JobSettings) -> Self {
        Self {
            pool,
            registry: Arc::new(registry),
            settings,
        }
    }

    /// Claims one ready job and runs it while holding its row lock, so no other worker
    /// anywhere can run it at the same time. `None` when nothing is ready.
    pub async fn run_one(&self) -> anyhow::Result<Option<JobOutcome>> {
        let mut conn = self.pool.get().await?;
        let registry = self.registry.clone();
        let retry_base = self.settings.retry_base;
        conn.transaction::<_, anyhow::Error, _>(async move |conn| {
            let Some(job) = queue::claim_next(conn).await? else {
                return Ok(None);
            };
            let result = match registry.handler(&job.job_type) {
                Some(handler) => AssertUnwindSafe(handler(job.data.clone()))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| Err(anyhow::anyhow!("job panicked: {}", panic_message(&panic)))),
                None => Err(anyhow::anyhow!("no handler for job type {}", job.job_type)),
            };
            match result {
                Ok(()) => {
                    queue::delete(conn, job.id).await?;
                    Ok(Some(JobOutcome::Succeeded {
                        id: job.id,
                        job_type: job.job_type,
                    }))
                }
                Err(e) => {
                    let error = format!("{e:#}");
                    let delay = backoff(retry_base, job.retries);
                    let run_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                    tracing::warn!(job.id = job.id, job.kind = %job.job_type, job.retries = job.retries, %error, "job failed; will retry");
                    queue::reschedule_failed(conn, job.id, &error, run_at).await?;
                    Ok(Some(JobOutcome::Failed {
                        id: job.id,
                        job_type: job.job_type,
                        error,
                    }))
                }
            }
        })
        .await
    }

    /// Runs ready jobs until none is left; returns what ran, in order.
    pub async fn drain(&self) -> anyhow::Result<Vec<JobOutcome>> {
        let mut ran = Vec::new();
        while let Some(outcome) = self.run_one().await? {
            ran.push(outcome);
        }
        Ok(ran)
    }

    /// Starts `settings.workers` workers and a LISTEN task; returns when `shutdown` fires
    /// and every running job has finished.
    pub async fn run(self, database_url: String, shutdown: CancellationToken) {
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(database_url, wake.clone(), shutdown.clone()));
        let workers: Vec<_> = (0..self.settings.workers.max(1))
            .map(|_| tokio::spawn(self.clone().work(wake.clone(), shutdown.clone())))
            .collect();
        for worker in workers {
            let _ = worker.await;
        }
        listener.abort();
    }

    async fn work(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.run_one().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "job worker could not claim; backing off"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = &mut notified => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
    }
}

fn backoff(base: Duration, retries: i32) -> Duration {
    let factor = 2u32.saturating_pow(retries.clamp(0, 20) as u32);
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Wakes workers on NOTIFY; reconnects when the database restarts. Polling covers gaps.
async fn listen(database_url: String, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let result = async {
            let mut conn = AsyncPgConnection::establish(&database_url).await?;
            diesel::sql_query(format!("LISTEN {NOTIFY_CHANNEL}"))
                .execute(&mut conn)
                .await?;
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            while let Some(notification) = notifications.next().await {
                notification?;
                wake.notify_waiters();
            }
            anyhow::Ok(())
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = result => {
                if let Err(e) = outcome {
                    tracing::debug!(error = %e, "job LISTEN connection lost; reconnecting");
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 0), Duration::from_secs(30));
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 3), Duration::from_secs(240));
        assert_eq!(backoff(base, 100), MAX_BACKOFF);
    }
}
