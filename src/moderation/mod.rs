//! What an admin does to a user and everything that follows from it across the platform: a
//! suspension ends the user's sessions and pauses their running campaigns in the same
//! transaction, a demotion never leaves the platform without an active admin. Above the
//! domains it reaches into; `users` itself knows none of them.

pub mod graphql;
pub mod service;
