//! Campaigns: what to say, to whom, when, how fast, with what consent; and their lifecycle.

pub mod autopause;
pub mod graphql;
pub mod jobs;
pub mod model;
pub mod preflight;
pub mod service;
pub mod settings;
pub mod stats;

pub use model::{Campaign, CampaignStatus};
