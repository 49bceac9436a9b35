//! Each operation as the server performs it, reporting what it did for the model.

use std::future::Future;
use std::pin::Pin;

use chrono::Utc;
use diesel::sql_types::{BigInt, Integer, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use ringcast::app::AppState;
use ringcast::billing::rates::Rate;
use ringcast::billing::{ledger, service};
use ringcast::calls::model::{EventSource, NewCall};
use ringcast::calls::status::{self, StatusUpdate};
use ringcast::calls::{CallDirection, CallStatus};
use ringcast::error::AppError;
use uuid::Uuid;

use super::books::{Books, Held};
use super::{Amount, Fixture, Op};

pub enum Done {
    Credited(Uuid, i64),
    Adjusted(i64),
    Held(Held),
    /// Refused as the server may refuse it, for `tried` VND.
    Refused {
        tried: i64,
        why: String,
    },
    Nothing,
}

type Run<'a> = Pin<Box<dyn Future<Output = Result<Done, String>> + Send + 'a>>;

/// Runs `op`; calls and top-ups are picked among those the books hold when the batch starts,
/// edge amounts against `available` then. An error where refusal is not allowed is `Err`.
pub fn run<'a>(
    state: &'a AppState,
    fixture: &'a Fixture,
    books: &Books,
    available: i64,
    op: &Op,
) -> Run<'a> {
    let user = books.user;
    let call = |i: usize| (!books.calls.is_empty()).then(|| books.calls[i % books.calls.len()].id);
    match op.clone() {
        Op::TopUp(amount) => Box::pin(top_up(state, user, amount)),
        Op::TopUpAgain(i) => {
            let again = (!books.top_ups.is_empty()).then(|| books.top_ups[i % books.top_ups.len()]);
            Box::pin(async move {
                match again {
                    Some(id) => top_up_again(state, user, id).await,
                    None => Ok(Done::Nothing),
                }
            })
        }
        Op::Adjust(amount) => {
            let amount = match amount {
                Amount::Fixed(a) => a,
                Amount::Edge(left) => left - available,
            };
            Box::pin(adjust(state, fixture, user, amount))
        }
        Op::Hold {
            rate,
            max_secs,
            edge,
        } => {
            let amount = match edge {
                Some(over) => (available + over).max(0),
                None => rate.charge(max_secs, true),
            };
            Box::pin(hold(state, fixture.account, user, rate, amount))
        }
        Op::Progress {
            call: i,
            status,
            sid,
        } => {
            let call = call(i);
            Box::pin(async move {
                if let Some(call) = call {
                    update(state, call, status, None, sid).await?;
                }
                Ok(Done::Nothing)
            })
        }
        Op::Finish {
            call: i,
            status,
            duration,
            sid,
            twice,
        } => {
            let call = call(i);
            Box::pin(async move {
                let Some(call) = call else {
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
            })
        }
        Op::Orphan {
            call: i,
            status,
            duration,
        } => {
            let call = call(i);
            Box::pin(async move {
                if let Some(call) = call {
                    orphan(state, call, status, duration).await?;
                }
                Ok(Done::Nothing)
            })
        }
    }
}

/// As the payment settlement does it: the top-up row, its credit and its status in one step.
async fn top_up(state: &AppState, user: Uuid, amount: i64) -> Result<Done, String> {
    let id = Uuid::new_v4();
    let mut conn = state.conn().await.map_err(|e| e.message())?;
    conn.transaction::<_, AppError, _>(async |conn| {
        diesel::sql_query(
            "INSERT INTO top_ups (id, user_id, method, amount, provider_ref, expires_at)
             VALUES ($1, $2, 'MOMO', $3, $4, now() + interval '1 hour')",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(user)
        .bind::<BigInt, _>(amount)
        .bind::<Text, _>(id.simple().to_string())
        .execute(conn)
        .await?;
        service::credit_top_up(conn, user, id, amount, "property test").await?;
        diesel::sql_query("UPDATE top_ups SET status = 'SUCCEEDED' WHERE id = $1")
            .bind::<SqlUuid, _>(id)
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
    .map_err(|e| e.message())?;
    Ok(Done::Credited(id, amount))
}

async fn top_up_again(state: &AppState, user: Uuid, id: Uuid) -> Result<Done, String> {
    let mut conn = state.conn().await.map_err(|e| e.message())?;
    let second = conn
        .transaction::<_, AppError, _>(async |conn| {
            service::credit_top_up(conn, user, id, 1_000, "again").await
        })
        .await;
    match second {
        Ok(_) => Err(format!("top-up {id} credited twice")),
        Err(e) => Ok(Done::Refused {
            tried: 1_000,
            why: e.message(),
        }),
    }
}

async fn adjust(
    state: &AppState,
    fixture: &Fixture,
    user: Uuid,
    amount: i64,
) -> Result<Done, String> {
    match service::adjust(state, &fixture.admin, user, amount, "property test").await {
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

/// As the dispatcher's claim does it, without its own balance check, so the ledger's is the one
/// that refuses: the call and its hold in one step.
async fn hold(
    state: &AppState,
    account: Uuid,
    user: Uuid,
    rate: Rate,
    amount: i64,
) -> Result<Done, String> {
    let mut conn = state.conn().await.map_err(|e| e.message())?;
    let placed = conn
        .transaction::<_, AppError, _>(async |conn| {
            let call = NewCall {
                id: Uuid::now_v7(),
                owner_id: user,
                twilio_account_id: account,
                did_id: None,
                direction: CallDirection::Outbound,
                from_number: "+84900000000",
                to_number: "+84912345678",
                campaign_id: None,
                contact_id: None,
                attempt: None,
            }
            .insert(conn)
            .await?;
            ledger::hold_call(conn, &call, &rate, amount).await?;
            Ok(call.id)
        })
        .await;
    match placed {
        Ok(id) => Ok(Done::Held(Held { id, rate, amount })),
        Err(e @ AppError::InsufficientBalance(_)) => Ok(Done::Refused {
            tried: amount,
            why: e.message(),
        }),
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
    service::settle_orphaned_holds(state)
        .await
        .map(|_| ())
        .map_err(|e| e.message())
}
