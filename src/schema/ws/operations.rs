//! At most `WS_MAX_OPERATIONS` operations at once on one socket. One socket holding ten
//! thousand subscriptions kept the server at 80 % CPU; the one past the limit is refused on its
//! own id (a `next` with a RATE_LIMITED error, then `complete`) and the socket stays open.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextSubscribe};
use async_graphql::{Pos, Response};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// One socket's operation slots, in its connection data.
pub struct Operations {
    slots: Arc<Semaphore>,
    max: usize,
}

impl Operations {
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Counts every stream a socket runs; HTTP requests never reach this hook.
pub struct OperationLimit;

impl ExtensionFactory for OperationLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationLimitExtension)
    }
}

struct OperationLimitExtension;

#[async_trait::async_trait]
impl Extension for OperationLimitExtension {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let Some(operations) = ctx.data_opt::<Operations>() else {
            return next.run(ctx, stream);
        };
        match operations.slots.clone().try_acquire_owned() {
            // The slot is freed when the stream is dropped: completed, replaced or disconnected.
            Ok(slot) => next
                .run(ctx, stream)
                .map(move |response| {
                    let _held = &slot;
                    response
                })
                .boxed(),
            Err(_) => {
                let error = AppError::RateLimited {
                    message: format!(
                        "at most {} operations at once on one websocket: complete one first",
                        operations.max
                    ),
                    retry_after_secs: 0,
                }
                .into_graphql()
                .into_server_error(Pos::default());
                stream::once(async move { Response::from_errors(vec![error]) }).boxed()
            }
        }
    }
}
