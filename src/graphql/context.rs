//! What resolvers read from the GraphQL context: the app state, the viewer, the caller's IP.

use async_graphql::Context;

use crate::app::AppState;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};

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
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // Inserted by `graphql::schema`; a schema without it is a programming error.
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
}
