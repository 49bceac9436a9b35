//! Domain events after commit: Redis pub/sub between nodes, a tokio broadcast inside one.
//!
//! Each process runs one Redis subscriber task that hands every event to [`routes`], which
//! wakes only the streams registered for the event's owner or campaign (or for everything).
//! Without Redis, publishing hands it over directly. A broadcast channel of every event remains
//! for process-wide listeners (`subscribe`).

mod redis_bus;
pub mod routes;
pub mod viewers;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::viewer::Viewer;

pub use redis_bus::RedisPool;
pub use routes::{Listener, Route};
pub use viewers::{ViewerWatch, VIEWER_CHANGED};

/// Small on purpose: subscribers re-read the current state from PostgreSQL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub owner_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub status: Option<String>,
    pub at: DateTime<Utc>,
}

impl Event {
    pub fn new(kind: &str, owner_id: Uuid) -> Self {
        Self {
            kind: kind.to_owned(),
            owner_id,
            campaign_id: None,
            call_id: None,
            status: None,
            at: Utc::now(),
        }
    }

    /// See [`VIEWER_CHANGED`]: open websockets of `user` re-check their tokens.
    pub fn viewer_changed(user: Uuid) -> Self {
        Self::new(VIEWER_CHANGED, user)
    }
}

/// The tenant rule of every subscription, and of any event or row a subscription delivers: an
/// admin sees every owner's, a user only their own. One function, so the rule cannot drift
/// between subscriptions.
pub fn for_viewer(viewer: &Viewer, owner_id: Uuid) -> bool {
    viewer.is_admin() || owner_id == viewer.id
}

const LOCAL_CAPACITY: usize = 4096;

/// Where an event goes once it reached this process.
#[derive(Clone)]
struct Fanout {
    local: broadcast::Sender<Event>,
    routes: Arc<routes::Routes>,
    viewers: Arc<viewers::Viewers>,
}

impl Fanout {
    fn new() -> Self {
        Self {
            local: broadcast::channel(LOCAL_CAPACITY).0,
            routes: Arc::default(),
            viewers: Arc::default(),
        }
    }

    /// Sockets are told of a sign-in change before any stream can read what was published
    /// after it, so a stream that checks its socket's flag never delivers past the change.
    fn deliver(&self, event: Event) {
        if event.kind == VIEWER_CHANGED {
            self.viewers.tick(Some(event.owner_id));
        }
        if self.local.receiver_count() > 0 {
            let _ = self.local.send(event.clone());
        }
        self.routes.deliver(event);
    }
}

#[derive(Clone)]
pub struct EventBus {
    fanout: Fanout,
    redis: Option<Arc<redis_bus::RedisPublisher>>,
}

impl EventBus {
    pub fn in_process() -> Self {
        tracing::info!(
            "events: REDIS_URL unset, using the in-process event bus (single node only)"
        );
        Self {
            fanout: Fanout::new(),
            redis: None,
        }
    }

    /// Connects, and returns once this process is subscribed, so no event published after
    /// start-up is missed.
    pub async fn redis(
        url: &str,
        channel: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let fanout = Fanout::new();
        let publisher = redis_bus::start(url, channel, fanout.clone(), shutdown).await?;
        tracing::info!(channel, "events: using Redis pub/sub");
        Ok(Self {
            fanout,
            redis: Some(Arc::new(publisher)),
        })
    }

    /// Failures are logged, not returned: the state change is already committed and
    /// subscribers recover by re-reading it.
    pub async fn publish(&self, event: Event) {
        match &self.redis {
            Some(redis) => {
                let kind = event.kind.clone();
                if let Err(e) = redis.publish(event).await {
                    // The sender warns once per outage; this is per event.
                    tracing::debug!(error = %e, event.kind = %kind, "event not published to Redis");
                }
            }
            None => self.fanout.deliver(event),
        }
    }

    /// Every event this process receives, for process-wide listeners; a stream that needs
    /// only some should `listen` on their routes instead, so other events do not wake it.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.fanout.local.subscribe()
    }

    /// The events on any of `routes` that this process receives from now on.
    pub fn listen(&self, routes: impl IntoIterator<Item = Route>) -> Listener {
        self.fanout.routes.listen(routes)
    }

    /// Events queued for streams on this process since start: one per stream an event woke.
    pub fn deliveries(&self) -> u64 {
        self.fanout.routes.deliveries()
    }

    /// Streams listening on `route` on this process.
    pub fn listeners(&self, route: Route) -> usize {
        self.fanout.routes.listeners(route)
    }

    /// A place for one more websocket of `user` on this process (at most `max`), told when
    /// `viewer.changed` names the user.
    pub fn watch_viewer(&self, user: Uuid, max: usize) -> Option<ViewerWatch> {
        self.fanout.viewers.admit(user, max)
    }

    /// Open websockets of `user` on this process.
    pub fn viewer_sockets(&self, user: Uuid) -> usize {
        self.fanout.viewers.sockets(user)
    }

    pub fn backend(&self) -> &'static str {
        if self.redis.is_some() {
            "redis"
        } else {
            "in-process"
        }
    }

    pub fn redis_pool(&self) -> Option<RedisPool> {
        self.redis.as_ref().map(|r| r.pool.clone())
    }

    /// `None` when no Redis is configured; otherwise whether it answers PING.
    pub async fn ping(&self) -> Option<Result<(), String>> {
        let redis = self.redis.as_ref()?;
        Some(redis.ping().await.map_err(|e| e.to_string()))
    }
}
