//! The monthly statement: opening and closing posted balance, and every movement of money in
//! between; call charges are summed per day and campaign so a month of calls stays readable.
//! Months are Vietnam calendar months.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Ho_Chi_Minh;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::Entry;
pub use super::model::Line;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct Statement {
    pub month: String,
    pub user_id: Uuid,
    pub opening: i64,
    pub closing: i64,
    pub lines: Vec<Line>,
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

pub async fn build(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    month: &str,
) -> AppResult<Statement> {
    let (start, end) = month_bounds(month)?;
    let opening = Entry::posted_before(conn, user_id, start)
        .await?
        .unwrap_or(0);
    let closing = Entry::posted_before(conn, user_id, end).await?.unwrap_or(0);
    let lines = Entry::statement_lines(conn, user_id, start, end).await?;
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
        let mut rows = vec![vec![
            String::new(),
            "OPENING_BALANCE".to_owned(),
            String::new(),
            self.month.clone(),
            self.opening.to_string(),
            String::new(),
        ]];
        for line in &self.lines {
            rows.push(vec![
                line.date.to_string(),
                line.kind.to_string(),
                line.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
                line.description.clone(),
                line.amount.to_string(),
                line.entries.to_string(),
            ]);
        }
        rows.push(vec![
            String::new(),
            "CLOSING_BALANCE".to_owned(),
            String::new(),
            self.month.clone(),
            self.closing.to_string(),
            String::new(),
        ]);
        String::from("date,kind,campaign_id,description,amount_vnd,entries\n")
            + &crate::spreadsheet::lines(rows)
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
