//! Auto-pause: a RUNNING campaign stops itself, with the reason recorded, when carrying on would
//! waste money or annoy people. The owner reads the reason and resumes once it is fixed.

use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Campaign, CampaignStatus};
use crate::error::AppResult;

/// Why a campaign paused; `MANUAL` is the owner's own pause.
pub mod reason {
    pub const MANUAL: &str = "MANUAL";
    pub const FAILURE_RATE: &str = "FAILURE_RATE";
    pub const OPT_OUT_SPIKE: &str = "OPT_OUT_SPIKE";
    pub const TWILIO_ACCOUNT_SUSPENDED: &str = "TWILIO_ACCOUNT_SUSPENDED";
    pub const INSUFFICIENT_BALANCE: &str = "INSUFFICIENT_BALANCE";
    /// An admin suspended the owner; lifting the suspension leaves it paused for the owner.
    pub const OWNER_SUSPENDED: &str = "OWNER_SUSPENDED";
}

/// The window the rates are judged over: the campaign's most recently *dialed* finished calls
/// (ids are time-ordered). Ordering by end time would crowd the window with the longest calls,
/// and opt-outs are long (they sit through the message and the menu): a plain 10 % opt-out
/// list then looked like a spike.
pub const WINDOW: i64 = 50;
/// Too few calls say nothing about a rate.
const MIN_CALLS: i64 = 20;
/// More than half of the recent calls failed.
const MAX_FAILURE_RATE: f64 = 0.5;
/// Opt-outs among recent answered calls; at least `MIN_OPT_OUTS` of them.
const MAX_OPT_OUT_RATE: f64 = 0.2;
const MIN_OPT_OUTS: i64 = 5;

#[derive(QueryableByName, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recent {
    #[diesel(sql_type = BigInt)]
    pub finished: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    #[diesel(sql_type = BigInt)]
    pub answered: i64,
    #[diesel(sql_type = BigInt)]
    pub opted_out: i64,
}

/// Which rule, if any, the recent calls break.
pub fn verdict(recent: Recent) -> Option<&'static str> {
    if recent.finished >= MIN_CALLS
        && recent.failed as f64 > recent.finished as f64 * MAX_FAILURE_RATE
    {
        return Some(reason::FAILURE_RATE);
    }
    if recent.opted_out >= MIN_OPT_OUTS
        && recent.opted_out as f64 > recent.answered as f64 * MAX_OPT_OUT_RATE
    {
        return Some(reason::OPT_OUT_SPIKE);
    }
    None
}

pub async fn recent(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<Recent> {
    Ok(diesel::sql_query(
        "SELECT count(*) AS finished,
                count(*) FILTER (WHERE k.status = 'FAILED') AS failed,
                count(*) FILTER (WHERE k.status = 'COMPLETED') AS answered,
                count(*) FILTER (WHERE cc.state = 'OPTED_OUT') AS opted_out
         FROM (SELECT status, contact_id FROM calls
               WHERE campaign_id = $1 AND ended_at IS NOT NULL
                 -- Canceled before its request (the owner was suspended): it says nothing.
                 AND NOT (status = 'CANCELED' AND twilio_sid IS NULL)
               ORDER BY id DESC LIMIT $2) k
         LEFT JOIN campaign_contacts cc ON cc.id = k.contact_id",
    )
    .bind::<SqlUuid, _>(campaign_id)
    .bind::<BigInt, _>(WINDOW)
    .get_result(conn)
    .await?)
}

/// Judges the campaign's recent calls and pauses it when a rule is broken. Returns the
/// paused campaign so the caller can announce it after its transaction commits.
pub async fn check(conn: &mut AsyncPgConnection, campaign_id: Uuid) -> AppResult<Option<Campaign>> {
    match verdict(recent(conn, campaign_id).await?) {
        Some(why) => pause(conn, campaign_id, why).await,
        None => Ok(None),
    }
}

/// Pauses a RUNNING campaign with `why`; anything else is left as it is.
pub async fn pause(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    why: &str,
) -> AppResult<Option<Campaign>> {
    let campaign = Campaign::find_for_update(conn, campaign_id).await?;
    if campaign.status != CampaignStatus::Running {
        return Ok(None);
    }
    tracing::warn!(campaign.id = %campaign_id, reason = why, "campaign paused automatically");
    Ok(Some(
        Campaign::set_status(conn, campaign_id, CampaignStatus::Paused, Some(why)).await?,
    ))
}

/// Pauses every RUNNING campaign of `owner_id` with `why`, in the caller's transaction.
pub async fn pause_owner(
    conn: &mut AsyncPgConnection,
    owner_id: Uuid,
    why: &str,
) -> AppResult<Vec<Campaign>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let running: Vec<Id> = diesel::sql_query(
        "SELECT id FROM campaigns WHERE owner_id = $1 AND status = 'RUNNING' ORDER BY id",
    )
    .bind::<SqlUuid, _>(owner_id)
    .load(conn)
    .await?;
    let mut paused = Vec::with_capacity(running.len());
    for Id { id } in running {
        paused.extend(pause(conn, id, why).await?);
    }
    Ok(paused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_need_enough_calls_and_a_real_majority() {
        let few = Recent {
            finished: 12,
            failed: 12,
            ..Recent::default()
        };
        assert_eq!(verdict(few), None);
        let half = Recent {
            finished: 50,
            failed: 25,
            answered: 25,
            ..Recent::default()
        };
        assert_eq!(verdict(half), None);
        let most = Recent {
            finished: 50,
            failed: 26,
            answered: 24,
            ..Recent::default()
        };
        assert_eq!(verdict(most), Some(reason::FAILURE_RATE));
    }

    #[test]
    fn an_opt_out_spike_pauses_but_a_trickle_does_not() {
        let trickle = Recent {
            finished: 50,
            answered: 40,
            opted_out: 4,
            ..Recent::default()
        };
        assert_eq!(verdict(trickle), None);
        let usual = Recent {
            finished: 50,
            answered: 40,
            opted_out: 8,
            ..Recent::default()
        };
        assert_eq!(verdict(usual), None);
        let spike = Recent {
            finished: 50,
            answered: 40,
            opted_out: 9,
            ..Recent::default()
        };
        assert_eq!(verdict(spike), Some(reason::OPT_OUT_SPIKE));
    }
}
