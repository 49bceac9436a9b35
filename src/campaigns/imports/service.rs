//! Import rules: who may import into which campaign, how many at once, who sees and cancels an
//! import; the file is stored and the job enqueued in the transaction that creates the import.

use crate::db::keyset::Seek;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{self, Import, ImportError, ImportStatus, NewImport};
use super::{file, ProcessImport};
use crate::app::AppState;
use crate::campaigns::{self, CampaignStatus};
use crate::error::{AppError, AppResult};
use crate::events::{self, Event};
use crate::viewer::Viewer;

/// Published after each committed chunk and when an import's status changes.
pub const EVENT_IMPORT_PROGRESS: &str = "campaign.import_progress";

/// Imports one user may have queued or running at once.
pub const MAX_UNFINISHED: i64 = 3;

/// Characters of the uploaded file's name that are kept.
const MAX_FILE_NAME: usize = 200;

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("import"),
        other => other.into(),
    }
}

/// Creates the import of `file` into the viewer's DRAFT or PAUSED campaign: the file is
/// stored and the job enqueued in one transaction, so once this answers the import will run.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    file_name: &str,
    file: std::fs::File,
) -> AppResult<Import> {
    let campaign = campaigns::service::owned_editable(state, viewer, campaign_id).await?;
    let file_name: String = file_name.chars().take(MAX_FILE_NAME).collect();
    let file_bytes = file
        .metadata()
        .map_err(AppError::internal)?
        .len()
        .try_into()
        .unwrap_or(i64::MAX);
    let mut conn = state.conn().await?;
    let import = conn
        .transaction::<_, AppError, _>(async |conn| {
            // Serialises one user's concurrent imports, so the count below holds.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<Text, _>(format!("imports:{}", viewer.id))
                .execute(conn)
                .await?;
            if Import::unfinished_of_owner(conn, viewer.id).await? >= MAX_UNFINISHED {
                return Err(AppError::RateLimited {
                    message: format!(
                        "you have {MAX_UNFINISHED} imports queued or running; wait for one to \
                         finish or cancel one (cancelImport)"
                    ),
                    retry_after_secs: 60,
                });
            }
            // Held to commit: startCampaign waits for this import to be visible, then refuses.
            lock_editable(conn, campaign.id).await?;
            let import = Import::insert(
                conn,
                NewImport {
                    id: Uuid::now_v7(),
                    campaign_id: campaign.id,
                    owner_id: campaign.owner_id,
                    file_name: &file_name,
                    file_bytes,
                },
            )
            .await?;
            file::store(conn, import.id, file).await?;
            crate::jobs::enqueue(
                conn,
                &ProcessImport {
                    import_id: import.id,
                },
            )
            .await?;
            Ok(import)
        })
        .await?;
    publish(state, &import).await;
    Ok(import)
}

/// Locks the campaign against status changes until commit; refuses one that left DRAFT/PAUSED.
pub async fn lock_editable(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<()> {
    #[derive(diesel::QueryableByName)]
    struct Status {
        #[diesel(sql_type = Text)]
        status: String,
    }
    let found: Status = diesel::sql_query("SELECT status FROM campaigns WHERE id = $1 FOR SHARE")
        .bind::<SqlUuid, _>(campaign_id)
        .get_result(conn)
        .await
        .map_err(|e| match e {
            diesel::result::Error::NotFound => AppError::NotFound("campaign"),
            other => other.into(),
        })?;
    let editable = [CampaignStatus::Draft, CampaignStatus::Paused]
        .iter()
        .any(|s| s.as_str() == found.status);
    if !editable {
        return Err(AppError::conflict(
            "campaignId",
            format!(
                "a {} campaign cannot be changed; pause it first",
                found.status
            ),
        ));
    }
    Ok(())
}

/// A campaign does not start (or resume) while contacts are still being imported into it.
pub async fn refuse_start(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<()> {
    if Import::unfinished_in_campaign(conn, campaign_id).await? {
        return Err(AppError::conflict(
            "id",
            "an import into this campaign is still queued or running; wait for it to finish \
             or cancel it (cancelImport), then start the campaign",
        ));
    }
    Ok(())
}

/// The import if the viewer may see it (its owner, or an admin); NOT_FOUND otherwise.
pub async fn get(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Import> {
    let import = Import::find(&mut *state.conn().await?, id)
        .await
        .map_err(not_found)?;
    if !events::for_viewer(viewer, import.owner_id) {
        return Err(AppError::NotFound("import"));
    }
    Ok(import)
}

/// A campaign's imports, newest first (the campaign's owner or an admin).
pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    campaign_id: Uuid,
    seek: &Seek,
) -> AppResult<Vec<Import>> {
    campaigns::service::get(state, viewer, campaign_id).await?;
    Ok(Import::page(&mut *state.conn().await?, campaign_id, seek).await?)
}

pub async fn count(state: AppState, campaign_id: Uuid) -> AppResult<i64> {
    Ok(Import::count(&mut *state.conn().await?, campaign_id).await?)
}

/// A page of an import's stored refused rows; the import was already shown to the viewer.
pub async fn errors(state: &AppState, import_id: Uuid, seek: &Seek) -> AppResult<Vec<ImportError>> {
    Ok(model::errors_page(&mut *state.conn().await?, import_id, seek).await?)
}

pub async fn errors_count(state: AppState, import_id: Uuid) -> AppResult<i64> {
    Ok(model::errors_count(&mut *state.conn().await?, import_id).await?)
}

/// Stops a queued or running import (its owner or an admin). Contacts of chunks already
/// committed stay; the job stops before its next chunk.
pub async fn cancel(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Import> {
    let mut conn = state.conn().await?;
    let import = conn
        .transaction::<_, AppError, _>(async |conn| {
            let import = Import::find_for_update(conn, id).await.map_err(not_found)?;
            if !events::for_viewer(viewer, import.owner_id) {
                return Err(AppError::NotFound("import"));
            }
            if import.status.is_finished() {
                return Err(AppError::conflict(
                    "id",
                    format!("the import is already {}", import.status),
                ));
            }
            Ok(Import::finish(conn, id, ImportStatus::Cancelled, None).await?)
        })
        .await?;
    publish(state, &import).await;
    Ok(import)
}

/// Tells `importProgress` subscribers (and the campaign's progress feed) that it moved.
pub async fn publish(state: &AppState, import: &Import) {
    let mut event = Event::new(EVENT_IMPORT_PROGRESS, import.owner_id);
    event.campaign_id = Some(import.campaign_id);
    event.status = Some(import.status.as_str().to_owned());
    state.events.publish(event).await;
}
