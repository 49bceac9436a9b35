//! Phone numbers (DIDs) we own on Twilio: purchase, assignment to users, forwarding,
//! webhooks, health, and release.

pub mod accounts;
pub mod accounts_graphql;
mod assignment;
mod forwarding;
pub mod graphql;
pub mod graphql_types;
mod health;
mod import;
pub mod jobs;
pub mod loaders;
mod lookup;
pub mod model;
mod numbers;
mod purchase;
mod release;
pub mod service;
pub mod sort;
mod webhooks;

pub use model::{Did, DidStatus};
