//! What resolvers read from the GraphQL context: the app state, the viewer, the caller's IP.

use async_graphql::dataloader::DataLoader;
use async_graphql::Context;

use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

/// Per-request facts the HTTP or websocket layer knows and resolvers need.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: String,
}

pub trait ContextExt {
    fn state(&self) -> &AppState;
    /// The signed-in caller, or UNAUTHENTICATED.
    fn viewer(&self) -> AppResult<&Viewer>;
    fn request_meta(&self) -> RequestMeta;
    /// This request's batching loader of type `T` (registered by `schema::loaders`).
    fn loader<T: Send + Sync + 'static>(&self) -> AppResult<&DataLoader<T>>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // Inserted by `schema::schema`; a schema without it is a programming error.
        self.data_unchecked::<AppState>()
    }

    fn viewer(&self) -> AppResult<&Viewer> {
        self.data_opt::<Viewer>().ok_or_else(|| {
            AppError::Unauthenticated(
                "sign in first: send Authorization: Bearer <accessToken>".into(),
            )
        })
    }

    fn request_meta(&self) -> RequestMeta {
        self.data_opt::<RequestMeta>().cloned().unwrap_or_default()
    }

    fn loader<T: Send + Sync + 'static>(&self) -> AppResult<&DataLoader<T>> {
        self.data_opt::<DataLoader<T>>().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "no {} loader in the request data",
                std::any::type_name::<T>()
            ))
        })
    }
}
