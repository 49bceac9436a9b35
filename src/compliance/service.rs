//! Do-not-call lists: the platform's (admins) and each user's own. Opt-outs pressed by a callee
//! land on the user's list at once and only an admin can take them off.

use std::io::Read;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use super::model::{DncEntry, DncList, DncSource, NewDncEntry};
use crate::app::AppState;
use crate::audit;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::phone::{self, E164};
use crate::viewer::Viewer;

const MAX_REASON: usize = 200;
/// Rows per insert statement when importing.
const IMPORT_BATCH: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Platform,
    User,
}

pub fn parse_phone(raw: &str, default_country: &str) -> AppResult<E164> {
    phone::parse(raw, default_country)
        .map(|p| p.e164)
        .map_err(|e| AppError::bad_input("phone", format!("{raw:?} is {e}")))
}

pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    raw_phone: &str,
    default_country: &str,
    reason: Option<&str>,
    scope: Scope,
) -> AppResult<(DncEntry, bool)> {
    if scope == Scope::Platform && !viewer.is_admin() {
        return Err(AppError::Forbidden(
            "only administrators manage the platform list".into(),
        ));
    }
    let phone = parse_phone(raw_phone, default_country)?;
    let reason = reason.unwrap_or("").trim();
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::bad_input(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    let owner_id = (scope == Scope::User).then_some(viewer.id);
    let mut conn = state.conn().await?;
    let (entry, added) = NewDncEntry {
        id: Uuid::now_v7(),
        owner_id,
        phone: &phone,
        reason,
        source: DncSource::Manual,
        created_by: Some(viewer.id),
    }
    .upsert(&mut conn)
    .await?;
    if scope == Scope::Platform && added {
        audit::service::record(
            &mut conn,
            Some(viewer.id),
            "dnc.add",
            "do_not_call",
            &entry.id.to_string(),
            json!({"phone": phone}),
        )
        .await?;
    }
    Ok((entry, added))
}

/// A callee pressed the opt-out key: their number goes on the campaign owner's list now.
pub async fn opt_out(
    conn: &mut AsyncPgConnection,
    owner_id: Uuid,
    phone: &E164,
    reason: &str,
) -> AppResult<()> {
    NewDncEntry {
        id: Uuid::now_v7(),
        owner_id: Some(owner_id),
        phone,
        reason,
        source: DncSource::OptOut,
        created_by: None,
    }
    .upsert(conn)
    .await?;
    Ok(())
}

/// (platform list, owner's list) membership of `phone`.
pub async fn blocks(
    conn: &mut AsyncPgConnection,
    owner_id: Uuid,
    phone: &str,
) -> AppResult<(bool, bool)> {
    Ok(DncEntry::blocks(conn, owner_id, phone).await?)
}

pub async fn remove(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    let mut conn = state.conn().await?;
    let viewer = viewer.clone();
    conn.transaction::<_, AppError, _>(async move |conn| {
        let entry = DncEntry::find(conn, id)
            .await
            .map_err(|_| AppError::NotFound("do-not-call entry"))?;
        let own = entry.owner_id == Some(viewer.id);
        if !own && !viewer.is_admin() {
            // Someone else's entry, or the platform's: as if it did not exist.
            return Err(AppError::NotFound("do-not-call entry"));
        }
        if entry.source == DncSource::OptOut && !viewer.is_admin() {
            return Err(AppError::Forbidden(
                "the callee opted out; only an administrator can lift that".into(),
            ));
        }
        DncEntry::delete(conn, id).await?;
        if viewer.is_admin() {
            audit::service::record(
                conn,
                Some(viewer.id),
                "dnc.remove",
                "do_not_call",
                &id.to_string(),
                json!({"phone": entry.phone, "owner_id": entry.owner_id, "source": entry.source}),
            )
            .await?;
        }
        Ok(())
    })
    .await
}

pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    scope: Option<Scope>,
    phone: Option<&str>,
    seek: &Seek,
) -> AppResult<Vec<DncEntry>> {
    let list = list_for(viewer, scope)?;
    let phone = phone.map(|p| parse_phone(p, "VN")).transpose()?;
    Ok(DncEntry::page(&mut *state.conn().await?, list, phone.as_deref(), seek).await?)
}

/// How many entries `page` pages through.
pub async fn count(
    state: AppState,
    viewer: Viewer,
    scope: Option<Scope>,
    phone: Option<String>,
) -> AppResult<i64> {
    let list = list_for(&viewer, scope)?;
    let phone = phone.map(|p| parse_phone(&p, "VN")).transpose()?;
    Ok(DncEntry::count(&mut *state.conn().await?, list, phone.as_deref()).await?)
}

