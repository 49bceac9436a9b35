//! A billed extra leg: a call the carrier places from inside another one (an inbound call
//! forwarded to the number's holder, a campaign callee transferred by a keypress). It is an
//! outbound call like any other: it passes the same compliance gate as a campaign's attempt at
//! dial time (owner active, do-not-call and opt-outs, number type, caller ID, calling hours in
//! the callee's local time, the per-number caps, which it then counts towards), is held for at
//! the destination's rate before the `<Dial>`, written as a call row, and charged from the
//! dialed leg's duration when the `<Dial action>` callback reports it.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Call, CallDirection, NewCall};
use crate::app::AppState;
use crate::compliance::gate::{self, Attempt, Verdict};
use crate::compliance::{self, Purpose, SkipReason};
use crate::error::{AppError, AppResult};
use crate::phone::E164;
use crate::text_enum;
use crate::twilio::twiml::Verb;

text_enum! {
    pub enum LegKind {
        Forward => "FORWARD",
        Transfer => "TRANSFER",
    }
}

/// What is asked for: who pays, from which number, to which, and inside which carrier call.
#[derive(Clone, Debug)]
pub struct LegRequest<'a> {
    pub kind: LegKind,
    pub owner_id: Uuid,
    pub twilio_account_id: Uuid,
    pub did_id: Option<Uuid>,
    /// Caller ID shown to the callee: the owner's number (`did_id`) the parent call reached
    /// or was placed from; checked to be that, still theirs and ACTIVE.
    pub from: &'a E164,
    pub to: &'a E164,
    /// The carrier's SID of the call the leg is dialed from; one leg per such call.
    pub parent_sid: &'a str,
}

#[derive(Clone, Debug)]
pub enum Leg {
    /// Recorded and held for: dial it with [`dial_verb`].
    Dial(Box<Call>),
    Refused(Refusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    OwnerSuspended,
    Rule(SkipReason),
    /// No rate covers the destination.
    NoRate,
    /// The parent call already had its leg.
    AlreadyDialed,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Self::OwnerSuspended => "OWNER_SUSPENDED",
            Self::Rule(reason) => reason.as_str(),
            Self::NoRate => "NO_RATE",
            Self::AlreadyDialed => "ALREADY_DIALED",
        }
    }
}

/// A leg has no campaign and so no purpose of its own: it is judged by the calling hours of
/// a non-marketing call (in Vietnam 08:00-20:00, elsewhere 08:00-21:00, in every zone of the
/// callee's country). Marketing's narrower hours and once-a-day rule are for advertising; a
/// forwarded caller or a callee asking for an agent is not one.
pub const PURPOSE: Purpose = Purpose::Transactional;

#[derive(QueryableByName)]
struct Status {
    #[diesel(sql_type = Text)]
    status: String,
}

#[derive(QueryableByName)]
struct Usable {
    #[diesel(sql_type = Bool)]
    usable: bool,
}

/// Checks, holds and records a leg, all in one transaction under the owner's balance lock.
pub async fn open(state: &AppState, request: &LegRequest<'_>) -> AppResult<Leg> {
    let max_call_secs = state.config.max_call_secs;
    let now = state.clock.now();
    let mut conn = state.conn().await?;
    let leg = conn
        .transaction::<_, AppError, _>(async |conn| decide(conn, request, max_call_secs, now).await)
        .await?;
    if matches!(leg, Leg::Dial(_)) {
        crate::billing::service::publish(state, request.owner_id).await;
    }
    Ok(leg)
}

