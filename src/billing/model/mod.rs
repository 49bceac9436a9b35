//! The `balances`, `ledger_entries` and `rates` tables. Whether an entry may be posted and
//! what a call costs are decided in `ledger` and `rates`.

mod balances;
mod ledger_entries;
mod rates;

pub use balances::Balance;
pub use ledger_entries::{
    CallMoneyRow, Entry, LedgerFilter, Line, NewEntry, NewHolds, OpenHold, ENTRY_COLUMNS,
};
pub use rates::{Rate, RateInput};

crate::text_enum! {
    pub enum LedgerEntryKind {
        Topup => "TOPUP",
        CallHold => "CALL_HOLD",
        HoldRelease => "HOLD_RELEASE",
        CallCharge => "CALL_CHARGE",
        Refund => "REFUND",
        Adjustment => "ADJUSTMENT",
    }
}
