//! Reading calls: a user sees their own, an admin everyone's.

use uuid::Uuid;

use super::model::{Call, CallEvent, CallFilter};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

pub async fn get(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Call> {
    let call = Call::find(&mut *state.conn().await?, id)
        .await
        .map_err(|e| match e {
            diesel::result::Error::NotFound => AppError::NotFound("call"),
            other => other.into(),
        })?;
    if call.owner_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("call"));
    }
    Ok(call)
}

pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    mut filter: CallFilter,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Call>> {
    if !viewer.is_admin() {
        filter.owner_id = Some(viewer.id);
    }
    if let Some(campaign) = filter.campaign_id {
        // Someone else's campaign id yields NOT_FOUND, not an empty list that confirms it exists.
        crate::campaigns::service::get(state, viewer, campaign).await?;
    }
    Ok(Call::page(&mut *state.conn().await?, &filter, after, limit).await?)
}

pub async fn events(state: &AppState, call_id: Uuid) -> AppResult<Vec<CallEvent>> {
    Ok(Call::events(&mut *state.conn().await?, call_id).await?)
}
