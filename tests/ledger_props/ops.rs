//! Each operation through the server's own service function, reporting what it did for the
//! model. Every operation owns its inputs, so a batch runs as tasks on the runtime at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use diesel::sql_types::{Integer, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use ringcast::app::AppState;
use ringcast::auth::Viewer;
use ringcast::billing::{rates, service};
use ringcast::calls::leg::{self, Leg, LegKind, LegRequest, Refusal};
use ringcast::calls::model::EventSource;
use ringcast::calls::status::{self, StatusUpdate};
use ringcast::calls::CallStatus;
use ringcast::compliance::SkipReason;
use ringcast::error::AppError;
use ringcast::payments::settle::{self, Applied, Report};
use ringcast::payments::{service as payments, TopUpMethod};
use ringcast::users::Role;
use uuid::Uuid;

use super::books::Held;
use super::price::Tariff;
use super::{Amount, Delivery, Fixture, Op, MAX_CALL_SECS};

pub enum Done {
    Credited(Paid),
    /// Paid another amount than ordered: held for an admin, never credited.
    Flagged(Uuid),
    Adjusted(i64),
    Held(Held),
    /// Refused as the server may refuse it, for `tried` VND.
    Refused {
        tried: i64,
        why: String,
    },
    Nothing,
}

/// A credited top-up and the gateway's transaction id that paid it.
#[derive(Clone, Debug)]
pub struct Paid {
    pub id: Uuid,
    pub txn: String,
    pub amount: i64,
}

/// What the books held when the batch started; calls and top-ups are picked among these,
/// edge amounts set against `available`.
#[derive(Clone)]
pub struct Start {
    pub user: Uuid,
    pub did: Uuid,
    pub did_number: String,
    pub calls: Vec<Uuid>,
    pub paid: Vec<Paid>,
    pub available: i64,
}

impl Start {
    fn call(&self, i: usize) -> Option<Uuid> {
        (!self.calls.is_empty()).then(|| self.calls[i % self.calls.len()])
    }
}

/// Runs `op`; an outcome the server must not produce is `Err`.
pub async fn run(
    state: AppState,
    fixture: Arc<Fixture>,
    at: Start,
    op: Op,
) -> Result<Done, String> {
    let state = &state;
    match op {
        Op::TopUp { amount, delivery } => top_up(state, at.user, amount, delivery).await,
        Op::TopUpAgain { which, same_txn } => match at.paid.get(which % at.paid.len().max(1)) {
            Some(paid) => top_up_again(state, paid, same_txn).await,
            None => Ok(Done::Nothing),
        },
        Op::Adjust(amount) => {
            let amount = match amount {
                Amount::Fixed(a) => a,
                Amount::Edge(left) => left - at.available,
            };
            adjust(state, &fixture.admin, at.user, amount).await
        }
        Op::Hold {
            tariff,
            edge,
            transfer,
        } => {
            let tariff = match edge {
                Some(over) => tariff.costing(MAX_CALL_SECS, at.available + over),
                None => tariff,
            };
            hold(state, &fixture, &at, tariff, transfer).await
        }
        Op::Progress { call, status, sid } => {
            if let Some(call) = at.call(call) {
                update(state, call, status, None, sid).await?;
            }
            Ok(Done::Nothing)
        }
        Op::Finish {
            call,
            status,
            duration,
            sid,
            twice,
        } => {
            let Some(call) = at.call(call) else {
                return Ok(Done::Nothing);
            };
            let once = update(state, call, status, Some(duration), sid);
            if twice {
                let again = update(state, call, status, Some(duration), sid);
                let (a, b) = tokio::join!(once, again);
                a.and(b)?;
            } else {
                once.await?;
            }
            Ok(Done::Nothing)
        }
        Op::Orphan {
            call,
            status,
            duration,
        } => {
            if let Some(call) = at.call(call) {
                orphan(state, call, status, duration).await?;
            }
            Ok(Done::Nothing)
        }
    }
}

fn txn() -> String {
    format!("props:{}", Uuid::new_v4().simple())
}

/// A bank-transfer order as the user places it, then the bank's report of the money.
async fn top_up(
    state: &AppState,
    user: Uuid,
    amount: i64,
    delivery: Delivery,
) -> Result<Done, String> {
    let viewer = Viewer {
        id: user,
        role: Role::User,
        scopes: None,
    };
    let order = payments::create(state, &viewer, TopUpMethod::BankTransfer, amount)
        .await
        .map_err(|e| e.message())?;
    let txn = txn();
    let report = |amount| Report::Paid {
        txn_id: txn.clone(),
        amount,
    };
    let paid = Paid {
        id: order.id,
        txn: txn.clone(),
        amount,
    };
    match delivery {
        Delivery::Once => match settle::apply(state, order.id, report(amount)).await {
            Ok(Applied::Credited) => Ok(Done::Credited(paid)),
            other => Err(format!("top-up {}: {other:?}", order.id)),
        },
        Delivery::Twice => {
            let (a, b) = tokio::join!(
                settle::apply(state, order.id, report(amount)),
                settle::apply(state, order.id, report(amount)),
            );
            match (a, b) {
                (Ok(Applied::Credited), Ok(Applied::Unchanged(_)))
                | (Ok(Applied::Unchanged(_)), Ok(Applied::Credited)) => Ok(Done::Credited(paid)),
                other => Err(format!("one report delivered twice at once: {other:?}")),
            }
        }
        Delivery::Mismatched(off) => {
            let received = if amount + off > 0 {
                amount + off
            } else {
                amount + 1
            };
            match settle::apply(state, order.id, report(received)).await {
                Ok(Applied::NeedsReview) => Ok(Done::Flagged(order.id)),
                other => Err(format!("{received} paid for {amount}: {other:?}")),
            }
        }
    }
}

