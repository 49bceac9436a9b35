//! The per-number caps: the platform's (admin-set, counted over everyone's attempts) and a
//! user's own, which may only be stricter and are counted over that user's attempts.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{Integer, Nullable, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::gate::Caps;
use crate::app::AppState;
use crate::audit;
use crate::error::{AppError, AppResult};
use crate::viewer::Viewer;

pub const MAX_PER_24H: i32 = 10;
pub const MAX_GAP_MINUTES: i32 = 24 * 60;
/// The grid a cap's deferral is announced on.
pub const DEFERRAL_GRID_MINUTES: i64 = 15;

/// A cap's deferral, moved to the next point of a 15-minute grid strictly after `until`. The
/// platform cap counts every tenant's calls, so the exact moment it opens is another tenant's
/// call time plus the gap: a tenant learns only the quarter hour, never the other's call time.
pub fn coarse_deferral(until: DateTime<Utc>) -> DateTime<Utc> {
    let grid = DEFERRAL_GRID_MINUTES * 60;
    let next = (until.timestamp().div_euclid(grid) + 1) * grid;
    DateTime::from_timestamp(next, 0).unwrap_or(until)
}

#[derive(QueryableByName, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapsRow {
    #[diesel(sql_type = Integer)]
    pub max_per_24h: i32,
    #[diesel(sql_type = Integer)]
    pub min_gap_minutes: i32,
}

impl CapsRow {
    pub fn to_caps(self) -> Caps {
        Caps {
            max_per_24h: self.max_per_24h.max(1).unsigned_abs(),
            min_gap: Duration::minutes(i64::from(self.min_gap_minutes.max(0))),
        }
    }

    fn validate(self) -> AppResult<Self> {
        if !(1..=MAX_PER_24H).contains(&self.max_per_24h) {
            return Err(AppError::bad_input(
                "maxPer24h",
                format!("must be between 1 and {MAX_PER_24H}"),
            ));
        }
        if !(0..=MAX_GAP_MINUTES).contains(&self.min_gap_minutes) {
            return Err(AppError::bad_input(
                "minGapMinutes",
                format!("must be between 0 and {MAX_GAP_MINUTES}"),
            ));
        }
        Ok(self)
    }
}

pub async fn platform(conn: &mut AsyncPgConnection) -> AppResult<CapsRow> {
    Ok(
        diesel::sql_query("SELECT max_per_24h, min_gap_minutes FROM calling_caps")
            .get_result(conn)
            .await?,
    )
}

/// The user's own caps, if they set any.
pub async fn of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<Option<CapsRow>> {
    let rows: Vec<CapsRow> = diesel::sql_query(
        "SELECT max_per_24h, min_gap_minutes FROM user_calling_caps WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(user_id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

#[derive(QueryableByName)]
struct OwnerCaps {
    #[diesel(sql_type = Integer)]
    max_per_24h: i32,
    #[diesel(sql_type = Integer)]
    min_gap_minutes: i32,
    #[diesel(sql_type = Nullable<Integer>)]
    own_max_per_24h: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    own_min_gap_minutes: Option<i32>,
}

/// The platform's caps and the owner's own, in one round trip (the dispatcher asks per claim).
pub async fn for_owner(
    conn: &mut AsyncPgConnection,
    owner: Uuid,
) -> AppResult<(Caps, Option<Caps>)> {
    let row: OwnerCaps = diesel::sql_query(
        "SELECT p.max_per_24h, p.min_gap_minutes,
                u.max_per_24h AS own_max_per_24h, u.min_gap_minutes AS own_min_gap_minutes
         FROM calling_caps p LEFT JOIN user_calling_caps u ON u.user_id = $1",
    )
    .bind::<SqlUuid, _>(owner)
    .get_result(conn)
    .await?;
    let platform = CapsRow {
        max_per_24h: row.max_per_24h,
        min_gap_minutes: row.min_gap_minutes,
    };
    let own =
        row.own_max_per_24h
            .zip(row.own_min_gap_minutes)
            .map(|(max_per_24h, min_gap_minutes)| {
                CapsRow {
                    max_per_24h,
                    min_gap_minutes,
                }
                .to_caps()
            });
    Ok((platform.to_caps(), own))
}

pub async fn set_platform(state: &AppState, viewer: &Viewer, caps: CapsRow) -> AppResult<CapsRow> {
    let caps = caps.validate()?;
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        diesel::sql_query(
            "UPDATE calling_caps SET max_per_24h = $1, min_gap_minutes = $2, updated_by = $3, updated_at = now()",
        )
        .bind::<Integer, _>(caps.max_per_24h)
        .bind::<Integer, _>(caps.min_gap_minutes)
        .bind::<SqlUuid, _>(viewer.id)
        .execute(conn)
        .await?;
        audit::service::record(
            conn,
            Some(viewer.id),
            "calling_caps.set",
            "platform",
            "calling_caps",
            json!({"maxPer24h": caps.max_per_24h, "minGapMinutes": caps.min_gap_minutes}),
        )
        .await?;
        Ok(caps)
    })
    .await
}

