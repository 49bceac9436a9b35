//! Phone number fields: admin inventory and purchase, and a user's own numbers.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::graphql_types::{
    AssignDidInput, AssignDidPayload, AvailableNumber, ConfigureWebhooksInput,
    ConfigureWebhooksPayload, DidsFilter, PurchaseDidInput, PurchaseDidPayload, ReleaseDidInput,
    ReleaseDidPayload, SetDidForwardingInput, SetDidForwardingPayload, UnassignDidInput,
    UnassignDidPayload, WebhookFailure,
};
use super::model::{Did, DidFilter, DidStatus};
use super::service;
use super::sort::{self, DidOrder};
use crate::db::keyset::SortKind;
use crate::graphql::context::{load_one, ContextExt};
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};
use crate::users::graphql::UserNode;
use crate::users::loaders::UsersById;

pub struct DidNode(pub Did);

/// A number's call outcomes, recounted about every 15 minutes; rates are fractions from 0 to 1.
#[derive(SimpleObject)]
pub struct DidHealthStats {
    /// Finished outbound calls from this number in the last 24 hours.
    #[graphql(name = "calls24h")]
    pub calls_24h: i32,
    /// Share of the last 24 hours' finished calls that were answered (0 to 1); empty with no calls.
    #[graphql(name = "answerRate24h")]
    pub answer_rate_24h: Option<f64>,
    /// Share of the last 24 hours' finished calls that failed (0 to 1); empty with no calls.
    #[graphql(name = "failureRate24h")]
    pub failure_rate_24h: Option<f64>,
    /// Finished outbound calls from this number in the last 7 days.
    #[graphql(name = "calls7d")]
    pub calls_7d: i32,
    /// Share of the last 7 days' finished calls that were answered (0 to 1); empty with no calls.
    #[graphql(name = "answerRate7d")]
    pub answer_rate_7d: Option<f64>,
    /// Share of the last 7 days' finished calls that failed (0 to 1); empty with no calls.
    #[graphql(name = "failureRate7d")]
    pub failure_rate_7d: Option<f64>,
    /// When these figures were computed (RFC 3339, UTC); empty if never.
    pub checked_at: Option<DateTime<Utc>>,
}

/// A phone number (DID) in the platform's pool, bought on or imported from a Twilio account; used as caller ID.
#[Object(name = "Did")]
impl DidNode {
    /// The number's ID.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The number in E.164, e.g. +84901234567.
    async fn phone_number(&self) -> &str {
        &self.0.phone_number
    }
    /// ISO 3166 two-letter country of the number, e.g. VN; ZZ when unknown.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Label on Twilio; the number itself when bought without one, possibly empty when imported.
    async fn friendly_name(&self) -> &str {
        &self.0.friendly_name
    }
    /// ACTIVE, UNHEALTHY (campaigns skip it), or RELEASED.
    async fn status(&self) -> DidStatus {
        self.0.status
    }
    /// The Twilio account that holds the number.
    async fn twilio_account_id(&self) -> ID {
        ID(self.0.twilio_account_id.to_string())
    }
    /// The account holding the number; null when it is in the shared pool.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn assigned_user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>> {
        let Some(id) = self.0.assigned_user_id else {
            return Ok(None);
        };
        Ok(load_one(ctx, id, UsersById).await?.map(UserNode))
    }
    /// The user the number is assigned to; empty when in the shared pool.
    async fn assigned_user_id(&self) -> Option<ID> {
        self.0.assigned_user_id.map(|id| ID(id.to_string()))
    }
    /// Inbound calls are forwarded here in E.164 (with this number as caller ID), billed to the holder.
    async fn forward_to(&self) -> Option<&str> {
        self.0.forward_to.as_deref()
    }
    /// Spoken (Vietnamese voice) to inbound callers when there is no forwarding number; then the call ends.
    async fn inbound_message(&self) -> Option<&str> {
        self.0.inbound_message.as_deref()
    }
    /// Inbound-call webhook URL Twilio has for the number, as last set or synced.
    async fn voice_url(&self) -> Option<&str> {
        self.0.voice_url.as_deref()
    }
    /// Recent call outcomes that decide ACTIVE versus UNHEALTHY.
    async fn health(&self) -> DidHealthStats {
        DidHealthStats {
            calls_24h: self.0.calls_24h,
            answer_rate_24h: self.0.answer_rate_24h,
            failure_rate_24h: self.0.failure_rate_24h,
            calls_7d: self.0.calls_7d,
            answer_rate_7d: self.0.answer_rate_7d,
            failure_rate_7d: self.0.failure_rate_7d,
            checked_at: self.0.health_checked_at,
        }
    }
    /// When a campaign last dialled from the number (RFC 3339, UTC); empty if never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When the number was given back to Twilio (RFC 3339, UTC); empty while held.
    async fn released_at(&self) -> Option<DateTime<Utc>> {
        self.0.released_at
    }
    /// When the number was bought or imported (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct DidsQuery;

