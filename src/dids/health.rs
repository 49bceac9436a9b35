//! Judging each number by how its calls end, and recording the verdict.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::model::{Did, DidHealth, DidStatus};
use crate::app::AppState;
use crate::audit;
use crate::error::AppResult;

/// Minimum finished calls in 24 h before a number can be judged.
pub const HEALTH_MIN_CALLS: i64 = 20;

/// UNHEALTHY when, over at least `HEALTH_MIN_CALLS` calls in 24 h, more than half failed,
/// almost none were answered, or the answer rate fell below a third of its 7-day level.
pub fn verdict(
    calls_24h: i64,
    answer_24h: Option<f64>,
    failure_24h: Option<f64>,
    answer_7d: Option<f64>,
) -> DidStatus {
    if calls_24h < HEALTH_MIN_CALLS {
        return DidStatus::Active;
    }
    let answer = answer_24h.unwrap_or(0.0);
    let collapsed = answer_7d.is_some_and(|week| week >= 0.15 && answer < week / 3.0);
    if failure_24h.unwrap_or(0.0) > 0.5 || answer < 0.05 || collapsed {
        DidStatus::Unhealthy
    } else {
        DidStatus::Active
    }
}

/// Finished outbound calls of one number over a window.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcomes {
    pub finished: i64,
    pub answered: i64,
    pub failed: i64,
}

impl Outcomes {
    pub fn answer_rate(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.answered as f64 / self.finished as f64)
    }

    pub fn failure_rate(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.failed as f64 / self.finished as f64)
    }
}

/// Records every live number's 24 h / 7 d figures (`day`, `week`: finished calls by number,
/// counted by `calls`) and its health verdict.
pub async fn update_health(
    state: &AppState,
    day: &HashMap<Uuid, Outcomes>,
    week: &HashMap<Uuid, Outcomes>,
) -> AppResult<usize> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let mut changed = 0;
    for did in Did::live(&mut conn).await? {
        let d = day.get(&did.id).copied().unwrap_or_default();
        let w = week.get(&did.id).copied().unwrap_or_default();
        let status = verdict(
            d.finished,
            d.answer_rate(),
            d.failure_rate(),
            w.answer_rate(),
        );
        if status != did.status {
            changed += 1;
            audit::service::record(
                &mut conn,
                None,
                "did.health",
                "did",
                &did.id.to_string(),
                json!({"from": did.status, "to": status, "calls_24h": d.finished, "answer_rate_24h": d.answer_rate(), "failure_rate_24h": d.failure_rate()}),
            )
            .await?;
        }
        let health = DidHealth {
            calls_24h: d.finished as i32,
            answer_rate_24h: d.answer_rate(),
            failure_rate_24h: d.failure_rate(),
            calls_7d: w.finished as i32,
            answer_rate_7d: w.answer_rate(),
            failure_rate_7d: w.failure_rate(),
            health_checked_at: Some(now),
            status,
        };
        Did::set_health(&mut conn, did.id, &health).await?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_verdicts() {
        assert_eq!(
            verdict(5, Some(0.0), Some(1.0), None),
            DidStatus::Active,
            "too few calls to judge"
        );
        assert_eq!(
            verdict(30, Some(0.4), Some(0.6), None),
            DidStatus::Unhealthy,
            "failures spike"
        );
        assert_eq!(
            verdict(30, Some(0.02), Some(0.1), None),
            DidStatus::Unhealthy,
            "nobody answers"
        );
        assert_eq!(
            verdict(30, Some(0.1), Some(0.1), Some(0.5)),
            DidStatus::Unhealthy,
            "answer rate collapsed"
        );
        assert_eq!(
            verdict(30, Some(0.4), Some(0.1), Some(0.5)),
            DidStatus::Active
        );
    }
}