async fn decide(
    conn: &mut AsyncPgConnection,
    request: &LegRequest<'_>,
    max_call_secs: u32,
    now: DateTime<Utc>,
) -> AppResult<Leg> {
    // A repeated webhook for the same parent call finds the leg it already made.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<Text, _>(request.parent_sid)
        .execute(conn)
        .await?;
    if let Some(existing) = existing(conn, request.parent_sid).await? {
        return Ok(if existing.status.is_final() {
            Leg::Refused(Refusal::AlreadyDialed)
        } else {
            Leg::Dial(Box::new(existing))
        });
    }
    // Share-locked like a claim's owner: a suspension waits for this leg, or this leg sees it.
    let owner: Status = diesel::sql_query("SELECT status FROM users WHERE id = $1 FOR SHARE")
        .bind::<SqlUuid, _>(request.owner_id)
        .get_result(conn)
        .await?;
    if owner.status != "ACTIVE" {
        return Ok(Leg::Refused(Refusal::OwnerSuspended));
    }
    let caller_id_ok = caller_id_usable(conn, request).await?;
    // The number stays locked to the end: the leg is recorded before anyone else counts.
    let facts = compliance::facts::gather(conn, request.owner_id, request.to, now).await?;
    let country = crate::phone::parse(request.to, "VN")
        .ok()
        .and_then(|p| p.country);
    let attempt = Attempt {
        to: request.to,
        country: country.as_deref(),
        purpose: PURPOSE,
        caller_id_ok,
        schedule: None,
    };
    // A caller on the line cannot wait for a later opening: not now is no.
    match gate::check(&attempt, &facts, now) {
        Verdict::Dial => {}
        Verdict::Skip(reason) | Verdict::Defer { reason, .. } => {
            return Ok(Leg::Refused(Refusal::Rule(reason)))
        }
    }
    let Ok(rate) = crate::billing::rates::for_number(conn, request.to).await else {
        return Ok(Leg::Refused(Refusal::NoRate));
    };
    let hold = rate.charge(i64::from(max_call_secs), true);
    let balance = crate::billing::ledger::lock(conn, request.owner_id).await?;
    if balance.available() < hold {
        return Ok(Leg::Refused(Refusal::Rule(SkipReason::Balance)));
    }
    let call = NewCall {
        id: Uuid::now_v7(),
        owner_id: request.owner_id,
        twilio_account_id: request.twilio_account_id,
        did_id: request.did_id,
        direction: CallDirection::Outbound,
        from_number: request.from,
        to_number: request.to,
        campaign_id: None,
        contact_id: None,
        attempt: None,
    }
    .insert(conn)
    .await?;
    diesel::sql_query("UPDATE calls SET leg = $2, parent_sid = $3 WHERE id = $1")
        .bind::<SqlUuid, _>(call.id)
        .bind::<Text, _>(request.kind.as_str())
        .bind::<Text, _>(request.parent_sid)
        .execute(conn)
        .await?;
    crate::billing::ledger::hold_call(conn, call.billed(), &rate, hold).await?;
    Ok(Leg::Dial(Box::new(call)))
}

/// The caller ID is the owner's number the leg names, ACTIVE, on an ACTIVE carrier account
/// (what a campaign's caller ID must be, too).
async fn caller_id_usable(
    conn: &mut AsyncPgConnection,
    request: &LegRequest<'_>,
) -> AppResult<bool> {
    let row: Usable = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM dids d JOIN twilio_accounts a ON a.id = d.twilio_account_id
             WHERE d.id = $1 AND d.assigned_user_id = $2 AND d.phone_number = $3
               AND d.status = 'ACTIVE' AND a.id = $4 AND a.status = 'ACTIVE') AS usable",
    )
    .bind::<Nullable<SqlUuid>, _>(request.did_id)
    .bind::<SqlUuid, _>(request.owner_id)
    .bind::<Text, _>(request.from)
    .bind::<SqlUuid, _>(request.twilio_account_id)
    .get_result(conn)
    .await?;
    Ok(row.usable)
}

async fn existing(conn: &mut AsyncPgConnection, parent_sid: &str) -> AppResult<Option<Call>> {
    use crate::db::schema::calls;
    use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
    Ok(calls::table
        .filter(calls::parent_sid.eq(parent_sid))
        .select(Call::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The `<Dial>` for a recorded leg: the carrier reports the dialed leg's outcome and duration
/// to the action URL, and may not let it run longer than its hold covers.
pub fn dial_verb(public_url: &str, leg: &Call, max_call_secs: u32) -> Verb {
    Verb::Dial {
        number: leg.to_number.to_string(),
        caller_id: Some(leg.from_number.to_string()),
        timeout: Some(30),
        action: Some(format!("{public_url}/webhooks/twilio/dial/{}", leg.id)),
        time_limit: Some(max_call_secs),
    }
}
