//! A page of calls under a filter, in any order the list offers, and the filter's count.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Call, CallFilter};
use super::sort::CallOrderField;
use crate::db::keyset::{Seek, Sort};
use crate::db::schema::calls;

impl Call {
    /// A page in `sort` order (ties by id), read from the index that serves it.
    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &CallFilter,
        sort: CallOrderField,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let column = sort.column().map(|(sql, _)| sql);
        let mut query = Self::filtered(filter)
            .order(seek.order(column, "calls.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(column, "calls.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// Records what the ledger charged for a settled call, so lists can sort by cost.
    pub async fn set_cost(conn: &mut AsyncPgConnection, id: Uuid, charged: i64) -> QueryResult<()> {
        diesel::update(calls::table.find(id))
            .set(calls::cost_vnd.eq(charged))
            .execute(conn)
            .await
            .map(drop)
    }

    /// How many calls the filter matches, for a list's `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &CallFilter) -> QueryResult<i64> {
        Self::filtered(filter).count().get_result(conn).await
    }

    fn filtered(filter: &CallFilter) -> calls::BoxedQuery<'static, Pg> {
        let mut query = calls::table.into_boxed();
        if let Some(owner) = filter.owner_id {
            query = query.filter(calls::owner_id.eq(owner));
        }
        if let Some(campaign) = filter.campaign_id {
            query = query.filter(calls::campaign_id.eq(campaign));
        }
        if let Some(statuses) = &filter.statuses {
            query = query.filter(calls::status.eq_any(statuses.clone()));
        }
        if let Some(to) = &filter.to {
            query = query.filter(calls::to_number.eq(to.clone()));
        }
        if let Some(from) = &filter.from {
            query = query.filter(calls::from_number.eq(from.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(calls::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(calls::created_at.lt(until));
        }
        query
    }
}
