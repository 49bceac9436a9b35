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

/// What a row of the queue carries: enough to enqueue it. A lower module can publish a job
/// (`calls` announcing a call ended) whose handler lives higher up and is registered by the
/// startup code; the publisher never names it.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    const JOB_TYPE: &'static str;
    const PRIORITY: i16 = 0;

    /// Jobs with the same key are queued at most once at a time.
    fn dedupe_key(&self) -> Option<String> {
        None
    }
}

/// A job that knows how to run itself.
pub trait BackgroundJob: Job {
    fn run(self, state: AppState) -> impl Future<Output = anyhow::Result<()>> + Send;
}
