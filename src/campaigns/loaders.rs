//! Batched reads for lists of campaigns: a page of statistics is one statement over the
//! campaigns' counters, not one per campaign.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::Campaign;
use super::stats::{self, Aggregates};
use crate::app::AppState;

/// Campaigns by id, for the edges other objects have to their campaign (a call's).
pub struct CampaignsById(pub AppState);

impl Loader<Uuid> for CampaignsById {
    type Value = Campaign;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Campaign>, Self::Error> {
        let campaigns = Campaign::find_many(&mut *self.0.conn().await?, ids).await?;
        Ok(campaigns.into_iter().map(|c| (c.id, c)).collect())
    }
}

/// The statistics' counters of campaigns the resolver already returned to this viewer.
pub struct CampaignAggregates(pub AppState);

impl Loader<Uuid> for CampaignAggregates {
    type Value = Aggregates;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Aggregates>, Self::Error> {
        Ok(stats::aggregates_of(&mut *self.0.conn().await?, ids).await?)
    }
}
