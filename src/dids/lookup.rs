//! Reading numbers: one by id, a page of them, or the ones a user holds.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Did, DidFilter};
use super::sort::DidOrderField;
use crate::app::AppState;
use crate::db::keyset::Seek;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

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

/// A number its holder or an admin may see; NOT_FOUND for anyone else, as for no number.
pub async fn get_for(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Did> {
    let did = get(state, id).await?;
    if !super::loaders::visible(&did, viewer) {
        return Err(AppError::NotFound("number"));
    }
    Ok(did)
}

pub async fn page(
    state: &AppState,
    filter: &DidFilter,
    sort: DidOrderField,
    seek: &Seek,
) -> AppResult<Vec<Did>> {
    Ok(Did::page(&mut *state.conn().await?, filter, sort, seek).await?)
}

/// How many numbers `page` pages through.
pub async fn count(state: AppState, filter: DidFilter) -> AppResult<i64> {
    Ok(Did::count(&mut *state.conn().await?, &filter).await?)
}

/// The numbers assigned to one user.
pub fn assigned_to(user_id: Uuid) -> DidFilter {
    DidFilter {
        assigned_user_id: Some(user_id),
        ..DidFilter::default()
    }
}

pub async fn for_user(
    state: &AppState,
    user_id: Uuid,
    sort: DidOrderField,
    seek: &Seek,
) -> AppResult<Vec<Did>> {
    page(state, &assigned_to(user_id), sort, seek).await
}
