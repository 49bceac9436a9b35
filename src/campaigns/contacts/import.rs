//! The contact file of an import, read row by row on the blocking pool and cut into chunks, so
//! a million-row file never sits in memory. A `phone` column (or `so_dien_thoai` / `sdt`) is
//! required; `name` (or `ten`) is optional; every other column becomes a template variable,
//! within the limits `addContacts` applies to variables. Each chunk goes into the campaign in
//! one statement that keeps the first row of each number, in file order (the order they are
//! dialed), and skips numbers the campaign has (`campaigns::imports` commits it with the
//! import's counters).
//!
//! The file must be UTF-8 (a UTF-8 byte-order mark is skipped) or UTF-16 with a byte-order
//! mark (decoded); anything else is refused with the line where it stops being UTF-8, because
//! guessing a legacy code page garbles names silently. `check` reads the whole file for that
//! before any chunk is imported, so nothing of a refused file is kept.

use std::io::Read;

use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::service::{refuse_vars, MAX_NAME, MAX_VARS};
use crate::error::{AppError, AppResult};
use crate::phone;

/// Data rows per chunk (one commit of an import), and a byte bound for wide rows.
const CHUNK_ROWS: usize = 10_000;
const CHUNK_BYTES: usize = 4 << 20;
/// Header columns: the variables a contact may have, plus phone and name.
pub const MAX_COLUMNS: usize = MAX_VARS + 2;

/// One valid row, as it goes into the campaign.
pub struct Row {
    pub no: i64,
    phone: String,
    country: Option<String>,
    name: String,
    vars: String,
}

/// Consecutive data rows of the file, through `last_row` (1-based, the header excluded).
#[derive(Default)]
pub struct Chunk {
    pub last_row: i64,
    pub rows: Vec<Row>,
    /// (row, value, reason) of every refused row of the chunk.
    pub invalid: Vec<(i64, String, String)>,
    bytes: usize,
}

impl Chunk {
    fn push(&mut self, row: Row) {
        self.bytes += row.phone.len() + row.name.len() + row.vars.len() + 16;
        self.rows.push(row);
    }

    fn refuse(&mut self, row: i64, value: String, reason: String) {
        self.bytes += value.len() + reason.len() + 16;
        self.invalid.push((row, value, reason));
    }

    fn is_full(&self, first_row: i64) -> bool {
        self.last_row - first_row + 1 >= CHUNK_ROWS as i64 || self.bytes >= CHUNK_BYTES
    }

    /// Drops the rows through `row` (committed by an earlier run of the same import).
    pub fn skip_through(&mut self, row: i64) {
        self.rows.retain(|r| r.no > row);
        self.invalid.retain(|(no, _, _)| *no > row);
    }
}

/// Adds `rows` to the campaign, the first of each number in file order, numbers it has
/// skipped; returns how many were added.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    rows: Vec<Row>,
) -> AppResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
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
    let added = diesel::sql_query(
        "INSERT INTO campaign_contacts (campaign_id, phone, country, name, vars)
         SELECT $1, p, c, n, v::jsonb FROM (
             SELECT DISTINCT ON (p) * FROM unnest($2, $3, $4, $5, $6) AS t(r, p, c, n, v)
             ORDER BY p, r
         ) first_of_each ORDER BY r
         ON CONFLICT (campaign_id, phone) DO NOTHING",
    )
    .bind::<SqlUuid, _>(campaign_id)
    .bind::<Array<BigInt>, _>(nos)
    .bind::<Array<Text>, _>(phones)
    .bind::<Array<Nullable<Text>>, _>(countries)
    .bind::<Array<Text>, _>(names)
    .bind::<Array<Text>, _>(vars)
    .execute(conn)
    .await?;
    Ok(added)
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

type Csv<R> = csv::Reader<encoding_rs_io::DecodeReaderBytes<R, Vec<u8>>>;

