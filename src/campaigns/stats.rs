//! Campaign statistics, computed from the contacts and calls tables.

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{Campaign, CampaignStatus};
use crate::app::AppState;
use crate::contacts::model::{Contact, StateCounts};
use crate::error::AppResult;

#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub contacts: StateCounts,
    pub attempts: i64,
    pub answered: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
    pub machine: i64,
    pub in_progress: i64,
    /// (reason, contacts) for contacts skipped or deferred.
    pub skipped_by_reason: Vec<(String, i64)>,
    pub answer_rate: Option<f64>,
    pub average_duration_secs: Option<f64>,
    pub estimated_seconds_left: Option<i64>,
    pub cost: i64,
}

#[derive(QueryableByName)]
struct CallCounts {
    #[diesel(sql_type = BigInt)]
    attempts: i64,
    #[diesel(sql_type = BigInt)]
    answered: i64,
    #[diesel(sql_type = BigInt)]
    busy: i64,
    #[diesel(sql_type = BigInt)]
    no_answer: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = BigInt)]
    machine: i64,
    #[diesel(sql_type = BigInt)]
    in_progress: i64,
    #[diesel(sql_type = Nullable<diesel::sql_types::Double>)]
    average_duration: Option<f64>,
}

#[derive(QueryableByName)]
struct ReasonCount {
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = BigInt)]
    contacts: i64,
}

pub async fn compute(state: &AppState, campaign: &Campaign) -> AppResult<Stats> {
    let mut conn = state.conn().await?;
    let contacts = Contact::counts(&mut conn, campaign.id).await?;
    let calls: CallCounts = diesel::sql_query(
        "SELECT count(*) AS attempts,
                count(*) FILTER (WHERE status = 'COMPLETED' AND COALESCE(answered_by, 'human') NOT LIKE 'machine%') AS answered,
                count(*) FILTER (WHERE status = 'BUSY') AS busy,
                count(*) FILTER (WHERE status = 'NO_ANSWER') AS no_answer,
                count(*) FILTER (WHERE status IN ('FAILED', 'CANCELED')) AS failed,
                count(*) FILTER (WHERE status = 'COMPLETED' AND answered_by LIKE 'machine%') AS machine,
                count(*) FILTER (WHERE status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')) AS in_progress,
                avg(duration_secs) FILTER (WHERE status = 'COMPLETED')::float8 AS average_duration
         FROM calls WHERE campaign_id = $1",
    )
    .bind::<SqlUuid, _>(campaign.id)
    .get_result(&mut conn)
    .await?;
    let reasons: Vec<ReasonCount> = diesel::sql_query(
        "SELECT skip_reason AS reason, count(*) AS contacts FROM campaign_contacts
         WHERE campaign_id = $1 AND skip_reason IS NOT NULL GROUP BY skip_reason ORDER BY skip_reason",
    )
    .bind::<SqlUuid, _>(campaign.id)
    .load(&mut conn)
    .await?;
    let cost = crate::billing::service::charged(&mut conn, Some(campaign.id), None).await?;
    let finished = calls.answered + calls.busy + calls.no_answer + calls.failed + calls.machine;
    Ok(Stats {
        answer_rate: (finished > 0).then(|| calls.answered as f64 / finished as f64),
        average_duration_secs: calls.average_duration,
        estimated_seconds_left: estimate(
            campaign,
            contacts.pending + contacts.calling,
            calls.average_duration,
        ),
        skipped_by_reason: reasons
            .into_iter()
            .map(|r| (r.reason, r.contacts))
            .collect(),
        contacts,
        attempts: calls.attempts,
        answered: calls.answered,
        busy: calls.busy,
        no_answer: calls.no_answer,
        failed: calls.failed,
        machine: calls.machine,
        in_progress: calls.in_progress,
        cost,
    })
}

/// Time left at the campaign's pace: bounded by calls per second, and by how many calls of the
/// average length fit in its concurrency. `None` unless it is running.
pub fn estimate(campaign: &Campaign, left: i64, average_duration: Option<f64>) -> Option<i64> {
    if !matches!(
        campaign.status,
        CampaignStatus::Running | CampaignStatus::Scheduled
    ) {
        return None;
    }
    let per_call_by_rate = 1.0 / campaign.calls_per_second.max(0.001);
    let per_call_by_concurrency =
        average_duration.unwrap_or(30.0) / f64::from(campaign.max_concurrent.max(1));
    Some((left as f64 * per_call_by_rate.max(per_call_by_concurrency)).ceil() as i64)
}

pub async fn for_campaign(state: &AppState, campaign_id: Uuid) -> AppResult<Stats> {
    let campaign = Campaign::find(&mut *state.conn().await?, campaign_id).await?;
    compute(state, &campaign).await
}
