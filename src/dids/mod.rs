//! Phone numbers (DIDs) we own on Twilio: purchase, assignment to users, forwarding,
//! webhooks, health, and release.

pub mod graphql;
pub mod jobs;
pub mod model;
pub mod service;

pub use model::{Did, DidStatus};