/// Sets (or, with `None`, clears) a user's own caps; only the user or an admin may.
pub async fn set_user(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    caps: Option<CapsRow>,
) -> AppResult<Option<CapsRow>> {
    if user_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("user"));
    }
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async |conn| {
        if let Some(caps) = caps {
            let caps = caps.validate()?;
            let platform = platform(conn).await?;
            if caps.max_per_24h > platform.max_per_24h {
                return Err(AppError::bad_input(
                    "maxPer24h",
                    format!("may only be stricter than the platform's {} per 24 h", platform.max_per_24h),
                ));
            }
            if caps.min_gap_minutes < platform.min_gap_minutes {
                return Err(AppError::bad_input(
                    "minGapMinutes",
                    format!("may only be stricter than the platform's {} minutes", platform.min_gap_minutes),
                ));
            }
        }
        let stored: Vec<CapsRow> = diesel::sql_query(
            "WITH gone AS (DELETE FROM user_calling_caps WHERE user_id = $1 AND $2::int IS NULL)
             INSERT INTO user_calling_caps (user_id, max_per_24h, min_gap_minutes)
             SELECT $1, $2, $3 WHERE $2::int IS NOT NULL
             ON CONFLICT (user_id) DO UPDATE SET max_per_24h = EXCLUDED.max_per_24h,
                 min_gap_minutes = EXCLUDED.min_gap_minutes, updated_at = now()
             RETURNING max_per_24h, min_gap_minutes",
        )
        .bind::<SqlUuid, _>(user_id)
        .bind::<Nullable<Integer>, _>(caps.map(|c| c.max_per_24h))
        .bind::<Nullable<Integer>, _>(caps.map(|c| c.min_gap_minutes))
        .load(conn)
        .await
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::ForeignKeyViolation, _) => {
                AppError::NotFound("user")
            }
            e => e.into(),
        })?;
        audit::service::record(
            conn,
            Some(viewer.id),
            "calling_caps.set_user",
            "user",
            &user_id.to_string(),
            json!({"maxPer24h": caps.map(|c| c.max_per_24h), "minGapMinutes": caps.map(|c| c.min_gap_minutes)}),
        )
        .await?;
        Ok(stored.into_iter().next())
    })
    .await
}

pub async fn read(state: &AppState, viewer: &Viewer, user_id: Uuid) -> AppResult<Option<CapsRow>> {
    if user_id != viewer.id && !viewer.is_admin() {
        return Err(AppError::NotFound("user"));
    }
    of_user(&mut *state.conn().await?, user_id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn deferrals_land_on_the_next_quarter_hour_strictly_after() {
        let t = |h, m, s| {
            Utc.with_ymd_and_hms(2026, 11, 24, h, m, s)
                .single()
                .expect("t")
        };
        assert_eq!(coarse_deferral(t(5, 40, 17)), t(5, 45, 0));
        assert_eq!(coarse_deferral(t(5, 44, 59)), t(5, 45, 0));
        // On the grid itself it still moves on, so it never equals a call time plus the gap.
        assert_eq!(coarse_deferral(t(9, 0, 0)), t(9, 15, 0));
        assert_eq!(
            coarse_deferral(t(23, 59, 0)),
            Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0)
                .single()
                .expect("t")
        );
    }
}
