//! `topUpUpdated`: a payment page follows its top-up without polling.

use super::types::TopUpNode;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::payments::service;
use crate::payments::settle::EVENT_TOP_UP_UPDATED;
use async_graphql::{Context, Result, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

#[derive(Default)]
pub struct PaymentsSubscription;

#[Subscription]
impl PaymentsSubscription {
    /// The top-up now, then again each time it changes (paid, failed, expired, needs review), so a payment page need not poll; yours, or any for an ADMIN.
    async fn top_up_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The top-up to watch.")] id: ID,
    ) -> Result<impl Stream<Item = TopUpNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let id = parse_id("id", &id)?;
        let first = service::get(&state, &viewer, id).await?;
        let owner = first.user_id;
        let mut events =
            crate::graphql::viewer_events_on(ctx, [crate::events::Route::Owner(owner)]);
        Ok(async_stream::stream! {
            let mut seen = first.updated_at;
            yield TopUpNode(first);
            loop {
                match events.recv().await {
                    Ok(e) if e.kind == EVENT_TOP_UP_UPDATED && e.owner_id == owner => {}
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                // Boxed, so an idle stream does not hold a query's state.
                match Box::pin(service::get(&state, &viewer, id)).await {
                    Ok(top_up) if top_up.updated_at != seen => {
                        seen = top_up.updated_at;
                        yield TopUpNode(top_up);
                    }
                    _ => continue,
                }
            }
        })
    }
}
