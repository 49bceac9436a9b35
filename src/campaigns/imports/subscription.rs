//! `importProgress`: a dashboard follows an import without polling.

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::graphql::ImportNode;
use super::service::{self, EVENT_IMPORT_PROGRESS};
use crate::events;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;

#[derive(Default)]
pub struct ImportsSubscription;

#[Subscription]
impl ImportsSubscription {
    /// The import now, then again after each chunk it commits and when its status changes; the stream ends after COMPLETED, FAILED or CANCELLED. Yours, or any for an ADMIN.
    async fn import_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The import to follow, from importContacts.")] import_id: ID,
    ) -> Result<impl Stream<Item = ImportNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let id = parse_id("importId", &import_id)?;
        // Subscribed before the first read, so a change between the two is not missed.
        let mut events = crate::graphql::viewer_events(ctx);
        let first = service::get(&state, &viewer, id).await?;
        let (owner, campaign) = (first.owner_id, first.campaign_id);
        Ok(async_stream::stream! {
            let mut seen = first.updated_at;
            let finished = first.status.is_finished();
            yield ImportNode(first);
            if finished {
                return;
            }
            loop {
                match events.recv().await {
                    Ok(e) if e.kind == EVENT_IMPORT_PROGRESS
                        && e.owner_id == owner
                        && e.campaign_id == Some(campaign)
                        && events::for_viewer(&viewer, e.owner_id) => {}
                    Ok(_) => continue,
                    // A missed event may have been this import's.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                let Ok(import) = service::get(&state, &viewer, id).await else {
                    // Gone with its campaign, or no longer the viewer's to see.
                    break;
                };
                if import.updated_at == seen {
                    continue;
                }
                seen = import.updated_at;
                let finished = import.status.is_finished();
                yield ImportNode(import);
                if finished {
                    break;
                }
            }
        })
    }
}
