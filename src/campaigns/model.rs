//! The `campaigns` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::settings::{AmdMode, ConsentBasis};
use super::sort::CampaignOrderField;
use crate::compliance::Purpose;
use crate::db::keyset::{Seek, Sort};
use crate::db::schema::campaigns;
use crate::text_enum;

text_enum! {
    /// Where a campaign is in its lifecycle: DRAFT, then SCHEDULED or RUNNING, PAUSED and back, then COMPLETED or CANCELLED.
    pub enum CampaignStatus {
        /// Being set up: can be edited, given contacts and deleted; nothing is dialed.
        Draft => "DRAFT",
        /// Started, waiting for schedule.startAt.
        Scheduled => "SCHEDULED",
        /// Dialing its contacts.
        Running => "RUNNING",
        /// Stopped by hand or by itself (see pauseReason); can be edited and resumed.
        Paused => "PAUSED",
        /// No contact is left to call.
        Completed => "COMPLETED",
        /// Stopped for good by its owner or an admin.
        Cancelled => "CANCELLED",
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub status: CampaignStatus,
    pub purpose: Purpose,
    pub consent_basis: Option<ConsentBasis>,
    pub consent_source: Option<String>,
    pub consent_collected_at: Option<DateTime<Utc>>,
    pub default_country: String,
    pub message: serde_json::Value,
    pub menu: Option<serde_json::Value>,
    pub amd_mode: AmdMode,
    pub caller_id_dids: Vec<Uuid>,
    pub schedule: serde_json::Value,
    pub calls_per_second: f64,
    pub max_concurrent: i32,
    pub max_attempts: i32,
    pub retry_on: Vec<String>,
    pub retry_delay_secs: i32,
    pub pause_reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = campaigns)]
pub struct CampaignFields {
    pub name: String,
    pub purpose: Purpose,
    pub consent_basis: Option<ConsentBasis>,
    pub consent_source: Option<String>,
    pub consent_collected_at: Option<DateTime<Utc>>,
    pub default_country: String,
    pub message: serde_json::Value,
    pub menu: Option<serde_json::Value>,
    pub amd_mode: AmdMode,
    pub caller_id_dids: Vec<Uuid>,
    pub schedule: serde_json::Value,
    pub calls_per_second: f64,
    pub max_concurrent: i32,
    pub max_attempts: i32,
    pub retry_on: Vec<String>,
    pub retry_delay_secs: i32,
}

#[derive(Insertable)]
#[diesel(table_name = campaigns)]
struct NewCampaign {
    id: Uuid,
    owner_id: Uuid,
    #[diesel(embed)]
    fields: CampaignFields,
}

#[derive(Default, Clone, Debug)]
pub struct CampaignFilter {
    /// `None` for admins looking at everyone's.
    pub owner_id: Option<Uuid>,
    pub statuses: Option<Vec<CampaignStatus>>,
    pub search: Option<String>,
}

impl Campaign {
    pub async fn insert(
        conn: &mut AsyncPgConnection,
        owner_id: Uuid,
        fields: CampaignFields,
    ) -> QueryResult<Self> {
        diesel::insert_into(campaigns::table)
            .values(NewCampaign {
                id: Uuid::now_v7(),
                owner_id,
                fields,
            })
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        campaigns::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    /// Several campaigns in one statement, for a page's edges to their campaigns.
    pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Self>> {
        campaigns::table
            .filter(campaigns::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)
            .await
    }

    pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        campaigns::table
            .find(id)
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await
    }

    pub async fn update_fields(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        fields: &CampaignFields,
    ) -> QueryResult<Self> {
        diesel::update(campaigns::table.find(id))
            .set((fields, campaigns::updated_at.eq(Utc::now())))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn set_status(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        status: CampaignStatus,
        pause_reason: Option<&str>,
    ) -> QueryResult<Self> {
        let now = Utc::now();
        let started = matches!(status, CampaignStatus::Running | CampaignStatus::Scheduled);
        let finished = matches!(
            status,
            CampaignStatus::Completed | CampaignStatus::Cancelled
        );
        diesel::update(campaigns::table.find(id))
            .set((
                campaigns::status.eq(status),
                campaigns::pause_reason.eq(pause_reason),
                campaigns::updated_at.eq(now),
                campaigns::started_at.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                >(if started {
                    "COALESCE(started_at, now())"
                } else {
                    "started_at"
                })),
                campaigns::completed_at.eq(finished.then_some(now)),
            ))
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
        diesel::delete(campaigns::table.find(id))
            .execute(conn)
            .await
    }

    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &CampaignFilter,
        sort: CampaignOrderField,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let column = sort.column().map(|(sql, _)| sql);
        let mut query = Self::filtered(filter)
            .order(seek.order(column, "campaigns.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(column, "campaigns.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &CampaignFilter) -> QueryResult<i64> {
        Self::filtered(filter).count().get_result(conn).await
    }

    fn filtered(filter: &CampaignFilter) -> campaigns::BoxedQuery<'static, Pg> {
        let mut query = campaigns::table.into_boxed();
        if let Some(owner) = filter.owner_id {
            query = query.filter(campaigns::owner_id.eq(owner));
        }
        if let Some(statuses) = &filter.statuses {
            query = query.filter(campaigns::status.eq_any(statuses.clone()));
        }
        if let Some(search) = &filter.search {
            let pattern = format!("%{}%", crate::db::escape_like(search));
            query = query.filter(campaigns::name.ilike(pattern));
        }
        query
    }
}
