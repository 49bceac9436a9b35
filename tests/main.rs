//! Integration tests: real PostgreSQL (a fresh database per test, cloned from a migrated
//! template) and real Redis, requests through the real router.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod helpers;

mod auth;
mod binary;
mod campaigns;
mod compliance;
mod dispatch;
mod embedded_postgres;
mod emulator;
mod events;
mod faults;
mod hostile;
mod isolation;
mod jobs;
mod ledger_props;
mod limits;
mod money;
mod nodes;
mod payments;
mod reconcile;
mod redis_outage;
mod restarts;
mod schema;
mod secrets;
mod twilio;
mod users;
mod windows;
