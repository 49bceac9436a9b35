//! The `audit_log` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::Seek;
use crate::db::schema::audit_log;

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Which entries an audit list shows; every given condition must hold.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub details: serde_json::Value,
}

impl NewAuditEntry<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::insert_into(audit_log::table)
            .values(self)
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl AuditEntry {
    /// Newest first, keyset on id.
    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &AuditFilter,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let mut query = Self::filtered(filter)
            .select(Self::as_select())
            .order(seek.order(None, "audit_log.id"))
            .limit(seek.limit);
        if let Some(past) = seek.past(None, "audit_log.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &AuditFilter) -> QueryResult<i64> {
        Self::filtered(filter).count().get_result(conn).await
    }

    fn filtered(filter: &AuditFilter) -> audit_log::BoxedQuery<'static, Pg> {
        let mut query = audit_log::table.into_boxed();
        if let Some(actor) = filter.actor_id {
            query = query.filter(audit_log::actor_id.eq(actor));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_log::action.eq(action.clone()));
        }
        if let Some(target_type) = &filter.target_type {
            query = query.filter(audit_log::target_type.eq(target_type.clone()));
        }
        if let Some(target_id) = &filter.target_id {
            query = query.filter(audit_log::target_id.eq(target_id.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_log::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_log::created_at.lt(until));
        }
        query
    }
}
