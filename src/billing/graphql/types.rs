//! The billing objects and inputs of the schema: views over model rows, and what changes them.

use async_graphql::{InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use crate::billing::ledger::{Balance, Entry, Kind};
use crate::billing::rates::Rate;

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
