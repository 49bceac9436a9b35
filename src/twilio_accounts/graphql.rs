//! Admin fields for Twilio accounts. The auth token is write-only: only its last 4 characters
//! are ever shown.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::model::{AccountStatus, TwilioAccount};
use super::service::{self, AccountInput, AccountUpdate};
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};

pub struct TwilioAccountNode(pub TwilioAccount);

/// A Twilio account the platform places calls through and buys numbers on; ADMIN only.
#[Object(name = "TwilioAccount")]
impl TwilioAccountNode {
    /// The account's ID in Ringcast.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Admin-chosen label, 1 to 100 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Twilio Account SID: AC followed by 32 hex characters.
    async fn account_sid(&self) -> &str {
        &self.0.account_sid
    }
    /// The last 4 characters of the auth token; the token itself is never returned.
    async fn auth_token_last4(&self) -> &str {
        &self.0.auth_token_last4
    }
    /// Twilio REST API base URL the account is called at (https://api.twilio.com unless an emulator).
    async fn api_base_url(&self) -> &str {
        &self.0.api_base_url
    }
    /// Most calls per second Ringcast starts through this account, above 0 and at most 100.
    async fn calls_per_second(&self) -> f64 {
        self.0.calls_per_second
    }
    /// Verdict of the latest check against Twilio (see `testTwilioAccount`).
    async fn status(&self) -> AccountStatus {
        self.0.status
    }
    /// True for the built-in emulator account used when no real Twilio account is configured.
    async fn is_simulated(&self) -> bool {
        self.0.is_simulated
    }
    /// Twilio account balance as Twilio reports it (decimal text, in `balanceCurrency`) at the last successful check; empty before one.
    async fn balance(&self) -> Option<&str> {
        self.0.balance.as_deref()
    }
    /// Currency code of `balance`, e.g. USD, as Twilio reports it.
    async fn balance_currency(&self) -> Option<&str> {
        self.0.balance_currency.as_deref()
    }
    /// Error of the latest check when it could not reach or authenticate with Twilio; empty when it succeeded.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the account was last checked against Twilio (RFC 3339, UTC); empty if never.
    async fn last_checked_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_checked_at
    }
    /// When the account was added (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A Twilio account to register.
#[derive(InputObject)]
pub struct AddTwilioAccountInput {
    /// Label, 1 to 100 characters.
    pub name: String,
    /// Twilio Account SID: AC followed by 32 hex characters; each account can be added once.
    pub account_sid: String,
    /// Twilio auth token, 8 to 128 characters without spaces; stored encrypted, never returned.
    #[graphql(secret)]
    pub auth_token: String,
    /// Twilio REST API base URL; only Twilio's hosts or an allowed emulator. Defaults to https://api.twilio.com.
    pub api_base_url: Option<String>,
    /// Most calls per second to start through the account, above 0 and at most 100. Defaults to 1.
    pub calls_per_second: Option<f64>,
}

/// Changes to a Twilio account; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateTwilioAccountInput {
    /// The account to change.
    pub id: ID,
    /// New label, 1 to 100 characters.
    pub name: Option<String>,
    /// New auth token, 8 to 128 characters without spaces; resets `status` to UNKNOWN.
    #[graphql(secret)]
    pub auth_token: Option<String>,
    /// New REST API base URL; changing it requires `authToken` in the same call.
    pub api_base_url: Option<String>,
    /// New calls-per-second limit, above 0 and at most 100.
    pub calls_per_second: Option<f64>,
}

crate::one_field_types!(SimpleObject "answers", twilio_account: TwilioAccountNode,
    "The account after the change." =>
    AddTwilioAccountPayload "addTwilioAccount",
    UpdateTwilioAccountPayload "updateTwilioAccount",
    TestTwilioAccountPayload "testTwilioAccount",
);

crate::one_field_types!(InputObject "takes", id: ID, "The Twilio account's ID." =>
    TestTwilioAccountInput "testTwilioAccount",
);

#[derive(Default)]
pub struct TwilioAccountsQuery;

#[Object]
impl TwilioAccountsQuery {
    /// Every registered Twilio account, oldest first; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    async fn twilio_accounts(
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
    ) -> Result<List<TwilioAccountNode>> {
        let page = Page::parse(first, after, last, before)?;
        let rows = service::page(
            ctx.state(),
            &page.seek(&Ordering::by_id(SortKind::Uuid, false))?,
        )
        .await?;
        let count = service::count(ctx.state().clone());
        Ok(page.connection(rows, |a| a.id.to_string(), TwilioAccountNode, count))
    }

    /// One Twilio account by ID; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::LOOKUP + child_complexity"
    )]
    async fn twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The Twilio account's ID.")] id: ID,
    ) -> Result<TwilioAccountNode> {
        Ok(TwilioAccountNode(
            service::get(ctx.state(), parse_id("id", &id)?).await?,
        ))
    }
}

#[derive(Default)]
pub struct TwilioAccountsMutation;

#[Object]
impl TwilioAccountsMutation {
    /// Registers a Twilio account with status UNKNOWN until tested; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn add_twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AddTwilioAccountInput`.")] input: AddTwilioAccountInput,
    ) -> Result<AddTwilioAccountPayload> {
        let input = AccountInput {
            name: input.name,
            account_sid: input.account_sid,
            auth_token: input.auth_token,
            api_base_url: input.api_base_url,
            calls_per_second: input.calls_per_second,
        };
        let account = service::add(ctx.state(), Some(ctx.viewer()?), input, false).await?;
        Ok(AddTwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }

    /// Changes a Twilio account's label, token, endpoint or rate limit; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn update_twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `UpdateTwilioAccountInput`.")]
        input: UpdateTwilioAccountInput,
    ) -> Result<UpdateTwilioAccountPayload> {
        let update = AccountUpdate {
            id: parse_id("id", &input.id)?,
            name: input.name,
            auth_token: input.auth_token,
            api_base_url: input.api_base_url,
            calls_per_second: input.calls_per_second,
        };
        let account = service::update(ctx.state(), ctx.viewer()?, update).await?;
        Ok(UpdateTwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }

    /// Fetches the account and balance from Twilio now and records the status (also done periodically); ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn test_twilio_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `TestTwilioAccountInput`.")]
        input: TestTwilioAccountInput,
    ) -> Result<TestTwilioAccountPayload> {
        let account = service::test(ctx.state(), parse_id("id", &input.id)?).await?;
        Ok(TestTwilioAccountPayload {
            twilio_account: TwilioAccountNode(account),
        })
    }
}
