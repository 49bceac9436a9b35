//! Calls: one row per call attempt on Twilio, and `status::apply`, the only way a call's
//! state changes.

pub mod export;
pub mod filter;
pub mod graphql;
pub mod holds;
pub mod jobs;
pub mod leg;
pub mod loaders;
pub mod model;
mod page;
pub mod reconcile;
pub mod service;
pub mod snapshots;
pub mod sort;
pub mod status;
#[cfg(test)]
mod status_props;

pub use jobs::CallEnded;
pub use model::{Call, CallDirection, CallStatus};