#[Object]
impl DidsQuery {
    /// Local numbers for sale on a Twilio account, searched live on Twilio; free; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::REMOTE + child_complexity"
    )]
    async fn available_numbers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Twilio account to search on.")] twilio_account_id: ID,
        #[graphql(desc = "Two-letter ISO country code, e.g. VN or US.")] country: String,
        #[graphql(desc = "Area code, 1 to 6 digits.")] area_code: Option<String>,
        #[graphql(
            desc = "Pattern the number must contain: 2 to 16 digits, letters or * (any digit)."
        )]
        contains: Option<String>,
    ) -> Result<Vec<AvailableNumber>> {
        let numbers = service::available(
            ctx.state(),
            parse_id("twilioAccountId", &twilio_account_id)?,
            &country,
            area_code.as_deref(),
            contains.as_deref(),
        )
        .await?;
        Ok(numbers
            .into_iter()
            .map(|n| AvailableNumber {
                phone_number: n.phone_number,
                friendly_name: n.friendly_name,
                iso_country: n.iso_country,
                locality: n.locality,
                region: n.region,
            })
            .collect())
    }

    /// Every number on every account, released ones included, oldest first; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn dids(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 500; 50 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Account, status and holder filters; omit for every number.")]
        filter: Option<DidsFilter>,
        #[graphql(desc = "Sort order; oldest first when omitted.")] order_by: Option<DidOrder>,
    ) -> Result<List<DidNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(DidOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let filter = filter.unwrap_or_default();
        let filter = DidFilter {
            twilio_account_id: filter
                .twilio_account_id
                .as_ref()
                .map(|id| parse_id("twilioAccountId", id))
                .transpose()?,
            status: filter.status,
            assigned_user_id: filter
                .assigned_user_id
                .as_ref()
                .map(|id| parse_id("assignedUserId", id))
                .transpose()?,
            unassigned: filter.unassigned,
        };
        let rows = service::page(ctx.state(), &filter, sort, &page.seek(&ordering)?).await?;
        let count = service::count(ctx.state().clone(), filter);
        Ok(page.connection(
            rows,
            |d| ordering.cursor(sort.value(d), d.id),
            DidNode,
            count,
        ))
    }

    /// The numbers assigned to the signed-in user, oldest first; any signed-in user.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn my_dids(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 500; 50 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Sort order; oldest first when omitted.")] order_by: Option<DidOrder>,
    ) -> Result<List<DidNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(DidOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let rows = service::for_user(ctx.state(), viewer.id, sort, &page.seek(&ordering)?).await?;
        let count = service::count(ctx.state().clone(), service::assigned_to(viewer.id));
        Ok(page.connection(
            rows,
            |d| ordering.cursor(sort.value(d), d.id),
            DidNode,
            count,
        ))
    }
}

#[derive(Default)]
pub struct DidsMutation;

#[Object]
impl DidsMutation {
    /// Buys the number on Twilio (Twilio bills the account its price) with webhooks pointed here; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn purchase_did(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `PurchaseDidInput`.")] input: PurchaseDidInput,
    ) -> Result<PurchaseDidPayload> {
        let account_id = parse_id("twilioAccountId", &input.twilio_account_id)?;
        let did = service::purchase(
            ctx.state(),
            ctx.viewer()?,
            account_id,
            &input.phone_number,
            input.friendly_name.as_deref(),
        )
        .await?;
        Ok(PurchaseDidPayload { did: DidNode(did) })
    }

    /// Assigns a number to a user, clearing forwarding and message on a change of holder; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn assign_did(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AssignDidInput`.")] input: AssignDidInput,
    ) -> Result<AssignDidPayload> {
        let did = service::assign(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            Some(parse_id("userId", &input.user_id)?),
        )
        .await?;
        Ok(AssignDidPayload { did: DidNode(did) })
    }

    /// Takes a number back into the shared pool, clearing forwarding and message; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn unassign_did(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `UnassignDidInput`.")] input: UnassignDidInput,
    ) -> Result<UnassignDidPayload> {
        let did = service::assign(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            None,
        )
        .await?;
        Ok(UnassignDidPayload { did: DidNode(did) })
    }

    /// Gives the number back to Twilio and unassigns it; it is kept here as RELEASED; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn release_did(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ReleaseDidInput`.")] input: ReleaseDidInput,
    ) -> Result<ReleaseDidPayload> {
        let did = service::release(
            ctx.state(),
            Some(ctx.viewer()?),
            parse_id("didId", &input.did_id)?,
            "released by an admin",
        )
        .await?;
        Ok(ReleaseDidPayload { did: DidNode(did) })
    }

    /// Re-points every live number's Twilio webhooks at this server's public URL; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn configure_webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ConfigureWebhooksInput`.")]
        input: ConfigureWebhooksInput,
    ) -> Result<ConfigureWebhooksPayload> {
        let account = input
            .twilio_account_id
            .map(|id| parse_id("twilioAccountId", &id))
            .transpose()?;
        let report = service::configure_webhooks(ctx.state(), Some(ctx.viewer()?), account).await?;
        Ok(ConfigureWebhooksPayload {
            public_url: ctx.state().public_url.to_string(),
            updated: report.updated as i32,
            failed: report
                .failed
                .into_iter()
                .map(|(phone_number, error)| WebhookFailure {
                    phone_number,
                    error,
                })
                .collect(),
        })
    }

    /// Sets where inbound calls to one of your numbers go (forwarded calls cost you like outbound calls); owner only.
    async fn set_did_forwarding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `SetDidForwardingInput`.")] input: SetDidForwardingInput,
    ) -> Result<SetDidForwardingPayload> {
        let did = service::set_forwarding(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            input.forward_to.as_deref(),
            input.inbound_message.as_deref(),
        )
        .await?;
        Ok(SetDidForwardingPayload { did: DidNode(did) })
    }
}
