//! The `dids` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sort::DidOrderField;
use crate::db::keyset::{Seek, Sort};
use crate::db::schema::dids;
use crate::phone::E164;
use crate::text_enum;

text_enum! {
    /// Whether a number is in use.
    pub enum DidStatus {
        /// Held and usable as caller ID.
        Active => "ACTIVE",
        /// Held, but its recent calls mostly fail or go unanswered; campaigns skip it.
        Unhealthy => "UNHEALTHY",
        /// Given back to Twilio; kept for history only.
        Released => "RELEASED",
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = dids)]
pub struct Did {
    pub id: Uuid,
    pub twilio_account_id: Uuid,
    pub phone_number: E164,
    pub twilio_sid: String,
    pub country: String,
    pub friendly_name: String,
    pub status: DidStatus,
    pub assigned_user_id: Option<Uuid>,
    pub forward_to: Option<E164>,
    pub inbound_message: Option<String>,
    pub voice_url: Option<String>,
    pub status_callback: Option<String>,
    pub calls_24h: i32,
    pub answer_rate_24h: Option<f64>,
    pub failure_rate_24h: Option<f64>,
    pub calls_7d: i32,
    pub answer_rate_7d: Option<f64>,
    pub failure_rate_7d: Option<f64>,
    pub health_checked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = dids)]
pub struct NewDid<'a> {
    pub id: Uuid,
    pub twilio_account_id: Uuid,
    pub phone_number: &'a str,
    pub twilio_sid: &'a str,
    pub country: &'a str,
    pub friendly_name: &'a str,
    pub voice_url: Option<&'a str>,
    pub status_callback: Option<&'a str>,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = dids)]
pub struct DidChanges {
    pub status: Option<DidStatus>,
    pub friendly_name: Option<String>,
    pub assigned_user_id: Option<Option<Uuid>>,
    pub forward_to: Option<Option<E164>>,
    pub inbound_message: Option<Option<String>>,
    pub voice_url: Option<Option<String>>,
    pub status_callback: Option<Option<String>>,
    pub released_at: Option<Option<DateTime<Utc>>>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = dids)]
pub struct DidHealth {
    pub calls_24h: i32,
    pub answer_rate_24h: Option<f64>,
    pub failure_rate_24h: Option<f64>,
    pub calls_7d: i32,
    pub answer_rate_7d: Option<f64>,
    pub failure_rate_7d: Option<f64>,
    pub health_checked_at: Option<DateTime<Utc>>,
    pub status: DidStatus,
}

#[derive(Default, Clone, Debug)]
pub struct DidFilter {
    pub twilio_account_id: Option<Uuid>,
    pub status: Option<DidStatus>,
    pub assigned_user_id: Option<Uuid>,
    pub unassigned: bool,
}

impl NewDid<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<Did> {
        diesel::insert_into(dids::table)
            .values(self)
            .returning(Did::as_returning())
            .get_result(conn)
            .await
    }
}

impl Did {
    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        dids::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    /// Several numbers in one statement, for a page's edges to their numbers.
    pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Self>> {
        dids::table
            .filter(dids::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)
            .await
    }

    /// The number we currently own with this E.164 value.
    pub async fn find_live_by_number(
        conn: &mut AsyncPgConnection,
        phone: &str,
    ) -> QueryResult<Option<Self>> {
        dids::table
            .filter(dids::phone_number.eq(phone))
            .filter(dids::status.ne(DidStatus::Released))
            .select(Self::as_select())
            .first(conn)
            .await
            .optional()
    }

    pub async fn find_live_by_sid(
        conn: &mut AsyncPgConnection,
        account_id: Uuid,
        sid: &str,
    ) -> QueryResult<Option<Self>> {
        dids::table
            .filter(dids::twilio_account_id.eq(account_id))
            .filter(dids::twilio_sid.eq(sid))
            .filter(dids::status.ne(DidStatus::Released))
            .select(Self::as_select())
            .first(conn)
            .await
            .optional()
    }

    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &DidFilter,
        sort: DidOrderField,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let column = sort.column().map(|(sql, _)| sql);
        let mut query = Self::filtered(filter)
            .order(seek.order(column, "dids.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(column, "dids.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &DidFilter) -> QueryResult<i64> {
        Self::filtered(filter).count().get_result(conn).await
    }

    fn filtered(filter: &DidFilter) -> dids::BoxedQuery<'static, Pg> {
        let mut query = dids::table.into_boxed();
        if let Some(account) = filter.twilio_account_id {
            query = query.filter(dids::twilio_account_id.eq(account));
        }
        if let Some(status) = filter.status {
            query = query.filter(dids::status.eq(status));
        }
        if let Some(user) = filter.assigned_user_id {
            query = query.filter(dids::assigned_user_id.eq(user));
        }
        if filter.unassigned {
            query = query.filter(dids::assigned_user_id.is_null());
        }
        query
    }

    pub async fn live(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Self>> {
        dids::table
            .filter(dids::status.ne(DidStatus::Released))
            .order(dids::id)
            .select(Self::as_select())
            .load(conn)
            .await
    }

    pub async fn count_live_for_account(
        conn: &mut AsyncPgConnection,
        account_id: Uuid,
    ) -> QueryResult<i64> {
        dids::table
            .filter(dids::twilio_account_id.eq(account_id))
            .filter(dids::status.ne(DidStatus::Released))
            .count()
            .get_result(conn)
            .await
    }

    pub async fn delete_released_for_account(
        conn: &mut AsyncPgConnection,
        account_id: Uuid,
    ) -> QueryResult<usize> {
        diesel::delete(
            dids::table
                .filter(dids::twilio_account_id.eq(account_id))
                .filter(dids::status.eq(DidStatus::Released)),
        )
        .execute(conn)
        .await
    }

    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &DidChanges,
    ) -> QueryResult<Self> {
        diesel::update(dids::table.find(id))
            .set(changes)
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn set_health(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        health: &DidHealth,
    ) -> QueryResult<()> {
        diesel::update(dids::table.find(id))
            .set(health)
            .execute(conn)
            .await?;
        Ok(())
    }
}
