//! `importContacts`: a CSV read row by row on the blocking pool and streamed into PostgreSQL in
//! batches, so a million-row file never sits in memory. A `phone` column (or `so_dien_thoai` /
//! `sdt`) is required; `name` (or `ten`) is optional; every other column becomes a template
//! variable, within the limits `addContacts` applies to variables. Rows land in a temporary
//! table first; one INSERT then keeps the first row of each number, in file order (the order
//! they are dialed), and skips numbers the campaign has.
//!
//! The file must be UTF-8 (a UTF-8 byte-order mark is skipped) or UTF-16 with a byte-order
//! mark (decoded); anything else is refused with the line where it stops being UTF-8, because
//! guessing a legacy code page garbles names silently.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::service::{refuse_vars, MAX_NAME, MAX_VARS};
use crate::app::AppState;
use crate::campaigns;
use crate::error::{AppError, AppResult};
use crate::phone;
use crate::viewer::Viewer;

/// Rows per INSERT into the staging table, and a byte bound for wide rows.
const BATCH_ROWS: usize = 5000;
const BATCH_BYTES: usize = 2 << 20;
/// Invalid rows listed in the report; the rest are only counted.
const MAX_LISTED: usize = 1000;
/// Header columns: the variables a contact may have, plus phone and name.
pub const MAX_COLUMNS: usize = MAX_VARS + 2;
/// How long an import waits for its turn before it is refused.
const WAIT_FOR_TURN: Duration = Duration::from_secs(60);

/// Imports that may run at once in a process. Each holds one pooled connection from start to
/// end, so they get a quarter of the pool (at least one) and requests keep the rest.
pub fn budget(pool_size: usize) -> usize {
    (pool_size / 4).max(1)
}

/// Turns for contact imports, each of which holds a pooled connection throughout.
#[derive(Clone)]
struct ImportTurns(Arc<tokio::sync::Semaphore>);

impl ImportTurns {
    fn of(state: &AppState) -> Self {
        state.shared.get_or_init(|| {
            Self(Arc::new(tokio::sync::Semaphore::new(budget(
                state.config.database_pool_size,
            ))))
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub duplicates: usize,
    pub invalid_count: usize,
    /// (1-based data row, value, reason), the first `MAX_LISTED`.
    pub invalid: Vec<(usize, String, String)>,
}

/// One valid row, as it goes into the staging table.
struct Row {
    no: i64,
    phone: String,
    country: Option<String>,
    name: String,
    vars: String,
}

#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, row: Row) {
        self.bytes += row.phone.len() + row.name.len() + row.vars.len() + 16;
        self.rows.push(row);
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= BATCH_ROWS || self.bytes >= BATCH_BYTES
    }
}

enum Parsed {
    Batch(Vec<Row>),
    Invalid(usize, String, String),
    Rows(usize),
}

pub async fn import(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    file: std::fs::File,
) -> AppResult<ImportReport> {
    let campaign = campaigns::service::owned_editable(state, viewer, campaign_id).await?;
    let _turn = tokio::time::timeout(WAIT_FOR_TURN, ImportTurns::of(state).0.acquire_owned())
        .await
        .map_err(|_| AppError::RateLimited {
            message: "too many imports are running; try again in a minute".into(),
            retry_after_secs: 60,
        })?
        .map_err(AppError::internal)?;
    let (sender, mut rx) = mpsc::channel::<Parsed>(2);
    let country = campaign.default_country.clone();
    let allowances = crate::compliance::numbers::load(&mut *state.conn().await?).await?;
    let reader = tokio::task::spawn_blocking(move || read(file, &country, &allowances, &sender));
    let mut conn = state.conn().await?;
    let mut report = ImportReport::default();
    let (valid, added) = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Both sorts of the final INSERT (first of each number, then file order) spill to
            // disk at the default 4 MB; a million rows fit in memory at this size.
            conn.batch_execute(
                "SET LOCAL work_mem = '256MB';
                 CREATE TEMP TABLE import_rows (row_no bigint, phone text, country text, name text, vars jsonb) ON COMMIT DROP",
            )
            .await?;
            let mut valid = 0;
            while let Some(item) = rx.recv().await {
                match item {
                    Parsed::Batch(rows) => {
                        valid += rows.len();
                        stage(conn, rows).await?;
                    }
                    Parsed::Invalid(row, value, reason) => {
                        report.invalid_count += 1;
                        if report.invalid.len() < MAX_LISTED {
                            report.invalid.push((row, value, reason));
                        }
                    }
                    Parsed::Rows(n) => report.rows = n,
                }
            }
            // A file refused half-way (its encoding, say) rolls back every row staged so far.
            reader.await.map_err(AppError::internal)??;
            let added = diesel::sql_query(
                "INSERT INTO campaign_contacts (campaign_id, phone, country, name, vars)
                 SELECT $1, phone, country, name, vars FROM (
                     SELECT DISTINCT ON (phone) * FROM import_rows ORDER BY phone, row_no
                 ) first_of_each ORDER BY row_no
                 ON CONFLICT (campaign_id, phone) DO NOTHING",
            )
            .bind::<SqlUuid, _>(campaign_id)
            .execute(conn)
            .await?;
            Ok((valid, added))
        })
        .await?;
    report.added = added;
    report.duplicates = valid.saturating_sub(added);
    Ok(report)
}

