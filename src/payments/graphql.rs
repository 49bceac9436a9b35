//! Top-up fields: create and list your own; admins list everyone's and confirm or reject.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::{TopUp, TopUpMethod, TopUpStatus};
use super::service;
use super::unmatched::{self, Resolution};
use super::unmatched_model::{UnmatchedPayment, UnmatchedPaymentStatus};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct TopUpNode(pub TopUp);

/// Where to send a bank transfer.
#[derive(SimpleObject)]
pub struct BankAccount {
    /// NAPAS BIN of the receiving bank.
    pub bank_bin: String,
    pub account_number: String,
    pub account_name: String,
}

#[Object(name = "TopUp")]
impl TopUpNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    async fn status(&self) -> TopUpStatus {
        self.0.status
    }
    async fn method(&self) -> TopUpMethod {
        self.0.method
    }
    /// VND ordered.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    /// VND that actually arrived, once something did.
    async fn received_amount(&self) -> Option<i64> {
        self.0.received_amount
    }
    /// Why it failed, expired or needs review.
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// The gateway's payment page (MoMo, ZaloPay), or a VietQR image for a bank transfer.
    async fn pay_url(&self) -> Option<&str> {
        self.0.pay_url.as_deref()
    }
    /// Opens the MoMo app directly.
    async fn deeplink(&self) -> Option<&str> {
        self.0.deeplink.as_deref()
    }
    /// Text to draw as a QR code (VietQR EMVCo payload, or the gateway's QR text).
    async fn qr_payload(&self) -> Option<&str> {
        self.0.qr_payload.as_deref()
    }
    /// Bank transfers: put exactly this in the transfer content.
    async fn transfer_memo(&self) -> Option<&str> {
        self.0.transfer_memo.as_deref()
    }
    async fn bank_account(&self, ctx: &Context<'_>) -> Option<BankAccount> {
        (self.0.method == TopUpMethod::BankTransfer).then(|| {
            let bank = &ctx.state().config.payments.bank;
            BankAccount {
                bank_bin: bank.bin.clone(),
                account_number: bank.account_number.clone(),
                account_name: bank.account_name.clone(),
            }
        })
    }
    /// True when the built-in simulator stands in for the gateway: no real money moves.
    async fn simulated(&self, ctx: &Context<'_>) -> bool {
        let key = match self.0.method {
            TopUpMethod::BankTransfer => "bank",
            TopUpMethod::Momo => "momo",
            TopUpMethod::Zalopay => "zalopay",
        };
        ctx.state().config.payments.simulated.contains(&key)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
}

#[derive(InputObject)]
pub struct CreateTopUpInput {
    pub method: TopUpMethod,
    /// VND. MoMo: 1,000 to 50,000,000; other methods: the server's configured limits.
    pub amount: i64,
}

