//! `systemHealth`: the admin's view of dependencies, queues and lag.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::service::{self, JobQueue, Probe, SystemHealth};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::twilio_accounts::graphql::TwilioAccountNode;

/// The result of pinging one dependency.
#[derive(SimpleObject)]
#[graphql(name = "DependencyHealth")]
pub struct ProbeNode {
    /// True when the dependency answered (always true for the in-process event bus).
    ok: bool,
    /// `postgresql`, `redis`, or `in-process` when no Redis is configured.
    backend: &'static str,
    /// Round-trip time of the ping in milliseconds; empty for the in-process bus.
    latency_ms: Option<f64>,
    /// Why the ping failed; empty when `ok`.
    error: Option<String>,
}

impl From<Probe> for ProbeNode {
    fn from(p: Probe) -> Self {
        Self {
            ok: p.ok,
            backend: p.backend,
            latency_ms: p.latency_ms,
            error: p.error,
        }
    }
}

/// The background job queue's backlog.
#[derive(SimpleObject)]
#[graphql(name = "JobQueueHealth")]
pub struct JobQueueNode {
    /// Jobs waiting, due or scheduled for later.
    depth: i64,
    /// Jobs whose time has come.
    due: i64,
    /// Jobs that failed at least once and wait for a retry.
    retrying: i64,
    /// Seconds the oldest due job has waited past its run time; empty when none is due.
    oldest_due_age_secs: Option<f64>,
}

impl From<JobQueue> for JobQueueNode {
    fn from(q: JobQueue) -> Self {
        Self {
            depth: q.depth,
            due: q.due,
            retrying: q.retrying,
            oldest_due_age_secs: q.oldest_due_age_secs,
        }
    }
}

pub struct SystemHealthNode(SystemHealth);

/// A snapshot of the platform's dependencies, queues and lag, taken when asked; ADMIN only.
#[Object(name = "SystemHealth")]
impl SystemHealthNode {
    /// Database and event bus answer and no Twilio account is in error.
    async fn ok(&self) -> bool {
        self.0.ok()
    }
    /// When the snapshot was taken (RFC 3339, UTC).
    async fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }
    /// The PostgreSQL ping.
    async fn database(&self) -> ProbeNode {
        self.0.database.clone().into()
    }
    /// The event bus ping: Redis, or the in-process bus when no Redis is configured.
    async fn redis(&self) -> ProbeNode {
        self.0.redis.clone().into()
    }
    /// The background job queue's backlog.
    async fn jobs(&self) -> JobQueueNode {
        self.0.jobs.clone().into()
    }
    /// Every Twilio account with its last recorded check (not re-checked by this query).
    async fn twilio_accounts(&self) -> Vec<TwilioAccountNode> {
        self.0
            .twilio_accounts
            .iter()
            .cloned()
            .map(TwilioAccountNode)
            .collect()
    }
    /// Calls not final whose outcome reconciliation will ask Twilio about.
    async fn calls_awaiting_reconciliation(&self) -> i64 {
        self.0.calls_awaiting_reconciliation
    }
    /// Stored webhooks that failed processing or were rejected in the last hour.
    async fn webhook_failures_last_hour(&self) -> i64 {
        self.0.webhook_failures_last_hour
    }
    /// Seconds the longest-waiting dialable contact of a running campaign has waited for the dispatcher; empty when none waits.
    async fn dispatcher_lag_secs(&self) -> Option<f64> {
        self.0.dispatcher_lag_secs
    }
}

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// Checks the database, event bus, job queue, Twilio accounts and backlogs now; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::AGGREGATE + child_complexity"
    )]
    async fn system_health(&self, ctx: &Context<'_>) -> Result<SystemHealthNode> {
        Ok(SystemHealthNode(service::check(ctx.state()).await?))
    }
}
