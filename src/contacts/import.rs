//! `importContacts`: a CSV read row by row on the blocking pool and streamed into PostgreSQL
//! with COPY, so a million-row file never sits in memory. A `phone` column (or `so_dien_thoai` /
//! `sdt`) is required; `name` (or `ten`) is optional; every other column becomes a template
//! variable. Rows land in a temporary table first; one INSERT then keeps the first row of each
//! number, in file order (the order they are dialed), and skips numbers the campaign has.

use std::io::Read;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::campaigns;
use crate::error::{AppError, AppResult};
use crate::phone;

/// COPY data is sent in chunks of about this size.
const CHUNK_BYTES: usize = 256 * 1024;
/// Invalid rows listed in the report; the rest are only counted.
const MAX_LISTED: usize = 1000;

#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub rows: usize,
    pub added: usize,
    pub duplicates: usize,
    pub invalid_count: usize,
    /// (1-based data row, value, reason), the first `MAX_LISTED`.
    pub invalid: Vec<(usize, String, String)>,
}

enum Parsed {
    /// COPY text-format lines and how many rows they hold.
    Chunk(Bytes, usize),
    Invalid(usize, String, String),
    Rows(usize),
}

fn db_error(e: tokio_postgres::Error) -> AppError {
    AppError::internal(anyhow::Error::new(e).context("contact import"))
}

pub async fn import(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    file: std::fs::File,
) -> AppResult<ImportReport> {
    let campaign = campaigns::service::owned_editable(state, viewer, campaign_id).await?;
    // COPY needs a connection of its own: the pool's connections speak diesel.
    let (mut client, connection) =
        tokio_postgres::connect(state.database_url.expose(), tokio_postgres::NoTls)
            .await
            .map_err(db_error)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "contact import connection ended with an error");
        }
    });
    let tx = client.transaction().await.map_err(db_error)?;
    // Both sorts of the final INSERT (first of each number, then file order) spill to disk at
    // the default 4 MB; a million rows fit in memory at this size.
    tx.batch_execute("SET LOCAL work_mem = '256MB'")
        .await
        .map_err(db_error)?;
    tx.batch_execute(
        "CREATE TEMP TABLE import_rows (row_no bigint, phone text, country text, name text, vars jsonb) ON COMMIT DROP",
    )
    .await
    .map_err(db_error)?;
    let sink = tx
        .copy_in::<_, Bytes>("COPY import_rows (row_no, phone, country, name, vars) FROM STDIN")
        .await
        .map_err(db_error)?;
    futures_util::pin_mut!(sink);

    let (sender, mut rx) = mpsc::channel::<Parsed>(4);
    let country = campaign.default_country.clone();
    let reader = tokio::task::spawn_blocking(move || read(file, &country, &sender));
    let mut report = ImportReport::default();
    let mut valid = 0;
    while let Some(item) = rx.recv().await {
        match item {
            Parsed::Chunk(bytes, rows) => {
                sink.send(bytes).await.map_err(db_error)?;
                valid += rows;
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
    reader.await.map_err(AppError::internal)??;
    sink.finish().await.map_err(db_error)?;
    let added = tx
        .execute(
            "INSERT INTO campaign_contacts (campaign_id, phone, country, name, vars)
             SELECT $1::text::uuid, phone, country, name, vars FROM (
                 SELECT DISTINCT ON (phone) * FROM import_rows ORDER BY phone, row_no
             ) first_of_each ORDER BY row_no
             ON CONFLICT (campaign_id, phone) DO NOTHING",
            &[&campaign_id.to_string()],
        )
        .await
        .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    report.added = usize::try_from(added).unwrap_or(usize::MAX);
    report.duplicates = valid.saturating_sub(report.added);
    Ok(report)
}

/// One field in COPY's text format.
fn put_field(buf: &mut BytesMut, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'\\' => buf.put_slice(b"\\\\"),
            b'\t' => buf.put_slice(b"\\t"),
            b'\n' => buf.put_slice(b"\\n"),
            b'\r' => buf.put_slice(b"\\r"),
            other => buf.put_u8(other),
        }
    }
}

fn read(file: impl Read, country: &str, tx: &mpsc::Sender<Parsed>) -> AppResult<()> {
    let send = |item: Parsed| {
        tx.blocking_send(item)
            .map_err(|_| AppError::internal(anyhow::anyhow!("import receiver stopped")))
    };
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(|e| AppError::bad_input("file", format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_lowercase()
        })
        .collect();
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
    let mut chunk = BytesMut::with_capacity(CHUNK_BYTES + 4096);
    let mut in_chunk = 0;
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
        let cell = |i: usize| {
            String::from_utf8_lossy(record.get(i).unwrap_or_default())
                .trim()
                .to_owned()
        };
        let raw = cell(phone_col);
        let parsed = match phone::parse(&raw, country) {
            Ok(p) => p,
            Err(e) => {
                send(Parsed::Invalid(
                    row,
                    raw.chars().take(40).collect(),
                    e.to_string(),
                ))?;
                continue;
            }
        };
        let mut vars = Map::new();
        for (i, header) in headers.iter().enumerate() {
            if i != phone_col && Some(i) != name_col && !header.is_empty() {
                vars.insert(
                    header.clone(),
                    Value::String(cell(i).chars().take(500).collect()),
                );
            }
        }
        let name: String = name_col
            .map(|c| cell(c).chars().take(200).collect())
            .unwrap_or_default();
        chunk.put_slice(row.to_string().as_bytes());
        chunk.put_u8(b'\t');
        put_field(&mut chunk, parsed.e164.as_str());
        chunk.put_u8(b'\t');
        match &parsed.country {
            Some(c) => put_field(&mut chunk, c),
            None => chunk.put_slice(b"\\N"),
        }
        chunk.put_u8(b'\t');
        put_field(&mut chunk, &name);
        chunk.put_u8(b'\t');
        put_field(&mut chunk, &Value::Object(vars).to_string());
        chunk.put_u8(b'\n');
        in_chunk += 1;
        if chunk.len() >= CHUNK_BYTES {
            send(Parsed::Chunk(chunk.split().freeze(), in_chunk))?;
            in_chunk = 0;
        }
    }
    if in_chunk > 0 {
        send(Parsed::Chunk(chunk.freeze(), in_chunk))?;
    }
    send(Parsed::Rows(rows))
}
