//! GraphQL reads: `calls(first: 50, filter)` over HTTP (token checked and the user re-read,
//! the campaign's ownership checked, the page loaded, the connection serialized) for one user
//! holding `ROWS` (1,000,000) calls in 20 campaigns, requests per second and p50/p99 with
//! `CLIENTS` (1 and 8) clients for `DURATION` (10) seconds each, against the same query
//! (`Call::page`, the SQL the resolver runs) on the same pool with as many tasks.
//!
//! The filters rotate: one campaign's calls; one campaign's completed calls; the user's
//! failed calls (5 % of them).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::future::try_join_all;
use ringcast::calls::model::CallFilter;
use ringcast::calls::sort::CallOrderField;
use ringcast::calls::{Call, CallStatus};
use ringcast::db::keyset::Seek;
use serde_json::{json, Value};

use crate::support::{
    bulk_account, bulk_calls, bulk_campaigns, env_list, env_usize, ms, ratio, thousands, Latencies,
    Row, Scratch, World,
};

const QUERY: &str = "query($f: CallFilter) { calls(first: 50, filter: $f) {
    edges { node { id to status durationSecs createdAt } } pageInfo { hasNextPage endCursor } } }";

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let rows = env_usize("ROWS", 1_000_000);
    let clients = env_list("CLIENTS", &[1, 8]);
    let secs = env_usize("DURATION", 10) as u64;
    Scratch::with(|url| measure(url, rows, clients, Duration::from_secs(secs))).await
}

/// Runs `op(i)` from `clients` tasks until `length` has passed; (per second, latencies).
pub async fn timed<F, Fut>(
    clients: usize,
    length: Duration,
    op: F,
) -> anyhow::Result<(f64, Latencies)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = started + length;
    let all = try_join_all((0..clients).map(|_| async {
        let mut lat = Vec::new();
        while Instant::now() < deadline {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let sent = Instant::now();
            op(i).await?;
            lat.push(sent.elapsed());
        }
        Ok::<_, anyhow::Error>(lat)
    }))
    .await?;
    let lat = Latencies::new(all.into_iter().flatten().collect());
    Ok((lat.len() as f64 / started.elapsed().as_secs_f64(), lat))
}

async fn measure(
    url: String,
    rows: usize,
    clients: Vec<usize>,
    length: Duration,
) -> anyhow::Result<Vec<Row>> {
    let world = World::start(&url, 16).await?;
    let (token, user) = world.user(1).await?;
    let user: uuid::Uuid = user.parse()?;
    let account = bulk_account(&world).await?;
    let campaigns = bulk_campaigns(&world, &[user; 20]).await?;
    let started = Instant::now();
    bulk_calls(&world, rows, account, &[user; 20], &campaigns).await?;
    println!(
        "  {} calls written and analyzed in {:.1} s",
        thousands(rows as f64),
        started.elapsed().as_secs_f64()
    );

    let filter = |i: usize| -> (Value, CallFilter) {
        let campaign = campaigns[(i / 3) % campaigns.len()];
        let (graphql, status) = match i % 3 {
            0 => (json!({"campaignId": campaign}), None),
            1 => (
                json!({"campaignId": campaign, "statuses": ["COMPLETED"]}),
                Some(CallStatus::Completed),
            ),
            _ => (json!({"statuses": ["FAILED"]}), Some(CallStatus::Failed)),
        };
        let model = CallFilter {
            owner_id: Some(user),
            campaign_id: (i % 3 != 2).then_some(campaign),
            statuses: status.map(|s| vec![s]),
            to: None,
            from: None,
            since: None,
            until: None,
        };
        (graphql, model)
    };
    let url = format!("{}/graphql", world.base);
    let world = &world;
    let graphql = |i: usize| {
        let body = json!({"query": QUERY, "variables": {"f": filter(i).0}});
        let request = world.http.post(&url).bearer_auth(&token).json(&body);
        async move {
            let body: Value = request.send().await?.json().await?;
            let edges = body["data"]["calls"]["edges"]
                .as_array()
                .map_or(0, Vec::len);
            if body.get("errors").is_some() || edges != 50 {
                bail!("unexpected answer: {body}");
            }
            Ok(())
        }
    };
    let direct = |i: usize| {
        let model = filter(i).1;
        async move {
            let mut conn = world.state.db.get().await?;
            let seek = Seek {
                from: None,
                descending: true,
                limit: 51,
            };
            let page = Call::page(&mut conn, &model, CallOrderField::CreatedAt, &seek).await?;
            if page.len() != 51 {
                bail!("a page of {}", page.len());
            }
            Ok(())
        }
    };
    // Warm both paths (connections, plans, caches) before timing.
    timed(2, Duration::from_secs(2), &graphql).await?;
    timed(2, Duration::from_secs(1), &direct).await?;

    let mut out = Vec::new();
    for c in clients {
        let (rps, lat) = timed(c, length, &graphql).await?;
        let (sql_rps, sql_lat) = timed(c, length, &direct).await?;
        let noun = if c == 1 { "client" } else { "clients" };
        out.push(Row::new(
            format!(
                "GraphQL reads: calls(first: 50, filter) over {} calls, {c} {noun}",
                thousands(rows as f64)
            ),
            format!(
                "{}/s, p50 {}, p99 {}",
                thousands(rps),
                ms(lat.pct(50.0)),
                ms(lat.pct(99.0))
            ),
            format!(
                "same SQL on the pool: {}/s, p50 {}, p99 {}",
                thousands(sql_rps),
                ms(sql_lat.pct(50.0)),
                ms(sql_lat.pct(99.0))
            ),
            ratio(rps, sql_rps),
        ));
    }
    Ok(out)
}
