//! `auditLog` for admins.

use async_graphql::connection::Connection;
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::AuditEntry;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::pagination::Page;

#[derive(SimpleObject)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryNode {
    pub id: ID,
    /// The admin who acted; empty for the system itself.
    pub actor_id: Option<ID>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: async_graphql::Json<serde_json::Value>,
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
    /// Newest first.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditEntryNode>> {
        let page = Page::parse(first, after)?;
        let rows =
            super::service::page(ctx.state(), page.after_parsed()?, page.fetch_limit()).await?;
        Ok(page.connection(rows, |e| e.id.to_string(), AuditEntryNode::from))
    }
}
