//! One claim: a batch of a campaign's due contacts, locked (SKIP LOCKED), gated together, and
//! each either recorded as an attempt or deferred/skipped with its reason, in one transaction
//! committed before any Twilio request.
//!
//! Locks are taken in one order by every claim: the owner's row (shared), the campaign's
//! pacing row (skipped when another process holds it, so processes spread over campaigns), the
//! contacts (skipped likewise), the numbers (sorted by lock key), the owner's balance, then the
//! Twilio accounts (sorted by id). Two claims therefore never wait on each other in a circle.

use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::app::AppState;
use crate::calls::model::Call;
use crate::campaigns::settings::Schedule;
use crate::campaigns::Campaign;
use crate::compliance::gate::{self, Attempt, Verdict};
use crate::compliance::{self, SkipReason};
use crate::error::{AppError, AppResult};
use crate::twilio_accounts::TwilioAccount;

mod caller_ids;
mod record;
mod set_aside;

use caller_ids::caller_ids;
use record::record;
use set_aside::{set_aside, SetAside};

/// At most this many contacts per claim.
pub const MAX_BATCH: i64 = 100;
/// Campaigns looked at per claim before giving up until the next tick.
const CANDIDATES: i64 = 32;

/// A recorded attempt, ready for its Twilio request.
#[derive(Debug, Clone)]
pub struct Placement {
    pub call: Call,
    pub campaign: Campaign,
    pub account: TwilioAccount,
    /// When the shared calls-per-second limiter lets this call start.
    pub not_before: DateTime<Utc>,
}

/// What one claim did with one campaign's due contacts.
#[derive(Debug)]
pub struct Batch {
    pub campaign_id: Uuid,
    pub owner_id: Uuid,
    pub placements: Vec<Placement>,
    /// Contacts deferred or skipped (with their reason) instead of dialed.
    pub set_aside: usize,
    /// The campaign stopped itself (announce it once the claim is committed).
    pub paused: Option<Box<Campaign>>,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    owner_id: Uuid,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    #[expect(dead_code, reason = "only whether a row came back matters")]
    id: Uuid,
}

