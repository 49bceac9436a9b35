//! Campaign streams: live statistics and status changes.

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::types::{CampaignNode, CampaignStats};
use crate::campaigns::service::{self, EVENT_STATE_CHANGED};
use crate::campaigns::{progress, stats};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;

#[derive(Default)]
pub struct CampaignsSubscription;

#[Subscription]
impl CampaignsSubscription {
    /// The campaign's statistics as calls progress, at most a few times a second (owner or ADMIN).
    async fn campaign_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign to watch: yours, or any for an ADMIN.")] campaign_id: ID,
    ) -> Result<impl Stream<Item = CampaignStats>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let id = parse_id("campaignId", &campaign_id)?;
        let owner = service::get(&state, &viewer, id).await?.owner_id;
        // Shared with every other subscriber of this campaign on this process.
        let mut feed = progress::ProgressFeeds::of(&state).watch(&state, id, owner);
        Ok(async_stream::stream! {
            while feed.changed().await.is_ok() {
                let snapshot = feed.borrow_and_update().clone();
                if let Some(stats) = snapshot {
                    yield CampaignStats::from_stats(id, stats::Stats::clone(&stats));
                }
            }
        })
    }

    /// The campaign each time its status changes (started, paused, auto-paused, completed ...); yours only, everyone's for an ADMIN.
    async fn campaign_state_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this campaign; omit for all of yours (an ADMIN gets everyone's).")]
        campaign_id: Option<ID>,
    ) -> Result<impl Stream<Item = CampaignNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let only = campaign_id
            .map(|id| parse_id("campaignId", &id))
            .transpose()?;
        if let Some(id) = only {
            // Refuses someone else's campaign up front.
            service::get(&state, &viewer, id).await?;
        }
        let mut events = match only {
            Some(c) => crate::graphql::viewer_events_on(ctx, [crate::events::Route::Campaign(c)]),
            None => crate::graphql::viewer_events(ctx),
        };
        Ok(async_stream::stream! {
            loop {
                let campaign_id = match events.recv().await {
                    Ok(e) if e.kind == EVENT_STATE_CHANGED && crate::events::for_viewer(&viewer, e.owner_id) => match e.campaign_id {
                        Some(id) if only.is_none_or(|o| o == id) => id,
                        _ => continue,
                    },
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => match only {
                        Some(id) => id,
                        None => continue,
                    },
                    Err(RecvError::Closed) => break,
                };
                // Boxed, so an idle stream does not hold a query's state.
                if let Ok(campaign) = Box::pin(service::get(&state, &viewer, campaign_id)).await {
                    yield CampaignNode(campaign);
                }
            }
        })
    }
}
