//! `auditLog` for admins.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::model::{AuditEntry, AuditFilter};
use crate::db::keyset::SortKind;
use crate::error::AppError;
use crate::graphql::context::ContextExt;
use crate::graphql::guards::AdminGuard;
use crate::graphql::ids::parse_id;
use crate::graphql::order::Ordering;
use crate::graphql::pagination::{List, Page};

/// One recorded administrative change, written in the same transaction as the change itself.
#[derive(SimpleObject)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryNode {
    /// The entry's globally unique id, `AuditEntry:<n>` (the number grows with time).
    #[graphql(owned)]
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
            id: crate::graphql::ids::numbered_id("AuditEntry", e.id),
            actor_id: e.actor_id.map(|id| ID(id.to_string())),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            details: async_graphql::Json(e.details),
            created_at: e.created_at,
        }
    }
}

/// Narrows the `auditLog`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only entries of this actor (an admin's user id).
    pub actor_id: Option<ID>,
    /// Only this action, such as user.update or did.assign.
    pub action: Option<String>,
    /// Only entries about this kind of object, such as user, did or top_up.
    pub target_type: Option<String>,
    /// Only entries about this object id; needs `targetType` (ids are kept per kind).
    pub target_id: Option<String>,
    /// Only entries recorded at or after this instant (RFC 3339 UTC).
    pub since: Option<DateTime<Utc>>,
    /// Only entries recorded before this instant (RFC 3339 UTC).
    pub until: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail of administrative changes, newest first; ADMIN only.
    #[graphql(
        guard = "AdminGuard",
        complexity = "crate::graphql::cost::page(first.or(last), child_complexity)"
    )]
    async fn audit_log(
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
        #[graphql(desc = "Only entries of this actor, action, target or period; omit for all.")]
        filter: Option<AuditLogFilter>,
    ) -> Result<List<AuditEntryNode>> {
        let page = Page::parse(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        if f.target_id.is_some() && f.target_type.is_none() {
            return Err(AppError::bad_input("targetId", "give targetType with targetId").into());
        }
        let filter = AuditFilter {
            actor_id: f.actor_id.map(|id| parse_id("actorId", &id)).transpose()?,
            action: f.action,
            target_type: f.target_type,
            target_id: f.target_id,
            since: f.since,
            until: f.until,
        };
        let rows = super::service::page(
            ctx.state(),
            &filter,
            &page.seek(&Ordering::by_id(SortKind::Int, true))?,
        )
        .await?;
        let count = super::service::count(ctx.state().clone(), filter);
        Ok(page.connection(rows, |e| e.id.to_string(), AuditEntryNode::from, count))
    }
}
