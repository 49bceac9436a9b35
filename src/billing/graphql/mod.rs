//! Balance, ledger, rates and statements in GraphQL; `User.balance` is resolved from here.

use async_graphql::{Context, Object, Result, Subscription, ID};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::rates::RateInput;
use super::service::{self, LedgerFilter, EVENT_BALANCE_CHANGED};
use crate::db::keyset::SortKind;
use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};
use crate::graphql::Vnd;
use crate::viewer::Viewer;

mod types;

pub use types::{
    AdjustBalanceInput, AdjustBalancePayload, BalanceView, CallQuote, DeleteRateInput,
    DeleteRatePayload, LedgerEntryNode, LedgerFilterInput, RateView, SetRateInput, SetRatePayload,
    Statement, StatementLine,
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
    /// The ledger, newest first: your own, or for an ADMIN anyone's.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn ledger(
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
        #[graphql(desc = "Only entries matching this; omit for all you may see.")] filter: Option<
            LedgerFilterInput,
        >,
    ) -> Result<List<LedgerEntryNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after, last, before)?;
        let filter = to_filter(viewer, filter.unwrap_or_default())?;
        let rows = service::list(
            ctx.state(),
            &filter,
            &page.seek(&Ordering::by_id(SortKind::Int, true))?,
        )
        .await?;
        let count = service::count(ctx.state().clone(), filter);
        Ok(page.connection(rows, |e| e.id.to_string(), LedgerEntryNode, count))
    }

    /// The rate table, default rate (empty prefix) first (any signed-in user).
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn rates(&self, ctx: &Context<'_>) -> Result<Vec<RateView>> {
        ctx.viewer()?;
        Ok(service::rates(ctx.state())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// What a call to `to` costs and how much a call to it holds (any signed-in user; free).
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn quote_call(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The number to price: E.164 such as +84901234567, or a Vietnamese national number."
        )]
        to: String,
    ) -> Result<CallQuote> {
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
            first_minute: Vnd(rate.charge(60, true)),
            hold: Vnd(rate.charge(i64::from(max), true)),
            max_duration_secs: max as i32,
            rate: rate.into(),
        })
    }

    /// The monthly statement (Vietnam calendar month, YYYY-MM) of yourself or, for an ADMIN, of userId; free.
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The month, YYYY-MM, such as 2026-11.")] month: String,
        #[graphql(desc = "Whose statement (ADMIN only); omit for your own.")] user_id: Option<ID>,
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
            credits: Vnd(sum(true)),
            debits: Vnd(-sum(false)),
            month: statement.month.clone(),
            user_id: ID(user.to_string()),
            opening_balance: Vnd(statement.opening),
            closing_balance: Vnd(statement.closing),
            lines: statement
                .lines
                .into_iter()
                .map(|l| StatementLine {
                    date: l.date,
                    kind: l.kind.parse().ok(),
                    campaign_id: l.campaign_id.map(|c| ID(c.to_string())),
                    description: l.description,
                    amount: Vnd(l.amount),
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
    /// Adds or replaces the rate for a prefix; applies to calls dispatched from then on (ADMIN only, audited).
    #[graphql(guard = "AdminGuard")]
    async fn set_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `SetRateInput`.")] input: SetRateInput,
    ) -> Result<SetRatePayload> {
        let viewer = ctx.viewer()?;
        let input = RateInput {
            prefix: input.prefix.trim().trim_start_matches('+').to_owned(),
            per_minute: input.per_minute.0,
            initial_increment: input.initial_increment,
            billing_increment: input.billing_increment,
            connection_fee: input.connection_fee.0,
            description: input.description,
        };
        Ok(SetRatePayload {
            rate: service::set_rate(ctx.state(), viewer, &input).await?.into(),
        })
    }

    /// Removes a prefix's rate; its numbers fall back to a shorter prefix or the default (ADMIN only, audited).
    #[graphql(guard = "AdminGuard")]
    async fn delete_rate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `DeleteRateInput`.")] input: DeleteRateInput,
    ) -> Result<DeleteRatePayload> {
        let viewer = ctx.viewer()?;
        let prefix = input.prefix.trim().trim_start_matches('+');
        Ok(DeleteRatePayload {
            rate: service::delete_rate(ctx.state(), viewer, prefix)
                .await?
                .into(),
        })
    }

    /// Credits (positive) or debits (negative) a user's balance by hand (ADMIN only, audited).
    #[graphql(guard = "AdminGuard")]
    async fn adjust_balance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AdjustBalanceInput`.")] input: AdjustBalanceInput,
    ) -> Result<AdjustBalancePayload> {
        let viewer = ctx.viewer()?;
        let user = parse_id("userId", &input.user_id)?;
        let entry =
            service::adjust(ctx.state(), viewer, user, input.amount.0, &input.reason).await?;
        Ok(AdjustBalancePayload {
            entry: LedgerEntryNode(entry),
        })
    }
}

#[derive(Default)]
pub struct BillingSubscription;

#[Subscription]
impl BillingSubscription {
    /// Your balance (or, for an ADMIN, userId's) each time it changes: top-ups, holds, charges, adjustments.
    async fn balance_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whose balance to watch (ADMIN only); omit for your own.")]
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
        let mut events = crate::graphql::viewer_events_on(ctx, [crate::events::Route::Owner(user)]);
        Ok(async_stream::stream! {
            loop {
                match events.recv().await {
                    Ok(e) if e.kind == EVENT_BALANCE_CHANGED && e.owner_id == user => {}
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
                // Boxed, so an idle stream does not hold a query's state.
                if let Ok(balance) = Box::pin(service::balance(&state, user)).await {
                    yield BalanceView::from(balance);
                }
            }
        })
    }
}
