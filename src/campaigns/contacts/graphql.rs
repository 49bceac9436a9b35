//! `addContacts` and a campaign's contacts.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Upload, ID};

use super::model::{Contact, ContactState};
use super::service::{self, ContactInput};
use crate::graphql::context::ContextExt;
use crate::graphql::ids::parse_id;
use crate::graphql::pagination::Page;

pub struct ContactNode(pub Contact);

#[Object(name = "Contact")]
impl ContactNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn vars(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.vars.clone())
    }
    async fn state(&self) -> ContactState {
        self.0.state
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn next_attempt_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.next_attempt_at
    }
    async fn last_outcome(&self) -> Option<&str> {
        self.0.last_outcome.as_deref()
    }
    /// Why the last attempt was skipped or deferred: DNC, CAP, WINDOW, CALLER_ID, BALANCE.
    async fn skip_reason(&self) -> Option<&str> {
        self.0.skip_reason.as_deref()
    }
}

#[derive(InputObject)]
pub struct ContactEntryInput {
    pub phone: String,
    pub name: Option<String>,
    /// Template variables for `{{var}}` in the message.
    pub vars: Option<async_graphql::Json<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(InputObject)]
pub struct AddContactsInput {
    pub campaign_id: ID,
    pub contacts: Vec<ContactEntryInput>,
}

#[derive(SimpleObject)]
pub struct InvalidContact {
    /// 1-based position in the input (or row in the file).
    pub row: i32,
    pub value: String,
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct AddContactsPayload {
    pub added: i32,
    pub duplicates: i32,
    pub invalid: Vec<InvalidContact>,
}

#[derive(InputObject)]
pub struct ImportContactsInput {
    pub campaign_id: ID,
    /// CSV with a phone column (phone, so_dien_thoai or sdt), an optional name column, and any
    /// other columns as template variables. Numbers are read in the campaign's default country.
    pub file: Upload,
}

#[derive(SimpleObject)]
pub struct ImportReport {
    /// Data rows read (the header excluded).
    pub total_rows: i32,
    pub added: i32,
    /// Numbers the campaign had already, or that appeared twice in the file.
    pub duplicates: i32,
    pub invalid_count: i32,
    /// The first 1,000 invalid rows with their reasons.
    pub invalid: Vec<InvalidContact>,
}

#[derive(SimpleObject)]
pub struct ImportContactsPayload {
    pub import_report: ImportReport,
}

#[derive(Default)]
pub struct ContactsQuery;

#[Object]
impl ContactsQuery {
    #[graphql(complexity = "crate::graphql::cost::page(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
        first: Option<i32>,
        after: Option<String>,
        state: Option<ContactState>,
    ) -> Result<Connection<String, ContactNode>> {
        let page = Page::parse(first, after)?;
        let rows = service::page(
            ctx.state(),
            ctx.viewer()?,
            parse_id("campaignId", &campaign_id)?,
            state,
            page.after_parsed()?,
            page.fetch_limit(),
        )
        .await?;
        Ok(page.connection(rows, |c| c.id.to_string(), ContactNode))
    }
}

#[derive(Default)]
pub struct ContactsMutation;

#[Object]
impl ContactsMutation {
    /// Imports a CSV into a DRAFT or PAUSED campaign of yours (GraphQL multipart upload).
    async fn import_contacts(
        &self,
        ctx: &Context<'_>,
        input: ImportContactsInput,
    ) -> Result<ImportContactsPayload> {
        let file = input.file.value(ctx)?.content;
        let report = super::import::import(
            ctx.state(),
            ctx.viewer()?,
            parse_id("campaignId", &input.campaign_id)?,
            file,
        )
        .await?;
        Ok(ImportContactsPayload {
            import_report: ImportReport {
                total_rows: report.rows as i32,
                added: report.added as i32,
                duplicates: report.duplicates as i32,
                invalid_count: report.invalid_count as i32,
                invalid: report
                    .invalid
                    .into_iter()
                    .map(|(row, value, reason)| InvalidContact {
                        row: row as i32,
                        value,
                        reason,
                    })
                    .collect(),
            },
        })
    }

    /// Adds contacts to a DRAFT or PAUSED campaign of yours.
    async fn add_contacts(
        &self,
        ctx: &Context<'_>,
        input: AddContactsInput,
    ) -> Result<AddContactsPayload> {
        let contacts = input
            .contacts
            .into_iter()
            .map(|c| ContactInput {
                phone: c.phone,
                name: c.name,
                vars: c.vars.map(|v| v.0),
            })
            .collect();
        let report = service::add(
            ctx.state(),
            ctx.viewer()?,
            parse_id("campaignId", &input.campaign_id)?,
            contacts,
        )
        .await?;
        Ok(AddContactsPayload {
            added: report.added as i32,
            duplicates: report.duplicates as i32,
            invalid: report
                .invalid
                .into_iter()
                .map(|(row, value, reason)| InvalidContact {
                    row: row as i32,
                    value,
                    reason,
                })
                .collect(),
        })
    }
}
