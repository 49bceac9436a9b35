//! The `users` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sort::UserOrderField;
use crate::db::keyset::{Seek, Sort};
use crate::db::schema::users;
pub use crate::viewer::{Role, UserStatus};

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub status: UserStatus,
    pub token_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password_hash: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Default, Clone, Debug)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Case-insensitive substring of email or name.
    pub search: Option<String>,
}

impl NewUser<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(self)
            .returning(User::as_returning())
            .get_result(conn)
            .await
    }
}

impl User {
    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<User> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .await
    }

    /// Several accounts in one statement, for a page's edges to their users.
    pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<User>> {
        users::table
            .filter(users::id.eq_any(ids))
            .select(User::as_select())
            .load(conn)
            .await
    }

    /// `email` must already be normalised (trimmed, lower-case).
    pub async fn find_by_email(
        conn: &mut AsyncPgConnection,
        email: &str,
    ) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .await
            .optional()
    }

    pub async fn any_admin(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            users::table.filter(users::role.eq(Role::Admin)),
        ))
        .get_result(conn)
        .await
    }

    pub async fn count_active_admins_except(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<i64> {
        users::table
            .filter(users::role.eq(Role::Admin))
            .filter(users::status.eq(UserStatus::Active))
            .filter(users::id.ne(id))
            .count()
            .get_result(conn)
            .await
    }

    /// Keyset page in id order (ids are UUIDv7, so this is creation order).
    pub async fn page(
        conn: &mut AsyncPgConnection,
        filter: &UserFilter,
        sort: UserOrderField,
        seek: &Seek,
    ) -> QueryResult<Vec<User>> {
        let column = sort.column().map(|(sql, _)| sql);
        let mut query = Self::filtered(filter)
            .select(User::as_select())
            .order(seek.order(column, "users.id"))
            .limit(seek.limit);
        if let Some(past) = seek.past(column, "users.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many users the filter matches, for a list's `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection, filter: &UserFilter) -> QueryResult<i64> {
        Self::filtered(filter).count().get_result(conn).await
    }

    fn filtered(filter: &UserFilter) -> users::BoxedQuery<'static, Pg> {
        let mut query = users::table.into_boxed();
        if let Some(role) = filter.role {
            query = query.filter(users::role.eq(role));
        }
        if let Some(status) = filter.status {
            query = query.filter(users::status.eq(status));
        }
        if let Some(search) = &filter.search {
            let pattern = format!("%{}%", crate::db::escape_like(search));
            query = query.filter(
                users::email
                    .ilike(pattern.clone())
                    .or(users::name.ilike(pattern)),
            );
        }
        query
    }

    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &UserChanges,
    ) -> QueryResult<User> {
        diesel::update(users::table.find(id))
            .set(changes)
            .returning(User::as_returning())
            .get_result(conn)
            .await
    }

    /// Makes every access token issued so far invalid.
    pub async fn bump_token_version(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(users::token_version.eq(users::token_version + 1))
            .execute(conn)
            .await?;
        Ok(())
    }
}
