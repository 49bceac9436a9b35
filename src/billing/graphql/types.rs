//! The billing objects and inputs of the schema: views over model rows, and what changes them.

use async_graphql::{InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use crate::billing::ledger::{Balance, Entry, Kind};
use crate::billing::rates::Rate;
use crate::graphql::Vnd;

/// A user's balance, in đồng (VND).
#[derive(SimpleObject, Clone, Copy)]
#[graphql(name = "Balance")]
pub struct BalanceView {
    /// Sum of the ledger: top-ups, charges, refunds and adjustments.
    pub posted: Vnd,
    /// Posted minus the holds of calls in progress; what new calls can use.
    pub available: Vnd,
    /// Held for calls that have not ended yet.
    pub held: Vnd,
}

impl From<Balance> for BalanceView {
    fn from(b: Balance) -> Self {
        Self {
            posted: Vnd(b.posted),
            available: Vnd(b.available()),
            held: Vnd(b.held),
        }
    }
}

pub struct LedgerEntryNode(pub Entry);

/// One movement of a user's money; the ledger is append-only.
#[Object(name = "LedgerEntry")]
impl LedgerEntryNode {
    /// The entry's globally unique id, `LedgerEntry:<n>` (the number grows with time).
    pub async fn id(&self) -> ID {
        crate::graphql::ids::numbered_id("LedgerEntry", self.0.id)
    }
    /// Whose balance the entry moved.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// What moved the money.
    async fn kind(&self) -> Option<Kind> {
        self.0.kind.parse().ok()
    }
    /// Change of the posted balance (negative for charges and debits).
    async fn amount(&self) -> Vnd {
        Vnd(self.0.amount)
    }
    /// Change of the held amount (holds positive, releases and charges negative).
    async fn held_change(&self) -> Vnd {
        Vnd(self.0.held_change)
    }
    /// The posted balance in đồng (VND) right after this entry.
    async fn posted_after(&self) -> Vnd {
        Vnd(self.0.posted_after)
    }
    /// The available balance in đồng (VND) right after this entry.
    async fn available_after(&self) -> Vnd {
        Vnd(self.0.available_after)
    }
    /// The call a hold, release or charge is for.
    async fn call_id(&self) -> Option<ID> {
        self.0.call_id.map(|id| ID(id.to_string()))
    }
    /// The campaign of that call, if it had one.
    async fn campaign_id(&self) -> Option<ID> {
        self.0.campaign_id.map(|id| ID(id.to_string()))
    }
    /// The top-up a TOPUP entry credits.
    async fn top_up_id(&self) -> Option<ID> {
        self.0.top_up_id.map(|id| ID(id.to_string()))
    }
    /// The admin who made an adjustment.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }
    /// Why: the admin's reason for an adjustment, or a note from the system.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// When the entry was written (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject, Default)]
/// Narrows the ledger; all given conditions must hold.
#[graphql(name = "LedgerEntryFilter")]
pub struct LedgerFilterInput {
    /// Admins only; others always see their own ledger.
    pub user_id: Option<ID>,
    /// Only entries of these kinds.
    pub kinds: Option<Vec<Kind>>,
    /// Only entries for calls of this campaign.
    pub campaign_id: Option<ID>,
    /// Only entries for this call.
    pub call_id: Option<ID>,
    /// Only entries written at or after this instant (RFC 3339 UTC).
    pub since: Option<DateTime<Utc>>,
    /// Only entries written before this instant (RFC 3339 UTC).
    pub until: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
#[graphql(name = "Rate")]
/// The price of calls to numbers starting with a prefix.
pub struct RateView {
    /// Digits after '+' the destination starts with; empty for the default rate.
    pub prefix: String,
    /// Đồng (VND) per minute of talk, billed in the increments below.
    pub per_minute: Vnd,
    /// Seconds billed at least once a call is answered (60 in 60/60, 6 in 6/6).
    pub initial_increment: i32,
    /// Seconds each further step bills.
    pub billing_increment: i32,
    /// Charged for every call the carrier accepted, answered or not.
    pub connection_fee: Vnd,
    /// Free text, such as the destination's name.
    pub description: Option<String>,
    /// When the rate was last set (RFC 3339 UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<Rate> for RateView {
    fn from(r: Rate) -> Self {
        Self {
            prefix: r.prefix,
            per_minute: Vnd(r.per_minute),
            initial_increment: r.initial_increment,
            billing_increment: r.billing_increment,
            connection_fee: Vnd(r.connection_fee),
            description: r.description,
            updated_at: r.updated_at,
        }
    }
}

#[derive(InputObject)]
/// A rate to add or replace.
pub struct SetRateInput {
    /// Digits the destination starts with, without '+', at most 15 (84, 8491 ...); empty for the default rate.
    pub prefix: String,
    /// Đồng (VND) per minute, 0 to 10,000,000.
    pub per_minute: Vnd,
    #[graphql(default = 60)]
    /// Seconds billed at least once a call is answered, 1 to 3600 (default 60).
    pub initial_increment: i32,
    #[graphql(default = 60)]
    /// Seconds each further step bills, 1 to 3600 (default 60).
    pub billing_increment: i32,
    #[graphql(default = 0)]
    /// Đồng (VND) charged for every call the carrier accepted, 0 to 10,000,000 (default 0).
    pub connection_fee: Vnd,
    /// Free text, such as the destination's name.
    pub description: Option<String>,
}

#[derive(SimpleObject)]
/// What a call to one number would cost now.
pub struct CallQuote {
    /// The number as dialed (E.164).
    pub to: String,
    /// The rate the number is priced at: its longest matching prefix, else the default.
    pub rate: RateView,
    /// Đồng (VND) for one minute of talk, with the connection fee.
    pub first_minute: Vnd,
    /// The longest a call may last; the hold covers a call this long.
    pub max_duration_secs: i32,
    /// Đồng (VND) held from the available balance while such a call is in progress.
    pub hold: Vnd,
}

#[derive(SimpleObject)]
/// One line of a monthly statement.
pub struct StatementLine {
    /// The Vietnam calendar day, YYYY-MM-DD.
    pub date: String,
    /// What moved the money.
    pub kind: Option<Kind>,
    /// The campaign, for call charges.
    pub campaign_id: Option<ID>,
    /// What the line is, in words.
    pub description: String,
    /// Change of the posted balance in đồng (VND): positive credits, negative debits.
    pub amount: Vnd,
    /// Ledger entries summed into this line (call charges are summed per day and campaign).
    pub entries: i64,
}

#[derive(SimpleObject)]
/// A user's money for one Vietnam calendar month.
pub struct Statement {
    /// The month, YYYY-MM.
    pub month: String,
    /// Whose statement it is.
    pub user_id: ID,
    /// Posted balance in đồng (VND) when the month began.
    pub opening_balance: Vnd,
    /// Posted balance in đồng (VND) when the month ended (or now, for the current month).
    pub closing_balance: Vnd,
    /// Sum of the month's positive lines, in đồng (VND).
    pub credits: Vnd,
    /// Sum of the month's negative lines, as a positive number of đồng (VND).
    pub debits: Vnd,
    /// The month's movements of money, oldest first.
    pub lines: Vec<StatementLine>,
    /// The same statement as CSV.
    pub csv: String,
}

#[derive(InputObject)]
/// A manual change of a user's balance.
pub struct AdjustBalanceInput {
    /// Whose balance to change.
    pub user_id: ID,
    /// Đồng (VND), non-zero; negative to debit. A debit cannot take the available balance below zero.
    pub amount: Vnd,
    /// Why, 1 to 500 characters; kept on the entry and in the audit log.
    pub reason: String,
}

crate::one_field_types!(SimpleObject "answers", rate: RateView, "The rate as stored." =>
    SetRatePayload "setRate",
);

crate::one_field_types!(SimpleObject "answers", rate: RateView, "The rate that was removed." =>
    DeleteRatePayload "deleteRate",
);

crate::one_field_types!(InputObject "takes", prefix: String,
    "The prefix to remove, digits without '+'; empty for the default rate." =>
    DeleteRateInput "deleteRate",
);

crate::one_field_types!(SimpleObject "answers", entry: LedgerEntryNode,
    "The ledger entry the adjustment posted." =>
    AdjustBalancePayload "adjustBalance",
);
