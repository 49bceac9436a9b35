//! The campaign list: a viewer's own campaigns, or everyone's for an admin.

use super::model::{Campaign, CampaignFilter};
use super::sort::CampaignOrderField;
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::AppResult;
use crate::viewer::Viewer;

/// The filter as this viewer may use it: their own campaigns unless they are an admin.
pub fn scoped(viewer: &Viewer, mut filter: CampaignFilter) -> CampaignFilter {
    if !viewer.is_admin() {
        filter.owner_id = Some(viewer.id);
    }
    filter
}

/// A page of a filter from `scoped`, in `sort` order.
pub async fn page(
    state: &AppState,
    filter: &CampaignFilter,
    sort: CampaignOrderField,
    seek: &Seek,
) -> AppResult<Vec<Campaign>> {
    Ok(Campaign::page(&mut *state.conn().await?, filter, sort, seek).await?)
}

/// How many campaigns a filter from `scoped` matches.
pub async fn count(state: AppState, filter: CampaignFilter) -> AppResult<i64> {
    Ok(Campaign::count(&mut *state.conn().await?, &filter).await?)
}
