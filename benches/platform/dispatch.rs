//! Dispatch: calls placed end to end per second by `ringcast worker` processes (claim with SKIP
//! LOCKED, per-number lock, compliance gate with its caps, balance hold, pacing slots, attempt
//! committed, REST create on the emulator over HTTP, Twilio SID committed), with one process
//! and with two on the same database, against a bare SKIP LOCKED claim loop in SQL with as
//! many loops as processes.
//!
//! `CALLS` (10,000) distinct numbers inside their calling hours at whatever hour the bench
//! runs (the processes use the real clock), spread over `ACCOUNTS` (20)
//! Twilio accounts on the emulator, each paced at the 100 calls/s the app allows, with one
//! owner and number per account and at least two campaigns per owner (50 calls/s and 500
//! concurrent calls each, the app's maxima), so pacing admits well over 1,000 calls/s and the
//! figure is the dispatcher's own. The emulator keeps every call ringing and sends no
//! callbacks, so nothing but placement runs.
//!
//! Then a breakdown in this process on a fresh database: the claim transactions alone, one
//! after another as the dispatcher runs them (`dispatcher::claim::next`, a campaign's batch
//! each), and the placements alone (`dispatcher::place::place`: REST create, SID committed),
//! 64 at a time, on a clock fixed to a Vietnamese morning and Vietnamese numbers.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures_util::future::try_join_all;
use futures_util::{stream, StreamExt, TryStreamExt};
use ringcast::dispatcher::claim;
use ringcast::dispatcher::place;
use serde_json::{json, Value};

use crate::support::{
    env_usize, numbers_open_now, ratio, string_at, thousands, vietnamese_morning, vn_numbers,
    Carrier, Node, Row, Scratch, World,
};

/// The app's ceiling per campaign; no call ends during the run, so no campaign gets more.
const MAX_CONCURRENT: usize = 500;

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let calls = env_usize("CALLS", 10_000);
    let accounts = env_usize("ACCOUNTS", 20);
    let mut rows = Vec::new();
    for processes in [1, 2] {
        let (placed, baseline, detail) =
            Scratch::with(|url| measure(url, calls, accounts, processes)).await?;
        let (noun, connections) = if processes == 1 {
            ("process", "connection")
        } else {
            ("processes", "connections")
        };
        println!("  {detail}");
        rows.push(Row::new(
            format!(
                "Dispatch: calls placed/s, {processes} {noun} ({} calls)",
                thousands(calls as f64)
            ),
            format!("{}/s", thousands(placed)),
            format!(
                "bare SKIP LOCKED claim loop, {processes} {connections}: {}/s",
                thousands(baseline)
            ),
            ratio(placed, baseline),
        ));
    }
    let (claims, places, baseline) = Scratch::with(|url| breakdown(url, calls, accounts)).await?;
    rows.push(Row::new(
        "Dispatch breakdown: claim transactions alone (gate, hold, attempt committed), 1 task",
        format!("{}/s", thousands(claims)),
        format!(
            "bare SKIP LOCKED claim loop, 1 connection: {}/s",
            thousands(baseline)
        ),
        ratio(claims, baseline),
    ));
    rows.push(Row::new(
        "Dispatch breakdown: placements alone (REST create on the emulator, SID committed), 64 at once",
        format!("{}/s", thousands(places)),
        "-",
        "-",
    ));
    Ok(rows)
}

/// Owners, numbers and campaigns ready to start, on an emulator that holds every call.
pub struct Fleet {
    pub carrier: Carrier,
    /// (owner's token, campaign id)
    pub campaigns: Vec<(String, String)>,
}

