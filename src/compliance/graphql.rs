//! Do-not-call fields. Users manage their own list; admins also the platform's.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, Utc};

use super::model::{DncEntry, DncSource};
use super::service::{self, Scope};
use crate::db::keyset::SortKind;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};

/// Which do-not-call list an entry is on.
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

/// A number that must not be called, on the platform's list or one user's list.
#[Object(name = "DoNotCallEntry")]
impl DoNotCallEntryNode {
    /// The entry's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The blocked number in E.164, e.g. +84901234567.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// PLATFORM (blocks every user) or USER (blocks its owner's campaigns).
    async fn scope(&self) -> DncScope {
        if self.0.owner_id.is_some() {
            DncScope::User
        } else {
            DncScope::Platform
        }
    }
    /// Free-text reason given when it was added; may be empty.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// How the number got on the list.
    async fn source(&self) -> DncSource {
        self.0.source
    }
    /// When it was added (RFC 3339, UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A number to block.
#[derive(InputObject)]
pub struct AddDoNotCallInput {
    /// The number, E.164 (+84901234567) or national in `defaultCountry` (0901234567).
    pub phone: String,
    /// Why it is blocked, at most 200 characters.
    pub reason: Option<String>,
    /// USER (your own list, the default) or PLATFORM (admins only).
    #[graphql(default_with = "DncScope::User")]
    pub scope: DncScope,
    /// How to read national numbers such as 0912345678.
    #[graphql(default_with = "String::from(\"VN\")")]
    pub default_country: String,
}

/// The entry to delete.
#[derive(InputObject)]
pub struct DeleteDoNotCallInput {
    /// The do-not-call entry's ID.
    pub id: ID,
}

/// Narrows the `doNotCallEntries` list.
#[derive(InputObject, Default)]
#[graphql(name = "DoNotCallEntryFilter")]
pub struct DoNotCallFilter {
    /// One list only; PLATFORM is for admins. Omitted: your list (admins: every list).
    pub scope: Option<DncScope>,
    /// Only this number, E.164 or national Vietnamese (0901234567).
    pub phone: Option<String>,
}

/// A CSV file of numbers for the platform list.
#[derive(InputObject)]
pub struct ImportDoNotCallInput {
    /// CSV with a `phone` (or `sdt`/`so_dien_thoai`/`number`) column, or numbers in the first column.
    pub file: Upload,
    /// ISO country code for national numbers such as 0912345678; VN when omitted.
    #[graphql(default_with = "String::from(\"VN\")")]
    pub default_country: String,
}

/// Result of `addDoNotCall`.
#[derive(SimpleObject)]
pub struct AddDoNotCallPayload {
    /// The entry, new or the one already on the list.
    pub entry: DoNotCallEntryNode,
    /// False when the number was on the list already.
    pub added: bool,
}

/// Result of `deleteDoNotCall`.
#[derive(SimpleObject)]
pub struct DeleteDoNotCallPayload {
    /// ID of the deleted entry.
    pub deleted_id: ID,
}

/// A CSV row that could not be imported.
#[derive(SimpleObject)]
pub struct ImportProblem {
    /// Row number in the file, from 1 (the header row counts).
    pub row: i32,
    /// The cell's value, cut to 40 characters; empty for an unreadable row.
    pub value: String,
    /// Why it was rejected.
    pub reason: String,
}

/// Result of `importDoNotCall`.
#[derive(SimpleObject)]
pub struct ImportDoNotCallPayload {
    /// Numbers newly added to the platform list.
    pub added: i32,
    /// Distinct valid numbers that were on the platform list already.
    pub duplicates: i32,
    /// Rows that were not valid numbers (at most the first 1000 are listed).
    pub invalid: Vec<ImportProblem>,
}

#[derive(Default)]
pub struct ComplianceQuery;

#[Object]
impl ComplianceQuery {
    /// Do-not-call entries, oldest first: your own list, or for admins every list; any signed-in user.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn do_not_call_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 500; 50 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
        #[graphql(desc = "List and number filters; omit for every entry you may see.")]
        filter: Option<DoNotCallFilter>,
    ) -> Result<List<DoNotCallEntryNode>> {
        let viewer = ctx.viewer()?;
        let page = Page::parse(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let rows = service::page(
            ctx.state(),
            viewer,
            filter.scope.map(Scope::from),
            filter.phone.as_deref(),
            &page.seek(&Ordering::by_id(SortKind::Uuid, false))?,
        )
        .await?;
        let count = service::count(
            ctx.state().clone(),
            viewer.clone(),
            filter.scope.map(Scope::from),
            filter.phone,
        );
        Ok(page.connection(rows, |e| e.id.to_string(), DoNotCallEntryNode, count))
    }
}

#[derive(Default)]
pub struct ComplianceMutation;

#[Object]
impl ComplianceMutation {
    /// Blocks a number on your own list, or (ADMIN only) the platform's; adding it twice is harmless.
    async fn add_do_not_call(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `AddDoNotCallInput`.")] input: AddDoNotCallInput,
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

    /// Unblocks an entry of your own list; admins may remove any entry, opt-outs included.
    async fn delete_do_not_call(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `DeleteDoNotCallInput`.")] input: DeleteDoNotCallInput,
    ) -> Result<DeleteDoNotCallPayload> {
        service::remove(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(DeleteDoNotCallPayload {
            deleted_id: input.id,
        })
    }

    /// Adds every number of a CSV file to the platform list; audited; ADMIN only.
    #[graphql(guard = "AdminGuard")]
    async fn import_do_not_call(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ImportDoNotCallInput`.")] input: ImportDoNotCallInput,
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
