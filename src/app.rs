//! `AppState`: everything a request, job or webhook needs, built once per process.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
    /// One instance per process of what a domain keeps in memory (caches, shared feeds, turn
    /// semaphores), keyed by its type: the kernel holds them without knowing any domain.
    pub shared: Shared,
    /// The time calling windows are judged at outside the dispatcher (fixed in tests).
    pub clock: crate::clock::Clock,
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
        for url in &config.twilio_allowed_base_urls {
            crate::twilio::endpoint::allow(url)?;
        }
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
            shared: Shared::default(),
            clock: Default::default(),
        })
    }

    pub async fn conn(&self) -> AppResult<DbConn> {
        Ok(self.db.get().await?)
    }
}

/// A map from a type to its one value in this process; values are cheap handles (`Arc` inside)
/// that every clone of the state shares.
#[derive(Clone, Default)]
pub struct Shared(Arc<RwLock<HashMap<TypeId, Box<dyn Any + Send + Sync>>>>);

impl Shared {
    /// The process's `T`, made by `init` on first use.
    pub fn get_or_init<T: Any + Clone + Send + Sync>(&self, init: impl FnOnce() -> T) -> T {
        let found = match self.0.read() {
            Ok(map) => map
                .get(&TypeId::of::<T>())
                .and_then(|v| v.downcast_ref::<T>())
                .cloned(),
            Err(poisoned) => poisoned
                .get_ref()
                .get(&TypeId::of::<T>())
                .and_then(|v| v.downcast_ref::<T>())
                .cloned(),
        };
        if let Some(value) = found {
            return value;
        }
        let mut map = match self.0.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(init()))
            .downcast_ref::<T>()
            .cloned()
            .unwrap_or_else(|| unreachable!("the entry for a type holds that type"))
    }

    /// The process's `T`, its default on first use.
    pub fn get<T: Any + Clone + Default + Send + Sync>(&self) -> T {
        self.get_or_init(T::default)
    }
}
