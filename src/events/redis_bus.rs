//! The Redis side of the event bus: a bb8 pool for PUBLISH and one subscriber task.

use std::time::{Duration, Instant};

use bb8_redis::RedisConnectionManager;
use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Event, Fanout};

pub type RedisPool = bb8_redis::bb8::Pool<RedisConnectionManager>;

pub struct RedisPublisher {
    pub pool: RedisPool,
    /// Events for the sender task, each with a reply for its publisher.
    queue: mpsc::Sender<Queued>,
}

type Queued = (Event, oneshot::Sender<Result<(), String>>);

/// Events held while Redis is slow; past this they are dropped (subscribers re-read state).
const QUEUE: usize = 4096;
/// After a failed PUBLISH, events are dropped without trying for this long, so a dead Redis
/// costs one connection timeout per interval rather than one per event.
const DOWN_FOR: Duration = Duration::from_secs(1);
/// How long a publisher (a webhook, a placement, a mutation) waits for its event to be on
/// Redis. A healthy PUBLISH takes well under a millisecond, so a mutation's event is out before
/// it answers; a slow or dead Redis never holds anyone's database connection longer than this.
const PUBLISH_WAIT: Duration = Duration::from_millis(250);

impl RedisPublisher {
    pub async fn publish(&self, event: Event) -> anyhow::Result<()> {
        let (reply, replied) = oneshot::channel();
        self.queue
            .try_send((event, reply))
            .map_err(|_| anyhow::anyhow!("the Redis publish queue is full; event dropped"))?;
        match tokio::time::timeout(PUBLISH_WAIT, replied).await {
            Ok(Ok(published)) => published.map_err(|e| anyhow::anyhow!(e)),
            Ok(Err(_)) => anyhow::bail!("the Redis sender stopped"),
            Err(_) => anyhow::bail!(
                "Redis did not take the event within {PUBLISH_WAIT:?}; it stays queued"
            ),
        }
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
    local: Fanout,
    shutdown: CancellationToken,
) -> anyhow::Result<RedisPublisher> {
    let manager = RedisConnectionManager::new(url)?;
    let pool = bb8_redis::bb8::Pool::builder()
        .max_size(16)
        // Redis answers in microseconds; a connection that takes a second is an outage, and a
        // shorter wait means publishing resumes sooner once Redis is back.
        .connection_timeout(Duration::from_secs(1))
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
    let (queue, queued) = mpsc::channel(QUEUE);
    tokio::spawn(sender_loop(pool.clone(), channel.to_owned(), queued));
    Ok(RedisPublisher { pool, queue })
}

/// Publishes queued events in order. While Redis is down, events are dropped (logged once per
/// outage, with the count when it answers again): the state they announce is committed.
async fn sender_loop(pool: RedisPool, channel: String, mut queue: mpsc::Receiver<Queued>) {
    let mut down_until: Option<Instant> = None;
    let mut dropped = 0u64;
    // Runs until the bus is dropped, so events published while shutting down still go out.
    while let Some((event, reply)) = queue.recv().await {
        if down_until.is_some_and(|until| Instant::now() < until) {
            dropped += 1;
            let _ = reply.send(Err("Redis is unreachable; event dropped".into()));
            continue;
        }
        match send(&pool, &channel, &event).await {
            Ok(()) => {
                if dropped > 0 {
                    tracing::info!(dropped, "Redis answers again; publishing events");
                }
                down_until = None;
                dropped = 0;
                let _ = reply.send(Ok(()));
            }
            Err(e) => {
                if dropped == 0 {
                    tracing::warn!(error = %e, "cannot publish to Redis; dropping events until it answers");
                }
                dropped += 1;
                down_until = Some(Instant::now() + DOWN_FOR);
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
}

async fn send(pool: &RedisPool, channel: &str, event: &Event) -> anyhow::Result<()> {
    let payload = serde_json::to_string(event)?;
    let mut conn = pool
        .get()
        .await
        .map_err(|e| anyhow::anyhow!("redis pool: {e}"))?;
    let _: i64 = conn.publish(channel, payload).await?;
    Ok(())
}

/// Reconnects with backoff when Redis goes away, so subscriptions resume after a restart.
async fn subscriber_loop(
    client: redis::Client,
    channel: String,
    local: Fanout,
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
                // At most a second: a refused connect costs nothing, and subscriptions resume
                // within a second of Redis coming back.
                backoff = (backoff * 2).min(Duration::from_secs(1));
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
                        Ok(event) => local.deliver(event),
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed event from Redis"),
                    }
                }
            }
        }
        tracing::warn!("Redis subscription closed; reconnecting");
    }
}
