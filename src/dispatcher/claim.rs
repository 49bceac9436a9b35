//! One claim: the next due contact, locked (SKIP LOCKED), gated, and either recorded as an
//! attempt (committed before any Twilio request) or deferred/skipped with its reason.

use chrono::{DateTime, Duration, Utc};
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::app::AppState;
use crate::calls::model::{Call, CallDirection, NewCall};
use crate::campaigns::settings::Schedule;
use crate::campaigns::Campaign;
use crate::compliance::gate::{self, Attempt, Facts, Verdict};
use crate::compliance::{self, SkipReason};
use crate::dids::{Did, DidStatus};
use crate::error::{AppError, AppResult};
use crate::twilio_accounts::{AccountStatus, TwilioAccount};

/// A recorded attempt, ready for its Twilio request.
#[derive(Debug, Clone)]
pub struct Placement {
    pub call: Call,
    pub campaign: Campaign,
    pub account: TwilioAccount,
    /// When the shared calls-per-second limiter lets this call start.
    pub not_before: DateTime<Utc>,
}

#[derive(Debug)]
pub enum Claimed {
    Nothing,
    Placed(Box<Placement>),
    /// The contact was deferred or skipped; keep claiming.
    Handled,
    /// The campaign stopped itself (announce it once the claim is committed).
    Paused(Box<Campaign>),
}

#[derive(QueryableByName)]
struct DueContact {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = SqlUuid)]
    campaign_id: Uuid,
    #[diesel(sql_type = Text)]
    phone: String,
    #[diesel(sql_type = Nullable<Text>)]
    country: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    attempts: i32,
}

