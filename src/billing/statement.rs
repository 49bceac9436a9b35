//! The monthly statement: opening and closing posted balance, and every movement of money in
//! between; call charges are summed per day and campaign so a month of calls stays readable.
//! Months are Vietnam calendar months.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct Statement {
    pub month: String,
    pub user_id: Uuid,
    pub opening: i64,
    pub closing: i64,
    pub lines: Vec<Line>,
}

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

/// `2026-11` -> the instants the Vietnam month starts and ends.
pub fn month_bounds(month: &str) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let bad = || AppError::bad_input("month", "a month as YYYY-MM, e.g. 2026-11");
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| bad())?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(bad)?;
    let at = |d: NaiveDate| {
        Ho_Chi_Minh
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(bad)
    };
    Ok((at(first)?, at(next)?))
}

async fn posted_before(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    before: DateTime<Utc>,
) -> AppResult<i64> {
    let row: Posted = diesel::sql_query(
        "SELECT (SELECT posted_after FROM ledger_entries WHERE user_id = $1 AND created_at < $2
                 ORDER BY id DESC LIMIT 1) AS posted",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Timestamptz, _>(before)
    .get_result(conn)
    .await?;
    Ok(row.posted.unwrap_or(0))
}

pub async fn build(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    month: &str,
) -> AppResult<Statement> {
    let (start, end) = month_bounds(month)?;
    let opening = posted_before(conn, user_id, start).await?;
    let closing = posted_before(conn, user_id, end).await?;
    let lines: Vec<Line> = diesel::sql_query(
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
    .await?;
    Ok(Statement {
        month: month.trim().to_owned(),
        user_id,
        opening,
        closing,
        lines,
    })
}

impl Statement {
    pub fn csv(&self) -> String {
        let quote = crate::calls::export::csv_field;
        let mut out = String::from("date,kind,campaign_id,description,amount_vnd,entries\n");
        out.push_str(&format!(
            ",OPENING_BALANCE,,{},{},\n",
            quote(&self.month),
            self.opening
        ));
        for line in &self.lines {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                line.date,
                line.kind,
                line.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
                quote(&line.description),
                line.amount,
                line.entries
            ));
        }
        out.push_str(&format!(
            ",CLOSING_BALANCE,,{},{},\n",
            quote(&self.month),
            self.closing
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_vietnam_months() {
        let (start, end) = month_bounds("2026-11").expect("month");
        assert_eq!(start.to_rfc3339(), "2026-10-31T17:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-30T17:00:00+00:00");
        assert!(month_bounds("2026-13").is_err());
        assert!(month_bounds("november").is_err());
    }
}
