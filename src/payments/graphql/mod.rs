//! Top-up fields: create and list your own; admins list everyone's and confirm or reject.

use super::model::{TopUp, TopUpStatus};
use super::service;
use super::sort::{self, TopUpOrder};
use super::unmatched::{self, Resolution};
use super::unmatched_model::UnmatchedPaymentStatus;
use crate::app::AppState;
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};
use async_graphql::{Context, InputObject, Object, Result, ID};

mod subscription;
mod types;

pub use subscription::PaymentsSubscription;
pub use types::{
    BankAccount, ConfirmTopUpInput, ConfirmTopUpPayload, CreateTopUpInput, CreateTopUpPayload,
    RejectTopUpInput, RejectTopUpPayload, ResolveUnmatchedPaymentInput,
    ResolveUnmatchedPaymentPayload, TopUpNode, TopUpStatusReason, UnmatchedPaymentAction,
    UnmatchedPaymentNode,
};

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// Your own top-ups, newest first (any signed-in user).
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn top_ups(
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
        #[graphql(desc = "Sort order; newest first when omitted.")] order_by: Option<TopUpOrder>,
    ) -> Result<List<TopUpNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(TopUpOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let mut conn = ctx.state().conn().await?;
        let rows = TopUp::list(
            &mut conn,
            Some(viewer.id),
            None,
            sort,
            &page.seek(&ordering)?,
        )
        .await?;
        let count = count_top_ups(ctx.state().clone(), Some(viewer.id), None);
        Ok(page.connection(
            rows,
            |t| ordering.cursor(sort.value(t), t.id),
            TopUpNode,
            count,
        ))
    }

    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    /// One top-up by id, for its owner or an ADMIN (NOT_FOUND for anyone else).
    async fn top_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The top-up's id.")] id: ID,
    ) -> Result<TopUpNode> {
        let top_up = service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?;
        Ok(TopUpNode(top_up))
    }

    /// Everyone's top-ups, newest first; filter by status to find NEEDS_REVIEW (ADMIN only).
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn all_top_ups(
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
        #[graphql(desc = "Only top-ups in these statuses or of this user; omit for all.")]
        filter: Option<TopUpFilter>,
        #[graphql(desc = "Sort order; newest first when omitted.")] order_by: Option<TopUpOrder>,
    ) -> Result<List<TopUpNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(TopUpOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let filter = filter.unwrap_or_default();
        let user = filter
            .user_id
            .map(|id| parse_id("userId", &id))
            .transpose()?;
        let mut conn = ctx.state().conn().await?;
        let rows = TopUp::list(
            &mut conn,
            user,
            filter.statuses.as_deref(),
            sort,
            &page.seek(&ordering)?,
        )
        .await?;
        let count = count_top_ups(ctx.state().clone(), user, filter.statuses);
        Ok(page.connection(
            rows,
            |t| ordering.cursor(sort.value(t), t.id),
            TopUpNode,
            count,
        ))
    }

    /// Payments that settled no order (a second payment for a settled top-up, a transfer whose memo matches nothing), newest first (ADMIN only).
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    async fn unmatched_payments(
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
        #[graphql(desc = "Only payments in these statuses, such as NEEDS_REVIEW; omit for all.")]
        filter: Option<UnmatchedPaymentFilter>,
    ) -> Result<List<UnmatchedPaymentNode>> {
        let page = Page::parse(first, after, last, before)?;
        let statuses = filter.unwrap_or_default().statuses;
        let seek = page.seek(&Ordering::by_id(SortKind::Uuid, true))?;
        let rows = unmatched::page(ctx.state(), statuses.as_deref(), &seek).await?;
        let count = unmatched::count(ctx.state().clone(), statuses);
        Ok(page.connection(rows, |p| p.id.to_string(), UnmatchedPaymentNode, count))
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Starts a top-up of your own balance: pay by the returned QR, link or bank transfer; the balance is credited when the gateway or bank confirms (watch balanceChanged).
    async fn create_top_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CreateTopUpInput`.")] input: CreateTopUpInput,
    ) -> Result<CreateTopUpPayload> {
        let top_up =
            service::create(ctx.state(), ctx.viewer()?, input.method, input.amount.0).await?;
        Ok(CreateTopUpPayload {
            top_up: TopUpNode(top_up),
        })
    }

    /// Credits a top-up by hand, such as a transfer seen on the bank statement or one under review (ADMIN only, audited).
    #[graphql(guard = "AdminGuard")]
    async fn confirm_top_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ConfirmTopUpInput`.")] input: ConfirmTopUpInput,
    ) -> Result<ConfirmTopUpPayload> {
        let top_up = service::confirm(
            ctx.state(),
            ctx.viewer()?,
            parse_id("id", &input.id)?,
            input.amount.map(|a| a.0),
            input.note.as_deref(),
        )
        .await?;
        Ok(ConfirmTopUpPayload {
            top_up: TopUpNode(top_up),
        })
    }

    /// Marks a pending or reviewed top-up FAILED (admins, audited); nothing is credited.
    #[graphql(guard = "AdminGuard")]
    async fn reject_top_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `RejectTopUpInput`.")] input: RejectTopUpInput,
    ) -> Result<RejectTopUpPayload> {
        let top_up = service::reject(
            ctx.state(),
            ctx.viewer()?,
            parse_id("id", &input.id)?,
            &input.reason,
        )
        .await?;
        Ok(RejectTopUpPayload {
            top_up: TopUpNode(top_up),
        })
    }

    /// Closes an unmatched payment once (ADMIN only, audited): CREDIT posts its amount to a user's balance as an ADJUSTMENT; REFUNDED_OUTSIDE and IGNORE only record the decision.
    #[graphql(guard = "AdminGuard")]
    async fn resolve_unmatched_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ResolveUnmatchedPaymentInput`.")]
        input: ResolveUnmatchedPaymentInput,
    ) -> Result<ResolveUnmatchedPaymentPayload> {
        let resolution = match input.action {
            UnmatchedPaymentAction::Credit => Resolution::Credit,
            UnmatchedPaymentAction::RefundedOutside => Resolution::RefundedOutside,
            UnmatchedPaymentAction::Ignore => Resolution::Ignore,
        };
        let user = input
            .user_id
            .map(|id| parse_id("userId", &id))
            .transpose()?;
        let resolved = unmatched::resolve(
            ctx.state(),
            ctx.viewer()?,
            parse_id("id", &input.id)?,
            resolution,
            &input.note,
            user,
        )
        .await?;
        Ok(ResolveUnmatchedPaymentPayload {
            unmatched_payment: UnmatchedPaymentNode(resolved),
        })
    }
}

async fn count_top_ups(
    state: AppState,
    user: Option<uuid::Uuid>,
    statuses: Option<Vec<TopUpStatus>>,
) -> crate::error::AppResult<i64> {
    TopUp::count(&mut *state.conn().await?, user, statuses.as_deref()).await
}

/// Narrows `allTopUps`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct TopUpFilter {
    /// Only top-ups in one of these statuses, such as NEEDS_REVIEW; omit for every status.
    pub statuses: Option<Vec<TopUpStatus>>,
    /// Only this user's top-ups.
    pub user_id: Option<ID>,
}

/// Narrows `unmatchedPayments`.
#[derive(InputObject, Default)]
pub struct UnmatchedPaymentFilter {
    /// Only payments in one of these statuses, such as NEEDS_REVIEW; omit for every status.
    pub statuses: Option<Vec<UnmatchedPaymentStatus>>,
}
