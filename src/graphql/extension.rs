//! `Observe`: metrics per operation, a panic guard, and a code on every error.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextRequest, NextValidation,
};
use async_graphql::{Response, ServerError, ValidationResult};
use futures_util::FutureExt;

use crate::error::ErrorCode;

pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveExtension)
    }
}

struct ObserveExtension;

#[async_trait::async_trait]
impl Extension for ObserveExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        // Parse and validation errors (depth, complexity, unknown fields) come from
        // async-graphql without a code; they are all the client's to fix.
        for error in &mut response.errors {
            tag_default_code(error, ErrorCode::BadUserInput);
        }
        response
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let started = Instant::now();
        let label = metric_label(operation_name);
        let response = match AssertUnwindSafe(next.run(ctx, operation_name))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let error_id = uuid::Uuid::new_v4();
                tracing::error!(error.id = %error_id, panic = %message, operation = %label, "resolver panicked");
                let mut error = ServerError::new(format!("internal error (id {error_id})"), None);
                tag_default_code(&mut error, ErrorCode::Internal);
                Response::from_errors(vec![error])
            }
        };
        let outcome = if response.errors.is_empty() {
            "ok"
        } else {
            "error"
        };
        metrics::counter!("graphql_requests_total", "operation" => label.clone(), "outcome" => outcome).increment(1);
        metrics::histogram!("graphql_request_duration_seconds", "operation" => label)
            .record(started.elapsed().as_secs_f64());
        response
    }
}

/// Refuses an operation whose cost (see `graphql::cost`) is above `max`, before any resolver
/// runs, saying what it cost; async-graphql's own limit says only "too complex".
pub struct CostLimit {
    pub max: usize,
}

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostLimitExtension { max: self.max })
    }
}

struct CostLimitExtension {
    max: usize,
}

#[async_trait::async_trait]
impl Extension for CostLimitExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        metrics::histogram!("graphql_query_cost").record(result.complexity as f64);
        if result.complexity <= self.max {
            return Ok(result);
        }
        let mut error = ServerError::new(
            format!(
                "query too expensive: it costs {} and the limit is {}; ask for smaller pages \
                 (`first`) or fewer computed fields such as `stats`",
                result.complexity, self.max
            ),
            None,
        );
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", ErrorCode::BadUserInput.as_str());
        extensions.set("cost", result.complexity);
        extensions.set("maxCost", self.max);
        Err(vec![error])
    }
}

fn tag_default_code(error: &mut ServerError, code: ErrorCode) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
}

/// Operation names come from clients; keep the label set small and safe.
fn metric_label(operation_name: Option<&str>) -> String {
    match operation_name {
        Some(name)
            if !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            name.to_owned()
        }
        Some(_) => "other".to_owned(),
        None => "anonymous".to_owned(),
    }
}
