//! The `balances`, `ledger_entries` and `rates` tables. Whether an entry may be posted and
//! what a call costs are decided in `ledger` and `rates`.

mod balances;
mod ledger_entries;
mod rates;
mod statement_rows;

pub use balances::Balance;
pub use ledger_entries::{
    CallMoneyRow, Entry, LedgerFilter, NewEntry, NewHolds, OpenHold, ENTRY_COLUMNS,
};
pub use rates::{Rate, RateInput};
pub use statement_rows::Line;

crate::text_enum! {
    /// What moved a user's money.
    pub enum LedgerEntryKind {
        /// A top-up credited.
        Topup => "TOPUP",
        /// Money held from the available balance for a call being dialed.
        CallHold => "CALL_HOLD",
        /// What is left of a call's hold, released when the call ended.
        HoldRelease => "HOLD_RELEASE",
        /// What a call cost, charged when it ended.
        CallCharge => "CALL_CHARGE",
        /// Money returned to the balance.
        Refund => "REFUND",
        /// A manual credit or debit by an admin.
        Adjustment => "ADJUSTMENT",
    }
}
