//! Collects the `systemHealth` figures. Each probe reports its own failure instead of failing
//! the whole report, so the page stays useful when something is down.

use std::time::Instant;

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;

use crate::app::AppState;
use crate::error::AppResult;
use crate::twilio_accounts::TwilioAccount;

#[derive(Debug, Clone)]
pub struct Probe {
    pub ok: bool,
    pub backend: &'static str,
    pub latency_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, QueryableByName)]
pub struct JobQueue {
    #[diesel(sql_type = BigInt)]
    pub depth: i64,
    #[diesel(sql_type = BigInt)]
    pub due: i64,
    #[diesel(sql_type = BigInt)]
    pub retrying: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub oldest_due_age_secs: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct SystemHealth {
    pub checked_at: DateTime<Utc>,
    pub database: Probe,
    pub redis: Probe,
    pub jobs: JobQueue,
    pub twilio_accounts: Vec<TwilioAccount>,
    pub calls_awaiting_reconciliation: i64,
    pub webhook_failures_last_hour: i64,
    pub dispatcher_lag_secs: Option<f64>,
}

impl SystemHealth {
    /// Dependencies answer and no account is failing; backlogs are for the operator to judge.
    pub fn ok(&self) -> bool {
        self.database.ok
            && self.redis.ok
            && self
                .twilio_accounts
                .iter()
                .all(|a| a.status != crate::twilio_accounts::AccountStatus::Error)
    }
}

pub async fn database_ping(state: &AppState) -> Result<(), String> {
    let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT 1")
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

pub async fn check(state: &AppState) -> AppResult<SystemHealth> {
    let started = Instant::now();
    let database = match database_ping(state).await {
        Ok(()) => probe("postgresql", started, None),
        Err(e) => probe("postgresql", started, Some(e)),
    };
    let started = Instant::now();
    let redis = match state.events.ping().await {
        None => Probe {
            ok: true,
            backend: "in-process",
            latency_ms: None,
            error: None,
        },
        Some(result) => probe("redis", started, result.err()),
    };
    let mut conn = state.conn().await?;
    let jobs: JobQueue = diesel::sql_query(
        "SELECT count(*) AS depth,
                count(*) FILTER (WHERE run_at <= now()) AS due,
                count(*) FILTER (WHERE retries > 0) AS retrying,
                EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8
                  AS oldest_due_age_secs
         FROM background_jobs",
    )
    .get_result(&mut conn)
    .await?;
    let failures: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM webhook_events
         WHERE error IS NOT NULL AND received_at > now() - interval '1 hour'",
    )
    .get_result(&mut conn)
    .await?;
    Ok(SystemHealth {
        checked_at: Utc::now(),
        database,
        redis,
        jobs,
        twilio_accounts: TwilioAccount::all(&mut conn).await?,
        calls_awaiting_reconciliation: crate::calls::reconcile::awaiting_count(&mut conn).await?,
        webhook_failures_last_hour: failures.n,
        dispatcher_lag_secs: crate::dispatcher::lag::seconds(&mut conn).await?,
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn probe(backend: &'static str, started: Instant, error: Option<String>) -> Probe {
    Probe {
        ok: error.is_none(),
        backend,
        latency_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        error,
    }
}