#[derive(QueryableByName)]
struct At {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

pub async fn next(state: &AppState, now: DateTime<Utc>) -> AppResult<Claimed> {
    let mut conn = state.conn().await?;
    let max_call_secs = state.config.max_call_secs;
    conn.transaction::<_, AppError, _>(async |conn| claim(conn, now, max_call_secs).await)
        .await
}

async fn claim(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    max_call_secs: u32,
) -> AppResult<Claimed> {
    let due: Option<DueContact> = diesel::sql_query(
        "SELECT cc.id, cc.campaign_id, cc.phone, cc.country, cc.attempts
         FROM campaign_contacts cc JOIN campaigns c ON c.id = cc.campaign_id
         WHERE c.status = 'RUNNING' AND cc.state = 'PENDING'
           -- A call waits for its pacing slot at most this long, well inside reconciliation's grace.
           AND c.dispatch_next_at <= now() + interval '30 seconds'
           AND (cc.next_attempt_at IS NULL OR cc.next_attempt_at <= $1)
           AND (SELECT count(*) FROM calls k WHERE k.campaign_id = c.id
                AND k.status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')) < c.max_concurrent
         ORDER BY cc.next_attempt_at NULLS FIRST, cc.id
         LIMIT 1
         FOR UPDATE OF cc SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional_result()?;
    let Some(contact) = due else {
        return Ok(Claimed::Nothing);
    };
    let campaign = Campaign::find(conn, contact.campaign_id).await?;
    // Every process dialing this number waits here: the cap is counted and the attempt
    // recorded before anyone else can count.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<Text, _>(&contact.phone)
        .execute(conn)
        .await?;
    let (on_platform_dnc, on_user_dnc) =
        compliance::service::blocks(conn, campaign.owner_id, &contact.phone).await?;
    let since = now - Duration::hours(24);
    let attempts_24h = recent_attempts(conn, &contact.phone, since, None).await?;
    let user_attempts_24h =
        recent_attempts(conn, &contact.phone, since, Some(campaign.owner_id)).await?;
    let caller = match pick_caller_id(conn, &campaign, contact.id).await? {
        CallerId::Usable(pair) => Some(*pair),
        CallerId::Missing => None,
        // Skipping every contact because the carrier account is down would burn the list.
        CallerId::AccountDown => {
            let why = crate::campaigns::autopause::reason::TWILIO_ACCOUNT_SUSPENDED;
            return Ok(
                match crate::campaigns::autopause::pause(conn, campaign.id, why).await? {
                    Some(paused) => Claimed::Paused(Box::new(paused)),
                    None => Claimed::Handled,
                },
            );
        }
    };
    let (caps, user_caps) = compliance::caps::for_owner(conn, campaign.owner_id).await?;
    let schedule = serde_json::from_value::<Schedule>(campaign.schedule.clone())
        .ok()
        .and_then(|s| s.to_compliance().ok());
    let attempt = Attempt {
        to: &contact.phone,
        country: contact.country.as_deref(),
        purpose: campaign.purpose,
        caller_id_ok: caller.is_some(),
        schedule: schedule.as_ref(),
    };
    let facts = Facts {
        on_platform_dnc,
        on_user_dnc,
        attempts_24h,
        user_attempts_24h,
        caps,
        user_caps,
    };
    match gate::check(&attempt, &facts, now) {
        Verdict::Skip(reason) => {
            set_contact(conn, contact.id, "SKIPPED", None, Some(reason)).await?;
            Ok(Claimed::Handled)
        }
        Verdict::Defer { until, reason } => {
            set_contact(conn, contact.id, "PENDING", Some(until), Some(reason)).await?;
            Ok(Claimed::Handled)
        }
        Verdict::Dial => {
            let (did, account) = caller.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("gate passed without a caller ID"))
            })?;
            // The balance row stays locked to the end of this claim: the check and the hold
            // are one step for every dispatcher of this owner.
            let rate = crate::billing::rates::for_number(conn, &contact.phone).await?;
            let hold = rate.charge(i64::from(max_call_secs), true);
            let balance = crate::billing::ledger::lock(conn, campaign.owner_id).await?;
            if balance.available() < hold {
                // The contact waits with its reason; the campaign pauses until a top-up.
                set_contact(conn, contact.id, "PENDING", None, Some(SkipReason::Balance)).await?;
                let why = crate::campaigns::autopause::reason::INSUFFICIENT_BALANCE;
                return Ok(
                    match crate::campaigns::autopause::pause(conn, campaign.id, why).await? {
                        Some(paused) => Claimed::Paused(Box::new(paused)),
                        None => Claimed::Handled,
                    },
                );
            }
            let not_before = take_slot(conn, &account, &campaign).await?;
            let call = NewCall {
                id: Uuid::now_v7(),
                owner_id: campaign.owner_id,
                twilio_account_id: account.id,
                did_id: Some(did.id),
                direction: CallDirection::Outbound,
                from_number: &did.phone_number,
                to_number: &contact.phone,
                campaign_id: Some(campaign.id),
                contact_id: Some(contact.id),
                attempt: Some(contact.attempts + 1),
            }
            .insert(conn)
            .await?;
            crate::billing::ledger::hold_call(conn, &call, &rate, hold).await?;
            diesel::sql_query("UPDATE campaign_contacts SET state = 'CALLING', attempts = attempts + 1, skip_reason = NULL WHERE id = $1")
                .bind::<BigInt, _>(contact.id)
                .execute(conn)
                .await?;
            diesel::sql_query("UPDATE dids SET last_used_at = now() WHERE id = $1")
                .bind::<SqlUuid, _>(did.id)
                .execute(conn)
                .await?;
            Ok(Claimed::Placed(Box::new(Placement {
                call,
                campaign,
                account,
                not_before,
            })))
        }
    }
}

trait OptionalResult<T> {
    fn optional_result(self) -> Result<Option<T>, diesel::result::Error>;
}

