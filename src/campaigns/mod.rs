//! Campaigns: what to say, to whom, when, how fast, with what consent; and their lifecycle.

pub mod autopause;
pub mod cloning;
pub mod contacts;
pub mod graphql;
pub mod imports;
pub mod jobs;
pub mod listing;
pub mod loaders;
pub mod model;
pub mod preflight;
pub mod progress;
pub mod service;
pub mod settings;
pub mod sort;
pub mod stats;
pub mod voices;

pub use model::{Campaign, CampaignStatus};
