//! Top-ups by VietQR bank transfer (confirmed by SePay/Casso webhooks or an admin), MoMo and
//! ZaloPay. Money only becomes balance through `settle`.

pub mod gateways;
pub mod graphql;
pub mod jobs;
pub mod model;
pub mod protocol;
pub mod service;
pub mod settle;
pub mod sort;
pub mod unmatched;
pub mod unmatched_model;

pub use model::{TopUp, TopUpMethod, TopUpStatus};
