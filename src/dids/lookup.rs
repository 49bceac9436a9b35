//! Reading numbers: one by id, a page of them, or the ones a user holds.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Did, DidFilter};
use crate::app::AppState;
use crate::error::{AppError, AppResult};

fn not_found(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::NotFound => AppError::NotFound("phone number"),
        other => other.into(),
    }
}

pub(super) async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Did> {
    Did::find(conn, id).await.map_err(not_found)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<Did> {
    find(&mut *state.conn().await?, id).await
}

pub async fn page(
    state: &AppState,
    filter: &DidFilter,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Did>> {
    Ok(Did::page(&mut *state.conn().await?, filter, after, limit).await?)
}

pub async fn for_user(
    state: &AppState,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> AppResult<Vec<Did>> {
    let filter = DidFilter {
        assigned_user_id: Some(user_id),
        ..DidFilter::default()
    };
    page(state, &filter, after, limit).await
}
