//! Subscriptions: `SUBSCRIBERS` (10,000) graphql-transport-ws connections to one `ringcast
//! serve` process, each subscribed to `callUpdated(campaignId)` of one of `SUB_USERS` (100)
//! users' campaigns (so 100 dashboards per campaign). This process publishes call events at
//! each of the `EVENT_RATE` rates (5 and 50 per second) for `DURATION` (10) seconds onto the
//! Redis event bus exactly as
//! another node's `calls::status::apply` would; the server fans each out to its subscribers,
//! each of which re-reads the call from PostgreSQL before sending it. Measured: deliveries per
//! second, publish-to-receive latency, the server's memory. Baselines: the same events through
//! the event bus alone (Redis pub/sub to one in-process subscriber); for memory, the idle
//! server and what the same number of client-side connections cost this process.
//!
//! Every connection is a file descriptor here and in the server: `ulimit -n` must exceed
//! `SUBSCRIBERS` (plus a few hundred).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use futures_util::{stream, SinkExt, StreamExt};
use ringcast::events::{Event, EventBus};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::support::{
    bulk_account, bulk_calls, bulk_campaigns, bulk_users, env_list, env_usize, memory_kib, ms,
    open_files_limit, ratio, redis_url, thousands, Latencies, Node, Row, Scratch, World,
};

const SUBSCRIPTION: &str =
    "subscription($c: ID!) { callUpdated(campaignId: $c) { id status durationSecs } }";

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let subscribers = env_usize("SUBSCRIBERS", 10_000);
    let users = env_usize("SUB_USERS", 100).clamp(1, subscribers.max(1));
    let rates = env_list("EVENT_RATE", &[5, 50]);
    let secs = env_usize("DURATION", 10).max(1);
    let limit = open_files_limit();
    if limit < subscribers as u64 + 500 {
        bail!("open files limit {limit} is too low for {subscribers} websockets: raise it (ulimit -n 20000)");
    }
    Scratch::with(|url| measure(url, subscribers, users, &rates, secs)).await
}

/// What the reader tasks share.
struct Shared {
    epoch: Instant,
    /// Call id -> event number, for the measured events.
    index: HashMap<String, usize>,
    /// When each event was published, in ns since `epoch` (0 = not yet).
    published: Vec<AtomicU64>,
    received: AtomicUsize,
    last_receipt: AtomicU64,
    /// Sockets that have received anything (warm-up).
    warm: AtomicUsize,
    errors: AtomicUsize,
    latencies: Mutex<Vec<Duration>>,
}

impl Shared {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn on_text(&self, text: &str, warm: &mut bool) -> Option<Value> {
        let msg: Value = serde_json::from_str(text).ok()?;
        match msg["type"].as_str() {
            Some("next") => {
                if !*warm {
                    *warm = true;
                    self.warm.fetch_add(1, Ordering::Relaxed);
                }
                let id = msg["payload"]["data"]["callUpdated"]["id"].as_str()?;
                let j = *self.index.get(id)?;
                let at = self.published[j].load(Ordering::Acquire);
                if at > 0 {
                    let now = self.now();
                    self.received.fetch_add(1, Ordering::Relaxed);
                    self.last_receipt.fetch_max(now, Ordering::Relaxed);
                    if let Ok(mut l) = self.latencies.lock() {
                        l.push(Duration::from_nanos(now.saturating_sub(at)));
                    }
                }
                None
            }
            Some("ping") => Some(json!({"type": "pong"})),
            Some("error") | Some("complete") => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                None
            }
            _ => None,
        }
    }
}

#[derive(diesel::QueryableByName)]
struct CallRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    owner_id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    campaign_id: uuid::Uuid,
}

fn event(call: &CallRow) -> Event {
    let mut e = Event::new(ringcast::calls::status::EVENT_CALL_UPDATED, call.owner_id);
    e.campaign_id = Some(call.campaign_id);
    e.call_id = Some(call.id);
    e.status = Some("COMPLETED".into());
    e
}

/// One publishing rate's outcome.
struct Phase {
    rate: usize,
    events: std::ops::Range<usize>,
    expected: usize,
    delivered: f64,
    lost: usize,
    latencies: Latencies,
}

