//! The append-only `ledger_entries` table: posting, holds, statements and per-call sums.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{Balance, LedgerEntryKind};
use crate::db::count::Count;
use crate::db::keyset::Seek;

#[derive(QueryableByName, Clone, Debug)]
pub struct Entry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = BigInt)]
    pub held_change: i64,
    #[diesel(sql_type = BigInt)]
    pub posted_after: i64,
    #[diesel(sql_type = BigInt)]
    pub available_after: i64,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub call_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub campaign_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub top_up_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub actor_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

pub const ENTRY_COLUMNS: &str = "id, user_id, kind, amount, held_change, posted_after, available_after, call_id, campaign_id, top_up_id, actor_id, reason, created_at";

/// An entry to post: `amount` moves the posted balance, `held_change` the open holds.
#[derive(Clone, Debug, Default)]
pub struct NewEntry<'a> {
    pub user_id: Uuid,
    pub kind: Option<LedgerEntryKind>,
    pub amount: i64,
    pub held_change: i64,
    pub call_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub top_up_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub reason: Option<&'a str>,
    pub rate: Option<serde_json::Value>,
}

/// The `CALL_HOLD` entries of one claim, column by column in posting order, with the
/// available balance after each.
pub struct NewHolds {
    pub calls: Vec<Uuid>,
    pub campaigns: Vec<Option<Uuid>>,
    pub amounts: Vec<i64>,
    pub available: Vec<i64>,
    pub reasons: Vec<String>,
    pub rates: Vec<Option<serde_json::Value>>,
}

/// A call's hold that no `HOLD_RELEASE` has closed yet.
#[derive(QueryableByName)]
pub struct OpenHold {
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub rate: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default)]
pub struct LedgerFilter {
    pub user_id: Option<Uuid>,
    pub kinds: Option<Vec<LedgerEntryKind>>,
    pub campaign_id: Option<Uuid>,
    pub call_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A call's money summed over its entries.
#[derive(QueryableByName)]
pub struct CallMoneyRow {
    #[diesel(sql_type = SqlUuid)]
    pub call_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub charged: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub rate: Option<serde_json::Value>,
}

impl NewEntry<'_> {
    /// Appends the entry as `kind`, recording the balance `after` it.
    pub async fn insert(
        self,
        conn: &mut AsyncPgConnection,
        kind: LedgerEntryKind,
        after: Balance,
    ) -> QueryResult<Entry> {
        diesel::sql_query(format!(
            "INSERT INTO ledger_entries (user_id, kind, amount, held_change, posted_after, available_after,
                 call_id, campaign_id, top_up_id, actor_id, reason, rate)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING {ENTRY_COLUMNS}"
        ))
        .bind::<SqlUuid, _>(self.user_id)
        .bind::<Text, _>(kind.as_str())
        .bind::<BigInt, _>(self.amount)
        .bind::<BigInt, _>(self.held_change)
        .bind::<BigInt, _>(after.posted)
        .bind::<BigInt, _>(after.available())
        .bind::<Nullable<SqlUuid>, _>(self.call_id)
        .bind::<Nullable<SqlUuid>, _>(self.campaign_id)
        .bind::<Nullable<SqlUuid>, _>(self.top_up_id)
        .bind::<Nullable<SqlUuid>, _>(self.actor_id)
        .bind::<Nullable<Text>, _>(self.reason)
        .bind::<Nullable<Jsonb>, _>(self.rate)
        .get_result(conn)
        .await
    }
}

impl NewHolds {
    /// One multi-row insert; every entry leaves the posted balance at `posted`.
    pub async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        posted: i64,
    ) -> QueryResult<()> {
        diesel::sql_query(
            "INSERT INTO ledger_entries (user_id, kind, amount, held_change, posted_after, available_after,
                 call_id, campaign_id, reason, rate)
             SELECT $1, 'CALL_HOLD', 0, h.amount, $2, h.available, h.call_id, h.campaign_id, h.reason, h.rate
             FROM unnest($3::uuid[], $4::uuid[], $5::int8[], $6::int8[], $7::text[], $8::jsonb[])
                  WITH ORDINALITY AS h(call_id, campaign_id, amount, available, reason, rate, i)
             ORDER BY h.i",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<BigInt, _>(posted)
        .bind::<Array<SqlUuid>, _>(&self.calls)
        .bind::<Array<Nullable<SqlUuid>>, _>(&self.campaigns)
        .bind::<Array<BigInt>, _>(&self.amounts)
        .bind::<Array<BigInt>, _>(&self.available)
        .bind::<Array<Text>, _>(&self.reasons)
        .bind::<Array<Nullable<Jsonb>>, _>(&self.rates)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// The ledger list's filter; `$1`…`$6` are bound by `Entry::bind_filter`.
const LEDGER_FILTER: &str = "($1::uuid IS NULL OR user_id = $1)
    AND ($2::text[] IS NULL OR kind = ANY($2))
    AND ($3::uuid IS NULL OR campaign_id = $3)
    AND ($4::uuid IS NULL OR call_id = $4)
    AND ($5::timestamptz IS NULL OR created_at >= $5)
    AND ($6::timestamptz IS NULL OR created_at < $6)";

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = Nullable<BigInt>)]
    total: Option<i64>,
}

