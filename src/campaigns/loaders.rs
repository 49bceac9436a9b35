//! Batched reads for lists of campaigns: a page of statistics is one statement over the
//! campaigns' counters, not one per campaign.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::stats::{self, Aggregates};
use crate::app::AppState;

/// The statistics' counters of campaigns the resolver already returned to this viewer.
pub struct CampaignAggregates(pub AppState);

impl Loader<Uuid> for CampaignAggregates {
    type Value = Aggregates;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Aggregates>, Self::Error> {
        Ok(stats::aggregates_of(&mut *self.0.conn().await?, ids).await?)
    }
}