/// One batch into the staging table, as five arrays in one statement.
async fn stage(conn: &mut AsyncPgConnection, rows: Vec<Row>) -> AppResult<()> {
    let mut nos = Vec::with_capacity(rows.len());
    let mut phones = Vec::with_capacity(rows.len());
    let mut countries = Vec::with_capacity(rows.len());
    let mut names = Vec::with_capacity(rows.len());
    let mut vars = Vec::with_capacity(rows.len());
    for row in rows {
        nos.push(row.no);
        phones.push(row.phone);
        countries.push(row.country);
        names.push(row.name);
        vars.push(row.vars);
    }
    diesel::sql_query(
        "INSERT INTO import_rows (row_no, phone, country, name, vars)
         SELECT r, p, c, n, v::jsonb FROM unnest($1, $2, $3, $4, $5) AS t(r, p, c, n, v)",
    )
    .bind::<Array<BigInt>, _>(nos)
    .bind::<Array<Text>, _>(phones)
    .bind::<Array<Nullable<Text>>, _>(countries)
    .bind::<Array<Text>, _>(names)
    .bind::<Array<Text>, _>(vars)
    .execute(conn)
    .await?;
    Ok(())
}

fn not_utf8(line: u64) -> AppError {
    AppError::bad_input(
        "file",
        format!(
            "line {line} is not UTF-8 text: the file seems to use another encoding \
             (such as Windows-1258 or Latin-1); save it as \"CSV UTF-8\" and import it again"
        ),
    )
}

/// The header's column names, refused when the file cannot be a contact list.
fn header_names(header: &csv::ByteRecord) -> AppResult<Vec<String>> {
    if header.len() > MAX_COLUMNS {
        return Err(AppError::bad_input(
            "file",
            format!(
                "the CSV has {} columns; at most {MAX_COLUMNS} (phone, name and {MAX_VARS} variables)",
                header.len()
            ),
        ));
    }
    if header.as_slice().contains(&0) {
        return Err(AppError::bad_input(
            "file",
            "line 1 holds a NUL byte: the file seems to be UTF-16 without a byte-order mark; \
             save it as \"CSV UTF-8\" and import it again",
        ));
    }
    header
        .iter()
        .map(|h| match std::str::from_utf8(h) {
            Ok(h) => Ok(h.trim().to_lowercase()),
            Err(_) => Err(not_utf8(1)),
        })
        .collect()
}

fn read(
    file: impl Read,
    country: &str,
    allowances: &crate::compliance::numbers::Allowances,
    tx: &mpsc::Sender<Parsed>,
) -> AppResult<()> {
    let send = |item: Parsed| {
        tx.blocking_send(item)
            .map_err(|_| AppError::internal(anyhow::anyhow!("import receiver stopped")))
    };
    // UTF-16 with a byte-order mark is decoded to UTF-8; a UTF-8 mark is dropped; everything
    // else passes through as it is and is checked below.
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .utf8_passthru(true)
        .strip_bom(true)
        .build(file);
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(decoded);
    let headers =
        header_names(csv.byte_headers().map_err(|e| {
            AppError::bad_input("file", format!("cannot read the CSV header: {e}"))
        })?)?;
    let phone_col = headers
        .iter()
        .position(|h| {
            matches!(
                h.as_str(),
                "phone" | "so_dien_thoai" | "sdt" | "số điện thoại"
            )
        })
        .ok_or_else(|| {
            AppError::bad_input(
                "file",
                "the CSV needs a phone column (phone, so_dien_thoai or sdt)",
            )
        })?;
    let name_col = headers
        .iter()
        .position(|h| matches!(h.as_str(), "name" | "ten" | "tên" | "ho_ten"));
    let mut batch = Batch::default();
    let mut rows = 0;
    for (index, record) in csv.byte_records().enumerate() {
        let row = index + 1;
        rows = row;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                send(Parsed::Invalid(
                    row,
                    String::new(),
                    format!("unreadable row: {e}"),
                ))?;
                continue;
            }
        };
        let line = record.position().map_or(row as u64 + 1, |p| p.line());
        if std::str::from_utf8(record.as_slice()).is_err() {
            return Err(not_utf8(line));
        }
        if record.as_slice().contains(&0) {
            send(Parsed::Invalid(
                row,
                String::new(),
                format!("line {line} holds a NUL byte"),
            ))?;
            continue;
        }
        let cell = |i: usize| {
            String::from_utf8_lossy(record.get(i).unwrap_or_default())
                .trim()
                .to_owned()
        };
        let raw = cell(phone_col);
        let parsed = match phone::parse(&raw, country)
            .map_err(|e| e.to_string())
            .and_then(|p| allowances.callable(p))
        {
            Ok(p) => p,
            Err(reason) => {
                send(Parsed::Invalid(row, raw.chars().take(40).collect(), reason))?;
                continue;
            }
        };
        let mut vars = Map::new();
        for (i, header) in headers.iter().enumerate() {
            if i != phone_col && Some(i) != name_col && !header.is_empty() {
                vars.insert(header.clone(), Value::String(cell(i)));
            }
        }
        let vars = Value::Object(vars);
        // Spreadsheet names may hold tabs and line breaks; a NUL was refused above.
        let name: String = name_col
            .map(|c| cell(c).chars().take(MAX_NAME).collect())
            .unwrap_or_default();
        if let Some(reason) = refuse_vars(&vars) {
            send(Parsed::Invalid(row, raw.chars().take(40).collect(), reason))?;
            continue;
        }
        batch.push(Row {
            no: row as i64,
            phone: parsed.e164.as_str().to_owned(),
            country: parsed.country,
            name,
            vars: vars.to_string(),
        });
        if batch.is_full() {
            send(Parsed::Batch(std::mem::take(&mut batch).rows))?;
        }
    }
    if !batch.rows.is_empty() {
        send(Parsed::Batch(batch.rows))?;
    }
    send(Parsed::Rows(rows))
}
