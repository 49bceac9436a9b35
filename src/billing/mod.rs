//! Prepaid balances: the append-only VND ledger, call holds and charges, the rate table and
//! monthly statements.

pub mod graphql;
pub mod ledger;
pub mod loaders;
pub mod model;
pub mod rates;
pub mod service;
pub mod statement;

pub use ledger::Balance;
