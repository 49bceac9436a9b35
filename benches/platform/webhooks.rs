//! Webhooks: Twilio status callbacks per second through the real router over HTTP (signature
//! checked with the account's token, payload stored under its dedupe key, the status applied
//! with its timeline event, the final one charging the hold and enqueueing the contact's
//! settlement), with p50/p99 latency, against single-row INSERTs through the same pool at the
//! same concurrency.
//!
//! `WEBHOOK_CALLS` (5,000) calls to Vietnamese numbers are first placed by the dispatcher in
//! this process, exactly as in production but on a clock fixed to a Vietnamese morning (so
//! the bench runs at any hour); each then gets initiated, ringing, in-progress and completed,
//! in order, from `CONCURRENCY` (32) callers at once. Then the same callbacks again, as Twilio's retries
//! would send them: verified and recognised as duplicates, not processed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::Utc;
use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use futures_util::future::try_join_all;
use ringcast::twilio::signature;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::dispatch;
use crate::support::{
    env_usize, fixed_clock_dispatcher, ms, ratio, thousands, vn_numbers, Latencies, Row, Scratch,
    World,
};

const STEPS: [&str; 4] = ["initiated", "ringing", "in-progress", "completed"];

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let calls = env_usize("WEBHOOK_CALLS", 5_000);
    let concurrency = env_usize("CONCURRENCY", 32);
    Scratch::with(|url| measure(url, calls, concurrency)).await
}

#[derive(diesel::QueryableByName)]
struct Target {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    sid: String,
    #[diesel(sql_type = Text)]
    from_number: String,
    #[diesel(sql_type = Text)]
    to_number: String,
    #[diesel(sql_type = Text)]
    account_sid: String,
}

