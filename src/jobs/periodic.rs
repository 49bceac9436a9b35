//! Periodic jobs: each process ticks, but claiming a run is a conditional UPDATE on
//! `periodic_jobs`, so across all nodes each job is enqueued once per interval.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tokio_util::sync::CancellationToken;

use super::queue::{self, NewJob};
use super::Job;
use crate::db::schema::periodic_jobs;
use crate::db::DbPool;

#[derive(Clone, Debug)]
pub struct PeriodicJob {
    pub name: &'static str,
    pub every: Duration,
    job_type: &'static str,
    data: serde_json::Value,
    priority: i16,
}

impl PeriodicJob {
    pub fn new<J: Job>(job: &J, every: Duration) -> Self {
        Self {
            name: J::JOB_TYPE,
            every,
            job_type: J::JOB_TYPE,
            data: serde_json::to_value(job).unwrap_or_default(),
            priority: J::PRIORITY,
        }
    }
}

pub struct Scheduler {
    pool: DbPool,
    jobs: Vec<PeriodicJob>,
}

impl Scheduler {
    pub fn new(pool: DbPool, jobs: Vec<PeriodicJob>) -> Self {
        Self { pool, jobs }
    }

    /// Enqueues every periodic job that is due; returns the names enqueued.
    pub async fn tick(&self) -> anyhow::Result<Vec<&'static str>> {
        let mut conn = self.pool.get().await?;
        let mut enqueued = Vec::new();
        for job in &self.jobs {
            let job = job.clone();
            let due = conn
                .transaction::<_, diesel::result::Error, _>(async move |conn| {
                    let now = Utc::now();
                    diesel::insert_into(periodic_jobs::table)
                        .values((
                            periodic_jobs::name.eq(job.name),
                            periodic_jobs::next_run_at.eq(now),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    let next = now
                        + chrono::Duration::from_std(job.every)
                            .unwrap_or(chrono::Duration::hours(1));
                    let claimed = diesel::update(periodic_jobs::table.find(job.name))
                        .filter(periodic_jobs::next_run_at.le(now))
                        .set((
                            periodic_jobs::next_run_at.eq(next),
                            periodic_jobs::last_run_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                    if claimed == 0 {
                        return Ok(false);
                    }
                    queue::insert(
                        conn,
                        NewJob {
                            job_type: job.job_type,
                            data: job.data.clone(),
                            // A run still waiting is not queued again.
                            dedupe_key: Some(format!("periodic:{}", job.name)),
                            priority: job.priority,
                        },
                    )
                    .await?;
                    Ok(true)
                })
                .await?;
            if due {
                enqueued.push(job.name);
            }
        }
        Ok(enqueued)
    }

    pub async fn run(self, every: Duration, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "periodic scheduler tick failed");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
