//! The admin rate table: price per minute by destination prefix (longest match wins, `""` is
//! the default), billed in increments such as 60/60 or 6/6, plus an optional connection fee.

use diesel_async::AsyncPgConnection;

pub use super::model::{Rate, RateInput};
use crate::error::{AppError, AppResult};

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

pub async fn list(conn: &mut AsyncPgConnection) -> AppResult<Vec<Rate>> {
    Ok(Rate::list(conn).await?)
}

fn uncovered() -> AppError {
    AppError::bad_input(
        "to",
        "no rate covers this destination and no default rate is set",
    )
}

/// The rate for an E.164 number: the longest prefix of its digits, else the default.
pub async fn for_number(conn: &mut AsyncPgConnection, e164: &str) -> AppResult<Rate> {
    let digits = e164.trim_start_matches('+');
    Rate::longest_prefix(conn, digits)
        .await?
        .ok_or_else(uncovered)
}

/// `for_number` for several numbers in one statement, in the order given.
pub async fn for_numbers(conn: &mut AsyncPgConnection, e164s: &[&str]) -> AppResult<Vec<Rate>> {
    let digits: Vec<&str> = e164s.iter().map(|e| e.trim_start_matches('+')).collect();
    let found = Rate::longest_prefixes(conn, &digits).await?;
    if found.len() != e164s.len() {
        return Err(uncovered());
    }
    Ok(found)
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
    Ok(Rate::upsert(conn, input).await?)
}

pub async fn delete(conn: &mut AsyncPgConnection, prefix: &str) -> AppResult<Rate> {
    if prefix.is_empty() {
        // Without a default, every number without its own rate would stop being callable.
        return Err(AppError::conflict(
            "prefix",
            "the default rate cannot be deleted; change it with setRate",
        ));
    }
    Rate::delete(conn, prefix).await.map_err(|e| match e {
        diesel::result::Error::NotFound => AppError::NotFound("rate"),
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

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
