//! The `imports`, `import_file_parts` and `import_errors` tables.

use crate::db::keyset::Seek;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{import_errors, import_file_parts, imports};
use crate::text_enum;

text_enum! {
    /// Where a contact import is: QUEUED, then RUNNING, then COMPLETED, FAILED or CANCELLED.
    pub enum ImportStatus {
        /// The file is stored and waits for a worker.
        Queued => "QUEUED",
        /// A worker is reading the file; the counters grow chunk by chunk.
        Running => "RUNNING",
        /// Every row was read; the counters are final.
        Completed => "COMPLETED",
        /// The file could not be read (not UTF-8, no phone column ...): see failureReason. The whole file is checked before any row is added, so nothing of it was added.
        Failed => "FAILED",
        /// Stopped by cancelImport (or because the campaign left DRAFT/PAUSED); contacts already imported stay.
        Cancelled => "CANCELLED",
    }
}

impl ImportStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

const UNFINISHED: [ImportStatus; 2] = [ImportStatus::Queued, ImportStatus::Running];

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = imports)]
pub struct Import {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub owner_id: Uuid,
    pub status: ImportStatus,
    pub failure_reason: Option<String>,
    pub file_name: String,
    pub file_bytes: i64,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub duplicates: i64,
    pub invalid: i64,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = imports)]
pub struct NewImport<'a> {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub owner_id: Uuid,
    pub file_name: &'a str,
    pub file_bytes: i64,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = import_errors)]
pub struct ImportError {
    pub import_id: Uuid,
    pub row_no: i64,
    pub value: String,
    pub reason: String,
}

/// What one chunk adds to an import's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChunkCounts {
    pub rows_read: i64,
    pub imported: i64,
    pub duplicates: i64,
    pub invalid: i64,
}

impl Import {
    pub async fn insert(conn: &mut AsyncPgConnection, new: NewImport<'_>) -> QueryResult<Self> {
        diesel::insert_into(imports::table)
            .values(&new)
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        imports::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        imports::table
            .find(id)
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await
    }

    /// A campaign's imports, newest first, after the `after` id (UUIDv7 ids sort by time).
    pub async fn page(
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let mut query = imports::table
            .filter(imports::campaign_id.eq(campaign_id))
            .select(Self::as_select())
            .into_boxed()
            .order(seek.order(None, "imports.id"))
            .limit(seek.limit);
        if let Some(past) = seek.past(None, "imports.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    pub async fn count(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> QueryResult<i64> {
        imports::table
            .filter(imports::campaign_id.eq(campaign_id))
            .count()
            .get_result(conn)
            .await
    }

    /// Imports of `owner` still queued or running (on a partial index).
    pub async fn unfinished_of_owner(
        conn: &mut AsyncPgConnection,
        owner: Uuid,
    ) -> QueryResult<i64> {
        imports::table
            .filter(imports::owner_id.eq(owner))
            .filter(imports::status.eq_any(UNFINISHED))
            .count()
            .get_result(conn)
            .await
    }

    /// Whether an import into the campaign is still queued or running (on a partial index).
    pub async fn unfinished_in_campaign(
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
    ) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            imports::table
                .filter(imports::campaign_id.eq(campaign_id))
                .filter(imports::status.eq_any(UNFINISHED)),
        ))
        .get_result(conn)
        .await
    }

    /// QUEUED -> RUNNING; `None` when it was no longer QUEUED (cancelled, or started by
    /// another run).
    pub async fn start(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Self>> {
        diesel::update(imports::table.find(id))
            .filter(imports::status.eq(ImportStatus::Queued))
            .set((
                imports::status.eq(ImportStatus::Running),
                imports::started_at.eq(Some(Utc::now())),
                imports::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
            .optional()
    }

    /// Adds one chunk's counts and moves the checkpoint to `rows_read`.
    pub async fn add_chunk(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        counts: ChunkCounts,
    ) -> QueryResult<Self> {
        diesel::update(imports::table.find(id))
            .set((
                imports::rows_read.eq(counts.rows_read),
                imports::rows_imported.eq(imports::rows_imported + counts.imported),
                imports::duplicates.eq(imports::duplicates + counts.duplicates),
                imports::invalid.eq(imports::invalid + counts.invalid),
                imports::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    /// Ends the import and drops its file.
    pub async fn finish(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        status: ImportStatus,
        reason: Option<&str>,
    ) -> QueryResult<Self> {
        diesel::delete(import_file_parts::table.filter(import_file_parts::import_id.eq(id)))
            .execute(conn)
            .await?;
        diesel::update(imports::table.find(id))
            .set((
                imports::status.eq(status),
                imports::failure_reason.eq(reason),
                imports::finished_at.eq(Some(Utc::now())),
                imports::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }
}

pub async fn insert_part(
    conn: &mut AsyncPgConnection,
    import_id: Uuid,
    part_no: i32,
    data: &[u8],
) -> QueryResult<()> {
    diesel::insert_into(import_file_parts::table)
        .values((
            import_file_parts::import_id.eq(import_id),
            import_file_parts::part_no.eq(part_no),
            import_file_parts::data.eq(data),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The file's part numbered `part_no`, or `None` past the last.
pub async fn part(
    conn: &mut AsyncPgConnection,
    import_id: Uuid,
    part_no: i32,
) -> QueryResult<Option<Vec<u8>>> {
    import_file_parts::table
        .find((import_id, part_no))
        .select(import_file_parts::data)
        .first(conn)
        .await
        .optional()
}

/// Stores refused rows; a row stored by an earlier run of the chunk is kept as it was.
pub async fn insert_errors(conn: &mut AsyncPgConnection, rows: &[ImportError]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(import_errors::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// An import's refused rows in file order, after row `after`.
pub async fn errors_page(
    conn: &mut AsyncPgConnection,
    import_id: Uuid,
    seek: &Seek,
) -> QueryResult<Vec<ImportError>> {
    let mut query = import_errors::table
        .filter(import_errors::import_id.eq(import_id))
        .select(ImportError::as_select())
        .into_boxed()
        .order(seek.order(None, "import_errors.row_no"))
        .limit(seek.limit);
    if let Some(past) = seek.past(None, "import_errors.row_no") {
        query = query.filter(past);
    }
    query.load(conn).await
}

pub async fn errors_count(conn: &mut AsyncPgConnection, import_id: Uuid) -> QueryResult<i64> {
    import_errors::table
        .filter(import_errors::import_id.eq(import_id))
        .count()
        .get_result(conn)
        .await
}