/// A count: calls the campaign's pacing lets start within 30 s, or its calls not yet ended.
#[derive(QueryableByName)]
struct Budget {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName, Debug)]
struct DueContact {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    phone: crate::phone::E164,
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

const STOPPING: &str = "the process is stopping";

/// Claims a batch from the first claimable campaign after `cursor` (round robin by id,
/// wrapping around); `None` when no campaign has anything to claim now. `cursor` moves to the
/// last campaign looked at, so campaigns past the candidates looked at get their turn next.
pub async fn next(
    state: &AppState,
    now: DateTime<Utc>,
    cursor: &mut Option<Uuid>,
) -> AppResult<Option<Batch>> {
    let mut conn = state.conn().await?;
    let max_call_secs = state.config.max_call_secs;
    let after = *cursor;
    let claimed = conn
        .transaction::<_, AppError, _>(async |conn| {
            let mut last = None;
            for candidate in candidates(conn, after, now).await? {
                last = Some(candidate.id);
                if let Some(batch) = claim(conn, &candidate, now, max_call_secs).await? {
                    // A signal taken while the batch was being claimed rolls it back: nothing
                    // is recorded once the process has been told to stop.
                    if state.shutdown.is_cancelled() {
                        return Err(AppError::UpstreamUnavailable(STOPPING.into()));
                    }
                    return Ok((last, Some(batch)));
                }
            }
            Ok((last, None))
        })
        .await;
    let (last, batch) = match claimed {
        Err(AppError::UpstreamUnavailable(why)) if why == STOPPING => return Ok(None),
        claimed => claimed?,
    };
    if last.is_some() {
        *cursor = last;
    }
    Ok(batch)
}

/// RUNNING campaigns of active owners with a contact due and pacing that lets a call start
/// within 30 s (a call waits for its slot at most that long, well inside reconciliation's
/// grace), next after `after`. Each campaign's due contact is one probe of
/// `campaign_contacts_due_idx`.
async fn candidates(
    conn: &mut AsyncPgConnection,
    after: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Candidate>> {
    Ok(diesel::sql_query(
        "SELECT c.id, c.owner_id FROM campaigns c JOIN users u ON u.id = c.owner_id
         WHERE c.status = 'RUNNING' AND u.status = 'ACTIVE'
           AND c.dispatch_next_at <= now() + interval '30 seconds'
           AND EXISTS (SELECT 1 FROM campaign_contacts cc
                       WHERE cc.campaign_id = c.id AND cc.state = 'PENDING'
                         AND COALESCE(cc.next_attempt_at, '-infinity'::timestamptz) <= $3)
         ORDER BY COALESCE(c.id <= $1, false), c.id
         LIMIT $2",
    )
    .bind::<Nullable<SqlUuid>, _>(after)
    .bind::<BigInt, _>(CANDIDATES)
    .bind::<Timestamptz, _>(now)
    .load(conn)
    .await?)
}

/// Locks the campaign and claims its due contacts; `None` when another process has the
/// campaign, its owner is no longer active, or it has nothing to claim now.
async fn claim(
    conn: &mut AsyncPgConnection,
    candidate: &Candidate,
    now: DateTime<Utc>,
    max_call_secs: u32,
) -> AppResult<Option<Batch>> {
    // The owner's row is share-locked to the end of the claim, before anything else: a
    // suspension (an UPDATE of that row, then its campaigns) waits for claims in progress, and
    // a claim waiting on a suspension re-reads the row and finds it SUSPENDED. No claim
    // commits after the suspension does.
    let active: Vec<Id> =
        diesel::sql_query("SELECT id FROM users WHERE id = $1 AND status = 'ACTIVE' FOR SHARE")
            .bind::<SqlUuid, _>(candidate.owner_id)
            .load(conn)
            .await?;
    if active.is_empty() {
        return Ok(None);
    }
    let budget: Vec<Budget> = diesel::sql_query(
        "SELECT floor(EXTRACT(EPOCH FROM now() + interval '30 seconds' - GREATEST(dispatch_next_at, now()))
                      * calls_per_second)::int8 + 1 AS n
         FROM campaigns
         WHERE id = $1 AND status = 'RUNNING' AND dispatch_next_at <= now() + interval '30 seconds'
         FOR UPDATE SKIP LOCKED",
    )
    .bind::<SqlUuid, _>(candidate.id)
    .load(conn)
    .await?;
    let Some(budget) = budget.into_iter().next() else {
        return Ok(None);
    };
    // Counted after the lock, in a fresh snapshot: the calls of the claim that held the
    // campaign before this one are in the count (`calls_open_campaign_idx`).
    let open: Budget = diesel::sql_query(
        "SELECT count(*) AS n FROM calls
         WHERE campaign_id = $1 AND status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')",
    )
    .bind::<SqlUuid, _>(candidate.id)
    .get_result(conn)
    .await?;
    let campaign = Campaign::find(conn, candidate.id).await?;
    let room = (i64::from(campaign.max_concurrent) - open.n)
        .min(budget.n)
        .min(MAX_BATCH);
    if room <= 0 {
        return Ok(None);
    }
    let due = due_contacts(conn, campaign.id, now, room).await?;
    if due.is_empty() {
        return Ok(None);
    }
    let mut batch = Batch {
        campaign_id: campaign.id,
        owner_id: campaign.owner_id,
        placements: Vec::new(),
        set_aside: 0,
        paused: None,
    };
    let callers = caller_ids(conn, &campaign).await?;
    if callers.usable.is_empty() && callers.account_down {
        // Skipping every contact because the carrier account is down would burn the list.
        let why = crate::campaigns::autopause::reason::TWILIO_ACCOUNT_SUSPENDED;
        batch.paused = crate::campaigns::autopause::pause(conn, campaign.id, why)
            .await?
            .map(Box::new);
        return Ok(Some(batch));
    }
    let phones: Vec<&str> = due.iter().map(|c| c.phone.as_str()).collect();
    // Locks the numbers: the caps are counted and the attempts recorded before anyone else counts.
    let facts = compliance::facts::gather_batch(conn, campaign.owner_id, &phones, now).await?;
    let schedule = serde_json::from_value::<Schedule>(campaign.schedule.clone())
        .ok()
        .and_then(|s| s.to_compliance().ok());
    let mut dials = Vec::new();
    let mut aside = Vec::new();
    for (contact, facts) in due.iter().zip(&facts) {
        let caller = callers.pick(contact.id);
        let attempt = Attempt {
            to: &contact.phone,
            country: contact.country.as_deref(),
            purpose: campaign.purpose,
            caller_id_ok: caller.is_some(),
            schedule: schedule.as_ref(),
        };
        match (gate::check(&attempt, facts, now), caller) {
            (Verdict::Skip(reason), _) => aside.push(SetAside::skip(contact.id, reason)),
            (Verdict::Defer { until, reason }, _) => {
                aside.push(SetAside::defer(contact.id, until, reason));
            }
            (Verdict::Dial, Some(caller)) => dials.push((contact, caller)),
            (Verdict::Dial, None) => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "gate passed without a caller ID"
                )))
            }
        }
    }
    let recorded = record(conn, &campaign, &dials, max_call_secs).await?;
    // Contacts the balance did not cover wait with their reason; the campaign pauses until a
    // top-up.
    for (contact, _) in &dials[recorded.len()..] {
        aside.push(SetAside {
            id: contact.id,
            state: "PENDING",
            until: None,
            reason: SkipReason::Balance,
        });
    }
    if recorded.len() < dials.len() {
        let why = crate::campaigns::autopause::reason::INSUFFICIENT_BALANCE;
        batch.paused = crate::campaigns::autopause::pause(conn, campaign.id, why)
            .await?
            .map(Box::new);
    }
    set_aside(conn, &aside).await?;
    batch.set_aside = aside.len();
    batch.placements = recorded
        .into_iter()
        .map(|(call, account, not_before)| Placement {
            call,
            campaign: campaign.clone(),
            account,
            not_before,
        })
        .collect();
    Ok(Some(batch))
}

/// The campaign's next `limit` due contacts in `campaign_contacts_due_idx` order: an index range
/// scan that stops at the last row it takes, whatever the length of the list.
async fn due_contacts(
    conn: &mut AsyncPgConnection,
    campaign_id: Uuid,
    now: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<DueContact>> {
    Ok(diesel::sql_query(
        "SELECT id, phone, country, attempts FROM campaign_contacts
         WHERE campaign_id = $1 AND state = 'PENDING'
           AND COALESCE(next_attempt_at, '-infinity'::timestamptz) <= $2
         ORDER BY COALESCE(next_attempt_at, '-infinity'::timestamptz), id
         LIMIT $3
         FOR UPDATE SKIP LOCKED",
    )
    .bind::<SqlUuid, _>(campaign_id)
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}
