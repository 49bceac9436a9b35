//! `calls`, `call` with its timeline, and `callUpdated`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::filter::CallsFilter;
use super::loaders::CallEvents;
use super::model::{Call, CallDirection, CallEvent, CallStatus, EventKind, EventSource};
use super::service;
use super::sort::{self, CallOrder};
use super::status::EVENT_CALL_UPDATED;
use crate::billing::loaders::{CallMoney, CallMoneyLoader};
use crate::campaigns::graphql::CampaignNode;
use crate::campaigns::loaders::CampaignsById;
use crate::db::keyset::SortKind;
use crate::dids;
use crate::dids::graphql::DidNode;
use crate::dids::loaders::DidsById;
use crate::graphql::context::{load_one, ContextExt};
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};
use crate::graphql::Vnd;

pub struct CallNode(pub Call);

/// Who answered a call, as the carrier's answering-machine detection judged it.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnsweredBy {
    /// A person answered.
    Human,
    /// A machine answered; detection stopped at its greeting, before any beep.
    MachineStart,
    /// A machine answered; its greeting ended with a beep.
    MachineEndBeep,
    /// A machine answered; its greeting ended in silence.
    MachineEndSilence,
    /// A machine answered; its greeting ended some other way.
    MachineEndOther,
    /// A fax machine answered.
    Fax,
    /// Detection could not tell who answered.
    Unknown,
    /// A value this version of the server does not know.
    Other,
}

impl AnsweredBy {
    /// Twilio's `AnsweredBy` value, as stored in `calls.answered_by`.
    pub fn from_twilio(raw: &str) -> Self {
        match raw {
            "human" => Self::Human,
            "machine_start" => Self::MachineStart,
            "machine_end_beep" => Self::MachineEndBeep,
            "machine_end_silence" => Self::MachineEndSilence,
            "machine_end_other" => Self::MachineEndOther,
            "fax" => Self::Fax,
            "unknown" => Self::Unknown,
            _ => Self::Other,
        }
    }
}

#[derive(SimpleObject)]
/// One event of a call's timeline: a status report, a key press or a machine detection.
pub struct CallEventView {
    /// What kind of event it is.
    pub kind: EventKind,
    /// Where the event came from.
    pub source: EventSource,
    /// The call status the event reported, for STATUS events.
    pub status: Option<String>,
    /// The carrier's sequence number of the callback, when it sent one.
    pub sequence_number: Option<i32>,
    /// False when the event arrived late or twice and changed nothing.
    pub applied: bool,
    /// The event's raw details as JSON, such as the digits pressed.
    pub detail: async_graphql::Json<serde_json::Value>,
    /// When the event happened (RFC 3339 UTC).
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

/// One outbound phone call: a campaign's attempt at a contact, or an extra leg (a menu transfer or a forwarded inbound call).
#[Object(name = "Call")]
impl CallNode {
    /// The call's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The campaign that placed this call; null for inbound and forwarded calls.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<CampaignNode>> {
        let Some(id) = self.0.campaign_id else {
            return Ok(None);
        };
        Ok(load_one(ctx, id, CampaignsById).await?.map(CampaignNode))
    }
    /// The number of ours this call used, when you hold it now (an ADMIN sees every one).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn did(&self, ctx: &Context<'_>) -> Result<Option<DidNode>> {
        let Some(id) = self.0.did_id else {
            return Ok(None);
        };
        let viewer = ctx.viewer()?;
        let did = load_one(ctx, id, DidsById).await?;
        Ok(did
            .filter(|d| dids::loaders::visible(d, viewer))
            .map(DidNode))
    }
    /// The campaign that placed the call; null for extra legs (transfers, forwards).
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(|id| ID(id.to_string()))
    }
    /// The campaign contact called; null for extra legs.
    async fn contact_id(&self) -> Option<ID> {
        self.0
            .contact_id
            .map(|id| crate::graphql::ids::numbered_id("Contact", id))
    }
    /// Which attempt at the contact this was, from 1; null for extra legs.
    async fn attempt(&self) -> Option<i32> {
        self.0.attempt
    }
    /// Whether the call was placed by the platform or received.
    async fn direction(&self) -> CallDirection {
        self.0.direction
    }
    /// The caller ID, E.164 such as +84901234567.
    async fn from(&self) -> &str {
        &self.0.from_number
    }
    /// The number called, E.164 such as +84901234567.
    async fn to(&self) -> &str {
        &self.0.to_number
    }
    /// Where the call is now.
    async fn status(&self) -> CallStatus {
        self.0.status
    }
    /// What the carrier's answering-machine detection heard; null without detection.
    async fn answered_by(&self) -> Option<AnsweredBy> {
        self.0.answered_by.as_deref().map(AnsweredBy::from_twilio)
    }
    /// Length of the call in seconds, once it ended.
    async fn duration_secs(&self) -> Option<i32> {
        self.0.duration_secs
    }
    /// Đồng (VND) charged for this call (0 until it ends, and for calls that cost nothing).
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn cost(&self, ctx: &Context<'_>) -> Result<Vnd> {
        Ok(Vnd(self.money(ctx).await?.charged))
    }
    /// Đồng (VND) per minute this call is billed at (the rate when it was dispatched); null if it was never priced.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn price_per_minute(&self, ctx: &Context<'_>) -> Result<Option<Vnd>> {
        Ok(self.money(ctx).await?.rate.map(|r| Vnd(r.per_minute)))
    }
    /// Đồng (VND) held from the owner's balance for this call while it is in progress.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn held(&self, ctx: &Context<'_>) -> Result<Vnd> {
        Ok(Vnd(self.money(ctx).await?.held))
    }
    /// Twilio's Call SID, once Twilio accepted the call.
    async fn twilio_sid(&self) -> Option<&str> {
        self.0.twilio_sid.as_deref()
    }
    /// When the call was created (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the call was answered (RFC 3339 UTC).
    async fn answered_at(&self) -> Option<DateTime<Utc>> {
        self.0.answered_at
    }
    /// When the call ended (RFC 3339 UTC).
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