impl<T> OptionalResult<T> for Result<T, diesel::result::Error> {
    fn optional_result(self) -> Result<Option<T>, diesel::result::Error> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(diesel::result::Error::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

async fn recent_attempts(
    conn: &mut AsyncPgConnection,
    phone: &str,
    since: DateTime<Utc>,
    owner: Option<Uuid>,
) -> AppResult<Vec<DateTime<Utc>>> {
    let rows: Vec<At> = diesel::sql_query(
        "SELECT created_at AS at FROM calls
         WHERE to_number = $1 AND direction = 'OUTBOUND' AND created_at > $2
           AND ($3::uuid IS NULL OR owner_id = $3)
           -- A request Twilio never took rang nobody.
           AND NOT (status = 'FAILED' AND twilio_sid IS NULL)",
    )
    .bind::<Text, _>(phone)
    .bind::<Timestamptz, _>(since)
    .bind::<Nullable<SqlUuid>, _>(owner)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.at).collect())
}

enum CallerId {
    Usable(Box<(Did, TwilioAccount)>),
    /// No number of the campaign is still the owner's and ACTIVE.
    Missing,
    /// The numbers are fine but every account they sit on is not ACTIVE.
    AccountDown,
}

/// A caller ID of the campaign that is still the owner's, ACTIVE, on an ACTIVE account;
/// rotated by contact so several numbers share the load.
async fn pick_caller_id(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    contact_id: i64,
) -> AppResult<CallerId> {
    let mut usable = Vec::new();
    let mut account_down = false;
    for id in &campaign.caller_id_dids {
        let Ok(did) = Did::find(conn, *id).await else {
            continue;
        };
        if did.status != DidStatus::Active || did.assigned_user_id != Some(campaign.owner_id) {
            continue;
        }
        match TwilioAccount::find(conn, did.twilio_account_id).await {
            Ok(account) if account.status == AccountStatus::Active => usable.push((did, account)),
            Ok(_) => account_down = true,
            Err(_) => {}
        }
    }
    if usable.is_empty() {
        return Ok(if account_down {
            CallerId::AccountDown
        } else {
            CallerId::Missing
        });
    }
    let index = (contact_id.unsigned_abs() as usize) % usable.len();
    Ok(CallerId::Usable(Box::new(usable.swap_remove(index))))
}

/// Reserves the next start slot on both the account's and the campaign's limiter.
async fn take_slot(
    conn: &mut AsyncPgConnection,
    account: &TwilioAccount,
    campaign: &Campaign,
) -> AppResult<DateTime<Utc>> {
    let account_slot: At = diesel::sql_query(
        "WITH prev AS (SELECT GREATEST(dispatch_next_at, now()) AS at FROM twilio_accounts WHERE id = $1 FOR UPDATE)
         UPDATE twilio_accounts SET dispatch_next_at = (SELECT at FROM prev) + make_interval(secs => 1.0 / $2)
         WHERE id = $1 RETURNING (SELECT at FROM prev) AS at",
    )
    .bind::<SqlUuid, _>(account.id)
    .bind::<Double, _>(account.calls_per_second)
    .get_result(conn)
    .await?;
    let campaign_slot: At = diesel::sql_query(
        "WITH prev AS (SELECT GREATEST(dispatch_next_at, now()) AS at FROM campaigns WHERE id = $1 FOR UPDATE)
         UPDATE campaigns SET dispatch_next_at = (SELECT at FROM prev) + make_interval(secs => 1.0 / $2)
         WHERE id = $1 RETURNING (SELECT at FROM prev) AS at",
    )
    .bind::<SqlUuid, _>(campaign.id)
    .bind::<Double, _>(campaign.calls_per_second)
    .get_result(conn)
    .await?;
    Ok(account_slot.at.max(campaign_slot.at))
}

async fn set_contact(
    conn: &mut AsyncPgConnection,
    id: i64,
    state: &str,
    next_attempt_at: Option<DateTime<Utc>>,
    reason: Option<SkipReason>,
) -> AppResult<()> {
    diesel::sql_query("UPDATE campaign_contacts SET state = $2, next_attempt_at = $3, skip_reason = $4 WHERE id = $1")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(state)
        .bind::<Nullable<Timestamptz>, _>(next_attempt_at)
        .bind::<Nullable<Text>, _>(reason.map(|r| r.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}
