//! The `do_not_call` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::Seek;
use crate::db::schema::do_not_call;
use crate::phone::E164;
use crate::text_enum;

text_enum! {
    /// How a number got on a do-not-call list.
    pub enum DncSource {
        /// Added with `addDoNotCall` by the list's owner or an admin.
        Manual => "MANUAL",
        /// The callee pressed the opt-out key during a call; only an admin can remove it.
        OptOut => "OPT_OUT",
        /// Imported from a CSV file into the platform list by an admin.
        Import => "IMPORT",
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = do_not_call)]
pub struct DncEntry {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub phone: E164,
    pub reason: String,
    pub source: DncSource,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = do_not_call)]
pub struct NewDncEntry<'a> {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub phone: &'a E164,
    pub reason: &'a str,
    pub source: DncSource,
    pub created_by: Option<Uuid>,
}

/// Which list: the platform's (`None`) or one user's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DncList {
    Platform,
    User(Uuid),
    Any,
}

impl NewDncEntry<'_> {
    /// Adds the number unless the list has it already; returns the entry either way.
    pub async fn upsert(&self, conn: &mut AsyncPgConnection) -> QueryResult<(DncEntry, bool)> {
        let inserted = diesel::sql_query(
            "INSERT INTO do_not_call (id, owner_id, phone, reason, source, created_by)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Uuid, _>(self.id)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(self.owner_id)
        .bind::<diesel::sql_types::Text, _>(self.phone)
        .bind::<diesel::sql_types::Text, _>(self.reason)
        .bind::<diesel::sql_types::Text, _>(self.source)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(self.created_by)
        .execute(conn)
        .await?;
        let list = self.owner_id.map_or(DncList::Platform, DncList::User);
        let entry = DncEntry::find_number(conn, list, self.phone)
            .await?
            .ok_or(diesel::result::Error::NotFound)?;
        Ok((entry, inserted > 0))
    }
}

impl DncEntry {
    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        do_not_call::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    pub async fn find_number(
        conn: &mut AsyncPgConnection,
        list: DncList,
        phone: &str,
    ) -> QueryResult<Option<Self>> {
        let mut query = do_not_call::table
            .filter(do_not_call::phone.eq(phone))
            .select(Self::as_select())
            .into_boxed();
        query = match list {
            DncList::Platform => query.filter(do_not_call::owner_id.is_null()),
            DncList::User(owner) => query.filter(do_not_call::owner_id.eq(owner)),
            DncList::Any => query,
        };
        query.first(conn).await.optional()
    }

    /// Whether `phone` is on the platform list and whether it is on `owner`'s list.
    pub async fn blocks(
        conn: &mut AsyncPgConnection,
        owner: Uuid,
        phone: &str,
    ) -> QueryResult<(bool, bool)> {
        let owners: Vec<Option<Uuid>> = do_not_call::table
            .filter(do_not_call::phone.eq(phone))
            .filter(
                do_not_call::owner_id
                    .is_null()
                    .or(do_not_call::owner_id.eq(owner)),
            )
            .select(do_not_call::owner_id)
            .load(conn)
            .await?;
        Ok((owners.contains(&None), owners.contains(&Some(owner))))
    }

    pub async fn page(
        conn: &mut AsyncPgConnection,
        list: DncList,
        phone: Option<&str>,
        seek: &Seek,
    ) -> QueryResult<Vec<Self>> {
        let mut query = Self::filtered(list, phone)
            .order(seek.order(None, "do_not_call.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(None, "do_not_call.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(
        conn: &mut AsyncPgConnection,
        list: DncList,
        phone: Option<&str>,
    ) -> QueryResult<i64> {
        Self::filtered(list, phone).count().get_result(conn).await
    }

    fn filtered(list: DncList, phone: Option<&str>) -> do_not_call::BoxedQuery<'static, Pg> {
        let mut query = do_not_call::table.into_boxed();
        query = match list {
            DncList::Platform => query.filter(do_not_call::owner_id.is_null()),
            DncList::User(owner) => query.filter(do_not_call::owner_id.eq(owner)),
            DncList::Any => query,
        };
        if let Some(phone) = phone {
            query = query.filter(do_not_call::phone.eq(phone.to_owned()));
        }
        query
    }

    pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
        diesel::delete(do_not_call::table.find(id))
            .execute(conn)
            .await
    }
}