async fn measure(
    url: String,
    subscribers: usize,
    users: usize,
    rates: &[usize],
    secs: usize,
) -> anyhow::Result<Vec<Row>> {
    let world = World::start(&url, 4).await?;
    let account = bulk_account(&world).await?;
    let people = bulk_users(&world, users).await?;
    let owners: Vec<uuid::Uuid> = people.iter().map(|(id, _)| *id).collect();
    let campaigns = bulk_campaigns(&world, &owners).await?;
    let events: usize = rates.iter().map(|r| r * secs).sum();
    bulk_calls(&world, events + 20 * users, account, &owners, &campaigns).await?;
    let calls: Vec<CallRow> = {
        let mut conn = world.state.db.get().await?;
        diesel_async::RunQueryDsl::load(
            diesel::sql_query("SELECT id, owner_id, campaign_id FROM calls ORDER BY id"),
            &mut conn,
        )
        .await?
    };
    // One call per campaign for warming up; the measured events use the others, once each.
    let mut warmup: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut measured = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        match warmup.entry(c.campaign_id) {
            std::collections::hash_map::Entry::Occupied(_) => measured.push(i),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
    measured.truncate(events);
    let per_campaign: HashMap<uuid::Uuid, usize> =
        (0..subscribers).fold(HashMap::new(), |mut m, s| {
            *m.entry(campaigns[s % users]).or_default() += 1;
            m
        });
    let mut phases = Vec::new();
    let mut from = 0;
    for &rate in rates {
        let range = from..(from + rate * secs).min(measured.len());
        from = range.end;
        let expected = measured[range.clone()]
            .iter()
            .map(|&i| {
                per_campaign
                    .get(&calls[i].campaign_id)
                    .copied()
                    .unwrap_or(0)
            })
            .sum();
        phases.push(Phase {
            rate,
            events: range,
            expected,
            delivered: 0.0,
            lost: 0,
            latencies: Latencies::new(Vec::new()),
        });
    }

    let channel = format!("ringcast:bench:{}", uuid::Uuid::new_v4().simple());
    // Each bench user holds subscribers / users sockets, far above a real user's cap.
    let sockets_per_user = subscribers.div_ceil(users).to_string();
    let node = Node::start(
        "serve",
        &url,
        &[
            ("REDIS_URL", &redis_url()),
            ("EVENTS_CHANNEL", &channel),
            ("WS_MAX_SOCKETS_PER_USER", &sockets_per_user),
        ],
    )
    .await?;
    let fleet = Fleet {
        calls: &calls,
        warmup: &warmup,
        measured: &measured,
        campaigns: &campaigns,
        people: &people,
    };
    let outcome = drive(&node, &fleet, subscribers, &mut phases, &channel).await;
    node.stop().await?;
    let (idle, subscribed, peak, client) = outcome?;
    let fanout = subscribers / users;
    let mut rows = Vec::new();
    for phase in &phases {
        let bus = bus_alone(&calls, &measured[phase.events.clone()], phase.rate).await?;
        let offered = (phase.rate * fanout) as f64;
        rows.push(Row::new(
            format!(
                "Subscriptions: events delivered/s to {} subscribers, {} events/s x {fanout} each",
                thousands(subscribers as f64),
                phase.rate
            ),
            format!(
                "{}/s ({} of {} lost)",
                thousands(phase.delivered),
                phase.lost,
                phase.expected
            ),
            format!("offered: {}/s", thousands(offered)),
            ratio(phase.delivered, offered),
        ));
        let l = &phase.latencies;
        rows.push(Row::new(
            format!(
                "Subscriptions: publish-to-receive p50 / p99 at {} events/s",
                phase.rate
            ),
            format!("{} / {}", ms(l.pct(50.0)), ms(l.pct(99.0))),
            format!(
                "event bus alone (Redis pub/sub, 1 subscriber): {} / {}",
                ms(bus.pct(50.0)),
                ms(bus.pct(99.0))
            ),
            ratio(l.pct(99.0).as_secs_f64(), bus.pct(99.0).as_secs_f64()),
        ));
    }
    let mb = |kib: u64| kib as f64 / 1024.0;
    rows.push(Row::new(
        format!(
            "Subscriptions: server memory with {} subscribers",
            thousands(subscribers as f64)
        ),
        format!(
            "{:.0} MB resident ({:.0} MB peak), {:.1} KB per subscriber",
            mb(subscribed),
            mb(peak),
            subscribed.saturating_sub(idle) as f64 / subscribers as f64
        ),
        format!(
            "server idle: {:.0} MB; the {} client ends in the bench (tungstenite, {} KiB read buffer): {:.0} MB",
            mb(idle),
            thousands(subscribers as f64),
            env_usize("CLIENT_BUFFER_KIB", 4),
            mb(client)
        ),
        ratio(
            subscribed.saturating_sub(idle) as f64,
            client as f64,
        ),
    ));
    Ok(rows)
}

/// The calls events are about, and who watches them.
struct Fleet<'a> {
    calls: &'a [CallRow],
    warmup: &'a HashMap<uuid::Uuid, usize>,
    measured: &'a [usize],
    campaigns: &'a [uuid::Uuid],
    people: &'a [(uuid::Uuid, String)],
}

