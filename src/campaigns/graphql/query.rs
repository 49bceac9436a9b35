//! Campaign reads: one campaign, a page of them, and the preflight report.

use async_graphql::{Context, Object, Result, ID};

use super::inputs::CampaignsFilter;
use super::reasons::{CampaignPreflight, PreflightIssue, PreflightIssueCode};
use super::types::CampaignNode;
use crate::campaigns::model::CampaignFilter;
use crate::campaigns::sort::{self, CampaignOrder};
use crate::campaigns::voices::{self, Voice};
use crate::campaigns::{listing, preflight, service};
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};
use crate::graphql::Vnd;

#[derive(Default)]
pub struct CampaignsQuery;

#[Object]
impl CampaignsQuery {
    #[graphql(complexity = "crate::graphql::cost::LOOKUP + child_complexity")]
    /// One campaign by id, for its owner or an ADMIN (NOT_FOUND for anyone else).
    async fn campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign's id.")] id: ID,
    ) -> Result<CampaignNode> {
        Ok(CampaignNode(
            service::get(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?,
        ))
    }

    /// The text-to-speech voices a campaign's message may use, with language and gender; any signed-in user.
    async fn voices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only voices of this language (BCP 47, e.g. vi-VN); omit for all.")]
        language: Option<String>,
    ) -> Result<Vec<Voice>> {
        ctx.viewer()?;
        Ok(voices::of(language.as_deref()))
    }

    /// Your campaigns, newest first unless `orderBy` says otherwise; an ADMIN sees everyone's.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "Relay's four paging arguments, a filter and an order are GraphQL arguments"
    )]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return, 0 to 500 (default 50).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after: the endCursor of the previous page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "Only campaigns with this status or name; omit for all.")] filter: Option<
            CampaignsFilter,
        >,
        #[graphql(desc = "Sort order; newest first when omitted.")] order_by: Option<CampaignOrder>,
    ) -> Result<List<CampaignNode>> {
        let page = Page::parse(first, after, last, before)?;
        let (sort, ordering) =
            Ordering::of(CampaignOrder::pair(order_by), sort::DEFAULT, SortKind::Uuid);
        let filter = filter.unwrap_or_default();
        let filter = CampaignFilter {
            owner_id: None,
            statuses: filter.statuses,
            search: filter.search.filter(|s| !s.trim().is_empty()),
        };
        let filter = listing::scoped(ctx.viewer()?, filter);
        let rows = listing::page(ctx.state(), &filter, sort, &page.seek(&ordering)?).await?;
        let count = listing::count(ctx.state().clone(), filter);
        Ok(page.connection(
            rows,
            |c| ordering.cursor(sort.value(c), c.id),
            CampaignNode,
            count,
        ))
    }

    /// Everything that would stop the campaign from starting, warnings, and its cost estimate (owner or ADMIN; free).
    #[graphql(complexity = "crate::graphql::cost::AGGREGATE + child_complexity")]
    async fn campaign_preflight(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign to check.")] id: ID,
    ) -> Result<CampaignPreflight> {
        let report = service::preflight(ctx.state(), ctx.viewer()?, parse_id("id", &id)?).await?;
        let issues = |list: Vec<preflight::Issue>| {
            list.into_iter()
                .map(|i| PreflightIssue {
                    code: PreflightIssueCode::from_code(i.code),
                    message: i.message,
                })
                .collect()
        };
        Ok(CampaignPreflight {
            ready: report.blockers.is_empty(),
            contacts_to_call: report.contacts_to_call,
            estimated_cost: Vnd(report.estimated_cost),
            available_balance: Vnd(report.available_balance),
            blockers: issues(report.blockers),
            warnings: issues(report.warnings),
        })
    }
}
