//! What resolvers read from the GraphQL context: the app state, the viewer, the caller's IP.

use std::hash::Hash;
use std::sync::OnceLock;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, QueryPathSegment};

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
        let lazy = self.data_opt::<LazyLoader<T>>().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "no {} loader in the request data",
                std::any::type_name::<T>()
            ))
        })?;
        Ok(lazy
            .made
            .get_or_init(|| DataLoader::new((lazy.make)(self.state().clone()), tokio::spawn)))
    }
}

/// A request's batching loader, made the first time a resolver asks for it: a subscription
/// lives as long as its socket, and ten thousand of them holding eight loaders each that they
/// never use cost about 2 KB apiece.
pub struct LazyLoader<T> {
    make: fn(AppState) -> T,
    made: OnceLock<DataLoader<T>>,
}

impl<T> LazyLoader<T> {
    pub fn new(make: fn(AppState) -> T) -> Self {
        Self {
            make,
            made: OnceLock::new(),
        }
    }
}

/// One key's value through loader `L`: batched with the rest of the page when the field sits
/// under a list, read at once otherwise. The request's loader waits about a millisecond for
/// more keys, which is what batching a page costs and all a single object would pay for it.
pub async fn load_one<K, L>(
    ctx: &Context<'_>,
    key: K,
    direct: impl FnOnce(AppState) -> L,
) -> async_graphql::Result<Option<L::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K, Error = async_graphql::Error>,
{
    if in_a_list(ctx) {
        return ctx.loader::<L>()?.load_one(key).await;
    }
    let mut values = direct(ctx.state().clone())
        .load(std::slice::from_ref(&key))
        .await?;
    Ok(values.remove(&key))
}

/// Whether the field being resolved belongs to one of a list's items.
fn in_a_list(ctx: &Context<'_>) -> bool {
    ctx.path_node.is_some_and(|node| {
        std::iter::once(&node)
            .chain(node.parents())
            .any(|n| matches!(n.segment, QueryPathSegment::Index(_)))
    })
}