/// The same report again (a retried webhook), or a second payment for a settled order.
async fn top_up_again(state: &AppState, paid: &Paid, same_txn: bool) -> Result<Done, String> {
    let txn_id = if same_txn { paid.txn.clone() } else { txn() };
    let again = settle::apply(
        state,
        paid.id,
        Report::Paid {
            txn_id,
            amount: paid.amount,
        },
    )
    .await;
    match (same_txn, again) {
        (true, Ok(Applied::Unchanged(why))) => Ok(Done::Refused {
            tried: paid.amount,
            why: why.into(),
        }),
        (false, Ok(Applied::Unmatched)) => Ok(Done::Refused {
            tried: paid.amount,
            why: "recorded as an unmatched payment".into(),
        }),
        (_, other) => Err(format!("top-up {} reported again: {other:?}", paid.id)),
    }
}

async fn adjust(state: &AppState, admin: &Viewer, user: Uuid, amount: i64) -> Result<Done, String> {
    match service::adjust(state, admin, user, amount, "property test").await {
        Ok(_) => Ok(Done::Adjusted(amount)),
        Err(e @ AppError::InsufficientBalance(_)) => Ok(Done::Refused {
            tried: amount,
            why: e.message(),
        }),
        Err(e @ AppError::BadInput { .. }) if amount == 0 => Ok(Done::Refused {
            tried: amount,
            why: e.message(),
        }),
        Err(e) => Err(e.message()),
    }
}

/// Destinations never repeat, so no per-number cap refuses a leg and each has its own rate.
static NEXT_NUMBER: AtomicU64 = AtomicU64::new(0);

/// A forwarded or transferred leg, opened as the voice webhooks open one: the leg's checks,
/// the balance check and the hold. The destination's rate is set first, as an admin would.
async fn hold(
    state: &AppState,
    fixture: &Fixture,
    at: &Start,
    tariff: Tariff,
    transfer: bool,
) -> Result<Done, String> {
    let to = format!("+8491{:07}", NEXT_NUMBER.fetch_add(1, Ordering::Relaxed));
    let mut conn = state.conn().await.map_err(|e| e.message())?;
    rates::set(&mut conn, &tariff.input(to.trim_start_matches('+')))
        .await
        .map_err(|e| e.message())?;
    drop(conn);
    let parent_sid = format!("CA{}", Uuid::new_v4().simple());
    let request = LegRequest {
        kind: if transfer {
            LegKind::Transfer
        } else {
            LegKind::Forward
        },
        owner_id: at.user,
        twilio_account_id: fixture.account,
        did_id: Some(at.did),
        from: &e164(&at.did_number),
        to: &e164(&to),
        parent_sid: &parent_sid,
    };
    // What the hold must be: the price of the longest call the carrier is allowed to let run.
    let amount = tariff.price(MAX_CALL_SECS, true);
    match leg::open(state, &request).await {
        Ok(Leg::Dial(call)) => Ok(Done::Held(Held {
            id: call.id,
            tariff,
            amount,
        })),
        Ok(Leg::Refused(Refusal::Rule(SkipReason::Balance))) => Ok(Done::Refused {
            tried: amount,
            why: "BALANCE".into(),
        }),
        Ok(Leg::Refused(other)) => Err(format!("leg to {to} refused: {}", other.reason())),
        Err(e) => Err(e.message()),
    }
}

async fn update(
    state: &AppState,
    call: Uuid,
    status: CallStatus,
    duration: Option<i32>,
    sid: bool,
) -> Result<(), String> {
    status::apply(
        state,
        StatusUpdate {
            call_id: call,
            status,
            sequence: None,
            duration_secs: duration,
            answered_by: None,
            // One call, one SID, whichever report brings it first.
            twilio_sid: sid.then(|| format!("CA{}", call.simple())),
            occurred_at: Utc::now(),
            source: EventSource::Webhook,
            detail: serde_json::json!({}),
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.message())
}

/// The end written by a path that died before billing (the one write here that is not the
/// server's: it stands for the crash), then the server's sweep for holds left open.
async fn orphan(
    state: &AppState,
    call: Uuid,
    status: CallStatus,
    duration: i32,
) -> Result<(), String> {
    diesel::sql_query(
        "UPDATE calls SET status = $2, duration_secs = $3, ended_at = now()
         WHERE id = $1 AND status IN ('QUEUED', 'INITIATED', 'RINGING', 'IN_PROGRESS')",
    )
    .bind::<SqlUuid, _>(call)
    .bind::<Text, _>(status.as_str())
    .bind::<Integer, _>(duration)
    .execute(&mut state.conn().await.map_err(|e| e.message())?)
    .await
    .map_err(|e| e.to_string())?;
    ringcast::calls::holds::settle_orphaned_holds(state)
        .await
        .map(|_| ())
        .map_err(|e| e.message())
}

/// A number the fixture made, as a leg takes it.
fn e164(number: &str) -> ringcast::phone::E164 {
    ringcast::phone::parse(number, "VN")
        .expect("the fixture's numbers are valid")
        .e164
}
