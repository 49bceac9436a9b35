//! The `campaign_contacts` table.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sort::ContactOrderField;
use crate::db::keyset::{Seek, Sort};
use crate::db::schema::campaign_contacts;
use crate::phone::E164;
use crate::text_enum;

text_enum! {
    /// Where a contact is in its campaign.
    pub enum ContactState {
        /// Waiting for a first call, a retry or the end of a deferral.
        Pending => "PENDING",
        /// A call to it is in progress.
        Calling => "CALLING",
        /// Answered by a person.
        Done => "DONE",
        /// Out of attempts without being answered by a person or a machine.
        Failed => "FAILED",
        /// Its last call reached an answering machine or a fax (and was hung up on), with no
        /// attempt left or MACHINE not in the campaign's retry policy.
        Machine => "MACHINE",
        /// Pressed the menu's opt-out key; never called again.
        OptedOut => "OPTED_OUT",
        /// Set aside for good by a check (see skipReason).
        Skipped => "SKIPPED",
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = campaign_contacts)]
pub struct Contact {
    pub id: i64,
    pub campaign_id: Uuid,
    pub phone: E164,
    pub country: Option<String>,
    pub name: String,
    pub vars: serde_json::Value,
    pub state: ContactState,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub skip_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Which of a campaign's contacts a list shows.
#[derive(Clone, Debug, Default)]
pub struct ContactFilter {
    pub states: Option<Vec<ContactState>>,
    pub search: Option<ContactSearch>,
}

/// A search within one campaign, each answered from an index: a number exactly, or the start
/// of a name in any case.
#[derive(Clone, Debug)]
pub enum ContactSearch {
    Phone(E164),
    NamePrefix(String),
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Insertable, Debug)]
#[diesel(table_name = campaign_contacts)]
pub struct NewContact {
    pub campaign_id: Uuid,
    pub phone: E164,
    pub country: Option<String>,
    pub name: String,
    pub vars: serde_json::Value,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct StateCounts {
    pub pending: i64,
    pub calling: i64,
    pub done: i64,
    pub failed: i64,
    pub machine: i64,
    pub opted_out: i64,
    pub skipped: i64,
}

#[derive(QueryableByName)]
struct CounterRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    campaign_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pending: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    calling: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    done: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    failed: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    machine: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    opted_out: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    skipped: i64,
}

impl StateCounts {
    pub fn total(&self) -> i64 {
        self.pending
            + self.calling
            + self.done
            + self.failed
            + self.machine
            + self.opted_out
            + self.skipped
    }
}

impl Contact {
    /// Inserts new numbers; numbers the campaign has already are left alone. Returns how many were new.
    pub async fn insert_new(
        conn: &mut AsyncPgConnection,
        rows: &[NewContact],
    ) -> QueryResult<usize> {
        diesel::insert_into(campaign_contacts::table)
            .values(rows)
            .on_conflict((campaign_contacts::campaign_id, campaign_contacts::phone))
            .do_nothing()
            .execute(conn)
            .await
    }

    pub async fn page(
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        filter: &ContactFilter,
        sort: ContactOrderField,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let column = sort.column().map(|(sql, _)| sql);
        let mut query = Self::filtered(campaign_id, filter)
            .order(seek.order(column, "campaign_contacts.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(column, "campaign_contacts.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many contacts the filter matches, for a list's `totalCount` when the campaign's
    /// counters cannot answer (a search).
    pub async fn count(
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
        filter: &ContactFilter,
    ) -> QueryResult<i64> {
        Self::filtered(campaign_id, filter)
            .count()
            .get_result(conn)
            .await
    }

    fn filtered(
        campaign_id: Uuid,
        filter: &ContactFilter,
    ) -> campaign_contacts::BoxedQuery<'static, Pg> {
        let mut query = campaign_contacts::table
            .filter(campaign_contacts::campaign_id.eq(campaign_id))
            .into_boxed();
        if let Some(states) = &filter.states {
            query = query.filter(campaign_contacts::state.eq_any(states.clone()));
        }
        match &filter.search {
            Some(ContactSearch::Phone(phone)) => {
                query = query.filter(campaign_contacts::phone.eq(phone.clone()));
            }
            Some(ContactSearch::NamePrefix(prefix)) => {
                let pattern = format!("{}%", crate::db::escape_like(&prefix.to_lowercase()));
                query = query.filter(lower(campaign_contacts::name).like(pattern));
            }
            None => {}
        }
        query
    }

    /// Contacts per state, from the campaign's counters (kept by triggers on every write).
    pub async fn counts(
        conn: &mut AsyncPgConnection,
        campaign_id: Uuid,
    ) -> QueryResult<StateCounts> {
        Ok(Self::counts_of(conn, &[campaign_id])
            .await?
            .remove(&campaign_id)
            .unwrap_or_default())
    }

    /// `counts` of several campaigns in one statement; a campaign without counters is absent.
    pub async fn counts_of(
        conn: &mut AsyncPgConnection,
        campaign_ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, StateCounts>> {
        let rows: Vec<CounterRow> = diesel::sql_query(
            "SELECT campaign_id, sum(pending)::int8 AS pending, sum(calling)::int8 AS calling,
                    sum(done)::int8 AS done, sum(failed)::int8 AS failed,
                    sum(reached_machine)::int8 AS machine,
                    sum(opted_out)::int8 AS opted_out, sum(skipped)::int8 AS skipped
             FROM campaign_counters WHERE campaign_id = ANY($1) GROUP BY campaign_id",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(campaign_ids)
        .load(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let counts = StateCounts {
                    pending: r.pending,
                    calling: r.calling,
                    done: r.done,
                    failed: r.failed,
                    machine: r.machine,
                    opted_out: r.opted_out,
                    skipped: r.skipped,
                };
                (r.campaign_id, counts)
            })
            .collect())
    }
}
