//! The `twilio_accounts` table.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::keyset::Seek;
use crate::db::schema::twilio_accounts;
use crate::text_enum;

text_enum! {
    /// A Twilio account's state at its latest check.
    pub enum AccountStatus {
        /// Not checked since it was added or its auth token changed.
        Unknown => "UNKNOWN",
        /// Twilio reports the account active.
        Active => "ACTIVE",
        /// Twilio reports the account suspended or closed.
        Suspended => "SUSPENDED",
        /// Twilio could not be reached or refused the credentials; see `lastError`.
        Error => "ERROR",
    }
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = twilio_accounts)]
pub struct TwilioAccount {
    pub id: Uuid,
    pub name: String,
    pub account_sid: String,
    pub auth_token_sealed: String,
    pub auth_token_last4: String,
    pub api_base_url: String,
    pub calls_per_second: f64,
    pub status: AccountStatus,
    pub is_simulated: bool,
    pub balance: Option<String>,
    pub balance_currency: Option<String>,
    pub last_error: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = twilio_accounts)]
pub struct NewTwilioAccount<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub account_sid: &'a str,
    pub auth_token_sealed: &'a str,
    pub auth_token_last4: &'a str,
    pub api_base_url: &'a str,
    pub calls_per_second: f64,
    pub status: AccountStatus,
    pub is_simulated: bool,
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = twilio_accounts)]
pub struct TwilioAccountChanges {
    pub name: Option<String>,
    pub auth_token_sealed: Option<String>,
    pub auth_token_last4: Option<String>,
    pub api_base_url: Option<String>,
    pub calls_per_second: Option<f64>,
    pub status: Option<AccountStatus>,
    pub balance: Option<Option<String>>,
    pub balance_currency: Option<Option<String>>,
    pub last_error: Option<Option<String>>,
    pub last_checked_at: Option<Option<DateTime<Utc>>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl NewTwilioAccount<'_> {
    pub async fn insert(&self, conn: &mut AsyncPgConnection) -> QueryResult<TwilioAccount> {
        diesel::insert_into(twilio_accounts::table)
            .values(self)
            .returning(TwilioAccount::as_returning())
            .get_result(conn)
            .await
    }
}

impl TwilioAccount {
    pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Self> {
        twilio_accounts::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .await
    }

    pub async fn find_by_sid(conn: &mut AsyncPgConnection, sid: &str) -> QueryResult<Option<Self>> {
        twilio_accounts::table
            .filter(twilio_accounts::account_sid.eq(sid))
            .select(Self::as_select())
            .first(conn)
            .await
            .optional()
    }

    pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Self>> {
        twilio_accounts::table
            .order(twilio_accounts::id)
            .select(Self::as_select())
            .load(conn)
            .await
    }

    pub async fn page(conn: &mut AsyncPgConnection, seek: &Seek) -> QueryResult<Vec<Self>> {
        let mut query = Self::filtered()
            .order(seek.order(None, "twilio_accounts.id"))
            .limit(seek.limit)
            .select(Self::as_select());
        if let Some(past) = seek.past(None, "twilio_accounts.id") {
            query = query.filter(past);
        }
        query.load(conn).await
    }

    /// How many rows the list's filter matches, for its `totalCount`.
    pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
        Self::filtered().count().get_result(conn).await
    }

    fn filtered() -> twilio_accounts::BoxedQuery<'static, Pg> {
        twilio_accounts::table.into_boxed()
    }

    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &TwilioAccountChanges,
    ) -> QueryResult<Self> {
        diesel::update(twilio_accounts::table.find(id))
            .set(changes)
            .returning(Self::as_returning())
            .get_result(conn)
            .await
    }

    pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
        diesel::delete(twilio_accounts::table.find(id))
            .execute(conn)
            .await
    }

    pub async fn any_real(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            twilio_accounts::table.filter(twilio_accounts::is_simulated.eq(false)),
        ))
        .get_result(conn)
        .await
    }

    pub async fn simulated(conn: &mut AsyncPgConnection) -> QueryResult<Option<Self>> {
        twilio_accounts::table
            .filter(twilio_accounts::is_simulated.eq(true))
            .select(Self::as_select())
            .first(conn)
            .await
            .optional()
    }
}
