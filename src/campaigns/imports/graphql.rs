//! `importContacts`, `cancelImport`, `import` and `imports`.

use crate::db::keyset::SortKind;
use crate::graphql::order::Ordering;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};
use chrono::{DateTime, Utc};

use super::model::{Import, ImportError, ImportStatus};
use super::service;
use crate::campaigns::graphql::CampaignNode;
use crate::campaigns::loaders::CampaignsById;
use crate::graphql::context::{load_one, ContextExt};
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::{List, Page};

pub struct ImportNode(pub Import);

/// A contact file being read into a campaign in the background; poll `import(id:)` or
/// subscribe to `importProgress` until its status is COMPLETED, FAILED or CANCELLED.
#[Object(name = "Import")]
impl ImportNode {
    /// The import's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where the import is: QUEUED, RUNNING, then COMPLETED, FAILED or CANCELLED.
    async fn status(&self) -> ImportStatus {
        self.0.status
    }
    /// Why the import FAILED (the file's fault, such as its encoding or a missing phone column), or why the campaign stopped it; null otherwise.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    /// The campaign the contacts go into.
    #[graphql(complexity = "crate::graphql::cost::BATCHED + child_complexity")]
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<CampaignNode>> {
        Ok(load_one(ctx, self.0.campaign_id, CampaignsById)
            .await?
            .map(CampaignNode))
    }
    /// The uploaded file's name, as the client sent it.
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    /// The uploaded file's size in bytes.
    async fn file_bytes(&self) -> i64 {
        self.0.file_bytes
    }
    /// Data rows read so far (the header excluded).
    async fn rows_read(&self) -> i64 {
        self.0.rows_read
    }
    /// Contacts added to the campaign so far.
    async fn rows_imported(&self) -> i64 {
        self.0.rows_imported
    }
    /// Rows whose number the campaign had already, or that appeared earlier in the file.
    async fn duplicates(&self) -> i64 {
        self.0.duplicates
    }
    /// Rows refused, all of them (`errors` lists the first 1,000).
    async fn invalid(&self) -> i64 {
        self.0.invalid
    }
    /// The first 1,000 refused rows with their reasons, in file order.
    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    async fn errors(
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
    ) -> Result<List<ImportErrorNode>> {
        let page = Page::parse(first, after, last, before)?;
        let seek = page.seek(&Ordering::by_id(SortKind::Int, false))?;
        let rows = service::errors(ctx.state(), self.0.id, &seek).await?;
        let count = service::errors_count(ctx.state().clone(), self.0.id);
        Ok(page.connection(rows, |e| e.row_no.to_string(), ImportErrorNode::from, count))
    }
    /// When the file was uploaded (RFC 3339 UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When a worker started reading it; null while QUEUED.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When it was COMPLETED, FAILED or CANCELLED; null before.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// A row of an import's file that was refused, and why.
#[derive(SimpleObject)]
#[graphql(name = "ImportError")]
pub struct ImportErrorNode {
    /// 1-based data row in the file (the header excluded).
    pub row: i64,
    /// The phone number as the file had it (at most 40 characters).
    pub value: String,
    /// Why the row was refused.
    pub reason: String,
}

#[derive(InputObject)]
/// A CSV file of contacts for a campaign.
pub struct ImportContactsInput {
    /// The DRAFT or PAUSED campaign of yours to add to.
    pub campaign_id: ID,
    /// CSV with a phone column (phone, so_dien_thoai or sdt), an optional name column, and any other columns as template variables; numbers are read in the campaign's default country.
    pub file: Upload,
}

#[derive(SimpleObject)]
/// What importContacts started.
pub struct ImportContactsPayload {
    /// The import, QUEUED: the file is stored and will be read in the background.
    pub import: ImportNode,
}

#[derive(InputObject)]
/// An import to stop.
pub struct CancelImportInput {
    /// The QUEUED or RUNNING import to stop: yours, or any for an ADMIN.
    pub id: ID,
}

#[derive(SimpleObject)]
/// What cancelImport did.
pub struct CancelImportPayload {
    /// The import, CANCELLED; contacts it had already added stay in the campaign.
    pub import: ImportNode,
}

#[derive(Default)]
pub struct ImportsQuery;

#[Object]
impl ImportsQuery {
    /// One contact import: yours, or any for an ADMIN.
    async fn import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The import's id, from importContacts.")] id: ID,
    ) -> Result<Option<ImportNode>> {
        let id = parse_id("id", &id)?;
        Ok(Some(ImportNode(
            service::get(ctx.state(), ctx.viewer()?, id).await?,
        )))
    }

    #[graphql(complexity = "crate::graphql::cost::page(first.or(last), child_complexity)")]
    /// A campaign's contact imports, newest first, for its owner or an ADMIN.
    async fn imports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign whose imports to list.")] campaign_id: ID,
        #[graphql(desc = "How many to return, 0 to 500 (default 50).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after: the endCursor of the previous page.")]
        after: Option<String>,
        #[graphql(
            desc = "How many to return from the end, 0 to 500 (default 50); not with first."
        )]
        last: Option<i32>,
        #[graphql(desc = "Cursor to page back from: the startCursor of the following page.")]
        before: Option<String>,
    ) -> Result<List<ImportNode>> {
        let page = Page::parse(first, after, last, before)?;
        let seek = page.seek(&Ordering::by_id(SortKind::Uuid, true))?;
        let campaign_id = parse_id("campaignId", &campaign_id)?;
        let rows = service::page(ctx.state(), ctx.viewer()?, campaign_id, &seek).await?;
        let count = service::count(ctx.state().clone(), campaign_id);
        Ok(page.connection(rows, |i| i.id.to_string(), ImportNode, count))
    }
}

#[derive(Default)]
pub struct ImportsMutation;

#[Object]
impl ImportsMutation {
    /// Uploads a CSV for a DRAFT or PAUSED campaign of yours (GraphQL multipart upload) and answers at once with the QUEUED import; the file is read in the background (follow it with `import(id:)` or `importProgress`). At most 3 imports of yours may be queued or running at once (RATE_LIMITED beyond), and the campaign cannot start until they finish.
    async fn import_contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `ImportContactsInput`.")] input: ImportContactsInput,
    ) -> Result<ImportContactsPayload> {
        let upload = input.file.value(ctx)?;
        let import = service::create(
            ctx.state(),
            ctx.viewer()?,
            parse_id("campaignId", &input.campaign_id)?,
            &upload.filename,
            upload.content,
        )
        .await?;
        Ok(ImportContactsPayload {
            import: ImportNode(import),
        })
    }

    /// Stops a QUEUED or RUNNING import (yours, or any for an ADMIN) before its next chunk; contacts it already added stay in the campaign. A finished import is a CONFLICT.
    async fn cancel_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do: see `CancelImportInput`.")] input: CancelImportInput,
    ) -> Result<CancelImportPayload> {
        let import =
            service::cancel(ctx.state(), ctx.viewer()?, parse_id("id", &input.id)?).await?;
        Ok(CancelImportPayload {
            import: ImportNode(import),
        })
    }
}

/// Rows of the `import_errors` table as the `errors` connection shows them.
impl From<ImportError> for ImportErrorNode {
    fn from(e: ImportError) -> Self {
        Self {
            row: e.row_no,
            value: e.value,
            reason: e.reason,
        }
    }
}
