//! The Redis side of the event bus: a bb8 pool for PUBLISH and one subscriber task.

use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

use super::Event;

pub type RedisPool = bb8_redis::bb8::Pool<RedisConnectionManager>;

pub struct RedisPublisher {
    pub pool: RedisPool,
    channel: String,
}

impl RedisPublisher {
    pub async fn publish(&self, event: &Event) -> anyhow::Result<()> {
        let payload = serde_json::to_string(event)?;
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("redis pool: {e}"))?;
        let _: i64 = conn.publish(&self.channel, payload).await?;
        Ok(())
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("redis pool: {e}"))?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await?;
        Ok(())
    }
}

pub async fn start(
    url: &str,
    channel: &str,
    local: broadcast::Sender<Event>,
    shutdown: CancellationToken,
) -> anyhow::Result<RedisPublisher> {
    let manager = RedisConnectionManager::new(url)?;
    let pool = bb8_redis::bb8::Pool::builder()
        .max_size(16)
        .connection_timeout(Duration::from_secs(3))
        .build(manager)
        .await?;
    let client = redis::Client::open(url)?;
    let (ready_tx, ready_rx) = oneshot::channel();
    tokio::spawn(subscriber_loop(
        client,
        channel.to_owned(),
        local,
        shutdown,
        ready_tx,
    ));
    tokio::time::timeout(Duration::from_secs(5), ready_rx)
        .await
        .map_err(|_| anyhow::anyhow!("timed out subscribing to Redis"))?
        .map_err(|_| anyhow::anyhow!("the Redis subscriber stopped before subscribing"))??;
    Ok(RedisPublisher {
        pool,
        channel: channel.to_owned(),
    })
}

/// Reconnects with backoff when Redis goes away, so subscriptions resume after a restart.
async fn subscriber_loop(
    client: redis::Client,
    channel: String,
    local: broadcast::Sender<Event>,
    shutdown: CancellationToken,
    ready: oneshot::Sender<anyhow::Result<()>>,
) {
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(100);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        }
        .await;
        let pubsub = match subscribed {
            Ok(pubsub) => pubsub,
            Err(e) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(e.into()));
                    return;
                }
                tracing::warn!(error = %e, "Redis subscriber cannot connect; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        } else {
            tracing::info!("Redis subscriber reconnected");
        }
        backoff = Duration::from_millis(100);
        let mut messages = pubsub.into_on_message();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                msg = messages.next() => {
                    let Some(msg) = msg else { break };
                    let parsed = msg
                        .get_payload::<String>()
                        .map_err(anyhow::Error::from)
                        .and_then(|p| serde_json::from_str::<Event>(&p).map_err(anyhow::Error::from));
                    match parsed {
                        Ok(event) => {
                            let _ = local.send(event);
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed event from Redis"),
                    }
                }
            }
        }
        tracing::warn!("Redis subscription closed; reconnecting");
    }
}
