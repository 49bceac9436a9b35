//! `importContacts`: a CSV read row by row on the blocking pool and inserted in batches, so a
//! million-row file never sits in memory. A `phone` column (or `so_dien_thoai` / `sdt`) is
//! required; `name` (or `ten`) is optional; every other column becomes a template variable.

use std::io::Read;

use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::model::{Contact, NewContact};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::campaigns;
use crate::error::{AppError, AppResult};
use crate::phone;

const BATCH: usize = 1000;
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
    Batch(Vec<NewContact>),
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
    let (tx, mut rx) = mpsc::channel::<Parsed>(4);
    let country = campaign.default_country.clone();
    let reader = tokio::task::spawn_blocking(move || read(file, campaign_id, &country, &tx));
    let mut report = ImportReport::default();
    let mut conn = state.conn().await?;
    while let Some(item) = rx.recv().await {
        match item {
            Parsed::Batch(rows) => {
                let added = Contact::insert_new(&mut conn, &rows).await?;
                report.added += added;
                report.duplicates += rows.len() - added;
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
    Ok(report)
}

fn read(
    file: impl Read,
    campaign_id: Uuid,
    country: &str,
    tx: &mpsc::Sender<Parsed>,
) -> AppResult<()> {
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
    let mut batch = Vec::with_capacity(BATCH);
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
        batch.push(NewContact {
            campaign_id,
            phone: parsed.e164.as_str().to_owned(),
            country: parsed.country,
            name: name_col
                .map(|c| cell(c).chars().take(200).collect())
                .unwrap_or_default(),
            vars: Value::Object(vars),
        });
        if batch.len() == BATCH {
            send(Parsed::Batch(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH),
            )))?;
        }
    }
    if !batch.is_empty() {
        send(Parsed::Batch(batch))?;
    }
    send(Parsed::Rows(rows))
}
