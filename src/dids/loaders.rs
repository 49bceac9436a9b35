//! Batched reads of numbers, for the edges other objects have to them (a call's caller ID, a
//! campaign's caller IDs): one statement per page, not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::Did;
use crate::app::AppState;
use crate::viewer::Viewer;

/// Numbers by id; `visible` decides which of them a viewer may see.
pub struct DidsById(pub AppState);

impl Loader<Uuid> for DidsById {
    type Value = Did;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Did>, Self::Error> {
        let dids = Did::find_many(&mut *self.0.conn().await?, ids).await?;
        Ok(dids.into_iter().map(|d| (d.id, d)).collect())
    }
}

/// A number is its holder's and the admins'; a number that has changed hands since (or was
/// never assigned) is not shown to anyone else through an edge.
pub fn visible(did: &Did, viewer: &Viewer) -> bool {
    viewer.is_admin() || did.assigned_user_id == Some(viewer.id)
}
