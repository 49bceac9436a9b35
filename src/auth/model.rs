//! The `refresh_tokens`, `login_failures` and `signup_attempts` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{login_failures, refresh_tokens, signup_attempts, users};
use crate::users::User;

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

    /// The user with whether the sign-in `family_id` is still live (not logged out, not
    /// revoked by reuse detection or suspension): one indexed query per request.
    pub async fn user_with_live_family(
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        family_id: Uuid,
    ) -> QueryResult<Option<(User, bool)>> {
        let live = diesel::dsl::exists(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::user_id.eq(users::id))
                .filter(refresh_tokens::revoked_at.is_null()),
        );
        users::table
            .find(user_id)
            .select((User::as_select(), live))
            .first(conn)
            .await
            .optional()
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
    /// Recorded before the password is checked, so concurrent guesses count each other.
    pub async fn record(conn: &mut AsyncPgConnection, email: &str, ip: &str) -> QueryResult<i64> {
        diesel::insert_into(login_failures::table)
            .values((login_failures::email.eq(email), login_failures::ip.eq(ip)))
            .returning(login_failures::id)
            .get_result(conn)
            .await
    }

    pub async fn forget(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
        diesel::delete(login_failures::table.find(id))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// The newest `limit` failure times since `since`, other than `own`, for this (email,
    /// address) pair, this email from anywhere and this address for any email, oldest first.
    pub async fn recent(
        conn: &mut AsyncPgConnection,
        own: i64,
        email: &str,
        ip: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<RecentFailures> {
        let recent = || {
            login_failures::table
                .filter(login_failures::failed_at.gt(since))
                .filter(login_failures::id.ne(own))
                .order(login_failures::failed_at.desc())
                .limit(limit)
                .select(login_failures::failed_at)
                .into_boxed()
        };
        let oldest_first = |mut v: Vec<DateTime<Utc>>| {
            v.reverse();
            v
        };
        let pair = recent()
            .filter(login_failures::email.eq(email))
            .filter(login_failures::ip.eq(ip))
            .load(conn)
            .await?;
        let by_email = recent()
            .filter(login_failures::email.eq(email))
            .load(conn)
            .await?;
        let by_ip = recent()
            .filter(login_failures::ip.eq(ip))
            .load(conn)
            .await?;
        Ok(RecentFailures {
            pair: oldest_first(pair),
            email: oldest_first(by_email),
            ip: oldest_first(by_ip),
        })
    }

    /// A success from this address forgives its failures for this email, and only those:
    /// the victim signing in must not reset what an attacker elsewhere has earned.
    pub async fn clear_pair(
        conn: &mut AsyncPgConnection,
        email: &str,
        ip: &str,
    ) -> QueryResult<()> {
        diesel::delete(
            login_failures::table
                .filter(login_failures::email.eq(email))
                .filter(login_failures::ip.eq(ip)),
        )
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

#[derive(Debug, Default)]
pub struct RecentFailures {
    pub pair: Vec<DateTime<Utc>>,
    pub email: Vec<DateTime<Utc>>,
    pub ip: Vec<DateTime<Utc>>,
}

pub struct SignupAttempt;

impl SignupAttempt {
    /// Recorded once the sign-up is allowed, under the address's lock (`throttle::signup`).
    pub async fn record(conn: &mut AsyncPgConnection, ip: &str) -> QueryResult<i64> {
        diesel::insert_into(signup_attempts::table)
            .values(signup_attempts::ip.eq(ip))
            .returning(signup_attempts::id)
            .get_result(conn)
            .await
    }

    /// The newest `limit` sign-up times from `ip` since `since`, oldest first.
    pub async fn recent(
        conn: &mut AsyncPgConnection,
        ip: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<DateTime<Utc>>> {
        let mut times: Vec<DateTime<Utc>> = signup_attempts::table
            .filter(signup_attempts::ip.eq(ip))
            .filter(signup_attempts::attempted_at.gt(since))
            .order(signup_attempts::attempted_at.desc())
            .limit(limit)
            .select(signup_attempts::attempted_at)
            .load(conn)
            .await?;
        times.reverse();
        Ok(times)
    }

    pub async fn delete_older_than(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(signup_attempts::table.filter(signup_attempts::attempted_at.lt(before)))
            .execute(conn)
            .await
    }
}