fn params(t: &Target, seq: usize, status: &str) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("AccountSid", t.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", t.sid.as_str()),
        ("CallStatus", status),
        ("Direction", "outbound-api"),
        ("From", t.from_number.as_str()),
        ("To", t.to_number.as_str()),
        ("CallbackSource", "call-progress-events"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    p.push(("SequenceNumber".into(), seq.to_string()));
    p.push((
        "Timestamp".into(),
        ringcast::twilio::types::rfc2822(Utc::now()),
    ));
    if status == "completed" {
        for (k, v) in [
            ("CallDuration", "25"),
            ("Duration", "1"),
            ("SipResponseCode", "200"),
        ] {
            p.push((k.into(), v.into()));
        }
    }
    p
}

async fn measure(url: String, calls: usize, concurrency: usize) -> anyhow::Result<Vec<Row>> {
    let world = World::start(&url, 16).await?;
    let dispatcher = fixed_clock_dispatcher(&world);
    let fleet = dispatch::prepare(&world, &vn_numbers(0, calls), 4).await?;
    dispatch::start_all(&world, &fleet).await?;
    let stop = CancellationToken::new();
    let dispatcher = tokio::spawn(dispatcher.run(stop.clone()));
    let placed = dispatch::wait_placed(&world, calls).await;
    stop.cancel();
    dispatcher.await?;
    placed?;
    let targets: Vec<Target> = {
        let mut conn = world.state.db.get().await?;
        diesel::sql_query(
            "SELECT c.id, c.twilio_sid AS sid, c.from_number, c.to_number, a.account_sid
             FROM calls c JOIN twilio_accounts a ON a.id = c.twilio_account_id
             WHERE c.twilio_sid IS NOT NULL ORDER BY c.id",
        )
        .load(&mut conn)
        .await?
    };
    println!(
        "  {} calls placed; sending {} callbacks",
        targets.len(),
        targets.len() * 4
    );
    let (rate, latencies) = send_all(&world, &targets, &fleet.carrier.tokens, concurrency).await?;
    let total = latencies.len();
    let stored = world
        .count("SELECT count(*) AS n FROM webhook_events WHERE processed_at IS NOT NULL AND error IS NULL")
        .await?;
    let completed = world
        .count(
            "SELECT count(*) AS n FROM calls WHERE status = 'COMPLETED' AND ended_at IS NOT NULL",
        )
        .await?;
    let charged = world
        .count("SELECT count(*) AS n FROM ledger_entries WHERE kind = 'HOLD_RELEASE'")
        .await?;
    println!(
        "  {total} callbacks at {rate:.0}/s; {stored} stored and processed, {completed} calls completed, {charged} holds settled"
    );
    if stored != total as i64 || completed != targets.len() as i64 {
        bail!("not every callback was stored and applied");
    }

    // Twilio's retries: the same callbacks again are verified, looked up and recognised as
    // duplicates by their dedupe key, without processing.
    let (dup_rate, dups) = send_all(&world, &targets, &fleet.carrier.tokens, concurrency).await?;
    let stored_again = world
        .count("SELECT count(*) AS n FROM webhook_events")
        .await?;
    if stored_again != total as i64 {
        bail!("a duplicate was stored");
    }
    let (insert_rate, inserts) = inserts(&world, total, concurrency, &targets[0]).await?;
    Ok(vec![
        Row::new(
            format!(
                "Webhooks: status callbacks/s, each stored and applied ({concurrency} in flight)"
            ),
            format!("{}/s", thousands(rate)),
            format!(
                "single-row INSERTs, same pool and concurrency: {}/s",
                thousands(insert_rate)
            ),
            ratio(rate, insert_rate),
        ),
        Row::new(
            "Webhooks: latency p50 / p99",
            format!("{} / {}", ms(latencies.pct(50.0)), ms(latencies.pct(99.0))),
            format!(
                "INSERT p50 / p99: {} / {}",
                ms(inserts.pct(50.0)),
                ms(inserts.pct(99.0))
            ),
            ratio(
                latencies.pct(99.0).as_secs_f64(),
                inserts.pct(99.0).as_secs_f64(),
            ),
        ),
        Row::new(
            "Webhooks breakdown: the same callbacks again (verified, recognised as duplicates, not processed)",
            format!(
                "{}/s, p50 {}, p99 {}",
                thousands(dup_rate),
                ms(dups.pct(50.0)),
                ms(dups.pct(99.0))
            ),
            format!("single-row INSERTs: {}/s", thousands(insert_rate)),
            ratio(dup_rate, insert_rate),
        ),
    ])
}

/// `total` single-row INSERTs of a payload like a callback's, autocommitted, from
/// `concurrency` tasks through the app's pool.
async fn inserts(
    world: &World,
    total: usize,
    concurrency: usize,
    sample: &Target,
) -> anyhow::Result<(f64, Latencies)> {
    world
        .sql("CREATE TABLE bench_inserts (id bigserial PRIMARY KEY, dedupe_key text NOT NULL, payload jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())")
        .await?;
    let payload = json!({"params": params(sample, 3, "completed")});
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let latencies: Vec<Vec<Duration>> = try_join_all((0..concurrency).map(|_| async {
        let mut lat = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= total {
                return Ok::<_, anyhow::Error>(lat);
            }
            let sent = Instant::now();
            let mut conn = world.state.db.get().await?;
            diesel::sql_query("INSERT INTO bench_inserts (dedupe_key, payload) VALUES ($1, $2)")
                .bind::<Text, _>(format!("bench:{i}"))
                .bind::<Jsonb, _>(&payload)
                .execute(&mut conn)
                .await?;
            lat.push(sent.elapsed());
        }
    }))
    .await?;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    Ok((
        rate,
        Latencies::new(latencies.into_iter().flatten().collect()),
    ))
}

/// Sends each target's four callbacks in order, `concurrency` targets at a time; every answer
/// must be 204. (per second, latencies)
async fn send_all(
    world: &World,
    targets: &[Target],
    tokens: &HashMap<String, String>,
    concurrency: usize,
) -> anyhow::Result<(f64, Latencies)> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let latencies = try_join_all((0..concurrency).map(|_| async {
        let mut lat = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(t) = targets.get(i) else {
                return Ok::<_, anyhow::Error>(lat);
            };
            let token = &tokens[&t.account_sid];
            let url = format!("{}/webhooks/twilio/status/{}", world.base, t.id);
            for (seq, status) in STEPS.iter().enumerate() {
                let params = params(t, seq, status);
                let signature = signature::sign(token, &url, &params);
                let body = serde_urlencoded::to_string(&params)?;
                let sent = Instant::now();
                let response = world
                    .http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", signature)
                    .body(body)
                    .send()
                    .await?;
                if response.status() != reqwest::StatusCode::NO_CONTENT {
                    bail!("callback answered {}", response.status());
                }
                lat.push(sent.elapsed());
            }
        }
    }))
    .await?;
    let latencies = Latencies::new(latencies.into_iter().flatten().collect());
    Ok((
        latencies.len() as f64 / started.elapsed().as_secs_f64(),
        latencies,
    ))
}
