//! The `background_jobs` table: enqueue, claim, finish, and queue depth.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::Job;
use crate::db::schema::background_jobs;

pub const NOTIFY_CHANNEL: &str = "background_jobs";

#[derive(Insertable)]
#[diesel(table_name = background_jobs)]
pub struct NewJob<'a> {
    pub job_type: &'a str,
    pub data: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub priority: i16,
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = background_jobs)]
pub struct ClaimedJob {
    pub id: i64,
    pub job_type: String,
    pub data: serde_json::Value,
    pub retries: i32,
}

/// Enqueues `job` on `conn`; inside a transaction it becomes visible (and wakes workers)
/// only when the transaction commits. Returns false when a job with the same key waits.
pub async fn enqueue<J: Job>(conn: &mut AsyncPgConnection, job: &J) -> QueryResult<bool> {
    let data = serde_json::to_value(job)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    insert(
        conn,
        NewJob {
            job_type: J::JOB_TYPE,
            data,
            dedupe_key: job.dedupe_key(),
            priority: J::PRIORITY,
        },
    )
    .await
}

pub async fn insert(conn: &mut AsyncPgConnection, job: NewJob<'_>) -> QueryResult<bool> {
    let inserted = diesel::insert_into(background_jobs::table)
        .values(&job)
        .on_conflict(background_jobs::dedupe_key)
        .do_nothing()
        .execute(conn)
        .await?;
    if inserted > 0 {
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(inserted > 0)
}

/// The next ready job, locked for the rest of the caller's transaction.
pub async fn claim_next(conn: &mut AsyncPgConnection) -> QueryResult<Option<ClaimedJob>> {
    background_jobs::table
        .select(ClaimedJob::as_select())
        .filter(background_jobs::run_at.le(diesel::dsl::now))
        .order((
            background_jobs::priority.desc(),
            background_jobs::run_at,
            background_jobs::id,
        ))
        .for_update()
        .skip_locked()
        .first(conn)
        .await
        .optional()
}

pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    diesel::delete(background_jobs::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn reschedule_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    error: &str,
    run_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(background_jobs::table.find(id))
        .set((
            background_jobs::retries.eq(background_jobs::retries + 1),
            background_jobs::last_error.eq(error),
            background_jobs::run_at.eq(run_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, Default)]
pub struct QueueDepth {
    pub jobs: i64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn depth(conn: &mut AsyncPgConnection) -> QueryResult<QueueDepth> {
    let (jobs, oldest) = background_jobs::table
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(background_jobs::created_at),
        ))
        .first::<(i64, Option<DateTime<Utc>>)>(conn)
        .await?;
    Ok(QueueDepth { jobs, oldest })
}
