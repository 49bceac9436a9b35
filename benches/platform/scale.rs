//! Scale: does dialing slow down as a campaign's list grows? One process (this one, running
//! the real `Dispatcher`) dials a single campaign holding `SCALE_CONTACTS` (1,000,000)
//! pending contacts, against the same campaign holding `SCALE_BASE` (10,000), each on a fresh
//! database, until `SCALE_CALLS` (3,000) calls carry a Twilio SID.
//!
//! The contacts are written with `COPY` (a bulk load, not the API) and analyzed. The campaign's
//! and the account's pacing are lifted above the API's maxima with SQL (1,000 calls/s and
//! 1,000,000 concurrent calls) so that neither pacing nor the emulator, which keeps every call
//! ringing, bounds the figure: it is the claim path's own, as in `dispatch`. The clock is fixed
//! to a Vietnamese morning, so the bench runs at any hour.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::dispatch;
use crate::support::{
    copy_contacts, env_usize, fixed_clock_dispatcher, ratio, thousands, Row, Scratch, World,
};

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let big = env_usize("SCALE_CONTACTS", 1_000_000);
    let base = env_usize("SCALE_BASE", 10_000);
    let calls = env_usize("SCALE_CALLS", 3_000).min(base).min(big).max(1);
    let mut rates = Vec::new();
    for contacts in [big, base] {
        let (rate, detail) = Scratch::with(|url| measure(url, contacts, calls)).await?;
        println!("  {} pending: {detail}", thousands(contacts as f64));
        rates.push(rate);
    }
    Ok(vec![Row::new(
        format!(
            "Scale: calls placed/s, 1 process, one campaign of {} pending contacts (first {} calls)",
            thousands(big as f64),
            thousands(calls as f64)
        ),
        format!("{}/s", thousands(rates[0])),
        format!(
            "the same campaign with {} pending: {}/s",
            thousands(base as f64),
            thousands(rates[1])
        ),
        ratio(rates[0], rates[1]),
    )])
}

/// (calls placed per second, detail) for one campaign of `contacts` pending contacts.
async fn measure(url: String, contacts: usize, calls: usize) -> anyhow::Result<(f64, String)> {
    let world = World::start(&url, 16).await?;
    let dispatcher = fixed_clock_dispatcher(&world);
    // One account, one owner; `prepare` makes two campaigns per account, the second stays empty.
    let fleet = dispatch::prepare(&world, &[], 1).await?;
    let (token, id) = fleet
        .campaigns
        .first()
        .context("prepare made no campaign")?;
    let campaign: uuid::Uuid = id.parse()?;
    let setup = Instant::now();
    copy_contacts(&url, campaign, contacts, |_| ("PENDING", None)).await?;
    println!(
        "  {} contacts copied and analyzed in {:.1} s",
        thousands(contacts as f64),
        setup.elapsed().as_secs_f64()
    );
    world
        .sql(&format!(
            "UPDATE campaigns SET calls_per_second = 1000, max_concurrent = 1000000 WHERE id = '{campaign}'"
        ))
        .await?;
    world
        .sql("UPDATE twilio_accounts SET calls_per_second = 1000")
        .await?;
    world
        .gql(
            Some(token),
            "mutation($i: StartCampaignInput!) { startCampaign(input: $i) { campaign { status } } }",
            json!({"i": {"id": id}}),
        )
        .await?;
    let stop = CancellationToken::new();
    let running = tokio::spawn(dispatcher.run(stop.clone()));
    let placed = dispatch::wait_placed(&world, calls).await;
    stop.cancel();
    running.await?;
    placed?;
    // Placements already under way finish before the pool closes (and are counted).
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && world
            .count("SELECT count(*) AS n FROM calls WHERE twilio_sid IS NULL AND status = 'QUEUED'")
            .await?
            > 0
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dispatch::placement_rate(&world).await
}
