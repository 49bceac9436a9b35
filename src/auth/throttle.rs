//! Login and sign-up throttling. Failures are counted per (email, address), per address and per
//! email; the per-email ceiling is far above the others, so failures from one address (or a
//! few) cannot lock a user out from everywhere else.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::model::{LoginFailure, SignupAttempt};
use super::AuthError;
use crate::error::{AppError, AppResult};

/// Failures of one email from one address within `WINDOW`.
pub const MAX_PAIR_FAILURES: usize = 5;
/// Failures from one address, whatever the emails (password spraying).
pub const MAX_IP_FAILURES: usize = 20;
/// Failures of one email from every address: reaching it takes `MAX_EMAIL_FAILURES /
/// MAX_PAIR_FAILURES` addresses.
pub const MAX_EMAIL_FAILURES: usize = 100;
pub const WINDOW: Duration = Duration::minutes(15);

/// Accounts created from one address within `SIGNUP_WINDOW`.
pub const MAX_SIGNUPS: usize = 20;
pub const SIGNUP_WINDOW: Duration = Duration::hours(1);

/// Seconds until one more attempt is allowed, given one key's earlier attempts (oldest first).
pub fn retry_after(
    earlier: &[DateTime<Utc>],
    max: usize,
    window: Duration,
    now: DateTime<Utc>,
) -> Option<u64> {
    if earlier.len() < max {
        return None;
    }
    // Once this attempt leaves the window, fewer than `max` remain.
    let pivot = earlier[earlier.len() - max];
    Some((pivot + window - now).num_seconds().max(1) as u64)
}

/// A sign-in attempt, counted as a failure until `succeeded` is called.
pub struct LoginAttempt {
    id: i64,
}

/// Records the attempt, then judges it against the failures before it (concurrent guesses
/// see each other). A throttled attempt is not counted: waiting it out must work.
pub async fn begin_login(
    conn: &mut AsyncPgConnection,
    email: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> AppResult<LoginAttempt> {
    let id = LoginFailure::record(conn, email, ip).await?;
    let limit = MAX_EMAIL_FAILURES as i64;
    let earlier = LoginFailure::recent(conn, id, email, ip, now - WINDOW, limit).await?;
    let wait = [
        retry_after(&earlier.pair, MAX_PAIR_FAILURES, WINDOW, now),
        retry_after(&earlier.ip, MAX_IP_FAILURES, WINDOW, now),
        retry_after(&earlier.email, MAX_EMAIL_FAILURES, WINDOW, now),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(retry_after_secs) = wait {
        LoginFailure::forget(conn, id).await?;
        return Err(AuthError::Throttled { retry_after_secs }.into());
    }
    Ok(LoginAttempt { id })
}

impl LoginAttempt {
    /// Forgets this attempt and the pair's earlier failures (only this address's, for this email).
    pub async fn succeeded(
        self,
        conn: &mut AsyncPgConnection,
        email: &str,
        ip: &str,
    ) -> AppResult<()> {
        LoginFailure::forget(conn, self.id).await?;
        LoginFailure::clear_pair(conn, email, ip).await?;
        Ok(())
    }
}

/// Counts a sign-up from `ip`, refusing it past `MAX_SIGNUPS` in `SIGNUP_WINDOW`. One address's
/// sign-ups take turns (an advisory lock on the address), so a burst gets exactly
/// `MAX_SIGNUPS` through: recording first and judging after let a refused attempt, not yet
/// forgotten, count against a concurrent one.
pub async fn signup(conn: &mut AsyncPgConnection, ip: &str, now: DateTime<Utc>) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<Text, _>(format!("signup:{ip}"))
            .execute(conn)
            .await?;
        let earlier =
            SignupAttempt::recent(conn, ip, now - SIGNUP_WINDOW, MAX_SIGNUPS as i64).await?;
        if let Some(retry_after_secs) = retry_after(&earlier, MAX_SIGNUPS, SIGNUP_WINDOW, now) {
            return Err(AuthError::SignupThrottled { retry_after_secs }.into());
        }
        SignupAttempt::record(conn, ip).await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_failures_pass_and_the_fifth_locks_until_the_oldest_ages_out() {
        let now = Utc::now();
        let times: Vec<_> = (0..5).map(|i| now - Duration::minutes(10 - i)).collect();
        assert_eq!(
            retry_after(&times[..4], MAX_PAIR_FAILURES, WINDOW, now),
            None
        );
        assert_eq!(
            retry_after(&times, MAX_PAIR_FAILURES, WINDOW, now),
            Some(5 * 60)
        );
        // The same five failures are far below the per-email ceiling.
        assert_eq!(retry_after(&times, MAX_EMAIL_FAILURES, WINDOW, now), None);
    }
}
