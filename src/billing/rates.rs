//! The admin rate table: price per minute by destination prefix (longest match wins, `""` is
//! the default), billed in increments such as 60/60 or 6/6, plus an optional connection fee.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Int4, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::{AppError, AppResult};

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
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

impl Rate {
    /// Seconds billed for a call that talked `duration_secs`: nothing for an unanswered call,
    /// else at least the first increment, then whole further increments.
    pub fn billable_secs(&self, duration_secs: i64) -> i64 {
        if duration_secs <= 0 {
            return 0;
        }
        let first = i64::from(self.initial_increment.max(1));
        let step = i64::from(self.billing_increment.max(1));
        if duration_secs <= first {
            return first;
        }
        first + (duration_secs - first + step - 1) / step * step
    }

    /// What a call costs in VND: its billable seconds at the per-minute price (rounded up to
    /// the đồng), plus the connection fee for any call the carrier took.
    pub fn charge(&self, duration_secs: i64, carrier_took_it: bool) -> i64 {
        let talk = (self.billable_secs(duration_secs) * self.per_minute + 59) / 60;
        let fee = if carrier_took_it {
            self.connection_fee
        } else {
            0
        };
        talk + fee
    }
}

const COLUMNS: &str =
    "prefix, per_minute, initial_increment, billing_increment, connection_fee, description, updated_at";

pub async fn list(conn: &mut AsyncPgConnection) -> AppResult<Vec<Rate>> {
    Ok(
        diesel::sql_query(format!("SELECT {COLUMNS} FROM rates ORDER BY prefix"))
            .load(conn)
            .await?,
    )
}

/// The rate for an E.164 number: the longest prefix of its digits, else the default.
pub async fn for_number(conn: &mut AsyncPgConnection, e164: &str) -> AppResult<Rate> {
    let digits = e164.trim_start_matches('+');
    let found: Option<Rate> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM rates WHERE starts_with($1, prefix) ORDER BY length(prefix) DESC LIMIT 1"
    ))
    .bind::<Text, _>(digits)
    .get_result(conn)
    .await
    .map(Some)
    .or_else(|e| match e {
        diesel::result::Error::NotFound => Ok(None),
        other => Err(other),
    })?;
    found.ok_or_else(|| {
        AppError::bad_input(
            "to",
            "no rate covers this destination and no default rate is set",
        )
    })
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

impl RateInput {
    pub fn validate(&self) -> AppResult<()> {
        if self.prefix.len() > 15 || !self.prefix.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::bad_input(
                "prefix",
                "digits of the international number without '+', e.g. 84 or 8491; empty for the default",
            ));
        }
        if self.per_minute < 0 || self.per_minute > 10_000_000 {
            return Err(AppError::bad_input(
                "perMinute",
                "VND per minute, 0 to 10,000,000",
            ));
        }
        for (field, v) in [
            ("initialIncrement", self.initial_increment),
            ("billingIncrement", self.billing_increment),
        ] {
            if !(1..=3600).contains(&v) {
                return Err(AppError::bad_input(field, "seconds, 1 to 3600"));
            }
        }
        if self.connection_fee < 0 || self.connection_fee > 10_000_000 {
            return Err(AppError::bad_input("connectionFee", "VND, 0 to 10,000,000"));
        }
        Ok(())
    }
}

pub async fn set(conn: &mut AsyncPgConnection, input: &RateInput) -> AppResult<Rate> {
    input.validate()?;
    Ok(diesel::sql_query(format!(
        "INSERT INTO rates (prefix, per_minute, initial_increment, billing_increment, connection_fee, description)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (prefix) DO UPDATE SET per_minute = $2, initial_increment = $3, billing_increment = $4,
             connection_fee = $5, description = $6, updated_at = now()
         RETURNING {COLUMNS}"
    ))
    .bind::<Text, _>(&input.prefix)
    .bind::<BigInt, _>(input.per_minute)
    .bind::<Int4, _>(input.initial_increment)
    .bind::<Int4, _>(input.billing_increment)
    .bind::<BigInt, _>(input.connection_fee)
    .bind::<Nullable<Text>, _>(input.description.as_deref())
    .get_result(conn)
    .await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, prefix: &str) -> AppResult<Rate> {
    if prefix.is_empty() {
        // Without a default, every number without its own rate would stop being callable.
        return Err(AppError::conflict(
            "prefix",
            "the default rate cannot be deleted; change it with setRate",
        ));
    }
    diesel::sql_query(format!(
        "DELETE FROM rates WHERE prefix = $1 RETURNING {COLUMNS}"
    ))
    .bind::<Text, _>(prefix)
    .get_result(conn)
    .await
    .map_err(|e| match e {
        diesel::result::Error::NotFound => AppError::NotFound("rate"),
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: i64, first: i32, step: i32, fee: i64) -> Rate {
        Rate {
            prefix: "84".into(),
            per_minute,
            initial_increment: first,
            billing_increment: step,
            connection_fee: fee,
            description: None,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn sixty_sixty_rounds_up_to_whole_minutes() {
        let r = rate(1200, 60, 60, 0);
        assert_eq!(r.charge(0, true), 0);
        assert_eq!(r.charge(1, true), 1200);
        assert_eq!(r.charge(60, true), 1200);
        assert_eq!(r.charge(61, true), 2400);
    }

    #[test]
    fn six_six_bills_in_tenths_of_a_minute() {
        let r = rate(1000, 6, 6, 0);
        assert_eq!(r.billable_secs(7), 12);
        // 12 s of 1000 VND/min = 200 VND.
        assert_eq!(r.charge(7, true), 200);
        assert_eq!(r.charge(59, true), 1000);
    }

    #[test]
    fn thirty_six_and_rounding_to_the_dong() {
        let r = rate(1001, 30, 6, 0);
        assert_eq!(r.billable_secs(31), 36);
        // 36 * 1001 / 60 = 600.6 -> 601.
        assert_eq!(r.charge(31, true), 601);
    }

    #[test]
    fn connection_fee_only_for_calls_the_carrier_took() {
        let r = rate(1000, 60, 60, 150);
        assert_eq!(r.charge(0, true), 150);
        assert_eq!(r.charge(0, false), 0);
        assert_eq!(r.charge(30, true), 1150);
    }
}
