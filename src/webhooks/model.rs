//! The `webhook_events` table: raw payloads, deduplicated by a key, processed at most once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::webhook_events;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = webhook_events)]
pub struct WebhookEvent {
    pub id: i64,
    pub provider: String,
    pub kind: String,
    pub dedupe_key: String,
    pub call_id: Option<Uuid>,
    pub payload: serde_json::Value,
    pub processed_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub received_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_events)]
pub struct NewWebhookEvent<'a> {
    pub provider: &'a str,
    pub kind: &'a str,
    pub dedupe_key: &'a str,
    pub call_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

impl NewWebhookEvent<'_> {
    /// `None` when an event with the same key was stored before (a duplicate delivery).
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
        diesel::insert_into(webhook_events::table)
            .values(self)
            .on_conflict(webhook_events::dedupe_key)
            .do_nothing()
            .returning(webhook_events::id)
            .get_result(conn)
            .await
            .optional()
    }
}

impl WebhookEvent {
    pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Self> {
        webhook_events::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    pub async fn mark(
        conn: &mut AsyncPgConnection,
        id: i64,
        error: Option<&str>,
    ) -> QueryResult<()> {
        let processed_at = error.is_none().then(Utc::now);
        diesel::update(webhook_events::table.find(id))
            .set((
                webhook_events::processed_at.eq(processed_at),
                webhook_events::error.eq(error),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Marks an event processed, keeping `note` (no matching order ...) for whoever reads it.
    pub async fn mark_with_note(
        conn: &mut AsyncPgConnection,
        id: i64,
        note: &str,
    ) -> QueryResult<()> {
        diesel::update(webhook_events::table.find(id))
            .set((
                webhook_events::processed_at.eq(diesel::dsl::now),
                webhook_events::error.eq(note),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Keeps a request that failed verification as processed evidence under `dedupe_key`; a
    /// second copy of the same body is not kept again.
    pub async fn store_rejected(
        conn: &mut AsyncPgConnection,
        provider: &str,
        dedupe_key: &str,
        record: serde_json::Value,
        why: &str,
    ) -> QueryResult<()> {
        diesel::insert_into(webhook_events::table)
            .values((
                webhook_events::provider.eq(provider),
                webhook_events::kind.eq("rejected"),
                webhook_events::dedupe_key.eq(dedupe_key),
                webhook_events::payload.eq(record),
                webhook_events::processed_at.eq(diesel::dsl::now),
                webhook_events::error.eq(why),
            ))
            .on_conflict(webhook_events::dedupe_key)
            .do_nothing()
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Unprocessed events older than `before`: their inline processing failed or was cut short.
    pub async fn pending_ids(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<i64>> {
        webhook_events::table
            .filter(webhook_events::processed_at.is_null())
            .filter(webhook_events::received_at.lt(before))
            .order(webhook_events::id)
            .limit(limit)
            .select(webhook_events::id)
            .load(conn)
            .await
    }

    /// Deletes processed payloads received before `before`. Unprocessed ones stay: they are
    /// still owed processing, or evidence of why it failed.
    pub async fn purge_processed(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            webhook_events::table
                .filter(webhook_events::processed_at.is_not_null())
                .filter(webhook_events::received_at.lt(before)),
        )
        .execute(conn)
        .await
    }
}
