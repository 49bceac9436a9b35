//! `cloneCampaign`: a new DRAFT with another campaign's settings and none of its contacts or
//! calls, so a run can be repeated without retyping it.

use uuid::Uuid;

use super::model::Campaign;
use super::service::{self, build_fields, CampaignInput};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

/// Owner only: the settings name the owner's caller IDs, which are checked again for the copy
/// as for any new campaign, and an admin does not create campaigns in someone else's name.
pub async fn clone(
    state: &AppState,
    viewer: &Viewer,
    source_id: Uuid,
    name: String,
) -> AppResult<Campaign> {
    let source = service::get(state, viewer, source_id).await?;
    if source.owner_id != viewer.id {
        return Err(AppError::Forbidden(
            "only the campaign's owner can clone it".into(),
        ));
    }
    let input = CampaignInput {
        name: Some(name),
        ..CampaignInput::default()
    };
    let mut conn = state.conn().await?;
    let fields = build_fields(&mut conn, viewer.id, Some(&source), input).await?;
    Ok(Campaign::insert(&mut conn, viewer.id, fields).await?)
}
