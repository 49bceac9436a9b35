//! Balance, ledger, rates and statements in GraphQL; `User.balance` is resolved from here.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::ledger::{Balance, Entry, Kind};
use super::rates::{Rate, RateInput};
use super::service::{self, LedgerFilter, EVENT_BALANCE_CHANGED};
use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;
use crate::viewer::Viewer;

/// Money in whole VND.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "Balance")]
pub struct BalanceView {
    /// Sum of the ledger: top-ups, charges, refunds and adjustments.
    pub posted: i64,
    /// Posted minus the holds of calls in progress; what new calls can use.
    pub available: i64,
    /// Held for calls that have not ended yet.
    pub held: i64,
}

impl From<Balance> for BalanceView {
    fn from(b: Balance) -> Self {
        Self {
            posted: b.posted,
            available: b.available(),
            held: b.held,
        }
    }
}

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

pub struct LedgerEntryNode(pub Entry);

#[Object(name = "LedgerEntry")]
impl LedgerEntryNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    async fn kind(&self) -> Option<Kind> {
        self.0.kind.parse().ok()
    }
    /// Change of the posted balance (negative for charges and debits).
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    /// Change of the held amount (holds positive, releases and charges negative).
    async fn held_change(&self) -> i64 {
        self.0.held_change
    }
    async fn posted_after(&self) -> i64 {
        self.0.posted_after
    }
    async fn available_after(&self) -> i64 {
        self.0.available_after
    }
    async fn call_id(&self) -> Option<ID> {
        self.0.call_id.map(|id| ID(id.to_string()))
    }
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(|id| ID(id.to_string()))
    }
    async fn top_up_id(&self) -> Option<ID> {
        self.0.top_up_id.map(|id| ID(id.to_string()))
    }
    /// The admin who made an adjustment.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject, Default)]
pub struct LedgerFilterInput {
    /// Admins only; others always see their own ledger.
    pub user_id: Option<ID>,
    pub kinds: Option<Vec<Kind>>,
    pub campaign_id: Option<ID>,
    pub call_id: Option<ID>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
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

#[derive(SimpleObject)]
#[graphql(name = "Rate")]
pub struct RateView {
    /// Digits after '+' the destination starts with; empty for the default rate.
    pub prefix: String,
    pub per_minute: i64,
    /// Seconds billed at least once a call is answered (60 in 60/60, 6 in 6/6).
    pub initial_increment: i32,
    /// Seconds each further step bills.
    pub billing_increment: i32,
    /// Charged for every call the carrier accepted, answered or not.
    pub connection_fee: i64,
    pub description: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<Rate> for RateView {
    fn from(r: Rate) -> Self {
        Self {
            prefix: r.prefix,
            per_minute: r.per_minute,
            initial_increment: r.initial_increment,
            billing_increment: r.billing_increment,
            connection_fee: r.connection_fee,
            description: r.description,
            updated_at: r.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct SetRateInput {
    pub prefix: String,
    pub per_minute: i64,
    #[graphql(default = 60)]
    pub initial_increment: i32,
    #[graphql(default = 60)]
    pub billing_increment: i32,
    #[graphql(default = 0)]
    pub connection_fee: i64,
    pub description: Option<String>,
}

#[derive(SimpleObject)]
pub struct CallQuote {
    /// The number as dialed (E.164).
    pub to: String,
    pub rate: RateView,
    /// What one minute of talk costs, with the connection fee.
    pub first_minute: i64,
    /// The longest a call may last; the hold covers a call this long.
    pub max_duration_secs: i32,
    /// Held from the available balance while such a call is in progress.
    pub hold: i64,
}

#[derive(SimpleObject)]
pub struct StatementLine {
    pub date: String,
    pub kind: Option<Kind>,
    pub campaign_id: Option<ID>,
    pub description: String,
    pub amount: i64,
    /// Ledger entries summed into this line (call charges are summed per day and campaign).
    pub entries: i64,
}

#[derive(SimpleObject)]
pub struct Statement {
    pub month: String,
    pub user_id: ID,
    pub opening_balance: i64,
    pub closing_balance: i64,
    pub credits: i64,
    pub debits: i64,
    pub lines: Vec<StatementLine>,
    /// The same statement as CSV.
    pub csv: String,
}

#[derive(InputObject)]
pub struct AdjustBalanceInput {
    pub user_id: ID,
    /// VND; negative to debit. A debit cannot take the available balance below zero.
    pub amount: i64,
    pub reason: String,
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
