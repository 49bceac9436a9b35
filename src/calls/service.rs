//! Reading calls: a user sees their own, an admin everyone's.

use uuid::Uuid;

use super::model::{Call, CallEvent, CallFilter};
use super::sort::CallOrderField;
use crate::app::AppState;
use crate::db::keyset::Seek;
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

/// The filter as this viewer may use it: their own calls unless they are an admin, and NOT_FOUND
/// for someone else's campaign rather than an empty list that confirms it exists.
pub async fn scoped(
    state: &AppState,
    viewer: &Viewer,
    mut filter: CallFilter,
) -> AppResult<CallFilter> {
    if !viewer.is_admin() {
        filter.owner_id = Some(viewer.id);
    }
    if let Some(campaign) = filter.campaign_id {
        crate::campaigns::service::get(state, viewer, campaign).await?;
        // The viewer may see this campaign, and every call of a campaign is its owner's: the
        // campaign alone scopes the list, so it is read from a (campaign_id, sort, id) index
        // rather than sorting the intersection with the owner's.
        filter.owner_id = None;
    }
    Ok(filter)
}

/// A page of a filter from `scoped`.
pub async fn page(
    state: &AppState,
    filter: &CallFilter,
    sort: CallOrderField,
    seek: &Seek,
) -> AppResult<Vec<Call>> {
    Ok(Call::page(&mut *state.conn().await?, filter, sort, seek).await?)
}

/// How many calls a filter from `scoped` matches.
pub async fn count(state: AppState, filter: CallFilter) -> AppResult<i64> {
    Ok(Call::count(&mut *state.conn().await?, &filter).await?)
}

pub async fn events(state: &AppState, call_id: Uuid) -> AppResult<Vec<CallEvent>> {
    Ok(Call::events(&mut *state.conn().await?, call_id).await?)
}
