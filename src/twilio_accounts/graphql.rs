//! Admin fields for Twilio accounts. The auth token is write-only: only its last 4 characters
//! are ever shown.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::{AccountStatus, TwilioAccount};
use super::service::{self, AccountInput, AccountUpdate};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct TwilioAccountNode(pub TwilioAccount);

#[Object(name = "TwilioAccount")]
impl TwilioAccountNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn account_sid(&self) -> &str {
        &self.0.account_sid
    }
    /// The last 4 characters of the auth token; the token itself is never returned.
    async fn auth_token_last4(&self) -> &str {
        &self.0.auth_token_last4
    }
    async fn api_base_url(&self) -> &str {
        &self.0.api_base_url
    }
    async fn calls_per_second(&self) -> f64 {
        self.0.calls_per_second
    }
    async fn status(&self) -> AccountStatus {
        self.0.status
    }
    /// True for the built-in emulator account used when no real Twilio account is configured.
    async fn is_simulated(&self) -> bool {
        self.0.is_simulated
    }
    async fn balance(&self) -> Option<&str> {
        self.0.balance.as_deref()
    }
    async fn balance_currency(&self) -> Option<&str> {
        self.0.balance_currency.as_deref()
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn last_checked_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_checked_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct AddTwilioAccountInput {
    pub name: String,
    pub account_sid: String,
    #[graphql(secret)]
    pub auth_token: String,
    /// Defaults to https://api.twilio.com.
    pub api_base_url: Option<String>,
    /// Defaults to 1.
    pub calls_per_second: Option<f64>,
}

#[derive(InputObject)]
pub struct UpdateTwilioAccountInput {
    pub id: ID,
    pub name: Option<String>,
    #[graphql(secret)]
    pub auth_token: Option<String>,
    pub api_base_url: Option<String>,
    pub calls_per_second: Option<f64>,
}

#[derive(SimpleObject)]
pub struct TwilioAccountPayload {
    pub twilio_account: TwilioAccountNode,
}

#[derive(Default)]
pub struct TwilioAccountsQuery;

#[Object]
impl TwilioAccountsQuery {
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn twilio_accounts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, TwilioAccountNode>> {
        let page = Page::parse(first, after)?;
        let rows = service::page(ctx.state(), page.after_parsed()?, page.fetch_limit()).await?;
        Ok(page.connection(rows, |a| a.id.to_string(), TwilioAccountNode))
    }

    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::LOOKUP + child_complexity"
    )]
    async fn twilio_account(&self, ctx: &Context<'_>, id: ID) -> Result<TwilioAccountNode> {
        Ok(TwilioAccountNode(
            service::get(ctx.state(), parse_id("id", &id)?).await?,
        ))
    }
}

#[derive(Default)]
pub struct TwilioAccountsMutation;

#[Object]
impl TwilioAccountsMutation {
    #[graphql(guard = "AdminGuard")]
    async fn add_twilio_account(
        &self,
        ctx: &Context<'_>,
        input: AddTwilioAccountInput,
    ) -> Result<TwilioAccountPayload> {
        let input = AccountInput {
            name: input.name,
            account_sid: input.account_sid,
            auth_token: input.auth_token,
            api_base_url: input.api_base_url,
            calls_per_second: input.calls_per_second,
        };
        let account = service::add(ctx.state(), Some(ctx.viewer()?), input, false).await?;
        Ok(TwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }

    #[graphql(guard = "AdminGuard")]
    async fn update_twilio_account(
        &self,
        ctx: &Context<'_>,
        input: UpdateTwilioAccountInput,
    ) -> Result<TwilioAccountPayload> {
        let update = AccountUpdate {
            id: parse_id("id", &input.id)?,
            name: input.name,
            auth_token: input.auth_token,
            api_base_url: input.api_base_url,
            calls_per_second: input.calls_per_second,
        };
        let account = service::update(ctx.state(), ctx.viewer()?, update).await?;
        Ok(TwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }

    /// Fetches the account and balance from Twilio and records the status.
    #[graphql(guard = "AdminGuard")]
    async fn test_twilio_account(&self, ctx: &Context<'_>, id: ID) -> Result<TwilioAccountPayload> {
        let account = service::test(ctx.state(), parse_id("id", &id)?).await?;
        Ok(TwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }
}