#[derive(QueryableByName)]
struct CampaignTotal {
    #[diesel(sql_type = SqlUuid)]
    campaign_id: Uuid,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct HeldRate {
    #[diesel(sql_type = Nullable<Jsonb>)]
    rate: Option<serde_json::Value>,
}

impl Entry {
    pub async fn open_hold(
        conn: &mut AsyncPgConnection,
        call_id: Uuid,
    ) -> QueryResult<Option<OpenHold>> {
        let open: Vec<OpenHold> = diesel::sql_query(
            "SELECT h.held_change AS held, h.rate FROM ledger_entries h
             WHERE h.call_id = $1 AND h.kind = 'CALL_HOLD'
               AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.call_id = $1 AND r.kind = 'HOLD_RELEASE')",
        )
        .bind::<SqlUuid, _>(call_id)
        .load(conn)
        .await?;
        Ok(open.into_iter().next())
    }

    /// Newest first (or reversed, for a backward page), keyset on id.
    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &LedgerFilter,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let (order, past, limit) = seek.raw_sql(None, "id", 7);
        let query = Self::bind_filter(
            diesel::sql_query(format!(
                "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE {LEDGER_FILTER} {past}
                 ORDER BY {order} LIMIT ${limit}"
            ))
            .into_boxed(),
            filter,
        );
        seek.bind_cursor(false, query)
            .bind::<BigInt, _>(seek.limit)
            .load(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Self>> {
        diesel::sql_query(format!(
            "SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE id = $1"
        ))
        .bind::<BigInt, _>(id)
        .get_result(conn)
        .await
        .optional()
    }

    /// How many entries the filter matches, for the ledger's `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &LedgerFilter) -> QueryResult<i64> {
        let row: Count = Self::bind_filter(
            diesel::sql_query(format!(
                "SELECT count(*)::bigint AS n FROM ledger_entries WHERE {LEDGER_FILTER}"
            ))
            .into_boxed(),
            filter,
        )
        .get_result(conn)
        .await?;
        Ok(row.n)
    }

    /// Binds `$1`…`$6` of `LEDGER_FILTER`.
    fn bind_filter<'a>(
        query: BoxedSqlQuery<'a, Pg, SqlQuery>,
        filter: &LedgerFilter,
    ) -> BoxedSqlQuery<'a, Pg, SqlQuery> {
        let kinds: Option<Vec<String>> = filter
            .kinds
            .as_ref()
            .map(|ks| ks.iter().map(|k| k.as_str().to_owned()).collect());
        query
            .bind::<Nullable<SqlUuid>, _>(filter.user_id)
            .bind::<Nullable<Array<Text>>, _>(kinds)
            .bind::<Nullable<SqlUuid>, _>(filter.campaign_id)
            .bind::<Nullable<SqlUuid>, _>(filter.call_id)
            .bind::<Nullable<Timestamptz>, _>(filter.since)
            .bind::<Nullable<Timestamptz>, _>(filter.until)
    }

    /// The `CALL_CHARGE` total of a campaign or a call; `None` when nothing was charged.
    pub async fn charged(
        conn: &mut AsyncPgConnection,
        campaign_id: Option<Uuid>,
        call_id: Option<Uuid>,
    ) -> QueryResult<Option<i64>> {
        let row: Total = diesel::sql_query(
            "SELECT -sum(amount)::bigint AS total FROM ledger_entries
             WHERE kind = 'CALL_CHARGE' AND ($1::uuid IS NULL OR campaign_id = $1)
               AND ($2::uuid IS NULL OR call_id = $2) AND ($1::uuid IS NOT NULL OR $2::uuid IS NOT NULL)",
        )
        .bind::<Nullable<SqlUuid>, _>(campaign_id)
        .bind::<Nullable<SqlUuid>, _>(call_id)
        .get_result(conn)
        .await?;
        Ok(row.total)
    }

    /// A campaign charged nothing is absent.
    pub async fn charged_by_campaign(
        conn: &mut AsyncPgConnection,
        campaign_ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, i64>> {
        let rows: Vec<CampaignTotal> = diesel::sql_query(
            "SELECT campaign_id, -sum(amount)::bigint AS total FROM ledger_entries
             WHERE kind = 'CALL_CHARGE' AND campaign_id = ANY($1) GROUP BY campaign_id",
        )
        .bind::<Array<SqlUuid>, _>(campaign_ids)
        .load(conn)
        .await?;
        Ok(rows.into_iter().map(|r| (r.campaign_id, r.total)).collect())
    }

    /// The rate stored on a call's hold.
    pub async fn held_rate(
        conn: &mut AsyncPgConnection,
        call_id: Uuid,
    ) -> QueryResult<Option<serde_json::Value>> {
        let rows: Vec<HeldRate> = diesel::sql_query(
            "SELECT rate FROM ledger_entries WHERE call_id = $1 AND kind = 'CALL_HOLD'",
        )
        .bind::<SqlUuid, _>(call_id)
        .load(conn)
        .await?;
        Ok(rows.into_iter().next().and_then(|r| r.rate))
    }

    /// Only these kinds carry a call's money, and the partial index on (call_id, kind) covers
    /// exactly them; a call without entries is absent.
    pub async fn money_of_calls(
        conn: &mut AsyncPgConnection,
        ids: &[Uuid],
    ) -> QueryResult<Vec<CallMoneyRow>> {
        diesel::sql_query(
            "SELECT call_id,
                    COALESCE(-sum(amount) FILTER (WHERE kind = 'CALL_CHARGE'), 0)::bigint AS charged,
                    COALESCE(sum(held_change), 0)::bigint AS held,
                    (array_agg(rate ORDER BY id) FILTER (WHERE kind = 'CALL_HOLD'))[1] AS rate
             FROM ledger_entries
             WHERE call_id = ANY($1) AND kind IN ('CALL_HOLD', 'HOLD_RELEASE', 'CALL_CHARGE')
             GROUP BY call_id",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
    }
}
