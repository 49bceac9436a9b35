//! One claim: a batch of a campaign's due contacts, locked (SKIP LOCKED), gated together, and
//! each either recorded as an attempt or deferred/skipped with its reason, in one transaction
//! committed before any Twilio request.
//!
//! Locks are taken in one order by every claim: the owner's row (shared), the campaign's
//! pacing row (skipped when another process holds it, so processes spread over campaigns), the
//! contacts (skipped likewise), the numbers (sorted by lock key), the owner's balance, then the
//! Twilio accounts (sorted by id). Two claims therefore never wait on each other in a circle.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::app::AppState;
use crate::billing::ledger::{self, CallHold};
use crate::billing::rates::{self, Rate};
use crate::calls::model::{Call, CallDirection, NewCall};
use crate::campaigns::settings::Schedule;
use crate::campaigns::Campaign;
use crate::compliance::gate::{self, Attempt, Verdict};
use crate::compliance::{self, SkipReason};
use crate::dids::{Did, DidStatus};
use crate::error::{AppError, AppResult};
use crate::twilio_accounts::{AccountStatus, TwilioAccount};

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
    let (last, batch) = conn
        .transaction::<_, AppError, _>(async |conn| {
            let mut last = None;
            for candidate in candidates(conn, after, now).await? {
                last = Some(candidate.id);
                if let Some(batch) = claim(conn, &candidate, now, max_call_secs).await? {
                    return Ok((last, Some(batch)));
                }
            }
            Ok((last, None))
        })
        .await?;
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

