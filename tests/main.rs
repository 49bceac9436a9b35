//! Integration tests: real PostgreSQL (a fresh database per test, cloned from a migrated
//! template) and real Redis, requests through the real router.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod helpers;

mod account_security;
mod api_contract;
mod api_keys;
mod auth;
mod batch_claims;
mod binary;
mod campaigns;
mod caps;
mod compliance;
mod counters;
mod denial_of_service;
mod dispatch;
mod dispatch_rules;
mod embedded_postgres;
mod emulator;
mod emulator_numbers;
mod events;
mod exports;
mod faults;
mod hostile;
mod imports;
mod isolation;
mod jobs;
mod ledger_props;
mod limits;
mod metrics_access;
mod money;
mod n_plus_one;
mod nodes;
mod ordering;
mod payments;
mod payments_unmatched;
mod payments_webhook_limits;
mod reconcile;
mod redis_outage;
mod restarts;
mod schema;
mod schema_contract;
mod secrets;
mod status_props;
mod suspension;
mod toll_fraud;
mod twilio;
mod twilio_endpoints;
mod users;
mod webhook_transactions;
mod websockets;
mod windows;
