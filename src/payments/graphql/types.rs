//! The payment objects and inputs of the schema: top-ups, unmatched payments, their codes.

use crate::error::AppError;
use crate::graphql::context::{load_one, ContextExt};
use crate::graphql::Vnd;
use crate::payments::model::{TopUp, TopUpMethod, TopUpStatus};
use crate::payments::unmatched_model::{UnmatchedPayment, UnmatchedPaymentStatus};
use crate::users::graphql::UserNode;
use crate::users::loaders::UsersById;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

pub struct TopUpNode(pub TopUp);

/// Why a top-up failed, expired or needs review; statusReason gives the details.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopUpStatusReason {
    /// Money arrived, but not the amount ordered: an admin reviews it.
    AmountMismatch,
    /// Money arrived after the order was reported failed: an admin reviews it.
    PaidAfterFailure,
    /// Not paid before the order expired.
    NotPaidInTime,
    /// The payment gateway (MoMo or ZaloPay) refused or failed the payment.
    GatewayFailed,
    /// An admin rejected the top-up.
    RejectedByAdmin,
    /// A reason this version of the server does not know.
    Other,
}

impl TopUpStatusReason {
    /// The kind of a stored `status_reason`, written by `payments::settle` as English text
    /// with details, so it is told by its fixed wording.
    pub fn from_text(text: &str) -> Self {
        if text.starts_with("received ") && text.contains(" VND for an order of ") {
            Self::AmountMismatch
        } else if text == "paid after the order was reported failed" {
            Self::PaidAfterFailure
        } else if text == "not paid before the order expired" {
            Self::NotPaidInTime
        } else if text.starts_with("rejected by an admin") {
            Self::RejectedByAdmin
        } else if text.starts_with("MoMo ") || text.starts_with("ZaloPay ") {
            Self::GatewayFailed
        } else {
            Self::Other
        }
    }
}

/// Where to send a bank transfer.
#[derive(SimpleObject)]
pub struct BankAccount {
    /// NAPAS BIN of the receiving bank.
    pub bank_bin: String,
    /// The receiving account's number.
    pub account_number: String,
    /// The receiving account holder's name.
    pub account_name: String,
}

/// An order to add money to a user's balance, and how to pay it.
#[Object(name = "TopUp")]
impl TopUpNode {
    /// The top-up's id.
    pub async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The account the top-up credits.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn user(&self, ctx: &Context<'_>) -> Result<UserNode> {
        let user = load_one(ctx, self.0.user_id, UsersById).await?;
        Ok(UserNode(user.ok_or(AppError::NotFound("user"))?))
    }
    /// Whose balance it credits.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// Where the top-up is.
    async fn status(&self) -> TopUpStatus {
        self.0.status
    }
    /// How it is paid.
    async fn method(&self) -> TopUpMethod {
        self.0.method
    }
    /// Đồng (VND) ordered.
    async fn amount(&self) -> Vnd {
        Vnd(self.0.amount)
    }
    /// Đồng (VND) that actually arrived, once something did.
    async fn received_amount(&self) -> Option<Vnd> {
        self.0.received_amount.map(Vnd)
    }
    /// Why it failed, expired or needs review, in English with the details (amounts, the gateway's message).
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    /// Why it failed, expired or needs review, as a code to switch on; null when statusReason is.
    async fn status_reason_code(&self) -> Option<TopUpStatusReason> {
        self.0
            .status_reason
            .as_deref()
            .map(TopUpStatusReason::from_text)
    }
    /// When an unpaid order expires (RFC 3339 UTC): 24 hours for bank transfers, 30 minutes for MoMo, 15 for ZaloPay.
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
    /// The account to transfer to, for BANK_TRANSFER only.
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
    /// When the order was made (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it succeeded, failed or expired (RFC 3339 UTC).
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
}

#[derive(InputObject)]
/// A new top-up order.
pub struct CreateTopUpInput {
    /// How you will pay.
    pub method: TopUpMethod,
    /// Đồng (VND). MoMo: 1,000 to 50,000,000; other methods: the server's configured limits.
    pub amount: Vnd,
}

#[derive(InputObject)]
/// A top-up to credit by hand.
pub struct ConfirmTopUpInput {
    /// The top-up to credit.
    pub id: ID,
    /// Đồng (VND) to credit, positive; defaults to what arrived, else the ordered amount.
    pub amount: Option<Vnd>,
    /// What was checked; kept in the audit log.
    pub note: Option<String>,
}

#[derive(InputObject)]
/// A top-up to mark FAILED.
pub struct RejectTopUpInput {
    /// The PENDING or NEEDS_REVIEW top-up to reject.
    pub id: ID,
    /// Why; shown to the user in statusReason and kept in the audit log.
    pub reason: String,
}

crate::one_field_types!(SimpleObject "answers", top_up: TopUpNode, "The top-up as it is now." =>
    CreateTopUpPayload "createTopUp",
    ConfirmTopUpPayload "confirmTopUp",
    RejectTopUpPayload "rejectTopUp",
);

/// Money that arrived and settled no order, waiting for (or after) an admin's decision.
pub struct UnmatchedPaymentNode(pub UnmatchedPayment);

/// Money that arrived and settled no order, waiting for (or after) an admin's decision.
#[Object(name = "UnmatchedPayment")]
impl UnmatchedPaymentNode {
    /// The unmatched payment's id.
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
    /// Đồng (VND) that arrived.
    async fn amount(&self) -> Vnd {
        Vnd(self.0.amount)
    }
    /// The top-up the payment named, when it named one.
    async fn top_up_id(&self) -> Option<ID> {
        self.0.top_up_id.map(|id| ID(id.to_string()))
    }
    /// Whose top-up it named; the one credited by default.
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(|id| ID(id.to_string()))
    }
    /// Why the payment settled no order.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// What the payment said: memo, order id, or the transfer text.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    /// Whether an admin has decided, and what.
    async fn status(&self) -> UnmatchedPaymentStatus {
        self.0.status
    }
    /// The deciding admin's note.
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution_note.as_deref()
    }
    /// The admin who decided.
    async fn resolved_by(&self) -> Option<ID> {
        self.0.resolved_by.map(|id| ID(id.to_string()))
    }
    /// When it was decided (RFC 3339 UTC).
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// When the payment was recorded (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
/// What an admin decides about an unmatched payment.
pub enum UnmatchedPaymentAction {
    /// Credit the amount to the payer (or to `userId`).
    Credit,
    /// The money was sent back outside the platform.
    RefundedOutside,
    /// Close it with no money moved, such as a test or a duplicate record.
    Ignore,
}

#[derive(InputObject)]
/// An admin's decision about an unmatched payment.
pub struct ResolveUnmatchedPaymentInput {
    /// The unmatched payment, still NEEDS_REVIEW.
    pub id: ID,
    /// What to do with it.
    pub action: UnmatchedPaymentAction,
    /// What was done and why, 1 to 500 characters; kept on the record and in the audit log.
    pub note: String,
    /// Whose balance to credit with CREDIT; needed when the payment named no top-up, overrides its payer otherwise.
    pub user_id: Option<ID>,
}

#[derive(SimpleObject)]
/// The unmatched payment after the decision.
pub struct ResolveUnmatchedPaymentPayload {
    /// The payment, now resolved.
    pub unmatched_payment: UnmatchedPaymentNode,
}
