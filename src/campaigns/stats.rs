//! Campaign statistics, from the per-campaign counters the database keeps beside the
//! contacts, calls and charges they count.

use std::collections::HashMap;

use diesel::sql_types::{Array, BigInt, Jsonb, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Campaign, CampaignStatus};
use crate::app::AppState;
use crate::campaigns::contacts::model::StateCounts;
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

/// One campaign's counters row, summed over its deltas (see the campaign_counters migration).
#[derive(QueryableByName, Clone, Debug, Default)]
struct Counters {
    #[diesel(sql_type = SqlUuid)]
    campaign_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    calling: i64,
    #[diesel(sql_type = BigInt)]
    done: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = BigInt)]
    reached_machine: i64,
    #[diesel(sql_type = BigInt)]
    opted_out: i64,
    #[diesel(sql_type = BigInt)]
    skipped: i64,
    #[diesel(sql_type = Jsonb)]
    skip_reasons: serde_json::Value,
    #[diesel(sql_type = BigInt)]
    attempts: i64,
    #[diesel(sql_type = BigInt)]
    answered: i64,
    #[diesel(sql_type = BigInt)]
    busy: i64,
    #[diesel(sql_type = BigInt)]
    no_answer: i64,
    #[diesel(sql_type = BigInt)]
    calls_failed: i64,
    #[diesel(sql_type = BigInt)]
    machine: i64,
    #[diesel(sql_type = BigInt)]
    in_progress: i64,
    #[diesel(sql_type = BigInt)]
    timed: i64,
    #[diesel(sql_type = BigInt)]
    duration_sum: i64,
    #[diesel(sql_type = BigInt)]
    cost: i64,
}

/// What the statistics are computed from: one campaign's counters.
#[derive(Clone, Debug, Default)]
pub struct Aggregates(Counters);

/// The counters of several campaigns in one statement, however many campaigns there are; a
/// campaign with no counters is absent (its aggregates are the defaults).
pub async fn aggregates_of(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Aggregates>> {
    let rows: Vec<Counters> = diesel::sql_query(
        "SELECT campaign_id, sum(pending)::int8 AS pending, sum(calling)::int8 AS calling,
                sum(done)::int8 AS done, sum(failed)::int8 AS failed,
                sum(reached_machine)::int8 AS reached_machine,
                sum(opted_out)::int8 AS opted_out, sum(skipped)::int8 AS skipped,
                campaign_counters_sum_reasons(skip_reasons) AS skip_reasons,
                sum(attempts)::int8 AS attempts, sum(answered)::int8 AS answered,
                sum(busy)::int8 AS busy, sum(no_answer)::int8 AS no_answer,
                sum(calls_failed)::int8 AS calls_failed, sum(machine)::int8 AS machine,
                sum(in_progress)::int8 AS in_progress, sum(timed)::int8 AS timed,
                sum(duration_sum)::int8 AS duration_sum, sum(cost)::int8 AS cost
         FROM campaign_counters WHERE campaign_id = ANY($1) GROUP BY campaign_id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.campaign_id, Aggregates(r)))
        .collect())
}

/// The statistics of `campaign` from its aggregates.
pub fn assemble(campaign: &Campaign, a: Aggregates) -> Stats {
    let Aggregates(c) = a;
    let contacts = StateCounts {
        pending: c.pending,
        calling: c.calling,
        done: c.done,
        failed: c.failed,
        machine: c.reached_machine,
        opted_out: c.opted_out,
        skipped: c.skipped,
    };
    let average_duration = (c.timed > 0).then(|| c.duration_sum as f64 / c.timed as f64);
    // jsonb orders keys by length first; the API lists reasons alphabetically.
    let mut reasons: Vec<(String, i64)> = c
        .skip_reasons
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(reason, n)| Some((reason.clone(), n.as_i64()?)))
        .collect();
    reasons.sort();
    let finished = c.answered + c.busy + c.no_answer + c.calls_failed + c.machine;
    Stats {
        answer_rate: (finished > 0).then(|| c.answered as f64 / finished as f64),
        average_duration_secs: average_duration,
        estimated_seconds_left: estimate(
            campaign,
            contacts.pending + contacts.calling,
            average_duration,
        ),
        skipped_by_reason: reasons,
        contacts,
        attempts: c.attempts,
        answered: c.answered,
        busy: c.busy,
        no_answer: c.no_answer,
        failed: c.calls_failed,
        machine: c.machine,
        in_progress: c.in_progress,
        cost: c.cost,
    }
}

pub async fn compute(state: &AppState, campaign: &Campaign) -> AppResult<Stats> {
    let mut all = aggregates_of(&mut *state.conn().await?, &[campaign.id]).await?;
    Ok(assemble(
        campaign,
        all.remove(&campaign.id).unwrap_or_default(),
    ))
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
