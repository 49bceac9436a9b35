//! What the number pool does to a Twilio account: import its numbers, and remove the account
//! once it holds none. Here rather than in `twilio_accounts` because both are about DIDs, and
//! the pool sits above the accounts it buys numbers from.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::service::SyncReport;
use super::Did;
use crate::app::AppState;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::twilio_accounts::cache::AccountCache;
use crate::twilio_accounts::model::TwilioAccount;
use crate::twilio_accounts::service as accounts;
use crate::viewer::Viewer;

/// Imports the account's numbers from Twilio as DIDs (new ones added, known ones refreshed).
pub async fn sync(state: &AppState, admin: Option<&Viewer>, id: Uuid) -> AppResult<SyncReport> {
    let account = accounts::get(state, id).await?;
    let client = accounts::client_for(state, &account)?;
    let numbers = client.list_numbers().await?;
    let report = super::service::import(state, &account, &numbers).await?;
    let mut conn = state.conn().await?;
    audit::service::record(
        &mut conn,
        admin.map(|a| a.id),
        "twilio_account.sync",
        "twilio_account",
        &id.to_string(),
        json!({"imported": report.imported, "updated": report.updated, "on_twilio": report.on_twilio,
               "skipped": report.skipped}),
    )
    .await?;
    Ok(report)
}

/// Refused while the account still holds numbers: release or move them first.
pub async fn remove(state: &AppState, admin: &Viewer, id: Uuid) -> AppResult<()> {
    let admin_id = admin.id;
    let mut conn = state.conn().await?;
    let removed = conn
        .transaction::<_, AppError, _>(async move |conn| {
            let account = accounts::find(conn, id).await?;
            if Did::count_live_for_account(conn, id).await? > 0 {
                return Err(AppError::conflict(
                    "id",
                    "the account still has phone numbers; release them first",
                ));
            }
            // Released numbers go with the account; the audit log keeps their story.
            Did::delete_released_for_account(conn, id).await?;
            TwilioAccount::delete(conn, id).await.map_err(|e| match e {
                DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                    AppError::conflict(
                        "id",
                        "calls were placed through this account; it cannot be removed",
                    )
                }
                other => other.into(),
            })?;
            audit::service::record(
                conn,
                Some(admin_id),
                "twilio_account.remove",
                "twilio_account",
                &id.to_string(),
                json!({"account_sid": account.account_sid}),
            )
            .await?;
            Ok(())
        })
        .await;
    AccountCache::of(state).forget();
    removed
}
