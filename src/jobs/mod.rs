//! A PostgreSQL job queue after crates.io's: enqueue inside the domain transaction, claim
//! with `FOR UPDATE SKIP LOCKED`, wake on NOTIFY, retry with exponential backoff.
//!
//! Jobs must be idempotent: a process that dies mid-job releases its lock and the job runs again.

pub mod periodic;
pub mod queue;
pub mod registry;
pub mod runner;

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::AppState;

pub use periodic::{PeriodicJob, Scheduler};
pub use queue::enqueue;
pub use registry::Registry;
pub use runner::Runner;

pub trait BackgroundJob: Serialize + DeserializeOwned + Send + Sync + 'static {
    const JOB_TYPE: &'static str;
    const PRIORITY: i16 = 0;

    /// Jobs with the same key are queued at most once at a time.
    fn dedupe_key(&self) -> Option<String> {
        None
    }

    fn run(self, state: AppState) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Every job type this binary runs, with the state they run against.
pub fn registry(state: &AppState) -> Registry {
    let mut registry = Registry::default();
    registry.register::<crate::auth::jobs::PurgeExpiredTokens>(state.clone());
    registry.register::<crate::twilio_accounts::jobs::CheckTwilioAccounts>(state.clone());
    registry.register::<crate::dids::jobs::UpdateDidHealth>(state.clone());
    registry.register::<crate::dids::jobs::ReleaseIdleDids>(state.clone());
    registry.register::<crate::webhooks::jobs::ProcessPendingWebhooks>(state.clone());
    registry.register::<crate::dispatcher::SettleCall>(state.clone());
    registry.register::<crate::calls::jobs::ReconcileCalls>(state.clone());
    registry.register::<crate::payments::jobs::PollTopUps>(state.clone());
    registry.register::<crate::webhooks::jobs::PurgeOldWebhooks>(state.clone());
    registry.register::<crate::campaigns::jobs::PurgeFinishedCampaignData>(state.clone());
    registry
}

/// Every periodic job this binary schedules.
pub fn periodic_jobs() -> Vec<PeriodicJob> {
    use std::time::Duration;
    vec![
        PeriodicJob::new(
            &crate::auth::jobs::PurgeExpiredTokens,
            Duration::from_secs(3600),
        ),
        PeriodicJob::new(
            &crate::twilio_accounts::jobs::CheckTwilioAccounts,
            Duration::from_secs(600),
        ),
        PeriodicJob::new(
            &crate::dids::jobs::UpdateDidHealth,
            Duration::from_secs(900),
        ),
        PeriodicJob::new(
            &crate::dids::jobs::ReleaseIdleDids,
            Duration::from_secs(24 * 3600),
        ),
        PeriodicJob::new(
            &crate::webhooks::jobs::ProcessPendingWebhooks,
            Duration::from_secs(60),
        ),
        PeriodicJob::new(&crate::calls::jobs::ReconcileCalls, Duration::from_secs(60)),
        PeriodicJob::new(&crate::payments::jobs::PollTopUps, Duration::from_secs(60)),
        PeriodicJob::new(
            &crate::webhooks::jobs::PurgeOldWebhooks,
            Duration::from_secs(3600),
        ),
        PeriodicJob::new(
            &crate::campaigns::jobs::PurgeFinishedCampaignData,
            Duration::from_secs(3600),
        ),
    ]
}