/// Which list a viewer reads: admins any or the platform's, others only their own.
fn list_for(viewer: &Viewer, scope: Option<Scope>) -> AppResult<DncList> {
    Ok(match (scope, viewer.is_admin()) {
        (Some(Scope::Platform), true) => DncList::Platform,
        (Some(Scope::Platform), false) => {
            return Err(AppError::Forbidden(
                "only administrators see the platform list".into(),
            ))
        }
        (None, true) => DncList::Any,
        (Some(Scope::User), _) | (None, false) => DncList::User(viewer.id),
    })
}

#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub added: usize,
    pub duplicates: usize,
    /// (1-based row, value, reason)
    pub invalid: Vec<(usize, String, String)>,
}

/// Most problems listed in one report; the rest are only counted.
const MAX_REPORTED: usize = 1000;

/// Imports a CSV (a `phone` column, or the first column) into the platform list.
pub async fn import(
    state: &AppState,
    admin: &Viewer,
    file: std::fs::File,
    default_country: &str,
) -> AppResult<ImportReport> {
    let country = default_country.to_owned();
    let (numbers, invalid) = tokio::task::spawn_blocking(move || read_numbers(file, &country))
        .await
        .map_err(AppError::internal)??;
    let mut report = ImportReport {
        invalid,
        ..ImportReport::default()
    };
    let mut conn = state.conn().await?;
    for batch in numbers.chunks(IMPORT_BATCH) {
        let rows: Vec<NewDncEntry<'_>> = batch
            .iter()
            .map(|phone| NewDncEntry {
                id: Uuid::now_v7(),
                owner_id: None,
                phone,
                reason: "imported",
                source: DncSource::Import,
                created_by: Some(admin.id),
            })
            .collect();
        let added = diesel_async::RunQueryDsl::execute(
            diesel::insert_into(crate::db::schema::do_not_call::table)
                .values(&rows)
                .on_conflict_do_nothing(),
            &mut conn,
        )
        .await?;
        report.added += added;
        report.duplicates += batch.len() - added;
    }
    audit::service::record(
        &mut conn,
        Some(admin.id),
        "dnc.import",
        "do_not_call",
        "platform",
        json!({"added": report.added, "duplicates": report.duplicates, "invalid": report.invalid.len()}),
    )
    .await?;
    Ok(report)
}

type Parsed = (Vec<E164>, Vec<(usize, String, String)>);

fn read_numbers(file: impl Read, default_country: &str) -> AppResult<Parsed> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(file);
    let mut numbers = Vec::new();
    let mut invalid = Vec::new();
    let mut column = 0;
    for (index, record) in reader.byte_records().enumerate() {
        let row = index + 1;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                if invalid.len() < MAX_REPORTED {
                    invalid.push((row, String::new(), format!("unreadable row: {e}")));
                }
                continue;
            }
        };
        let cell = |i: usize| {
            String::from_utf8_lossy(record.get(i).unwrap_or_default())
                .trim()
                .to_owned()
        };
        if row == 1 {
            // A header row names the phone column; without one, the first column is the phone.
            let header: Vec<String> = (0..record.len()).map(|i| cell(i).to_lowercase()).collect();
            if let Some(i) = header
                .iter()
                .position(|h| matches!(h.as_str(), "phone" | "so_dien_thoai" | "sdt" | "number"))
            {
                column = i;
                continue;
            }
        }
        let value = cell(column);
        match phone::parse(&value, default_country) {
            Ok(parsed) => numbers.push(parsed.e164),
            Err(e) if invalid.len() < MAX_REPORTED => {
                invalid.push((row, value.chars().take(40).collect(), e.to_string()))
            }
            Err(_) => {}
        }
    }
    numbers.sort();
    numbers.dedup();
    Ok((numbers, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_header_and_reports_bad_rows() {
        let csv = "name,SDT\nAn,0912345678\nBinh,not a number\nChi,+84 912 345 678\n\u{0}\u{1}garbage,\u{ff}\n";
        let (numbers, invalid) = read_numbers(csv.as_bytes(), "VN").expect("parse");
        assert_eq!(
            numbers.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            vec!["+84912345678"]
        );
        assert_eq!(
            invalid.iter().map(|(row, _, _)| *row).collect::<Vec<_>>(),
            vec![3, 5]
        );
    }
}
