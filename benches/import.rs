//! Contact import at scale: a 1,000,000-row CSV through `importContacts`' service (CSV parsing on
//! the blocking pool, COPY into a staging table, one deduplicating INSERT) against the real
//! PostgreSQL in DATABASE_URL (default: the local server). Prints rows per second and the
//! process's peak memory, which stays flat however large the file is.
//!
//! `cargo bench --bench import` (ROWS=... to change the size).

use std::io::{BufWriter, Write};
use std::time::Instant;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use ringcast::app::AppState;
use ringcast::auth::Viewer;
use ringcast::config::{Config, Secret};
use ringcast::keys::Keys;
use ringcast::users::Role;
use tokio_util::sync::CancellationToken;

fn memory_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let base = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ringcast_bench_{}", uuid::Uuid::new_v4().simple());
    let (server, _) = base
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("DATABASE_URL has no database"))?;
    let url = format!("{server}/{name}");
    let mut admin = AsyncPgConnection::establish(&base).await?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let outcome = run(&url, rows).await;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    outcome
}

async fn run(url: &str, rows: usize) -> anyhow::Result<()> {
    ringcast::db::migrations::run(url).await?;
    let keys = Keys {
        jwt_secret: Secret::new("bench"),
        encryption_key: Secret::new("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
    };
    let config = Config {
        database_pool_size: 4,
        ..Config::default()
    };
    let state = AppState::build(
        config,
        url,
        keys,
        "http://127.0.0.1:9".into(),
        CancellationToken::new(),
    )
    .await?;
    let owner = uuid::Uuid::now_v7();
    let campaign = uuid::Uuid::now_v7();
    let mut conn = state.conn().await.map_err(|e| e.into_anyhow())?;
    diesel::sql_query(format!(
        "INSERT INTO users (id, email, password_hash, name, role) VALUES ('{owner}', 'bench@example.com', 'x', 'Bench', 'USER');
         "
    ))
    .execute(&mut conn)
    .await?;
    diesel::sql_query(format!(
        "INSERT INTO campaigns (id, owner_id, name, purpose, message, schedule)
         VALUES ('{campaign}', '{owner}', 'bench', 'REMINDER', '{{\"text\": \"hi\"}}', '{{}}')"
    ))
    .execute(&mut conn)
    .await?;
    drop(conn);

    let path = std::env::temp_dir().join(format!("ringcast-bench-{campaign}.csv"));
    {
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        writeln!(out, "sdt,ten,ma_don")?;
        for i in 0..rows {
            // Every 1,000th row repeats a number; every 10,000th is not a number at all.
            let n = if i % 1000 == 999 { i - 1 } else { i };
            if i % 10_000 == 9_999 {
                writeln!(out, "not-a-number,Khach {i},DH{i}")?;
            } else {
                writeln!(out, "09{:08},Khach {i},DH{i}", 10_000_000 + n)?;
            }
        }
    }
    let size = std::fs::metadata(&path)?.len();
    let before = memory_kib("VmRSS:");
    let viewer = Viewer {
        id: owner,
        role: Role::User,
    };
    let started = Instant::now();
    let file = std::fs::File::open(&path)?;
    let report = ringcast::contacts::import::import(&state, &viewer, campaign, file)
        .await
        .map_err(|e| e.into_anyhow())?;
    let elapsed = started.elapsed();
    let peak = memory_kib("VmHWM:");
    std::fs::remove_file(&path)?;
    println!("import of {rows} rows ({:.1} MB CSV)", size as f64 / 1e6);
    println!(
        "  added {}  duplicates {}  invalid {}",
        report.added, report.duplicates, report.invalid_count
    );
    println!(
        "  time {:.2} s  ->  {:.0} rows/s",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  memory: {} MB resident before, {} MB peak",
        before / 1024,
        peak / 1024
    );
    Ok(())
}