/// Records the attempts the owner's balance covers, in `dials` order: their holds, pacing
/// slots, calls, ledger entries and contact updates, each a single statement for the batch.
/// Returns each recorded call with its account and start time (fewer than `dials` when the
/// balance ran out).
async fn record(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    dials: &[(&DueContact, &(Did, TwilioAccount))],
    max_call_secs: u32,
) -> AppResult<Vec<(Call, TwilioAccount, DateTime<Utc>)>> {
    if dials.is_empty() {
        return Ok(Vec::new());
    }
    let phones: Vec<&str> = dials.iter().map(|(c, _)| c.phone.as_str()).collect();
    let rates = rates::for_numbers(conn, &phones).await?;
    // The balance row stays locked to the end of this claim: the check and the holds are one
    // step for every dispatcher of this owner.
    let balance = ledger::lock(conn, campaign.owner_id).await?;
    let mut covered = 0;
    let mut total = 0;
    let mut holds: Vec<(i64, &Rate)> = Vec::with_capacity(dials.len());
    for rate in &rates {
        let hold = rate.charge(i64::from(max_call_secs), true);
        if total + hold > balance.available() {
            break;
        }
        total += hold;
        covered += 1;
        holds.push((hold, rate));
    }
    let dials = &dials[..covered];
    if dials.is_empty() {
        return Ok(Vec::new());
    }
    let starts = take_slots(conn, campaign, dials).await?;
    let new_calls: Vec<NewCall<'_>> = dials
        .iter()
        .map(|(contact, (did, account))| NewCall {
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
        })
        .collect();
    let mut calls = NewCall::insert_all(conn, &new_calls).await?;
    // RETURNING gives no order guarantee: put the calls back in the batch's order.
    let order: BTreeMap<Uuid, usize> = new_calls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    calls.sort_by_key(|c| order.get(&c.id).copied());
    let entries: Vec<CallHold<'_>> = calls
        .iter()
        .zip(&holds)
        .map(|(call, (amount, rate))| CallHold {
            call: call.billed(),
            rate,
            amount: *amount,
        })
        .collect();
    ledger::hold_calls(conn, campaign.owner_id, balance, &entries).await?;
    let ids: Vec<i64> = dials.iter().map(|(c, _)| c.id).collect();
    diesel::sql_query(
        "UPDATE campaign_contacts SET state = 'CALLING', attempts = attempts + 1, skip_reason = NULL
         WHERE id = ANY($1)",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .execute(conn)
    .await?;
    let dids: Vec<Uuid> = dials.iter().map(|(_, (did, _))| did.id).collect();
    diesel::sql_query("UPDATE dids SET last_used_at = now() WHERE id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(&dids)
        .execute(conn)
        .await?;
    Ok(calls
        .into_iter()
        .zip(dials)
        .zip(starts)
        .map(|((call, (_, (_, account))), at)| (call, account.clone(), at))
        .collect())
}

/// The campaign's usable caller IDs, read once per claim.
struct CallerIds {
    usable: Vec<(Did, TwilioAccount)>,
    /// Some numbers are fine but the accounts they sit on are not ACTIVE.
    account_down: bool,
}

impl CallerIds {
    /// Rotated by contact so several numbers share the load.
    fn pick(&self, contact_id: i64) -> Option<&(Did, TwilioAccount)> {
        if self.usable.is_empty() {
            return None;
        }
        self.usable
            .get((contact_id.unsigned_abs() as usize) % self.usable.len())
    }
}

/// The numbers of the campaign that are still the owner's, ACTIVE, on an ACTIVE account.
async fn caller_ids(conn: &mut AsyncPgConnection, campaign: &Campaign) -> AppResult<CallerIds> {
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
    Ok(CallerIds {
        usable,
        account_down,
    })
}

/// Reserves the batch's start slots on the campaign's limiter and on each account's, once per
/// limiter: call `i` of the batch starts at the later of its two slots.
async fn take_slots(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    dials: &[(&DueContact, &(Did, TwilioAccount))],
) -> AppResult<Vec<DateTime<Utc>>> {
    let start = advance(
        conn,
        "campaigns",
        campaign.id,
        campaign.calls_per_second,
        dials.len(),
    )
    .await?;
    let step = |cps: f64, k: usize| chrono::Duration::microseconds((k as f64 * 1e6 / cps) as i64);
    let mut starts: Vec<DateTime<Utc>> = (0..dials.len())
        .map(|i| start + step(campaign.calls_per_second, i))
        .collect();
    // In account id order: the same order for every claim.
    let mut by_account: BTreeMap<Uuid, (f64, Vec<usize>)> = BTreeMap::new();
    for (i, (_, (_, account))) in dials.iter().enumerate() {
        by_account
            .entry(account.id)
            .or_insert_with(|| (account.calls_per_second, Vec::new()))
            .1
            .push(i);
    }
    for (id, (cps, members)) in by_account {
        let start = advance(conn, "twilio_accounts", id, cps, members.len()).await?;
        for (k, i) in members.into_iter().enumerate() {
            starts[i] = starts[i].max(start + step(cps, k));
        }
    }
    Ok(starts)
}

/// Moves a limiter row's next start `n` slots on; returns the first of them.
async fn advance(
    conn: &mut AsyncPgConnection,
    table: &'static str,
    id: Uuid,
    calls_per_second: f64,
    n: usize,
) -> AppResult<DateTime<Utc>> {
    let at: At = diesel::sql_query(format!(
        "WITH prev AS (SELECT GREATEST(dispatch_next_at, now()) AS at FROM {table} WHERE id = $1 FOR UPDATE)
         UPDATE {table} SET dispatch_next_at = (SELECT at FROM prev) + make_interval(secs => $3 / $2)
         WHERE id = $1 RETURNING (SELECT at FROM prev) AS at"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Double, _>(calls_per_second)
    .bind::<Double, _>(n as f64)
    .get_result(conn)
    .await?;
    Ok(at.at)
}

/// A contact the gate (or the balance) kept from being dialed now.
struct SetAside {
    id: i64,
    state: &'static str,
    until: Option<DateTime<Utc>>,
    reason: SkipReason,
}

impl SetAside {
    fn skip(id: i64, reason: SkipReason) -> Self {
        Self {
            id,
            state: "SKIPPED",
            until: None,
            reason,
        }
    }

    fn defer(id: i64, until: DateTime<Utc>, reason: SkipReason) -> Self {
        Self {
            id,
            state: "PENDING",
            until: Some(until),
            reason,
        }
    }
}

async fn set_aside(conn: &mut AsyncPgConnection, contacts: &[SetAside]) -> AppResult<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    let states: Vec<&str> = contacts.iter().map(|c| c.state).collect();
    let untils: Vec<Option<DateTime<Utc>>> = contacts.iter().map(|c| c.until).collect();
    let reasons: Vec<&str> = contacts.iter().map(|c| c.reason.as_str()).collect();
    diesel::sql_query(
        "UPDATE campaign_contacts cc SET state = v.state, next_attempt_at = v.until, skip_reason = v.reason
         FROM unnest($1::int8[], $2::text[], $3::timestamptz[], $4::text[]) AS v(id, state, until, reason)
         WHERE cc.id = v.id",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .bind::<Array<Text>, _>(&states)
    .bind::<Array<Nullable<Timestamptz>>, _>(&untils)
    .bind::<Array<Text>, _>(&reasons)
    .execute(conn)
    .await?;
    Ok(())
}
