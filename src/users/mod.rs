//! Accounts: roles, status, and the admin operations on them.

pub mod graphql;
pub mod loaders;
pub mod model;
pub mod password;
pub mod service;
pub mod sort;

pub use model::{Role, User, UserStatus};
