//! The rows a monthly statement is made of: the opening balance and the movements, read from
//! `ledger_entries`.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::Entry;

/// One line of a monthly statement.
#[derive(QueryableByName, Clone, Debug)]
pub struct Line {
    /// The Vietnam date of the movement.
    #[diesel(sql_type = Text)]
    pub date: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub campaign_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub description: String,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
}

#[derive(QueryableByName)]
struct Posted {
    #[diesel(sql_type = Nullable<BigInt>)]
    posted: Option<i64>,
}

impl Entry {
    /// The posted balance after the user's last entry before `before`.
    pub async fn posted_before(
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        before: DateTime<Utc>,
    ) -> QueryResult<Option<i64>> {
        let row: Posted = diesel::sql_query(
            "SELECT (SELECT posted_after FROM ledger_entries WHERE user_id = $1 AND created_at < $2
                     ORDER BY id DESC LIMIT 1) AS posted",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<Timestamptz, _>(before)
        .get_result(conn)
        .await?;
        Ok(row.posted)
    }

    /// Movements in `[start, end)`, call charges summed per day and campaign.
    pub async fn statement_lines(
        conn: &mut AsyncPgConnection,
        user_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> QueryResult<Vec<Line>> {
        diesel::sql_query(
            "SELECT to_char(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS date, kind,
                    campaign_id,
                    CASE WHEN kind = 'CALL_CHARGE' THEN 'calls' ELSE coalesce(min(reason), '') END AS description,
                    sum(amount)::bigint AS amount, count(*) AS entries
             FROM ledger_entries
             WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 AND amount <> 0
             GROUP BY 1, 2, 3, CASE WHEN kind = 'CALL_CHARGE' THEN 0 ELSE id END
             ORDER BY 1, min(id)",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<Timestamptz, _>(start)
        .bind::<Timestamptz, _>(end)
        .load(conn)
        .await
    }
}