/// `accounts` accounts and owners, at least two campaigns each, and `numbers` spread over
/// the campaigns (none get contacts when `numbers` is empty).
pub async fn prepare(world: &World, numbers: &[String], accounts: usize) -> anyhow::Result<Fleet> {
    let calls = numbers.len();
    let mut carrier = Carrier::start(true).await?;
    for _ in 0..accounts {
        carrier.account(world, 100.0).await?;
    }
    let dids = world
        .admin(
            "{ dids(first: 500, filter: {unassigned: true}) { edges { node { id } } } }",
            json!({}),
        )
        .await?;
    let dids: Vec<String> = dids["dids"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if dids.len() < accounts {
        bail!(
            "expected {accounts} numbers, the accounts hold {}",
            dids.len()
        );
    }
    let mut owners = Vec::new();
    for did in dids.iter().take(accounts) {
        let (token, user_id) = world.user(100_000_000_000).await?;
        world
            .admin(
                "mutation($i: AssignDidInput!) { assignDid(input: $i) { did { id } } }",
                json!({"i": {"didId": did, "userId": user_id}}),
            )
            .await?;
        owners.push((token, did.clone()));
    }
    let count = (2 * accounts).max(calls.div_ceil(MAX_CONCURRENT));
    let mut campaigns = Vec::new();
    for k in 0..count {
        let (token, did) = &owners[k % owners.len()];
        let contacts: Vec<Value> = numbers[k * calls / count..(k + 1) * calls / count]
            .iter()
            .map(|n| json!({"phone": n, "name": "Khách", "vars": {"time": "9:00"}}))
            .collect();
        let r = world
            .gql(
                Some(token),
                "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
                json!({"i": {
                    "name": format!("Bench {k}"),
                    "purpose": "REMINDER",
                    "consent": {"basis": "EXISTING_CUSTOMER", "source": "contract", "collectedAt": "2026-01-01T00:00:00Z"},
                    "message": {"text": "Chào {{name}}, lịch hẹn của bạn lúc {{time}}."},
                    "callerIds": [did],
                    "pacing": {"callsPerSecond": 50, "maxConcurrent": MAX_CONCURRENT},
                }}),
            )
            .await?;
        let id = string_at(&r, "createCampaign.campaign.id")?;
        for chunk in contacts.chunks(5000) {
            world
                .gql(
                    Some(token),
                    "mutation($i: AddContactsInput!) { addContacts(input: $i) { added } }",
                    json!({"i": {"campaignId": id, "contacts": chunk}}),
                )
                .await?;
        }
        campaigns.push((token.clone(), id));
    }
    Ok(Fleet { carrier, campaigns })
}

pub async fn start_all(world: &World, fleet: &Fleet) -> anyhow::Result<()> {
    for (token, id) in &fleet.campaigns {
        world
            .gql(
                Some(token),
                "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }",
                json!({"i": {"id": id}}),
            )
            .await?;
    }
    Ok(())
}

/// Waits until `calls` calls carry a Twilio SID; fails with the contacts' states after 60 s
/// without progress.
pub async fn wait_placed(world: &World, calls: usize) -> anyhow::Result<()> {
    let mut last = (0, Instant::now());
    loop {
        let placed = world
            .count("SELECT count(*) AS n FROM calls WHERE twilio_sid IS NOT NULL")
            .await? as usize;
        if placed >= calls {
            return Ok(());
        }
        if placed > last.0 {
            last = (placed, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(60) {
            bail!(
                "stalled at {placed} of {calls} placed calls; {}",
                diagnose(world).await?
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn diagnose(world: &World) -> anyhow::Result<String> {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut conn = world.state.db.get().await?;
    let lines: Vec<Line> = diesel::sql_query(
        "SELECT 'contacts ' || state || ' ' || COALESCE(skip_reason, '-') || ': ' || count(*) AS line
           FROM campaign_contacts GROUP BY state, skip_reason
         UNION ALL
         SELECT 'campaigns ' || status || ' ' || COALESCE(pause_reason, '-') || ': ' || count(*)
           FROM campaigns GROUP BY status, pause_reason
         UNION ALL
         SELECT 'calls ' || status || ' sid=' || (twilio_sid IS NOT NULL) || ': ' || count(*)
           FROM calls GROUP BY status, twilio_sid IS NOT NULL",
    )
    .load(&mut conn)
    .await?;
    Ok(lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("; "))
}

#[derive(diesel::QueryableByName)]
struct Span {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    secs: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p50: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p99: Option<f64>,
}

async fn measure(
    url: String,
    calls: usize,
    accounts: usize,
    processes: usize,
) -> anyhow::Result<(f64, f64, String)> {
    let world = World::start(&url, 16).await?;
    let setup = Instant::now();
    let fleet = prepare(&world, &numbers_open_now(0, calls)?, accounts).await?;
    start_all(&world, &fleet).await?;
    println!(
        "  {processes} process(es): {} campaigns of {} owners ready in {:.1} s",
        fleet.campaigns.len(),
        accounts,
        setup.elapsed().as_secs_f64()
    );
    let env = [("PUBLIC_URL", world.base.as_str())];
    let nodes = try_join_all((0..processes).map(|_| Node::start("worker", &url, &env))).await?;
    let waited = wait_placed(&world, calls).await;
    for node in nodes {
        node.stop().await?;
    }
    waited?;
    let (placed, detail) = placement_rate(&world).await?;
    let baseline = claim_loop(&world, calls, processes).await?;
    Ok((placed, baseline, detail))
}

/// Calls placed per second, from the first claim to the last SID committed as the database
/// recorded them, and a line on the claim-to-SID latency.
pub async fn placement_rate(world: &World) -> anyhow::Result<(f64, String)> {
    let span: Span = {
        let mut conn = world.state.db.get().await?;
        diesel::sql_query(
            "SELECT count(*) AS n,
                    EXTRACT(EPOCH FROM max(updated_at) - min(created_at))::float8 AS secs,
                    (percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM updated_at - created_at)))::float8 AS p50,
                    (percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM updated_at - created_at)))::float8 AS p99
             FROM calls WHERE twilio_sid IS NOT NULL",
        )
        .get_result(&mut conn)
        .await?
    };
    let secs = span.secs.ok_or_else(|| anyhow!("no calls placed"))?;
    let detail = format!(
        "{} calls placed in {secs:.2} s; claim to SID committed p50 {:.0} ms, p99 {:.0} ms",
        span.n,
        span.p50.unwrap_or(0.0) * 1000.0,
        span.p99.unwrap_or(0.0) * 1000.0
    );
    Ok((span.n as f64 / secs, detail))
}

/// The floor: `loops` connections each claiming one row at a time (SELECT ... FOR UPDATE SKIP
/// LOCKED, UPDATE, COMMIT) from a queue of `rows`, through the same pool.
async fn claim_loop(world: &World, rows: usize, loops: usize) -> anyhow::Result<f64> {
    world
        .sql("CREATE TABLE bench_claims (id bigserial PRIMARY KEY, state text NOT NULL DEFAULT 'PENDING')")
        .await?;
    world
        .sql(&format!(
            "INSERT INTO bench_claims (state) SELECT 'PENDING' FROM generate_series(1, {rows})"
        ))
        .await?;
    world
        .sql("CREATE INDEX bench_claims_pending ON bench_claims (id) WHERE state = 'PENDING'")
        .await?;
    world.sql("ANALYZE bench_claims").await?;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let started = Instant::now();
    try_join_all((0..loops).map(|_| async {
        let mut conn = world.state.db.get().await?;
        loop {
            let claimed = conn
                .transaction::<_, diesel::result::Error, _>(async |conn| {
                    let row: Vec<Id> = diesel::sql_query(
                        "SELECT id FROM bench_claims WHERE state = 'PENDING' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                    )
                    .load(conn)
                    .await?;
                    let Some(row) = row.into_iter().next() else {
                        return Ok(false);
                    };
                    diesel::sql_query("UPDATE bench_claims SET state = 'DONE' WHERE id = $1")
                        .bind::<BigInt, _>(row.id)
                        .execute(conn)
                        .await?;
                    Ok(true)
                })
                .await?;
            if !claimed {
                return Ok::<_, anyhow::Error>(());
            }
        }
    }))
    .await?;
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}

/// (claims/s, placements/s, bare claim loop/s) measured in this process.
async fn breakdown(url: String, calls: usize, accounts: usize) -> anyhow::Result<(f64, f64, f64)> {
    let world = World::start(&url, 16).await?;
    let now = vietnamese_morning();
    world.state.clock.fix(now);
    let fleet = prepare(&world, &vn_numbers(0, calls), accounts).await?;
    start_all(&world, &fleet).await?;
    let mut placements = Vec::with_capacity(calls);
    let started = Instant::now();
    let mut cursor = None;
    while let Some(batch) = claim::next(&world.state, now, &mut cursor)
        .await
        .map_err(|e| e.into_anyhow())?
    {
        placements.extend(batch.placements);
    }
    let claims = placements.len() as f64 / started.elapsed().as_secs_f64();
    if placements.len() < calls {
        bail!(
            "only {} of {calls} claims placed; {}",
            placements.len(),
            diagnose(&world).await?
        );
    }
    let started = Instant::now();
    let state = &world.state;
    stream::iter(placements)
        .map(|p| async move { place::place(state, p).await.map_err(|e| e.into_anyhow()) })
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
    let places = calls as f64 / started.elapsed().as_secs_f64();
    wait_placed(&world, calls).await?;
    let baseline = claim_loop(&world, calls, 1).await?;
    Ok((claims, places, baseline))
}
