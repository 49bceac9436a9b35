//! Balance, ledger, rates and statements in GraphQL; `User.balance` is resolved from here.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, Result, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::rates::RateInput;
use super::service::{self, LedgerFilter, EVENT_BALANCE_CHANGED};
use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;
use crate::viewer::Viewer;

mod types;

pub use types::{
    AdjustBalanceInput, BalanceView, CallQuote, LedgerEntryNode, LedgerFilterInput, RateView,
    SetRateInput, Statement, StatementLine,
};

/// The balance of `user_id` for a viewer allowed to see it.
pub async fn balance_of(ctx: &Context<'_>, user_id: Uuid) -> Result<BalanceView> {
    let viewer = ctx.viewer()?;
    if viewer.id != user_id && !viewer.is_admin() {
        return Err(AppError::NotFound("user").into());
    }
    let balance = ctx
        .loader::<super::loaders::Balances>()?
        .load_one(user_id)
        .await?
        .unwrap_or_default();
    Ok(balance.into())
}

fn to_filter(viewer: &Viewer, input: LedgerFilterInput) -> Result<LedgerFilter, AppError> {
    let user_id = match input.user_id {
        Some(id) if viewer.is_admin() => Some(parse_id("userId", &id)?),
        Some(id) if parse_id("userId", &id)? != viewer.id => {
            return Err(AppError::NotFound("user"))
        }
        _ if viewer.is_admin() => None,
        _ => Some(viewer.id),
    };
    Ok(LedgerFilter {
        user_id,
        kinds: input.kinds,
        campaign_id: input
            .campaign_id
            .map(|id| parse_id("campaignId", &id))
            .transpose()?,
        call_id: input
            .call_id
            .map(|id| parse_id("callId", &id))
            .transpose()?,
        since: input.since,
        until: input.until,
    })
}

#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The ledger, newest first: your own, or (admins) anyone's.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<LedgerFilterInput>,
    ) -> Result<Connection<String, LedgerEntryNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after)?;
        let filter = to_filter(viewer, filter.unwrap_or_default())?;
        let rows = service::list(
            ctx.state(),
            &filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |e| e.id.to_string(), LedgerEntryNode))
    }

    /// The rate table, default rate (empty prefix) first.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn rates(&self, ctx: &Context<'_>) -> Result<Vec<RateView>> {
        ctx.viewer()?;
        Ok(service::rates(ctx.state())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// What a call to `to` costs and how much a call to it holds.
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn quote_call(&self, ctx: &Context<'_>, to: String) -> Result<CallQuote> {
        ctx.viewer()?;
        let state = ctx.state();
        let number = crate::phone::parse(&to, "VN")
            .map_err(|e| AppError::bad_input("to", e.to_string()))?
            .e164
            .to_string();
        let rate = service::rate_for(state, &number).await?;
        let max = state.config.max_call_secs;
        Ok(CallQuote {
            to: number,
            first_minute: rate.charge(60, true),
            hold: rate.charge(i64::from(max), true),
            max_duration_secs: max as i32,
            rate: rate.into(),
        })
    }

    /// The monthly statement (Vietnam calendar month, `YYYY-MM`) of yourself or, for admins,
    /// of `userId`.
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn statement(
        &self,
        ctx: &Context<'_>,
        month: String,
        user_id: Option<ID>,
    ) -> Result<Statement> {
        let viewer = ctx.viewer()?;
        let user = match user_id {
            Some(id) => parse_id("userId", &id)?,
            None => viewer.id,
        };
        if !crate::events::for_viewer(viewer, user) {
            return Err(AppError::NotFound("user").into());
        }
        let statement = service::statement(ctx.state(), user, &month).await?;
        let sum = |positive: bool| {
            statement
                .lines
                .iter()
                .map(|l| l.amount)
                .filter(|a| (*a > 0) == positive)
                .sum::<i64>()
        };
        Ok(Statement {
            csv: statement.csv(),
            credits: sum(true),
            debits: -sum(false),
            month: statement.month.clone(),
            user_id: ID(user.to_string()),
            opening_balance: statement.opening,
            closing_balance: statement.closing,
            lines: statement
                .lines
                .into_iter()
                .map(|l| StatementLine {
                    date: l.date,
                    kind: l.kind.parse().ok(),
                    campaign_id: l.campaign_id.map(|c| ID(c.to_string())),
                    description: l.description,
                    amount: l.amount,
                    entries: l.entries,
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Adds or replaces the rate for a prefix (admins).
    #[graphql(guard = "AdminGuard")]
    async fn set_rate(&self, ctx: &Context<'_>, input: SetRateInput) -> Result<RateView> {
        let viewer = ctx.viewer()?;
        let input = RateInput {
            prefix: input.prefix.trim().trim_start_matches('+').to_owned(),
            per_minute: input.per_minute,
            initial_increment: input.initial_increment,
            billing_increment: input.billing_increment,
            connection_fee: input.connection_fee,
            description: input.description,
        };
        Ok(service::set_rate(ctx.state(), viewer, &input).await?.into())
    }

    /// Removes a prefix's rate; its numbers fall back to a shorter prefix or the default.
    #[graphql(guard = "AdminGuard")]
    async fn delete_rate(&self, ctx: &Context<'_>, prefix: String) -> Result<RateView> {
        let viewer = ctx.viewer()?;
        let prefix = prefix.trim().trim_start_matches('+');
        Ok(service::delete_rate(ctx.state(), viewer, prefix)
            .await?
            .into())
    }

    /// Credits (positive) or debits (negative) a user's balance by hand (admins, audited).
    #[graphql(guard = "AdminGuard")]
    async fn adjust_balance(
        &self,
        ctx: &Context<'_>,
        input: AdjustBalanceInput,
    ) -> Result<LedgerEntryNode> {
        let viewer = ctx.viewer()?;
        let user = parse_id("userId", &input.user_id)?;
        Ok(LedgerEntryNode(
            service::adjust(ctx.state(), viewer, user, input.amount, &input.reason).await?,
        ))
    }
}

#[derive(Default)]
pub struct BillingSubscription;

#[Subscription]
impl BillingSubscription {
    /// Your balance (or, for admins, `userId`'s) each time it changes: top-ups, holds,
    /// charges, adjustments.
    async fn balance_changed(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> Result<impl Stream<Item = BalanceView>> {
        let viewer = ctx.viewer()?.clone();
        let user = match user_id {
            Some(id) => parse_id("userId", &id)?,
            None => viewer.id,
        };
        if user != viewer.id && !viewer.is_admin() {
            return Err(AppError::NotFound("user").into());
        }
        let state = ctx.state().clone();
        let mut events = crate::graphql::viewer_events(ctx);
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(e) if e.kind == EVENT_BALANCE_CHANGED && e.owner_id == user => {}
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                if let Ok(balance) = service::balance(&state, user).await {
                    yield BalanceView::from(balance);
                }
            }
        })
    }
}