/// The file as CSV with its lowercased header, refused when it cannot be a contact list.
fn open<R: Read>(file: R) -> AppResult<(Csv<R>, Vec<String>)> {
    // UTF-16 with a byte-order mark is decoded to UTF-8; a UTF-8 mark is dropped; everything
    // else passes through as it is and is checked row by row.
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .utf8_passthru(true)
        .strip_bom(true)
        .build(file);
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(decoded);
    let headers = header_names(csv.byte_headers().map_err(|e| {
        if e.is_io_error() {
            return AppError::internal(e);
        }
        AppError::bad_input("file", format!("cannot read the CSV header: {e}"))
    })?)?;
    Ok((csv, headers))
}

/// A failure to read the stored file itself (not its content) is ours, and the job retries.
fn unreadable(e: &csv::Error) -> Option<AppError> {
    e.is_io_error()
        .then(|| AppError::internal(anyhow::anyhow!("reading the stored file: {e}")))
}

/// Refuses a file that is not a contact list or stops being UTF-8 anywhere, before any of
/// it is imported.
pub fn check(file: impl Read) -> AppResult<()> {
    let (mut csv, headers) = open(file)?;
    phone_column(&headers)?;
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        row += 1;
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                if std::str::from_utf8(record.as_slice()).is_err() {
                    let line = record.position().map_or(row + 1, |p| p.line());
                    return Err(not_utf8(line));
                }
            }
            Err(e) => {
                if let Some(e) = unreadable(&e) {
                    return Err(e);
                }
            }
        }
    }
}

fn phone_column(headers: &[String]) -> AppResult<usize> {
    headers
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
        })
}

/// Reads the file into chunks sent to `tx`, skipping the rows through `skip` (committed by
/// an earlier run). The last chunk is sent even when empty: its `last_row` is the file's.
pub fn read(
    file: impl Read,
    country: &str,
    allowances: &crate::compliance::numbers::Allowances,
    skip: i64,
    tx: &mpsc::Sender<Chunk>,
) -> AppResult<()> {
    let send = |chunk: Chunk| {
        tx.blocking_send(chunk)
            .map_err(|_| AppError::internal(anyhow::anyhow!("import receiver stopped")))
    };
    let (mut csv, headers) = open(file)?;
    let phone_col = phone_column(&headers)?;
    let name_col = headers
        .iter()
        .position(|h| matches!(h.as_str(), "name" | "ten" | "tên" | "ho_ten"));
    let mut chunk = Chunk::default();
    let mut first_row = skip + 1;
    for (index, record) in csv.byte_records().enumerate() {
        let row = index as i64 + 1;
        if row <= skip {
            continue;
        }
        chunk.last_row = row;
        match record {
            Ok(record) => read_row(
                &record, row, &headers, phone_col, name_col, country, allowances, &mut chunk,
            )?,
            Err(e) => {
                if let Some(e) = unreadable(&e) {
                    return Err(e);
                }
                chunk.refuse(row, String::new(), format!("unreadable row: {e}"));
            }
        }
        if chunk.is_full(first_row) {
            first_row = row + 1;
            send(std::mem::take(&mut chunk))?;
            chunk.last_row = row;
        }
    }
    chunk.last_row = chunk.last_row.max(skip);
    send(chunk)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one row's context, read in one place"
)]
fn read_row(
    record: &csv::ByteRecord,
    row: i64,
    headers: &[String],
    phone_col: usize,
    name_col: Option<usize>,
    country: &str,
    allowances: &crate::compliance::numbers::Allowances,
    chunk: &mut Chunk,
) -> AppResult<()> {
    let line = record.position().map_or(row as u64 + 1, |p| p.line());
    if std::str::from_utf8(record.as_slice()).is_err() {
        return Err(not_utf8(line));
    }
    if record.as_slice().contains(&0) {
        chunk.refuse(row, String::new(), format!("line {line} holds a NUL byte"));
        return Ok(());
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
            chunk.refuse(row, raw.chars().take(40).collect(), reason);
            return Ok(());
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
        chunk.refuse(row, raw.chars().take(40).collect(), reason);
        return Ok(());
    }
    chunk.push(Row {
        no: row,
        phone: parsed.e164.as_str().to_owned(),
        country: parsed.country,
        name,
        vars: vars.to_string(),
    });
    Ok(())
}
