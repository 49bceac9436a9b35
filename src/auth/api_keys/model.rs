//! The `api_keys` table.

use crate::db::keyset::Seek;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{api_keys, users};
use crate::viewer::{ApiScope, Role, UserStatus};

/// A key as stored. Deliberately not `Debug`: it holds the secret's hash.
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub prefix: String,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
}

impl ApiKey {
    /// The scopes as enums; a value the CHECK constraint would refuse is dropped (fails closed).
    pub fn scopes(&self) -> Vec<ApiScope> {
        self.scopes.iter().filter_map(|s| s.parse().ok()).collect()
    }

    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ApiKey>> {
        api_keys::table
            .find(id)
            .select(ApiKey::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// The key with its owner's role and status: everything a request's check needs, in one read.
    pub async fn find_with_owner(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<Option<(ApiKey, Role, UserStatus)>> {
        api_keys::table
            .inner_join(users::table)
            .filter(api_keys::id.eq(id))
            .select((ApiKey::as_select(), users::role, users::status))
            .first(conn)
            .await
            .optional()
    }

    /// A page, newest first: `owner` limits it to one user's keys (the user index).
    pub async fn page(
        conn: &mut AsyncPgConnection,
        owner: Option<Uuid>,
        seek: &Seek,
    ) -> QueryResult<Vec<ApiKey>> {
        let mut query = api_keys::table
            .select(ApiKey::as_select())
            .into_boxed()
            .order(seek.order(None, "api_keys.id"))
            .limit(seek.limit);
        if let Some(owner) = owner {
            query = query.filter(api_keys::user_id.eq(owner));
        }
        if let Some(past) = seek.past(None, "api_keys.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    pub async fn count(conn: &mut AsyncPgConnection, owner: Option<Uuid>) -> QueryResult<i64> {
        let mut query = api_keys::table.count().into_boxed();
        if let Some(owner) = owner {
            query = query.filter(api_keys::user_id.eq(owner));
        }
        query.get_result(conn).await
    }

    /// Keys of `owner` that still work (neither revoked nor expired).
    pub async fn count_live(
        conn: &mut AsyncPgConnection,
        owner: Uuid,
        now: DateTime<Utc>,
    ) -> QueryResult<i64> {
        api_keys::table
            .filter(api_keys::user_id.eq(owner))
            .filter(api_keys::revoked_at.is_null())
            .filter(
                api_keys::expires_at
                    .is_null()
                    .or(api_keys::expires_at.gt(now)),
            )
            .count()
            .get_result(conn)
            .await
    }

    /// Sets `revoked_at` once: revoking again keeps the first time. Returns the key after.
    pub async fn revoke(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> QueryResult<ApiKey> {
        diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)
        .await?;
        api_keys::table
            .find(id)
            .select(ApiKey::as_select())
            .first(conn)
            .await
    }

    /// Records a use: at most one write a minute per key, or when the address changed.
    pub async fn touch(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        ip: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(api_keys::table.find(id))
            .set((
                api_keys::last_used_at.eq(now),
                api_keys::last_used_ip.eq(ip),
            ))
            .execute(conn)
            .await
    }
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: &'a str,
    pub scopes: Vec<String>,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewApiKey<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<ApiKey> {
        diesel::insert_into(api_keys::table)
            .values(self)
            .returning(ApiKey::as_returning())
            .get_result(conn)
            .await
    }
}
