//! The people a campaign calls: one row per number per campaign, normalised to E.164.

pub mod graphql;
pub mod import;
pub mod loaders;
pub mod model;
pub mod service;
pub mod sort;

pub use model::{Contact, ContactState};
