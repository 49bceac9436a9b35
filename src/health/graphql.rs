//! `systemHealth`: the admin's view of dependencies, queues and lag.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::service::{self, JobQueue, Probe, SystemHealth};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::twilio_accounts::graphql::TwilioAccountNode;

#[derive(SimpleObject)]
#[graphql(name = "DependencyHealth")]
pub struct ProbeNode {
    ok: bool,
    /// `postgresql`, `redis`, or `in-process` when no Redis is configured.
    backend: &'static str,
    latency_ms: Option<f64>,
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

#[derive(SimpleObject)]
#[graphql(name = "JobQueueHealth")]
pub struct JobQueueNode {
    /// Jobs waiting, due or scheduled for later.
    depth: i64,
    /// Jobs whose time has come.
    due: i64,
    /// Jobs that failed at least once and wait for a retry.
    retrying: i64,
    /// How long the oldest due job has waited.
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

#[Object(name = "SystemHealth")]
impl SystemHealthNode {
    /// Database and event bus answer and no Twilio account is in error.
    async fn ok(&self) -> bool {
        self.0.ok()
    }
    async fn checked_at(&self) -> DateTime<Utc> {
        self.0.checked_at
    }
    async fn database(&self) -> ProbeNode {
        self.0.database.clone().into()
    }
    async fn redis(&self) -> ProbeNode {
        self.0.redis.clone().into()
    }
    async fn jobs(&self) -> JobQueueNode {
        self.0.jobs.clone().into()
    }
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
    /// How long the longest-waiting claimable contact has waited for the dispatcher.
    async fn dispatcher_lag_secs(&self) -> Option<f64> {
        self.0.dispatcher_lag_secs
    }
}

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::AGGREGATE + child_complexity"
    )]
    async fn system_health(&self, ctx: &Context<'_>) -> Result<SystemHealthNode> {
        Ok(SystemHealthNode(service::check(ctx.state()).await?))
    }
}
