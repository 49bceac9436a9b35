//! Ringcast: a GraphQL server for automated outbound calling campaigns.

pub mod app;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod cli;
pub mod compliance;
pub mod config;
pub mod contacts;
pub mod crypto;
pub mod db;
pub mod dids;
pub mod emulator;
pub mod error;
pub mod events;
pub mod forwarded;
pub mod graphql;
pub mod jobs;
pub mod keys;
pub mod observability;
pub mod phone;
pub mod server;
pub mod twilio;
pub mod twilio_accounts;
pub mod users;
pub mod webhooks;
