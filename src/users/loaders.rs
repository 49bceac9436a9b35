//! Batched reads of accounts, for the edges other objects have to their users (a campaign's
//! owner, a top-up's payer): one statement per page, not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::model::User;
use crate::app::AppState;

/// Accounts by id; the field that asks has already decided the viewer may see them.
pub struct UsersById(pub AppState);

impl Loader<Uuid> for UsersById {
    type Value = User;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, User>, Self::Error> {
        let users = User::find_many(&mut *self.0.conn().await?, ids).await?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}
