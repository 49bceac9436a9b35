//! Puts every domain's DataLoaders into each request's data, so that a field of a list's rows
//! is read with one statement per page instead of one per row. Fresh per request (and per
//! subscription): loaders never cache, and nothing batched for one request serves another.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Request, ServerResult};

use crate::app::AppState;
use crate::campaigns::contacts;
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
        let request = match ctx.data_opt::<AppState>() {
            Some(state) => with_loaders(request, state),
            None => request,
        };
        next.run(ctx, request).await
    }
}

fn with_loaders(request: Request, state: &AppState) -> Request {
    let s = || state.clone();
    request
        .data(DataLoader::new(
            calls::loaders::CallEvents(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            billing::loaders::CallMoneyLoader(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            billing::loaders::Balances(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            contacts::loaders::ContactCounts(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            campaigns::loaders::CampaignAggregates(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            campaigns::loaders::CampaignsById(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            users::loaders::UsersById(s()),
            tokio::spawn,
        ))
        .data(DataLoader::new(dids::loaders::DidsById(s()), tokio::spawn))
}
