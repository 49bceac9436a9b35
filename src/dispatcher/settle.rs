//! After a call ends: the contact's next step (done, retry later, or failed) and, when nothing
//! is left, the campaign's completion.

use chrono::{Duration, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use crate::app::AppState;
use crate::calls::{Call, CallStatus};
use crate::campaigns::model::{Campaign, CampaignStatus};
use crate::campaigns::service::publish_state;
use crate::campaigns::settings::RetryOutcome;
use crate::error::{AppError, AppResult};

#[derive(QueryableByName)]
struct ContactRow {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    attempts: i32,
}

#[derive(QueryableByName)]
struct Open {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    open: bool,
}

/// A call Twilio never saw (refused, or lost in a crash before the request) rang nobody: the
/// contact gets another attempt, at most this many beyond the campaign's own.
const MAX_UNPLACED: i32 = 2;
const NOT_PLACED: &str = "NOT_PLACED";

/// The outcome name a campaign's retry policy speaks of.
pub fn outcome_of(call: &Call) -> &'static str {
    if matches!(call.status, CallStatus::Failed | CallStatus::Canceled) && call.twilio_sid.is_none()
    {
        return NOT_PLACED;
    }
    let machine = call
        .answered_by
        .as_deref()
        .is_some_and(|a| a.starts_with("machine") || a == "fax");
    match call.status {
        CallStatus::Completed if machine => RetryOutcome::Machine.as_str(),
        CallStatus::Completed => "ANSWERED",
        CallStatus::Busy => RetryOutcome::Busy.as_str(),
        CallStatus::NoAnswer => RetryOutcome::NoAnswer.as_str(),
        CallStatus::Canceled => "CANCELED",
        _ => RetryOutcome::Failed.as_str(),
    }
}

pub async fn settle(state: &AppState, call_id: Uuid) -> AppResult<()> {
    let mut conn = state.conn().await?;
    let call = Call::find(&mut conn, call_id).await?;
    let (Some(contact_id), Some(campaign_id)) = (call.contact_id, call.campaign_id) else {
        return Ok(());
    };
    let campaign = Campaign::find(&mut conn, campaign_id).await?;
    let outcome = outcome_of(&call);
    let finished = conn
        .transaction::<_, AppError, _>(async |conn| {
            let contact: ContactRow = diesel::sql_query("SELECT state, attempts FROM campaign_contacts WHERE id = $1 FOR UPDATE")
                .bind::<BigInt, _>(contact_id)
                .get_result(conn)
                .await?;
            // Settling twice (a retried job) changes nothing; an opt-out stays an opt-out.
            if contact.state == "CALLING" {
                let retry = if outcome == NOT_PLACED {
                    contact.attempts < campaign.max_attempts + MAX_UNPLACED
                } else {
                    campaign.retry_on.iter().any(|r| r == outcome) && contact.attempts < campaign.max_attempts
                };
                let delay = if outcome == NOT_PLACED { 0 } else { campaign.retry_delay_secs };
                let (next_state, next_at) = match (retry, outcome) {
                    (true, _) => ("PENDING", Some(Utc::now() + Duration::seconds(i64::from(delay)))),
                    (false, "ANSWERED") => ("DONE", None),
                    (false, o) if o == RetryOutcome::Machine.as_str() => ("MACHINE", None),
                    (false, _) => ("FAILED", None),
                };
                diesel::sql_query("UPDATE campaign_contacts SET state = $2, next_attempt_at = $3, last_outcome = $4 WHERE id = $1")
                    .bind::<BigInt, _>(contact_id)
                    .bind::<Text, _>(next_state)
                    .bind::<Nullable<Timestamptz>, _>(next_at)
                    .bind::<Text, _>(outcome)
                    .execute(conn)
                    .await?;
            }
            if let Some(paused) = crate::campaigns::autopause::check(conn, campaign_id).await? {
                return Ok(Some(paused));
            }
            complete_if_done(conn, campaign_id).await
        })
        .await?;
    if let Some(done) = finished {
        publish_state(state, &done).await;
    }
    Ok(())
}

/// Marks a RUNNING campaign COMPLETED when no contact is pending or being called.
pub async fn complete_if_done(
    conn: &mut diesel_async::AsyncPgConnection,
    campaign_id: Uuid,
) -> AppResult<Option<Campaign>> {
    // EXISTS stops at the first open contact: every settlement asks, and a count would read
    // all of a big campaign's pending contacts each time.
    let open: Open = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM campaign_contacts WHERE campaign_id = $1 AND state IN ('PENDING', 'CALLING')) AS open")
        .bind::<SqlUuid, _>(campaign_id)
        .get_result(conn)
        .await?;
    if open.open {
        return Ok(None);
    }
    let campaign = Campaign::find_for_update(conn, campaign_id).await?;
    if campaign.status != CampaignStatus::Running {
        return Ok(None);
    }
    Ok(Some(
        Campaign::set_status(conn, campaign_id, CampaignStatus::Completed, None).await?,
    ))
}
