//! Batched reads for lists of campaigns: one statement per page, not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::{Contact, StateCounts};
use crate::app::AppState;
use crate::error::AppError;

/// Contacts per state of campaigns the resolver already returned to this viewer.
pub struct ContactCounts(pub AppState);

impl Loader<Uuid> for ContactCounts {
    type Value = StateCounts;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, StateCounts>, Self::Error> {
        Ok(Contact::counts_of(&mut *self.0.conn().await?, ids)
            .await
            .map_err(AppError::from)?)
    }
}