#[derive(InputObject)]
pub struct ConfirmTopUpInput {
    pub id: ID,
    /// VND to credit; defaults to what arrived, else the ordered amount.
    pub amount: Option<i64>,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RejectTopUpInput {
    pub id: ID,
    pub reason: String,
}

/// Money that arrived and settled no order, waiting for (or after) an admin's decision.
pub struct UnmatchedPaymentNode(pub UnmatchedPayment);

#[Object(name = "UnmatchedPayment")]
impl UnmatchedPaymentNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// momo, zalopay, sepay or casso.
    async fn provider(&self) -> &str {
        &self.0.provider
    }
    /// The gateway's or bank's transaction id, prefixed by the provider.
    async fn txn_id(&self) -> &str {
        &self.0.txn_id
    }
    /// VND that arrived.
    async fn amount(&self) -> i64 {
        self.0.amount
    }
    /// The top-up the payment named, when it named one.
    async fn top_up_id(&self) -> Option<ID> {
        self.0.top_up_id.map(|id| ID(id.to_string()))
    }
    /// Whose top-up it named; the one credited by default.
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(|id| ID(id.to_string()))
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// What the payment said: memo, order id, or the transfer text.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn status(&self) -> UnmatchedPaymentStatus {
        self.0.status
    }
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution_note.as_deref()
    }
    async fn resolved_by(&self) -> Option<ID> {
        self.0.resolved_by.map(|id| ID(id.to_string()))
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum UnmatchedPaymentAction {
    /// Credit the amount to the payer (or to `userId`).
    Credit,
    /// The money was sent back outside the platform.
    RefundedOutside,
    Ignore,
}

#[derive(InputObject)]
pub struct ResolveUnmatchedPaymentInput {
    pub id: ID,
    pub action: UnmatchedPaymentAction,
    /// What was done and why; kept on the record and in the audit log.
    pub note: String,
    /// Whose balance to credit when the payment named no top-up.
    pub user_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct ResolveUnmatchedPaymentPayload {
    pub unmatched_payment: UnmatchedPaymentNode,
}

fn parse_after(page: &Page) -> Result<Option<uuid::Uuid>> {
    Ok(page.after_parsed::<uuid::Uuid>()?)
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// Your top-ups, newest first.
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn top_ups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, TopUpNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after)?;
        let mut conn = ctx.state().conn().await?;
        let rows = TopUp::list(
            &mut conn,
            Some(viewer.id),
            None,
            parse_after(&page)?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |t| t.id.to_string(), TopUpNode))
    }

    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn top_up(&self, ctx: &Context<'_>, id: ID) -> Result<TopUpNode> {
        let top_up = service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?;
        Ok(TopUpNode(top_up))
    }

    /// Everyone's top-ups (admins), newest first; filter by status to find NEEDS_REVIEW.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn all_top_ups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<TopUpStatus>,
        user_id: Option<ID>,
    ) -> Result<Connection<String, TopUpNode>> {
        let page = Page::parse(first, after)?;
        let user = user_id.map(|id| parse_id("userId", &id)).transpose()?;
        let mut conn = ctx.state().conn().await?;
        let rows = TopUp::list(
            &mut conn,
            user,
            status,
            parse_after(&page)?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |t| t.id.to_string(), TopUpNode))
    }

    /// Payments that settled no order (a second payment for a settled top-up, a transfer
    /// whose memo matches nothing), newest first (admins).
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn unmatched_payments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<UnmatchedPaymentStatus>,
    ) -> Result<Connection<String, UnmatchedPaymentNode>> {
        let page = Page::parse(first, after)?;
        let rows =
            unmatched::page(ctx.state(), status, parse_after(&page)?, page.fetch_limit()).await?;
        Ok(page.connection(rows, |p| p.id.to_string(), UnmatchedPaymentNode))
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Starts a top-up: pay by the returned QR, link or bank transfer; the balance is credited
    /// when the gateway or bank confirms (watch `balanceChanged`).
    async fn create_top_up(&self, ctx: &Context<'_>, input: CreateTopUpInput) -> Result<TopUpNode> {
        let top_up =
            service::create(ctx.state(), ctx.viewer()?, input.method, input.amount).await?;
        Ok(TopUpNode(top_up))
    }

    /// Credits a top-up by hand (admins, audited): a transfer seen on the bank statement, or
    /// one under review.
    #[graphql(guard = "AdminGuard")]
    async fn confirm_top_up(
        &self,
        ctx: &Context<'_>,
        input: ConfirmTopUpInput,
    ) -> Result<TopUpNode> {
        let top_up = service::confirm(
            ctx.state(),
            ctx.viewer()?,
            parse_id("id", &input.id)?,
            input.amount,
            input.note.as_deref(),
        )
        .await?;
        Ok(TopUpNode(top_up))
    }

    /// Marks a pending or reviewed top-up FAILED (admins, audited); nothing is credited.
    #[graphql(guard = "AdminGuard")]
    async fn reject_top_up(&self, ctx: &Context<'_>, input: RejectTopUpInput) -> Result<TopUpNode> {
        let top_up = service::reject(
            ctx.state(),
            ctx.viewer()?,
            parse_id("id", &input.id)?,
            &input.reason,
        )
        .await?;
        Ok(TopUpNode(top_up))
    }

    /// Closes an unmatched payment once (admins, audited): CREDIT posts its amount to the
    /// payer's balance; REFUNDED_OUTSIDE and IGNORE only record the decision.
    #[graphql(guard = "AdminGuard")]
    async fn resolve_unmatched_payment(
        &self,
        ctx: &Context<'_>,
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
