//! Job type name -> handler, so a claimed row can be turned back into running code.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::{BackgroundJob, Job};
use crate::app::AppState;

type Handler =
    Arc<dyn Fn(serde_json::Value) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<&'static str, Handler>,
}

impl Registry {
    pub fn register<J: BackgroundJob>(&mut self, state: AppState) {
        self.register_fn(J::JOB_TYPE, move |data| {
            let state = state.clone();
            async move {
                let job: J = serde_json::from_value(data)?;
                job.run(state).await
            }
        });
    }

    /// `J`, published by one module, handled by `handler` from another.
    pub fn register_handler<J, F, Fut>(&mut self, state: AppState, handler: F)
    where
        J: Job,
        F: Fn(AppState, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.register_fn(J::JOB_TYPE, move |data| {
            let state = state.clone();
            let handler = handler.clone();
            async move {
                let job: J = serde_json::from_value(data)?;
                handler(state, job).await
            }
        });
    }

    /// For jobs that are not `BackgroundJob` types (tests register probes this way).
    pub fn register_fn<F, Fut>(&mut self, job_type: &'static str, f: F)
    where
        F: Fn(serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.handlers
            .insert(job_type, Arc::new(move |data| f(data).boxed()));
    }

    pub(super) fn handler(&self, job_type: &str) -> Option<Handler> {
        self.handlers.get(job_type).cloned()
    }
}
