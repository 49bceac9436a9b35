//! Campaign statistics: `campaign(id) { stats { ... } }` over HTTP for one campaign of
//! `STATS_CONTACTS` (1,000,000) contacts and `STATS_CALLS` (500,000) calls, requests per second
//! and p50/p99 from one client for `DURATION` (10) seconds, against a trivial query of the
//! same campaign (`campaign(id) { id name status }`: token, ownership and the row, no
//! counting) in the same run.
//!
//! The contacts are written with `COPY`: one per call made (60 % done, 40 % failed), 5 %
//! skipped (three reasons), the rest pending. The calls are written with SQL, with the mix of
//! outcomes of the `graphql` scenario. Both tables are analyzed before timing.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{json, Value};

use crate::graphql::timed;
use crate::support::{
    bulk_account, bulk_calls, bulk_campaigns, copy_contacts, env_usize, ms, thousands, Latencies,
    Row, Scratch, World,
};

const STATS: &str = "query($id: ID!) { campaign(id: $id) { stats {
    attempts answered busy noAnswer failed machine inProgress answerRate averageDurationSecs
    cost estimatedSecondsLeft contacts { pending calling done failed optedOut skipped total } } } }";
const TRIVIAL: &str = "query($id: ID!) { campaign(id: $id) { id name status } }";

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let contacts = env_usize("STATS_CONTACTS", 1_000_000);
    let calls = env_usize("STATS_CALLS", 500_000).min(contacts);
    let secs = env_usize("DURATION", 10).max(1) as u64;
    Scratch::with(|url| measure(url, contacts, calls, Duration::from_secs(secs))).await
}

async fn measure(
    url: String,
    contacts: usize,
    calls: usize,
    length: Duration,
) -> anyhow::Result<Vec<Row>> {
    let world = World::start(&url, 16).await?;
    let (token, user) = world.user(1).await?;
    let user: uuid::Uuid = user.parse()?;
    let account = bulk_account(&world).await?;
    let campaign = bulk_campaigns(&world, &[user]).await?[0];
    let started = Instant::now();
    let skipped = contacts / 20;
    copy_contacts(&url, campaign, contacts, |i| match i {
        i if i < calls && i % 5 < 3 => ("DONE", None),
        i if i < calls => ("FAILED", None),
        i if i < calls + skipped => ("SKIPPED", Some(["DNC", "CAP", "WINDOW"][i % 3])),
        _ => ("PENDING", None),
    })
    .await?;
    bulk_calls(&world, calls, account, &[user], &[campaign]).await?;
    println!(
        "  {} contacts and {} calls written and analyzed in {:.1} s",
        thousands(contacts as f64),
        thousands(calls as f64),
        started.elapsed().as_secs_f64()
    );

    let url = format!("{}/graphql", world.base);
    let world = &world;
    let ask = |query: &'static str| {
        let request = world
            .http
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({"query": query, "variables": {"id": campaign}}));
        async move {
            let body: Value = request.send().await?.json().await?;
            if body.get("errors").is_some() || body["data"]["campaign"].is_null() {
                bail!("unexpected answer: {body}");
            }
            Ok(body)
        }
    };
    let first = ask(STATS).await?;
    let stats = &first["data"]["campaign"]["stats"];
    if stats["attempts"] != json!(calls) || stats["contacts"]["total"] != json!(contacts) {
        bail!("stats do not count what was written: {stats}");
    }
    // Warm both paths (connections, plans, caches) before timing.
    timed(1, Duration::from_secs(1), |_| async {
        ask(STATS).await.map(drop)
    })
    .await?;
    timed(1, Duration::from_secs(1), |_| async {
        ask(TRIVIAL).await.map(drop)
    })
    .await?;
    let (rps, lat) = timed(1, length, |_| async { ask(STATS).await.map(drop) }).await?;
    let (base_rps, base) = timed(1, length, |_| async { ask(TRIVIAL).await.map(drop) }).await?;
    let line = |rps: f64, lat: &Latencies| {
        format!(
            "p50 {} / p99 {} ({}/s)",
            ms(lat.pct(50.0)),
            ms(lat.pct(99.0)),
            thousands(rps)
        )
    };
    Ok(vec![Row::new(
        format!(
            "Campaign stats: campaign {{ stats }} over {} contacts and {} calls, 1 client",
            thousands(contacts as f64),
            thousands(calls as f64)
        ),
        line(rps, &lat),
        format!(
            "trivial query of the same campaign (id, name, status): {}",
            line(base_rps, &base)
        ),
        format!(
            "{:.2}x the p50",
            lat.pct(50.0).as_secs_f64() / base.pct(50.0).as_secs_f64().max(1e-9)
        ),
    )])
}
