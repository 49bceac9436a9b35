//! Phone number fields: admin inventory and purchase, and a user's own numbers.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::{Did, DidFilter, DidStatus};
use super::service;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct DidNode(pub Did);

#[derive(SimpleObject)]
pub struct DidHealthStats {
    #[graphql(name = "calls24h")]
    pub calls_24h: i32,
    #[graphql(name = "answerRate24h")]
    pub answer_rate_24h: Option<f64>,
    #[graphql(name = "failureRate24h")]
    pub failure_rate_24h: Option<f64>,
    #[graphql(name = "calls7d")]
    pub calls_7d: i32,
    #[graphql(name = "answerRate7d")]
    pub answer_rate_7d: Option<f64>,
    #[graphql(name = "failureRate7d")]
    pub failure_rate_7d: Option<f64>,
    pub checked_at: Option<DateTime<Utc>>,
}

#[Object(name = "Did")]
impl DidNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn phone_number(&self) -> &str {
        &self.0.phone_number
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn friendly_name(&self) -> &str {
        &self.0.friendly_name
    }
    /// ACTIVE, UNHEALTHY (campaigns skip it), or RELEASED.
    async fn status(&self) -> DidStatus {
        self.0.status
    }
    async fn twilio_account_id(&self) -> ID {
        ID(self.0.twilio_account_id.to_string())
    }
    async fn assigned_user_id(&self) -> Option<ID> {
        self.0.assigned_user_id.map(|id| ID(id.to_string()))
    }
    /// Inbound calls are forwarded here (with this number as caller ID).
    async fn forward_to(&self) -> Option<&str> {
        self.0.forward_to.as_deref()
    }
    /// Played to inbound callers when there is no forwarding number.
    async fn inbound_message(&self) -> Option<&str> {
        self.0.inbound_message.as_deref()
    }
    async fn voice_url(&self) -> Option<&str> {
        self.0.voice_url.as_deref()
    }
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
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn released_at(&self) -> Option<DateTime<Utc>> {
        self.0.released_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct AvailableNumber {
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub iso_country: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
}

#[derive(InputObject, Default)]
pub struct DidsFilter {
    pub twilio_account_id: Option<ID>,
    pub status: Option<DidStatus>,
    pub assigned_user_id: Option<ID>,
    /// Only numbers no user holds.
    #[graphql(default)]
    pub unassigned: bool,
}

#[derive(InputObject)]
pub struct PurchaseDidInput {
    pub twilio_account_id: ID,
    pub phone_number: String,
    pub friendly_name: Option<String>,
}

#[derive(InputObject)]
pub struct AssignDidInput {
    pub did_id: ID,
    pub user_id: ID,
}

#[derive(InputObject)]
pub struct DidInput {
    pub did_id: ID,
}

/// Both fields are set as given: leave one out to clear it.
#[derive(InputObject)]
pub struct SetDidForwardingInput {
    pub did_id: ID,
    pub forward_to: Option<String>,
    pub inbound_message: Option<String>,
}

#[derive(SimpleObject)]
pub struct DidPayload {
    pub did: DidNode,
}

#[derive(SimpleObject)]
pub struct WebhookFailure {
    pub phone_number: String,
    pub error: String,
}

#[derive(SimpleObject)]
pub struct ConfigureWebhooksPayload {
    pub public_url: String,
    pub updated: i32,
    pub failed: Vec<WebhookFailure>,
}

#[derive(Default)]
pub struct DidsQuery;

#[Object]
impl DidsQuery {
    /// Numbers for sale on a Twilio account.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::REMOTE + child_complexity"
    )]
    async fn available_numbers(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        country: String,
        area_code: Option<String>,
        contains: Option<String>,
    ) -> Result<Vec<AvailableNumber>> {
        let numbers = service::available(
            ctx.state(),
            parse_id("accountId", &account_id)?,
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

    /// Every number on every account.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn dids(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<DidsFilter>,
    ) -> Result<Connection<String, DidNode>> {
        let page = Page::parse(first, after)?;
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
        let rows = service::page(
            ctx.state(),
            &filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |d| d.id.to_string(), DidNode))
    }

    /// The numbers assigned to the signed-in user.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn my_dids(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, DidNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after)?;
        let rows = service::for_user(
            ctx.state(),
            viewer.id,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |d| d.id.to_string(), DidNode))
    }
}

#[derive(Default)]
pub struct DidsMutation;

#[Object]
impl DidsMutation {
    /// Buys the number on Twilio with its webhooks pointed at this server.
    #[graphql(guard = "AdminGuard")]
    async fn purchase_did(&self, ctx: &Context<'_>, input: PurchaseDidInput) -> Result<DidPayload> {
        let account_id = parse_id("twilioAccountId", &input.twilio_account_id)?;
        let did = service::purchase(
            ctx.state(),
            ctx.viewer()?,
            account_id,
            &input.phone_number,
            input.friendly_name.as_deref(),
        )
        .await?;
        Ok(DidPayload { did: DidNode(did) })
    }

    #[graphql(guard = "AdminGuard")]
    async fn assign_did(&self, ctx: &Context<'_>, input: AssignDidInput) -> Result<DidPayload> {
        let did = service::assign(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            Some(parse_id("userId", &input.user_id)?),
        )
        .await?;
        Ok(DidPayload { did: DidNode(did) })
    }

    #[graphql(guard = "AdminGuard")]
    async fn unassign_did(&self, ctx: &Context<'_>, input: DidInput) -> Result<DidPayload> {
        let did = service::assign(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            None,
        )
        .await?;
        Ok(DidPayload { did: DidNode(did) })
    }

    /// Deletes the number on Twilio; it is kept here as RELEASED.
    #[graphql(guard = "AdminGuard")]
    async fn release_did(&self, ctx: &Context<'_>, input: DidInput) -> Result<DidPayload> {
        let did = service::release(
            ctx.state(),
            Some(ctx.viewer()?),
            parse_id("didId", &input.did_id)?,
            "released by an admin",
        )
        .await?;
        Ok(DidPayload { did: DidNode(did) })
    }

    /// Re-points every number's webhooks at the current PUBLIC_URL.
    #[graphql(guard = "AdminGuard")]
    async fn configure_webhooks(&self, ctx: &Context<'_>) -> Result<ConfigureWebhooksPayload> {
        let report = service::configure_webhooks(ctx.state(), Some(ctx.viewer()?)).await?;
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

    /// Where inbound calls to one of your numbers go.
    async fn set_did_forwarding(
        &self,
        ctx: &Context<'_>,
        input: SetDidForwardingInput,
    ) -> Result<DidPayload> {
        let did = service::set_forwarding(
            ctx.state(),
            ctx.viewer()?,
            parse_id("didId", &input.did_id)?,
            input.forward_to.as_deref(),
            input.inbound_message.as_deref(),
        )
        .await?;
        Ok(DidPayload { did: DidNode(did) })
    }
}
