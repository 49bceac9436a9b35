//! Everything that would stop a campaign, and what merits a warning, before it starts.

use chrono::Utc;

use super::model::Campaign;
use super::settings::{Message, Schedule};
use crate::app::AppState;
use crate::campaigns::contacts::model::Contact;
use crate::dids::{Did, DidStatus};
use crate::error::AppResult;
use crate::twilio_accounts::{AccountStatus, TwilioAccount};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, Default)]
pub struct Preflight {
    pub blockers: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub contacts_to_call: i64,
    /// Every pending contact answered for one minute, at their destinations' rates.
    pub estimated_cost: i64,
    pub available_balance: i64,
}

fn issue(code: &'static str, message: impl Into<String>) -> Issue {
    Issue {
        code,
        message: message.into(),
    }
}

pub async fn run(state: &AppState, campaign: &Campaign) -> AppResult<Preflight> {
    let mut conn = state.conn().await?;
    let mut report = Preflight::default();
    let counts = Contact::counts(&mut conn, campaign.id).await?;
    report.contacts_to_call = counts.pending;
    if counts.pending == 0 {
        report.blockers.push(issue(
            "NO_CONTACTS",
            "the campaign has no contacts left to call",
        ));
    }
    if campaign.consent_basis.is_none()
        || campaign
            .consent_source
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
    {
        report.blockers.push(issue(
            "NO_CONSENT",
            "record the consent basis, source and date before starting",
        ));
    }
    // An admin resuming a suspended user's campaign would leave it RUNNING with nothing dialed.
    let owner = crate::users::service::find(&mut conn, campaign.owner_id).await?;
    if owner.status != crate::users::UserStatus::Active {
        report.blockers.push(issue(
            "OWNER_SUSPENDED",
            "the campaign's owner is suspended",
        ));
    }
    if campaign.caller_id_dids.is_empty() {
        report.blockers.push(issue(
            "NO_CALLER_ID",
            "choose at least one of your phone numbers as caller ID",
        ));
    }
    let mut usable = 0;
    for did_id in &campaign.caller_id_dids {
        let Ok(did) = Did::find(&mut conn, *did_id).await else {
            report.blockers.push(issue(
                "CALLER_ID_UNKNOWN",
                format!("caller ID {did_id} does not exist"),
            ));
            continue;
        };
        if did.assigned_user_id != Some(campaign.owner_id) || did.status == DidStatus::Released {
            report.blockers.push(issue(
                "CALLER_ID_NOT_YOURS",
                format!("{} is no longer assigned to you", did.phone_number),
            ));
            continue;
        }
        if did.status == DidStatus::Unhealthy {
            report.warnings.push(issue(
                "CALLER_ID_UNHEALTHY",
                format!("{} is unhealthy and will not be used", did.phone_number),
            ));
            continue;
        }
        match TwilioAccount::find(&mut conn, did.twilio_account_id).await {
            Ok(account) if account.status == AccountStatus::Active => usable += 1,
            Ok(account) => report.warnings.push(issue(
                "ACCOUNT_NOT_ACTIVE",
                format!(
                    "the Twilio account of {} is {}",
                    did.phone_number, account.status
                ),
            )),
            Err(_) => report.blockers.push(issue(
                "ACCOUNT_MISSING",
                format!("{} has no Twilio account", did.phone_number),
            )),
        }
    }
    if !campaign.caller_id_dids.is_empty() && usable == 0 {
        report.blockers.push(issue(
            "NO_USABLE_CALLER_ID",
            "none of the caller IDs can place calls now",
        ));
    }
    match serde_json::from_value::<Message>(campaign.message.clone()) {
        Ok(message) => {
            if let Err(e) = message.validate() {
                report.blockers.push(issue("MESSAGE_INVALID", e.message()));
            }
        }
        Err(_) => report
            .blockers
            .push(issue("MESSAGE_INVALID", "the message cannot be read")),
    }
    if let Ok(schedule) = serde_json::from_value::<Schedule>(campaign.schedule.clone()) {
        if let Ok(schedule) = schedule.to_compliance() {
            let now = Utc::now();
            if schedule.is_over(now) {
                report
                    .blockers
                    .push(issue("SCHEDULE_ENDED", "the schedule's end is in the past"));
            } else if !schedule.allows(now) {
                report.warnings.push(issue(
                    "OUTSIDE_SCHEDULE",
                    "outside the schedule now; calls start at the next opening",
                ));
            }
        }
    }
    balance(state, &mut conn, campaign, &mut report).await?;
    Ok(report)
}

#[derive(diesel::QueryableByName)]
struct Estimate {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    first_hold: i64,
}

/// The estimated cost against the available balance; a balance that cannot hold even the
/// first call blocks the start.
async fn balance(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    campaign: &Campaign,
    report: &mut Preflight,
) -> AppResult<()> {
    use diesel_async::RunQueryDsl;
    let estimate: Estimate = diesel::sql_query(
        "WITH priced AS (
             SELECT cc.id, r.* FROM campaign_contacts cc CROSS JOIN LATERAL (
                 SELECT per_minute, initial_increment AS i, billing_increment AS b, connection_fee FROM rates
                 WHERE starts_with(ltrim(cc.phone, '+'), prefix) ORDER BY length(prefix) DESC LIMIT 1) r
             WHERE cc.campaign_id = $1 AND cc.state = 'PENDING')
         SELECT coalesce(sum((CASE WHEN i >= 60 THEN i ELSE i + (60 - i + b - 1) / b * b END * per_minute + 59) / 60
                             + connection_fee), 0)::bigint AS total,
                coalesce((SELECT (CASE WHEN i >= $2 THEN i ELSE i + ($2 - i + b - 1) / b * b END * per_minute + 59) / 60
                                 + connection_fee FROM priced ORDER BY id LIMIT 1), 0)::bigint AS first_hold
         FROM priced",
    )
    .bind::<diesel::sql_types::Uuid, _>(campaign.id)
    .bind::<diesel::sql_types::Integer, _>(state.config.max_call_secs as i32)
    .get_result(conn)
    .await?;
    let available = crate::billing::ledger::read(conn, campaign.owner_id)
        .await?
        .available();
    report.estimated_cost = estimate.total;
    report.available_balance = available;
    if report.contacts_to_call > 0 && available < estimate.first_hold {
        report.blockers.push(issue(
            "INSUFFICIENT_BALANCE",
            format!(
                "each call holds up to {} VND while it lasts; your available balance is {available} VND",
                estimate.first_hold
            ),
        ));
    } else if available < estimate.total {
        report.warnings.push(issue(
            "BALANCE_LOW",
            format!(
                "calling every contact for a minute costs about {} VND; your available balance is {available} VND, so the campaign may pause for balance",
                estimate.total
            ),
        ));
    }
    Ok(())
}
