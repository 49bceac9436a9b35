//! Twilio accounts we place calls through: credentials sealed at rest, health, number import,
//! and the built-in "Simulated" account backed by the in-process emulator.

pub mod cache;
pub mod graphql;
pub mod jobs;
pub mod model;
pub mod service;

pub use model::{AccountStatus, TwilioAccount};