/// What `exportCalls` takes.
#[derive(InputObject, Default)]
pub struct ExportCallsInput {
    /// Only calls matching this; omit for all of yours (an ADMIN gets everyone's).
    pub filter: Option<CallsFilter>,
}

#[derive(Default)]
pub struct CallsQuery;

#[Object]
impl CallsQuery {
    /// Your calls, newest first unless `orderBy` says otherwise (an ADMIN sees everyone's).
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn calls(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return, 0 to 500 (default 50).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after: the endCursor of the previous page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Only calls matching this; omit for all.")] filter: Option<CallsFilter>,
        #[graphql(desc = "Sort order; newest first when omitted.")] order_by: Option<CallOrder>,
    ) -> Result<List<CallNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(CallOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let filter =
            service::scoped(ctx.state(), ctx.viewer()?, CallsFilter::parse(filter)?).await?;
        let rows = service::page(ctx.state(), &filter, sort, &page.seek(&ordering)?).await?;
        let count = service::count(ctx.state().clone(), filter);
        Ok(page.connection(
            rows,
            |c| ordering.cursor(sort.value(c), c.id),
            CallNode,
            count,
        ))
    }

    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    /// One call by id, for its owner or an ADMIN (NOT_FOUND for anyone else).
    async fn call(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The call's id.")] id: ID,
    ) -> Result<CallNode> {
        Ok(CallNode(
            service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?,
        ))
    }
}

#[derive(SimpleObject)]
/// Where to download a calls export.
pub struct ExportCallsPayload {
    /// A CSV download of the matching calls; needs no other credentials, expires soon.
    pub url: String,
    /// When the link stops working, 15 minutes after it was made (RFC 3339 UTC).
    pub expires_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct CallsMutation;

#[Object]
impl CallsMutation {
    /// A 15-minute link to a CSV of your calls matching the filter (an ADMIN's covers everyone's); streams any number of rows.
    async fn export_calls(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ExportCallsInput`.")] input: ExportCallsInput,
    ) -> Result<ExportCallsPayload> {
        let filter = CallsFilter::parse(input.filter)?;
        let (url, expires_at) = super::export::link(ctx.state(), ctx.viewer()?, filter).await?;
        Ok(ExportCallsPayload { url, expires_at })
    }
}

#[derive(Default)]
pub struct CallsSubscription;

#[Subscription]
impl CallsSubscription {
    /// A call each time its status changes: your calls only, or every call for an ADMIN.
    async fn call_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only calls of this campaign; omit for all your calls (an ADMIN gets everyone's)."
        )]
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
        // Other campaigns' events do not wake a stream that watches one.
        let mut events = match only {
            Some(c) => crate::graphql::viewer_events_on(ctx, [crate::events::Route::Campaign(c)]),
            None => crate::graphql::viewer_events(ctx),
        };
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
                // Boxed: the read's state (a pool checkout, a query) is held only while it runs,
                // not for the stream's whole life in every one of ten thousand streams.
                let snapshots = super::snapshots::Snapshots::of(&state);
                let Some(call) = Box::pin(snapshots.get(&state, call_id, event.at)).await else { continue };
                // The event's owner was checked above; the row is checked again, as `call(id)` would.
                if !crate::events::for_viewer(&viewer, call.owner_id) {
                    continue;
                }
                yield CallNode(Call::clone(&call));
            }
        })
    }
}
