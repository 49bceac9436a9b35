//! How far behind the dispatcher is: the longest a contact it could claim right now (same
//! conditions as `claim`) has been waiting since it became claimable.

use diesel::sql_types::{Double, Nullable};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::error::AppResult;

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = Nullable<Double>)]
    secs: Option<f64>,
}

/// Seconds; `None` when nothing is waiting.
pub async fn seconds(conn: &mut AsyncPgConnection) -> AppResult<Option<f64>> {
    let lag: Lag = diesel::sql_query(
        "SELECT EXTRACT(EPOCH FROM now() - min(GREATEST(
                    COALESCE(cc.next_attempt_at, '-infinity'),
                    COALESCE(c.started_at, '-infinity'),
                    c.dispatch_next_at)))::float8 AS secs
         FROM campaign_contacts cc JOIN campaigns c ON c.id = cc.campaign_id
         WHERE c.status = 'RUNNING' AND cc.state = 'PENDING'
           AND c.dispatch_next_at <= now()
           AND (cc.next_attempt_at IS NULL OR cc.next_attempt_at <= now())
           AND (SELECT count(*) FROM calls k WHERE k.campaign_id = c.id
                AND k.status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')) < c.max_concurrent",
    )
    .get_result(conn)
    .await?;
    Ok(lag.secs.map(|s| s.max(0.0)))
}
