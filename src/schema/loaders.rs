//! Puts every domain's DataLoaders into each request's data, so that a field of a list's rows
//! is read with one statement per page instead of one per row. Fresh per request (and per
//! subscription): loaders never cache, and nothing batched for one request serves another.
//! Each is made on first use (`LazyLoader`).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};

use crate::app::AppState;
use crate::campaigns::contacts;
use crate::graphql::context::LazyLoader;
use crate::{billing, calls, campaigns, dids, users};

pub struct Loaders;

impl ExtensionFactory for Loaders {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Loaders)
    }
}

#[async_trait::async_trait]
impl Extension for Loaders {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Loaders are made from the schema's `AppState`; a schema without one has none.
        let request = match ctx.data_opt::<AppState>() {
            Some(_) => with_loaders(request),
            None => request,
        };
        next.run(ctx, request).await
    }
}

fn with_loaders(request: Request) -> Request {
    request
        .data(LazyLoader::new(calls::loaders::CallEvents))
        .data(LazyLoader::new(billing::loaders::CallMoneyLoader))
        .data(LazyLoader::new(billing::loaders::Balances))
        .data(LazyLoader::new(contacts::loaders::ContactCounts))
        .data(LazyLoader::new(campaigns::loaders::CampaignAggregates))
        .data(LazyLoader::new(campaigns::loaders::CampaignsById))
        .data(LazyLoader::new(users::loaders::UsersById))
        .data(LazyLoader::new(dids::loaders::DidsById))
}
