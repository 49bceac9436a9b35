//! Import: a `ROWS`-row (1,000,000) contact CSV through `importContacts`' service (the file
//! stored and the job queued: the answer), then the `ProcessImport` job run by the queue until
//! the import is COMPLETED (the file checked, then parsed and validated row by row on the
//! blocking pool, each chunk of 10,000 rows one deduplicating array INSERT committed with the
//! counters), against `psql \copy` of the same file into a table of its three text columns.
//! Then where the time goes: every number through the same validation alone, and the
//! deduplicating INSERT into `campaign_contacts` alone (from the rows psql copied). Also the
//! process's peak memory, which stays flat however large the file is.

use std::io::{BufWriter, Write};
use std::time::Instant;

use anyhow::bail;
use ringcast::auth::Viewer;
use ringcast::users::Role;

use crate::support::{env_usize, memory_kib, thousands, Row, Scratch, World};

pub async fn run() -> anyhow::Result<Vec<Row>> {
    let rows = env_usize("ROWS", 1_000_000);
    Scratch::with(|url| measure(url, rows)).await
}

/// Seconds: the import, `psql \copy`, validating the numbers alone, the import's final INSERT
/// alone, and a plain INSERT of the same rows.
struct Timings {
    answer: f64,
    ours: f64,
    psql: f64,
    validation: f64,
    insert: f64,
    plain: f64,
    report: String,
}

async fn campaign(world: &World, owner: uuid::Uuid) -> anyhow::Result<uuid::Uuid> {
    let id = uuid::Uuid::now_v7();
    world
        .sql(&format!(
            "INSERT INTO campaigns (id, owner_id, name, purpose, message, schedule)
             VALUES ('{id}', '{owner}', 'bench', 'REMINDER', '{{\"text\": \"hi\"}}', '{{}}')"
        ))
        .await?;
    Ok(id)
}

async fn measure(url: String, rows: usize) -> anyhow::Result<Vec<Row>> {
    let world = World::start(&url, 4).await?;
    let owner = uuid::Uuid::now_v7();
    world
        .sql(&format!(
            "INSERT INTO users (id, email, password_hash, name, role) VALUES ('{owner}', 'bench@example.com', 'x', 'Bench', 'USER')"
        ))
        .await?;
    let path = std::env::temp_dir().join(format!("ringcast-bench-{owner}.csv"));
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
    let outcome = compare(&world, &url, owner, &path, rows).await;
    std::fs::remove_file(&path)?;
    let Timings {
        answer,
        ours,
        psql,
        validation,
        insert,
        plain,
        report,
    } = outcome?;
    println!(
        "  {} rows ({:.1} MB CSV): {report}",
        thousands(rows as f64),
        size as f64 / 1e6
    );
    Ok(vec![
        Row::new(
            format!("Import: {}-row CSV", thousands(rows as f64)),
            format!("{ours:.2} s ({}/s)", thousands(rows as f64 / ours)),
            format!(
                "psql \\copy of the same file: {psql:.2} s ({}/s)",
                thousands(rows as f64 / psql)
            ),
            format!("{:.2}x the time", ours / psql),
        ),
        Row::new(
            "Import: importContacts' answer (file stored, job queued)",
            format!("{answer:.2} s"),
            format!("psql \\copy: {psql:.2} s"),
            format!("{:.2}x the time", answer / psql),
        ),
        Row::new(
            "Import breakdown: phone validation alone (phone::parse, 1 thread)",
            format!("{validation:.2} s"),
            format!("psql \\copy: {psql:.2} s"),
            format!("{:.2}x the time", validation / psql),
        ),
        Row::new(
            "Import breakdown: the import's deduplicating INSERT into campaign_contacts alone",
            format!("{insert:.2} s"),
            format!(
                "plain INSERT of the same rows, deduplicated beforehand (same indexes and FK): {plain:.2} s"
            ),
            format!("{:.2}x the time", insert / plain),
        ),
    ])
}

