//! Campaign reads: one campaign, a page of them, and the preflight report.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, Result, ID};

use super::inputs::CampaignsFilter;
use super::types::{CampaignNode, CampaignPreflight, PreflightIssue};
use crate::campaigns::model::CampaignFilter;
use crate::campaigns::{preflight, service};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

#[derive(Default)]
pub struct CampaignsQuery;

#[Object]
impl CampaignsQuery {
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<CampaignNode> {
        Ok(CampaignNode(
            service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?,
        ))
    }

    /// Your campaigns, newest first (admins see everyone's).
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CampaignsFilter>,
    ) -> Result<Connection<String, CampaignNode>> {
        let page = Page::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let filter = CampaignFilter {
            owner_id: None,
            status: filter.status,
            search: filter.search.filter(|s| !s.trim().is_empty()),
        };
        let rows = service::page(
            ctx.state(),
            ctx.viewer()?,
            filter,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |c| c.id.to_string(), CampaignNode))
    }

    /// Everything that would stop the campaign from starting, and warnings.
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn campaign_preflight(&self, ctx: &Context<'_>, id: ID) -> Result<CampaignPreflight> {
        let report = service::preflight(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?;
        let issues = |list: Vec<preflight::Issue>| {
            list.into_iter()
                .map(|i| PreflightIssue {
                    code: i.code.to_owned(),
                    message: i.message,
                })
                .collect()
        };
        Ok(CampaignPreflight {
            ready: report.blockers.is_empty(),
            contacts_to_call: report.contacts_to_call,
            estimated_cost: report.estimated_cost,
            available_balance: report.available_balance,
            blockers: issues(report.blockers),
            warnings: issues(report.warnings),
        })
    }
}
