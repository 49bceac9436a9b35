//! Ringcast's platform benchmarks (issue 7): each figure beside a baseline measured in the same
//! run on the same machine, against the real PostgreSQL in `DATABASE_URL` (default the local
//! server; every scenario makes and drops a scratch database) and Redis in `REDIS_URL`.
//!
//! ```sh
//! cargo bench --bench platform                      # everything, full size
//! cargo bench --bench platform -- dispatch webhooks # some of: dispatch webhooks graphql import scale stats subscriptions
//! CALLS=1000 ROWS=20000 SUBSCRIBERS=500 cargo bench --bench platform   # a quick smoke run
//! ```
//!
//! Sizes: `CALLS` (dispatch, 10,000), `WEBHOOK_CALLS` (5,000 calls, four callbacks each),
//! `ROWS` (calls for the GraphQL reads and CSV rows for the import, 1,000,000),
//! `SUBSCRIBERS` (10,000), `DURATION` (seconds per timed phase, 10), `SCALE_CONTACTS` (1,000,000
//! against `SCALE_BASE`, 10,000), `STATS_CONTACTS` (1,000,000) and `STATS_CALLS` (500,000).
//! See each module.

#[path = "../../tests/helpers/calling_hours.rs"]
#[expect(dead_code, reason = "shared with the tests, which use more of it")]
mod calling_hours;

mod dispatch;
mod graphql;
mod import;
mod scale;
mod stats;
mod subscriptions;
mod support;
mod webhooks;

use support::Row;

/// In the order they run: the subscriptions' 10,000 sockets last, so the import's memory
/// figure is its own.
const SCENARIOS: [&str; 7] = [
    "dispatch",
    "webhooks",
    "graphql",
    "import",
    "scale",
    "stats",
    "subscriptions",
];

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; everything else not starting with '-' picks scenarios.
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for name in &picked {
        if !SCENARIOS.contains(&name.as_str()) {
            anyhow::bail!("unknown scenario {name:?}; pick from {SCENARIOS:?}");
        }
    }
    let picked: Vec<&str> = SCENARIOS
        .into_iter()
        .filter(|s| picked.is_empty() || picked.iter().any(|p| p == s))
        .collect();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BENCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&picked))
}

async fn run(picked: &[&str]) -> anyhow::Result<()> {
    let machine = support::machine().await;
    println!("machine: {machine}");
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = Vec::new();
    for scenario in picked {
        println!("\n== {scenario} (load average {})", support::load_average());
        let outcome = match *scenario {
            "dispatch" => dispatch::run().await,
            "webhooks" => webhooks::run().await,
            "graphql" => graphql::run().await,
            "subscriptions" => subscriptions::run().await,
            "scale" => scale::run().await,
            "stats" => stats::run().await,
            _ => import::run().await,
        };
        println!("   load average at the end: {}", support::load_average());
        match outcome {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => {
                eprintln!("{scenario} failed: {e:?}");
                failed.push(*scenario);
            }
        }
    }
    println!("\nOn {machine}:\n");
    println!("| what | figure | baseline (same run) | ratio |");
    println!("|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {} |",
            row.what, row.figure, row.baseline, row.ratio
        );
    }
    if !failed.is_empty() {
        anyhow::bail!("failed: {failed:?}");
    }
    Ok(())
}
