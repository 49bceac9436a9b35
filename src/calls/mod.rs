//! Calls: one row per call attempt on Twilio, and `status::apply`, the only way a call's
//! state changes.

pub mod export;
pub mod graphql;
pub mod jobs;
pub mod model;
pub mod reconcile;
pub mod service;
pub mod snapshots;
pub mod status;
#[cfg(test)]
mod status_props;

pub use model::{Call, CallDirection, CallStatus};
