//! The `refresh_tokens` and `login_failures` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{login_failures, refresh_tokens};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

impl NewRefreshToken<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        diesel::insert_into(refresh_tokens::table)
            .values(self)
            .execute(conn)
            .await?;
        Ok(())
    }
}

impl RefreshToken {
    /// Locks the row so two concurrent refreshes with one token cannot both rotate it.
    pub async fn find_by_hash_for_update(
        conn: &mut AsyncPgConnection,
        hash: &str,
    ) -> QueryResult<Option<Self>> {
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(hash))
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()
    }

    pub async fn mark_used(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<()> {
        diesel::update(refresh_tokens::table.find(id))
            .set(refresh_tokens::used_at.eq(at))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn revoke_family(
        conn: &mut AsyncPgConnection,
        family_id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(at))
        .execute(conn)
        .await
    }

    pub async fn revoke_all_for_user(
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(user_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(at))
        .execute(conn)
        .await
    }

    /// Expired tokens carry no information reuse detection still needs.
    pub async fn delete_expired(
        conn: &mut AsyncPgConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now)))
            .execute(conn)
            .await
    }
}

pub struct LoginFailure;

impl LoginFailure {
    pub async fn record(conn: &mut AsyncPgConnection, email: &str, ip: &str) -> QueryResult<()> {
        diesel::insert_into(login_failures::table)
            .values((login_failures::email.eq(email), login_failures::ip.eq(ip)))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Failure times since `since` for this email or this IP, oldest first, per key.
    pub async fn recent(
        conn: &mut AsyncPgConnection,
        email: &str,
        ip: &str,
        since: DateTime<Utc>,
    ) -> QueryResult<(Vec<DateTime<Utc>>, Vec<DateTime<Utc>>)> {
        let by_email = login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::failed_at.gt(since))
            .order(login_failures::failed_at)
            .select(login_failures::failed_at)
            .load(conn)
            .await?;
        let by_ip = login_failures::table
            .filter(login_failures::ip.eq(ip))
            .filter(login_failures::failed_at.gt(since))
            .order(login_failures::failed_at)
            .select(login_failures::failed_at)
            .load(conn)
            .await?;
        Ok((by_email, by_ip))
    }

    pub async fn clear_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<()> {
        diesel::delete(login_failures::table.filter(login_failures::email.eq(email)))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn delete_older_than(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before)))
            .execute(conn)
            .await
    }
}
