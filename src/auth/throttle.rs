//! Login throttling: 5 failures for one email or one IP within 15 minutes lock that key out.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;

use super::model::LoginFailure;
use super::AuthError;
use crate::error::AppResult;

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::minutes(15);

/// Seconds until one more attempt is allowed, given one key's failures (oldest first).
pub fn retry_after(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<u64> {
    if failures.len() < MAX_FAILURES {
        return None;
    }
    // Once this failure leaves the window, fewer than MAX_FAILURES remain.
    let pivot = failures[failures.len() - MAX_FAILURES];
    Some((pivot + WINDOW - now).num_seconds().max(1) as u64)
}

pub async fn check(
    conn: &mut AsyncPgConnection,
    email: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (by_email, by_ip) = LoginFailure::recent(conn, email, ip, now - WINDOW).await?;
    let wait = retry_after(&by_email, now).max(retry_after(&by_ip, now));
    match wait {
        Some(retry_after_secs) => Err(AuthError::Throttled { retry_after_secs }.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_failures_pass_and_the_fifth_locks_until_the_oldest_ages_out() {
        let now = Utc::now();
        let times: Vec<_> = (0..5).map(|i| now - Duration::minutes(10 - i)).collect();
        assert_eq!(retry_after(&times[..4], now), None);
        assert_eq!(retry_after(&times, now), Some(5 * 60));
    }
}