async fn compare(
    world: &World,
    url: &str,
    owner: uuid::Uuid,
    path: &std::path::Path,
    rows: usize,
) -> anyhow::Result<Timings> {
    let target = campaign(world, owner).await?;
    let before = memory_kib("self", "VmRSS:");
    let viewer = Viewer {
        id: owner,
        role: Role::User,
        scopes: None,
    };
    let started = Instant::now();
    let import = ringcast::campaigns::imports::service::create(
        &world.state,
        &viewer,
        target,
        "bench.csv",
        std::fs::File::open(path)?,
    )
    .await
    .map_err(|e| e.into_anyhow())?;
    let answer = started.elapsed().as_secs_f64();
    let state = &world.state;
    let runner = ringcast::jobs::Runner::new(
        state.db.clone(),
        ringcast::cli::jobs::registry(state),
        state.config.jobs.clone(),
    );
    runner.drain().await?;
    let ours = started.elapsed().as_secs_f64();
    let peak = memory_kib("self", "VmHWM:");
    let report =
        ringcast::campaigns::imports::Import::find(&mut *state.db.get().await?, import.id).await?;
    if report.status != ringcast::campaigns::imports::ImportStatus::Completed
        || report.rows_read != rows as i64
    {
        bail!(
            "the import is {} after {} rows of {rows}",
            report.status,
            report.rows_read
        );
    }

    world
        .sql("CREATE TABLE copy_baseline (sdt text, ten text, ma_don text)")
        .await?;
    let started = Instant::now();
    let status = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c"])
        .arg(format!(
            "\\copy copy_baseline FROM '{}' WITH (FORMAT csv, HEADER true)",
            path.display()
        ))
        .status()?;
    let psql = started.elapsed().as_secs_f64();
    if !status.success() {
        bail!("psql \\copy failed: {status}");
    }
    let copied = world
        .count("SELECT count(*) AS n FROM copy_baseline")
        .await?;
    if copied != rows as i64 {
        bail!("psql copied {copied} rows of {rows}");
    }

    // Where the import's time goes: every number through the same validation, one thread...
    let started = Instant::now();
    let mut valid = 0usize;
    for record in csv::Reader::from_path(path)?.byte_records() {
        let record = record?;
        let raw = String::from_utf8_lossy(record.get(0).unwrap_or_default());
        valid += usize::from(ringcast::phone::parse(raw.trim(), "VN").is_ok());
    }
    let validation = started.elapsed().as_secs_f64();
    let kept = report.rows_imported + report.duplicates;
    if valid as i64 != kept {
        bail!("validated {valid} numbers, the import kept {kept}");
    }
    // ... and the deduplicating INSERT into the indexed table, from the rows psql copied.
    let second = campaign(world, owner).await?;
    let started = Instant::now();
    world
        .sql(&format!(
            "INSERT INTO campaign_contacts (campaign_id, phone, country, name, vars)
             SELECT '{second}', phone, 'VN', ten, jsonb_build_object('ma_don', ma_don) FROM (
                 SELECT DISTINCT ON (sdt) '+84' || substr(sdt, 2) AS phone, ten, ma_don
                 FROM copy_baseline WHERE sdt LIKE '09%' ORDER BY sdt
             ) first_of_each
             ON CONFLICT (campaign_id, phone) DO NOTHING"
        ))
        .await?;
    let insert = started.elapsed().as_secs_f64();
    // The floor for any load into campaign_contacts: the same rows, deduplicated beforehand,
    // in a plain INSERT (the same three indexes and foreign key; no sorts, no ON CONFLICT).
    world
        .sql(
            "CREATE TABLE deduplicated AS SELECT DISTINCT ON (sdt) '+84' || substr(sdt, 2) AS phone, ten, ma_don
             FROM copy_baseline WHERE sdt LIKE '09%' ORDER BY sdt",
        )
        .await?;
    let third = campaign(world, owner).await?;
    let started = Instant::now();
    world
        .sql(&format!(
            "INSERT INTO campaign_contacts (campaign_id, phone, country, name, vars)
             SELECT '{third}', phone, 'VN', ten, jsonb_build_object('ma_don', ma_don) FROM deduplicated"
        ))
        .await?;
    let plain = started.elapsed().as_secs_f64();
    Ok(Timings {
        answer,
        ours,
        psql,
        validation,
        insert,
        plain,
        report: format!(
            "answered in {answer:.2} s, COMPLETED after {ours:.2} s: added {}, duplicates {}, \
             invalid {}; this process: {} MB resident before, {} MB peak",
            report.rows_imported,
            report.duplicates,
            report.invalid,
            before / 1024,
            peak / 1024
        ),
    })
}
