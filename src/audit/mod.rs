//! The audit trail: one row for every admin action and every automatic change to money or numbers.

pub mod graphql;
pub mod model;
pub mod service;
