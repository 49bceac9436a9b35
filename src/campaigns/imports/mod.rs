//! Contact imports in the background: `importContacts` stores the file and enqueues
//! `ProcessImport` in one transaction and answers at once; the job reads the file in chunks,
//! each committed with the import's counters and checkpoint, and publishes progress after each.

pub mod file;
pub mod graphql;
pub mod job;
pub mod model;
pub mod service;
pub mod subscription;

pub use job::ProcessImport;
pub use model::{Import, ImportStatus};
