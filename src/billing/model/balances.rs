//! The `balances` table: one row per user, posted and held VND.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(QueryableByName, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    #[diesel(sql_type = BigInt)]
    pub posted: i64,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
}

impl Balance {
    pub fn available(&self) -> i64 {
        self.posted - self.held
    }
}

#[derive(QueryableByName)]
struct BalanceRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = BigInt)]
    posted: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

impl Balance {
    /// Creates the user's row at zero unless it exists.
    pub async fn ensure(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<()> {
        diesel::sql_query("INSERT INTO balances (user_id) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind::<SqlUuid, _>(user_id)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// The row, locked until the transaction ends.
    pub async fn lock(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Self> {
        diesel::sql_query("SELECT posted, held FROM balances WHERE user_id = $1 FOR UPDATE")
            .bind::<SqlUuid, _>(user_id)
            .get_result(conn)
            .await
    }

    pub async fn find(conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<Option<Self>> {
        let rows: Vec<Self> =
            diesel::sql_query("SELECT posted, held FROM balances WHERE user_id = $1")
                .bind::<SqlUuid, _>(user_id)
                .load(conn)
                .await?;
        Ok(rows.into_iter().next())
    }

    /// Users without a row are absent.
    pub async fn of_users(
        conn: &mut AsyncPgConnection,
        ids: &[Uuid],
    ) -> QueryResult<HashMap<Uuid, Self>> {
        let rows: Vec<BalanceRow> =
            diesel::sql_query("SELECT user_id, posted, held FROM balances WHERE user_id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(ids)
                .load(conn)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let balance = Self {
                    posted: r.posted,
                    held: r.held,
                };
                (r.user_id, balance)
            })
            .collect())
    }

    pub async fn set(&self, conn: &mut AsyncPgConnection, user_id: Uuid) -> QueryResult<()> {
        diesel::sql_query(
            "UPDATE balances SET posted = $2, held = $3, updated_at = now() WHERE user_id = $1",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<BigInt, _>(self.posted)
        .bind::<BigInt, _>(self.held)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn set_held(
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        held: i64,
    ) -> QueryResult<()> {
        diesel::sql_query("UPDATE balances SET held = $2, updated_at = now() WHERE user_id = $1")
            .bind::<SqlUuid, _>(user_id)
            .bind::<BigInt, _>(held)
            .execute(conn)
            .await?;
        Ok(())
    }
}
