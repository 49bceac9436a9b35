//! `calls`, `call` with its timeline, and `callUpdated`.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::loaders::CallEvents;
use super::model::{
    Call, CallDirection, CallEvent, CallFilter, CallStatus, EventKind, EventSource,
};
use super::service;
use super::status::EVENT_CALL_UPDATED;
use crate::billing::loaders::{CallMoney, CallMoneyLoader};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct CallNode(pub Call);

#[derive(SimpleObject)]
pub struct CallEventView {
    pub kind: EventKind,
    pub source: EventSource,
    pub status: Option<String>,
    pub sequence_number: Option<i32>,
    /// False when the event arrived late or twice and changed nothing.
    pub applied: bool,
    pub detail: async_graphql::Json<serde_json::Value>,
    pub occurred_at: DateTime<Utc>,
}

impl From<CallEvent> for CallEventView {
    fn from(e: CallEvent) -> Self {
        Self {
            kind: e.kind,
            source: e.source,
            status: e.status,
            sequence_number: e.sequence_number,
            applied: e.applied,
            detail: async_graphql::Json(e.detail),
            occurred_at: e.occurred_at,
        }
    }
}

#[Object(name = "Call")]
impl CallNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(|id| ID(id.to_string()))
    }
    async fn contact_id(&self) -> Option<ID> {
        self.0.contact_id.map(|id| ID(id.to_string()))
    }
    async fn attempt(&self) -> Option<i32> {
        self.0.attempt
    }
    async fn direction(&self) -> CallDirection {
        self.0.direction
    }
    async fn from(&self) -> &str {
        &self.0.from_number
    }
    async fn to(&self) -> &str {
        &self.0.to_number
    }
    async fn status(&self) -> CallStatus {
        self.0.status
    }
    async fn answered_by(&self) -> Option<&str> {
        self.0.answered_by.as_deref()
    }
    async fn duration_secs(&self) -> Option<i32> {
        self.0.duration_secs
    }
    /// VND charged for this call (0 until it ends, and for calls that cost nothing).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn cost(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.money(ctx).await?.charged)
    }
    /// VND per minute this call is billed at (the rate when it was dispatched).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn price_per_minute(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(self.money(ctx).await?.rate.map(|r| r.per_minute))
    }
    /// VND held for this call while it is in progress.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn held(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.money(ctx).await?.held)
    }
    async fn twilio_sid(&self) -> Option<&str> {
        self.0.twilio_sid.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
    async fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.0.ended_at
    }
    /// Every event the call went through, in order, applied or not.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<CallEventView>> {
        Ok(self
            .events_of(ctx)
            .await?
            .into_iter()
            .map(CallEventView::from)
            .collect())
    }
    /// Keys the callee pressed, in order.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn digits(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self
            .events_of(ctx)
            .await?
            .into_iter()
            .filter(|e| e.kind == EventKind::Gather)
            .filter_map(|e| e.detail["digits"].as_str().map(str::to_owned))
            .collect())
    }
}

// A `CallNode` only exists for a call the viewer may see, so its id may key the batches.
impl CallNode {
    async fn money(&self, ctx: &Context<'_>) -> Result<CallMoney> {
        Ok(ctx
            .loader::<CallMoneyLoader>()?
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }

    async fn events_of(&self, ctx: &Context<'_>) -> Result<Vec<CallEvent>> {
        Ok(ctx
            .loader::<CallEvents>()?
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }
}

#[derive(InputObject, Default)]
pub struct CallsFilter {
    pub campaign_id: Option<ID>,
    pub status: Option<CallStatus>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl CallsFilter {
    /// The GraphQL filter as the model's, ids parsed; `None` means every call the viewer may see.
    fn parse(filter: Option<Self>) -> Result<CallFilter, crate::error::AppError> {
        let f = filter.unwrap_or_default();
        Ok(CallFilter {
            owner_id: None,
            campaign_id: f
                .campaign_id
                .as_ref()
                .map(|id| parse_id("campaignId", id))
                .transpose()?,
            status: f.status,
            to: f.to,
            from: f.from,
            since: f.since,
            until: f.until,
        })
    }
}

#[derive(Default)]
pub struct CallsQuery;

#[Object]
impl CallsQuery {
    /// Your calls, newest first (admins see everyone's).
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn calls(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CallsFilter>,
    ) -> Result<Connection<String, CallNode>> {
        let page = Page::parse(first, after)?;
        let filter = CallsFilter::parse(filter)?;
        let rows = service::page(
            ctx.state(),
            ctx.viewer()?,
            filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |c| c.id.to_string(), CallNode))
    }

    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn call(&self, ctx: &Context<'_>, id: ID) -> Result<CallNode> {
        Ok(CallNode(
            service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?,
        ))
    }
}

#[derive(SimpleObject)]
pub struct ExportCallsPayload {
    /// A CSV download of the matching calls; needs no other credentials, expires soon.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct CallsMutation;

#[Object]
impl CallsMutation {
    /// A short-lived link to a CSV of your calls matching the filter (streams any number of rows).
    async fn export_calls(
        &self,
        ctx: &Context<'_>,
        filter: Option<CallsFilter>,
    ) -> Result<ExportCallsPayload> {
        let filter = CallsFilter::parse(filter)?;
        let (url, expires_at) = super::export::link(ctx.state(), ctx.viewer()?, filter).await?;
        Ok(ExportCallsPayload { url, expires_at })
    }
}

#[derive(Default)]
pub struct CallsSubscription;

#[Subscription]
impl CallsSubscription {
    /// A call each time its status changes. Users see only their calls; an admin may leave out
    /// `campaignId` to see every call.
    async fn call_updated(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
    ) -> Result<impl Stream<Item = CallNode>> {
        let viewer = ctx.viewer()?.clone();
        let state = ctx.state().clone();
        let only = campaign_id
            .map(|id| parse_id("campaignId", &id))
            .transpose()?;
        if let Some(id) = only {
            crate::campaigns::service::get(&state, &viewer, id).await?;
        }
        let mut events = crate::graphql::viewer_events(ctx);
        Ok(async_stream::stream! {
            loop {
                let event = match events.recv().await {
                    Ok(e) => e,
                    // Fell behind: the next event re-reads the state anyway.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                if event.kind != EVENT_CALL_UPDATED
                    || !crate::events::for_viewer(&viewer, event.owner_id)
                    || only.is_some_and(|c| event.campaign_id != Some(c))
                {
                    continue;
                }
                let Some(call_id) = event.call_id else { continue };
                let Some(call) = super::snapshots::Snapshots::of(&state).get(&state, call_id, event.at).await else { continue };
                // The event's owner was checked above; the row is checked again, as `call(id)` would.
                if !crate::events::for_viewer(&viewer, call.owner_id) {
                    continue;
                }
                yield CallNode(Call::clone(&call));
            }
        })
    }
}
