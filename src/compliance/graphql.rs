//! Do-not-call fields. Users manage their own list; admins also the platform's.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, Utc};

use super::model::{DncEntry, DncSource};
use super::service::{self, Scope};
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DncScope {
    /// Blocks the number for every user (admins only).
    Platform,
    /// Blocks the number for your own campaigns.
    User,
}

impl From<DncScope> for Scope {
    fn from(s: DncScope) -> Self {
        match s {
            DncScope::Platform => Scope::Platform,
            DncScope::User => Scope::User,
        }
    }
}

pub struct DoNotCallEntryNode(pub DncEntry);

#[Object(name = "DoNotCallEntry")]
impl DoNotCallEntryNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn scope(&self) -> DncScope {
        if self.0.owner_id.is_some() {
            DncScope::User
        } else {
            DncScope::Platform
        }
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn source(&self) -> DncSource {
        self.0.source
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct AddDoNotCallInput {
    pub phone: String,
    pub reason: Option<String>,
    #[graphql(default_with = "DncScope::User")]
    pub scope: DncScope,
    /// How to read national numbers such as 0912345678.
    #[graphql(default_with = "String::from(\"VN\")")]
    pub default_country: String,
}

#[derive(InputObject)]
pub struct RemoveDoNotCallInput {
    pub id: ID,
}

#[derive(InputObject, Default)]
pub struct DoNotCallFilter {
    pub scope: Option<DncScope>,
    pub phone: Option<String>,
}

#[derive(InputObject)]
pub struct ImportDoNotCallInput {
    /// CSV with a `phone` (or `sdt`/`so_dien_thoai`) column, or numbers in the first column.
    pub file: Upload,
    #[graphql(default_with = "String::from(\"VN\")")]
    pub default_country: String,
}

#[derive(SimpleObject)]
pub struct AddDoNotCallPayload {
    pub entry: DoNotCallEntryNode,
    /// False when the number was on the list already.
    pub added: bool,
}

#[derive(SimpleObject)]
pub struct RemoveDoNotCallPayload {
    pub removed_id: ID,
}

#[derive(SimpleObject)]
pub struct ImportProblem {
    pub row: i32,
    pub value: String,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct ImportDoNotCallPayload {
    pub added: i32,
    pub duplicates: i32,
    pub invalid: Vec<ImportProblem>,
}

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn do_not_call_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<DoNotCallFilter>,
    ) -> Result<Connection<String, DoNotCallEntryNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let rows = service::page(
            ctx.state(),
            viewer,
            filter.scope.map(Scope::from),
            filter.phone.as_deref(),
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |e| e.id.to_string(), DoNotCallEntryNode))
    }
}

#[derive(Default)]
pub struct ComplianceMutation;

#[Object]
impl ComplianceMutation {
    async fn add_do_not_call(
        &self,
        ctx: &Context<'_>,
        input: AddDoNotCallInput,
    ) -> Result<AddDoNotCallPayload> {
        let (entry, added) = service::add(
            ctx.state(),
            ctx.viewer()?,
            &input.phone,
            &input.default_country,
            input.reason.as_deref(),
            input.scope.into(),
        )
        .await?;
        Ok(AddDoNotCallPayload {
            entry: DoNotCallEntryNode(entry),
            added,
        })
    }

    async fn remove_do_not_call(
        &self,
        ctx: &Context<'_>,
        input: RemoveDoNotCallInput,
    ) -> Result<RemoveDoNotCallPayload> {
        service::remove(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(RemoveDoNotCallPayload {
            removed_id: input.id,
        })
    }

    /// Adds every number of a CSV file to the platform list.
    #[graphql(guard = "AdminGuard")]
    async fn import_do_not_call(
        &self,
        ctx: &Context<'_>,
        input: ImportDoNotCallInput,
    ) -> Result<ImportDoNotCallPayload> {
        let file = input.file.value(ctx)?.content;
        let report =
            service::import(ctx.state(), ctx.viewer()?, file, &input.default_country).await?;
        Ok(ImportDoNotCallPayload {
            added: report.added as i32,
            duplicates: report.duplicates as i32,
            invalid: report
                .invalid
                .into_iter()
                .map(|(row, value, reason)| ImportProblem {
                    row: row as i32,
                    value,
                    reason,
                })
                .collect(),
        })
    }
}
