//! The `rates` table: per-prefix prices and the longest-prefix match.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rate {
    #[diesel(sql_type = Text)]
    pub prefix: String,
    #[diesel(sql_type = BigInt)]
    pub per_minute: i64,
    #[diesel(sql_type = Int4)]
    pub initial_increment: i32,
    #[diesel(sql_type = Int4)]
    pub billing_increment: i32,
    #[diesel(sql_type = BigInt)]
    pub connection_fee: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct RateInput {
    pub prefix: String,
    pub per_minute: i64,
    pub initial_increment: i32,
    pub billing_increment: i32,
    pub connection_fee: i64,
    pub description: Option<String>,
}

const RATE_COLUMNS: &str =
    "prefix, per_minute, initial_increment, billing_increment, connection_fee, description, updated_at";

#[derive(QueryableByName)]
struct Matched {
    #[diesel(sql_type = BigInt)]
    i: i64,
    #[diesel(embed)]
    rate: Rate,
}

impl Rate {
    pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Self>> {
        diesel::sql_query(format!("SELECT {RATE_COLUMNS} FROM rates ORDER BY prefix"))
            .load(conn)
            .await
    }

    /// The rate with the longest prefix of `digits`, the default (`""`) included.
    pub async fn longest_prefix(
        conn: &mut AsyncPgConnection,
        digits: &str,
    ) -> QueryResult<Option<Self>> {
        diesel::sql_query(format!(
            "SELECT {RATE_COLUMNS} FROM rates WHERE starts_with($1, prefix) ORDER BY length(prefix) DESC LIMIT 1"
        ))
        .bind::<Text, _>(digits)
        .get_result(conn)
        .await
        .optional()
    }

    /// `longest_prefix` for each of `digits` in one statement, in the order given; a number
    /// no rate covers is left out.
    pub async fn longest_prefixes(
        conn: &mut AsyncPgConnection,
        digits: &[&str],
    ) -> QueryResult<Vec<Self>> {
        let found: Vec<Matched> = diesel::sql_query(format!(
            "SELECT n.i, r.* FROM unnest($1::text[]) WITH ORDINALITY AS n(digits, i)
             CROSS JOIN LATERAL (SELECT {RATE_COLUMNS} FROM rates WHERE starts_with(n.digits, prefix)
                                 ORDER BY length(prefix) DESC LIMIT 1) r
             ORDER BY n.i"
        ))
        .bind::<Array<Text>, _>(digits)
        .load(conn)
        .await?;
        debug_assert!(
            found.len() != digits.len()
                || found.iter().enumerate().all(|(k, m)| m.i == k as i64 + 1)
        );
        Ok(found.into_iter().map(|m| m.rate).collect())
    }

    /// Inserts the prefix's rate or replaces it.
    pub async fn upsert(conn: &mut AsyncPgConnection, input: &RateInput) -> QueryResult<Self> {
        diesel::sql_query(format!(
            "INSERT INTO rates (prefix, per_minute, initial_increment, billing_increment, connection_fee, description)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (prefix) DO UPDATE SET per_minute = $2, initial_increment = $3, billing_increment = $4,
                 connection_fee = $5, description = $6, updated_at = now()
             RETURNING {RATE_COLUMNS}"
        ))
        .bind::<Text, _>(&input.prefix)
        .bind::<BigInt, _>(input.per_minute)
        .bind::<Int4, _>(input.initial_increment)
        .bind::<Int4, _>(input.billing_increment)
        .bind::<BigInt, _>(input.connection_fee)
        .bind::<Nullable<Text>, _>(input.description.as_deref())
        .get_result(conn)
        .await
    }

    pub async fn delete(conn: &mut AsyncPgConnection, prefix: &str) -> QueryResult<Self> {
        diesel::sql_query(format!(
            "DELETE FROM rates WHERE prefix = $1 RETURNING {RATE_COLUMNS}"
        ))
        .bind::<Text, _>(prefix)
        .get_result(conn)
        .await
    }
}
