//! What an operator needs to see at a glance: dependencies, backlogs and lag.

pub mod graphql;
pub mod service;
