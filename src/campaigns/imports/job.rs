//! `ProcessImport`: reads an import's stored file into its campaign, chunk by chunk.
//!
//! Each chunk is one transaction: the import row locked (a cancelled import stops here), the
//! campaign held in DRAFT/PAUSED, the chunk's contacts and refused rows written, the counters
//! and the checkpoint (`rows_read`) moved. A run after a crash (or a second run at the same
//! time) re-reads the file and skips the rows through the checkpoint, so nothing is counted or
//! added twice; contacts are unique per campaign and number in any case.

use diesel::OptionalExtension;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::model::{self, ChunkCounts, Import, ImportError, ImportStatus};
use super::{file, service};
use crate::app::AppState;
use crate::campaigns::contacts::import::{self as reader, Chunk};
use crate::campaigns::Campaign;
use crate::error::{AppError, AppResult};
use crate::jobs::{BackgroundJob, Job};

/// Refused rows kept per import (`invalid` counts all of them).
pub const MAX_STORED_ERRORS: i64 = 1000;

#[derive(Serialize, Deserialize, Debug, Clone, Copy)]
pub struct ProcessImport {
    pub import_id: Uuid,
}

impl Job for ProcessImport {
    const JOB_TYPE: &'static str = "process_import";

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("process_import:{}", self.import_id))
    }
}

impl BackgroundJob for ProcessImport {
    async fn run(self, state: AppState) -> anyhow::Result<()> {
        process(&state, self.import_id)
            .await
            .map_err(AppError::into_anyhow)
    }
}

/// What the job does after a chunk.
enum Next {
    Continue,
    /// The import was cancelled or ended elsewhere.
    Stop,
}

pub async fn process(state: &AppState, id: Uuid) -> AppResult<()> {
    let mut conn = state.conn().await?;
    let import = match Import::find(&mut conn, id).await {
        Ok(import) => import,
        // Deleted with its campaign.
        Err(diesel::result::Error::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let import = match import.status {
        ImportStatus::Queued => match Import::start(&mut conn, id).await? {
            Some(started) => {
                service::publish(state, &started).await;
                started
            }
            // Cancelled, or started by another run, since it was read.
            None => Import::find(&mut conn, id).await?,
        },
        _ => import,
    };
    if import.status.is_finished() {
        return Ok(());
    }
    let Some(campaign) = Campaign::find(&mut conn, import.campaign_id)
        .await
        .optional()?
    else {
        return Ok(());
    };
    let allowances = crate::compliance::numbers::load(&mut conn).await?;
    drop(conn);

    if import.rows_read == 0 {
        let file = file::reader(state, id);
        let checked = tokio::task::spawn_blocking(move || reader::check(file))
            .await
            .map_err(AppError::internal)?;
        if let Err(e) = checked {
            return fail(state, id, e).await;
        }
    }

    let (tx, mut rx) = mpsc::channel::<Chunk>(2);
    let file = file::reader(state, id);
    let skip = import.rows_read;
    let country = campaign.default_country.clone();
    let reading =
        tokio::task::spawn_blocking(move || reader::read(file, &country, &allowances, skip, &tx));
    while let Some(chunk) = rx.recv().await {
        if let Next::Stop = apply(state, &import, chunk).await? {
            // The reader stops at its next send.
            drop(rx);
            let _ = reading.await;
            return Ok(());
        }
    }
    match reading.await.map_err(AppError::internal)? {
        Ok(()) => finish(state, id, ImportStatus::Completed, None).await,
        Err(e) => fail(state, id, e).await,
    }
}

/// Commits one chunk with the counters, unless the import stopped or the rows were committed.
async fn apply(state: &AppState, import: &Import, mut chunk: Chunk) -> AppResult<Next> {
    let mut conn = state.conn().await?;
    let done = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Gone with its campaign, or stopped: nothing more to do.
            let Some(current) = Import::find_for_update(conn, import.id).await.optional()? else {
                return Ok(None);
            };
            if current.status != ImportStatus::Running {
                return Ok(None);
            }
            if let Err(e) = service::lock_editable(conn, import.campaign_id).await {
                let reason = format!("the campaign can no longer take contacts: {}", e.message());
                let ended =
                    Import::finish(conn, import.id, ImportStatus::Cancelled, Some(&reason)).await?;
                return Ok(Some((ended, Next::Stop)));
            }
            if chunk.last_row <= current.rows_read {
                return Ok(None);
            }
            chunk.skip_through(current.rows_read);
            let valid = chunk.rows.len() as i64;
            let invalid = chunk.invalid.len() as i64;
            let added = reader::insert(conn, import.campaign_id, chunk.rows).await? as i64;
            let room = (MAX_STORED_ERRORS - current.invalid.min(MAX_STORED_ERRORS)) as usize;
            let errors: Vec<ImportError> = chunk
                .invalid
                .into_iter()
                .take(room)
                .map(|(row_no, value, reason)| ImportError {
                    import_id: import.id,
                    row_no,
                    value,
                    reason,
                })
                .collect();
            model::insert_errors(conn, &errors).await?;
            let counts = ChunkCounts {
                rows_read: chunk.last_row,
                imported: added,
                duplicates: valid - added,
                invalid,
            };
            Ok(Some((
                Import::add_chunk(conn, import.id, counts).await?,
                Next::Continue,
            )))
        })
        .await?;
    match done {
        Some((import, next)) => {
            service::publish(state, &import).await;
            Ok(next)
        }
        None => {
            // Either stopped elsewhere or already committed by another run: look again.
            let current = Import::find(&mut *state.conn().await?, import.id)
                .await
                .optional()?;
            Ok(
                if current.is_some_and(|c| c.status == ImportStatus::Running) {
                    Next::Continue
                } else {
                    Next::Stop
                },
            )
        }
    }
}

/// A file that cannot be read ends the import FAILED with the reason; anything else (the
/// database, a lost worker) is retried by the queue.
async fn fail(state: &AppState, id: Uuid, error: AppError) -> AppResult<()> {
    match error {
        AppError::BadInput { message, .. } => {
            finish(state, id, ImportStatus::Failed, Some(&message)).await
        }
        other => Err(other),
    }
}

async fn finish(
    state: &AppState,
    id: Uuid,
    status: ImportStatus,
    reason: Option<&str>,
) -> AppResult<()> {
    let mut conn = state.conn().await?;
    let ended = conn
        .transaction::<_, AppError, _>(async |conn| {
            let current = Import::find_for_update(conn, id).await.optional()?;
            if current.is_none_or(|c| c.status != ImportStatus::Running) {
                return Ok(None);
            }
            Ok(Some(Import::finish(conn, id, status, reason).await?))
        })
        .await?;
    if let Some(import) = ended {
        service::publish(state, &import).await;
    }
    Ok(())
}
