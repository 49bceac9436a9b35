//! Embedded migrations, run through `AsyncConnectionWrapper` so no libpq is needed at run time.

use std::collections::BTreeSet;

use diesel::migration::MigrationSource;
use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Held while migrating so several nodes starting at once migrate one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x7269_6e67_6361_7374; // "ringcast"

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    /// Applied in the database but unknown to this binary: a newer binary migrated it.
    pub unknown: Vec<String>,
}

impl MigrationState {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

pub fn known_versions() -> BTreeSet<String> {
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap_or_default()
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}

/// Runs the blocking migration harness off the async runtime's worker threads.
async fn blocking<T: Send + 'static>(
    database_url: &str,
    f: impl FnOnce(&mut SyncConn) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConn::establish(&url)?;
        f(&mut conn)
    })
    .await?
}

pub async fn state(database_url: &str) -> anyhow::Result<MigrationState> {
    blocking(database_url, state_on).await
}

fn state_on(conn: &mut SyncConn) -> anyhow::Result<MigrationState> {
    let applied: BTreeSet<String> = conn
        .applied_migrations()
        .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))?
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    let known = known_versions();
    Ok(MigrationState {
        pending: known.difference(&applied).cloned().collect(),
        unknown: applied.difference(&known).cloned().collect(),
        applied: applied.into_iter().collect(),
    })
}

/// Applies pending migrations; refuses when the database is ahead of this binary.
pub async fn run(database_url: &str) -> anyhow::Result<Vec<String>> {
    blocking(database_url, |conn| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")),
            conn,
        )?;
        let result = (|| {
            let before = state_on(conn)?;
            if !before.unknown.is_empty() {
                anyhow::bail!(
                    "the database has migrations this binary does not know ({}); \
                     run a newer ringcast or point DATABASE_URL elsewhere",
                    before.unknown.join(", ")
                );
            }
            let applied = conn
                .run_pending_migrations(MIGRATIONS)
                .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
            Ok(applied.into_iter().map(|v| v.to_string()).collect())
        })();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")),
            conn,
        )?;
        result
    })
    .await
}
