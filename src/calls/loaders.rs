//! Batched reads for lists of calls: one statement per page, not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::CallEvent;
use crate::app::AppState;
use crate::db::schema::call_events;
use crate::error::AppError;

/// Each call's timeline, in order; `events` and `digits` share it. Keys are ids of calls the
/// resolver already returned to this viewer, so no ownership filter is repeated here.
pub struct CallEvents(pub AppState);

impl Loader<Uuid> for CallEvents {
    type Value = Vec<CallEvent>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let events: Vec<CallEvent> = call_events::table
            .filter(call_events::call_id.eq_any(ids))
            .order(call_events::id)
            .select(CallEvent::as_select())
            .load(&mut *self.0.conn().await?)
            .await
            .map_err(AppError::from)?;
        let mut by_call: HashMap<Uuid, Vec<CallEvent>> = HashMap::new();
        for event in events {
            by_call.entry(event.call_id).or_default().push(event);
        }
        Ok(by_call)
    }
}
