//! `auditLog` for admins.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::AuditEntry;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::pagination::{List, Page};

/// One recorded administrative change, written in the same transaction as the change itself.
#[derive(SimpleObject)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryNode {
    /// The entry's ID (increasing with time).
    pub id: ID,
    /// The admin who acted; empty for the system itself.
    pub actor_id: Option<ID>,
    /// What was done, as `area.verb`, e.g. `user.update`, `did.purchase`, `billing.adjust`.
    pub action: String,
    /// Kind of thing changed, e.g. `user`, `did`, `twilio_account`, `rate`.
    pub target_type: String,
    /// ID of the thing changed, usually a UUID; `*`, `platform` or `calling_caps` for platform-wide changes.
    pub target_id: String,
    /// Action-specific JSON, often the values before and after the change.
    pub details: async_graphql::Json<serde_json::Value>,
    /// When the change was made (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryNode {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: ID(e.id.to_string()),
            actor_id: e.actor_id.map(|id| ID(id.to_string())),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            details: async_graphql::Json(e.details),
            created_at: e.created_at,
        }
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail of administrative changes, newest first; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 500; 50 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
    ) -> Result<List<AuditEntryNode>> {
        let page = Page::parse(first, after)?;
        let rows =
            super::service::page(ctx.state(), page.after_parsed()?, page.fetch_limit()).await?;
        let count = super::service::count(ctx.state().clone());
        Ok(page.connection(rows, |e| e.id.to_string(), AuditEntryNode::from, count))
    }
}