/// Connects everyone, warms up, publishes each phase; (idle, subscribed, peak) server KiB and
/// what the clients added to this process.
async fn drive(
    node: &Node,
    fleet: &Fleet<'_>,
    subscribers: usize,
    phases: &mut [Phase],
    channel: &str,
) -> anyhow::Result<(u64, u64, u64, u64)> {
    let base = node
        .base
        .clone()
        .ok_or_else(|| anyhow!("serve printed no URL"))?;
    let ws = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = node.rss_kib();
    let client_before = memory_kib("self", "VmRSS:");
    let (calls, measured) = (fleet.calls, fleet.measured);
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        index: measured
            .iter()
            .enumerate()
            .map(|(j, &i)| (calls[i].id.to_string(), j))
            .collect(),
        published: (0..measured.len()).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        last_receipt: AtomicU64::new(0),
        warm: AtomicUsize::new(0),
        errors: AtomicUsize::new(0),
        latencies: Mutex::new(Vec::new()),
    });

    let users = fleet.people.len();
    let started = Instant::now();
    let connected: Vec<anyhow::Result<()>> = stream::iter(0..subscribers)
        .map(|s| {
            let (ws, shared) = (ws.clone(), shared.clone());
            let token = fleet.people[s % users].1.clone();
            let campaign = fleet.campaigns[s % users];
            async move { subscribe(&ws, &token, campaign, shared).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    if let Some(Err(e)) = connected.into_iter().find(Result::is_err) {
        return Err(e);
    }
    println!(
        "  {} websockets subscribed in {:.1} s",
        thousands(subscribers as f64),
        started.elapsed().as_secs_f64()
    );

    let shutdown = CancellationToken::new();
    let bus = EventBus::redis(&redis_url(), channel, shutdown.clone()).await?;
    // Subscriptions register asynchronously: one event per campaign until every socket has
    // seen one.
    let warm_deadline = Instant::now() + Duration::from_secs(120);
    while shared.warm.load(Ordering::Relaxed) < subscribers {
        if Instant::now() > warm_deadline {
            bail!(
                "only {} of {subscribers} subscriptions ever received an event",
                shared.warm.load(Ordering::Relaxed)
            );
        }
        for &i in fleet.warmup.values() {
            bus.publish(event(&calls[i])).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let the warm-up deliveries drain.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let subscribed = node.rss_kib();
    let client = memory_kib("self", "VmRSS:").saturating_sub(client_before);

    for phase in phases.iter_mut() {
        shared.received.store(0, Ordering::Relaxed);
        shared.last_receipt.store(0, Ordering::Relaxed);
        let first = shared.now();
        let start = tokio::time::Instant::now();
        for (k, j) in phase.events.clone().enumerate() {
            let at = start + Duration::from_secs_f64(k as f64 / phase.rate as f64);
            tokio::time::sleep_until(at).await;
            shared.published[j].store(shared.now(), Ordering::Release);
            bus.publish(event(&calls[measured[j]])).await;
        }
        let mut last = (0, Instant::now());
        loop {
            let got = shared.received.load(Ordering::Relaxed);
            if got >= phase.expected || last.1.elapsed() > Duration::from_secs(10) {
                break;
            }
            if got > last.0 {
                last = (got, Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let received = shared.received.load(Ordering::Relaxed);
        let span = shared
            .last_receipt
            .load(Ordering::Relaxed)
            .saturating_sub(first);
        phase.delivered = received as f64 / Duration::from_nanos(span.max(1)).as_secs_f64();
        phase.lost = phase.expected.saturating_sub(received);
        phase.latencies = Latencies::new(
            shared
                .latencies
                .lock()
                .map(|mut l| std::mem::take(&mut *l))
                .unwrap_or_default(),
        );
        println!(
            "  {} events/s: {received} of {} deliveries; server {} MB resident",
            phase.rate,
            phase.expected,
            node.rss_kib() / 1024
        );
    }
    shutdown.cancel();
    let peak = node.peak_kib();
    let errors = shared.errors.load(Ordering::Relaxed);
    if errors > 0 {
        bail!("{errors} subscriptions ended with an error");
    }
    println!(
        "  server memory {} MB idle, {} MB subscribed, {} MB peak; this process +{} MB for its clients",
        idle / 1024,
        subscribed / 1024,
        peak / 1024,
        client / 1024
    );
    Ok((idle, subscribed, peak, client))
}

/// Connects, signs in, subscribes, and leaves a task reading the socket.
async fn subscribe(
    ws: &str,
    token: &str,
    campaign: uuid::Uuid,
    shared: Arc<Shared>,
) -> anyhow::Result<()> {
    let mut request = ws.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    // Small buffers on this side (tungstenite allocates 128 KiB per socket up front by default;
    // `CLIENT_BUFFER_KIB=128` shows what that costs), so this process's memory shows what a
    // connection needs.
    let kib = env_usize("CLIENT_BUFFER_KIB", 4);
    let config = WebSocketConfig::default()
        .read_buffer_size(kib * 1024)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    let init =
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    socket.send(Message::text(init.to_string())).await?;
    match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) if text.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    let subscribe = json!({"id": "1", "type": "subscribe",
        "payload": {"query": SUBSCRIPTION, "variables": {"c": campaign}}});
    socket.send(Message::text(subscribe.to_string())).await?;
    tokio::spawn(async move {
        let mut warm = false;
        while let Some(Ok(msg)) = socket.next().await {
            if let Message::Text(text) = msg {
                if let Some(reply) = shared.on_text(&text, &mut warm) {
                    if socket.send(Message::text(reply.to_string())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(())
}

/// The same events at the same rate through the event bus alone: Redis PUBLISH, this
/// process's subscriber task, the broadcast channel, one receiver.
async fn bus_alone(
    calls: &[CallRow],
    measured: &[usize],
    rate: usize,
) -> anyhow::Result<Latencies> {
    let shutdown = CancellationToken::new();
    let channel = format!("ringcast:bench:{}", uuid::Uuid::new_v4().simple());
    let bus = EventBus::redis(&redis_url(), &channel, shutdown.clone()).await?;
    let mut rx = bus.subscribe();
    let epoch = Instant::now();
    let published: Arc<HashMap<uuid::Uuid, usize>> = Arc::new(
        measured
            .iter()
            .enumerate()
            .map(|(j, &i)| (calls[i].id, j))
            .collect(),
    );
    let sent: Arc<Vec<AtomicU64>> =
        Arc::new((0..measured.len()).map(|_| AtomicU64::new(0)).collect());
    let total = measured.len();
    let reader = {
        let (published, sent) = (published.clone(), sent.clone());
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(total);
            while lat.len() < total {
                let Ok(Ok(e)) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await
                else {
                    break;
                };
                if let Some(&j) = e.call_id.as_ref().and_then(|id| published.get(id)) {
                    let at = sent[j].load(Ordering::Acquire);
                    lat.push(epoch.elapsed().saturating_sub(Duration::from_nanos(at)));
                }
            }
            lat
        })
    };
    let start = tokio::time::Instant::now();
    for (j, &i) in measured.iter().enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(j as f64 / rate as f64)).await;
        sent[j].store(epoch.elapsed().as_nanos() as u64, Ordering::Release);
        bus.publish(event(&calls[i])).await;
    }
    let lat = reader.await?;
    shutdown.cancel();
    Ok(Latencies::new(lat))
}
