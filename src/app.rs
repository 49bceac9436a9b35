//! `AppState`: everything a request, job or webhook needs, built once per process.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::crypto::Cipher;
use crate::db::{self, DbConn, DbPool};
use crate::error::AppResult;
use crate::events::EventBus;
use crate::keys::Keys;

#[derive(Clone)]
pub struct AppState {
    pub db: DbPool,
    /// For work the pool cannot do, such as streaming a COPY on a connection of its own.
    pub database_url: Arc<crate::config::Secret>,
    pub events: EventBus,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    /// Seals and opens secrets stored in the database (Twilio auth tokens).
    pub cipher: Cipher,
    /// Shared HTTP client for Twilio and gateways (connection pooling, timeouts).
    pub http: reqwest::Client,
    /// Base URL for links and webhook URLs (`PUBLIC_URL`, or the bound local port).
    pub public_url: Arc<str>,
    /// Cancelled on SIGTERM/SIGINT; long-running tasks stop claiming work.
    pub shutdown: CancellationToken,
    /// Open websockets, so shutdown can wait for their close frames to go out.
    pub websockets: tokio_util::task::TaskTracker,
    /// Calls as last read for an event, shared by the subscribers it wakes.
    pub call_snapshots: crate::calls::snapshots::Snapshots,
}

impl AppState {
    /// Wires the state from settings; `database_url` comes from `db::embedded::resolve`.
    pub async fn build(
        config: Config,
        database_url: &str,
        keys: Keys,
        public_url: String,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let pool = db::pool(database_url, config.database_pool_size)?;
        let events = match &config.redis_url {
            Some(url) => {
                EventBus::redis(url.expose(), &config.events_channel, shutdown.clone()).await?
            }
            None => EventBus::in_process(),
        };
        let cipher = Cipher::from_key(&keys.encryption_key)?;
        Ok(Self {
            cipher,
            http: crate::twilio::TwilioClient::http_client(),
            db: pool,
            database_url: Arc::new(crate::config::Secret::new(database_url)),
            events,
            config: Arc::new(config),
            keys: Arc::new(keys),
            public_url: public_url.into(),
            shutdown,
            websockets: tokio_util::task::TaskTracker::new(),
            call_snapshots: Default::default(),
        })
    }

    pub async fn conn(&self) -> AppResult<DbConn> {
        Ok(self.db.get().await?)
    }
}
