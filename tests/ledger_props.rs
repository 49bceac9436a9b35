//! The ledger against PostgreSQL under random interleavings of top-ups, admin adjustments, call
//! holds, status callbacks and the orphan sweep, each batch run as concurrent tasks, all
//! through the server's own service functions (`ops`). Every hold and charge is checked to the
//! đồng against a price list written out in the test (`price`), and after every batch the
//! books must balance (`books`).

mod books;
mod ops;
mod price;

use std::sync::Arc;

use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use ringcast::app::AppState;
use ringcast::auth::Viewer;
use ringcast::calls::CallStatus;
use ringcast::users::Role;
use uuid::Uuid;

use crate::helpers::TestApp;
use books::{Books, Owner};
use price::Tariff;

/// The longest call a hold covers (the server's `MAX_CALL_DURATION_SECS`, set for this test).
pub const MAX_CALL_SECS: i64 = 600;

/// A set amount, or one set against the available balance when its batch starts, so that
/// refusals are tried right at their edge.
#[derive(Clone, Copy, Debug)]
enum Amount {
    Fixed(i64),
    /// For an adjustment: what it leaves available.
    Edge(i64),
}

/// How the bank's report of a top-up arrives.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Once,
    /// The same report twice at once: one credit.
    Twice,
    /// Another amount than ordered, off by this much: flagged, never credited.
    Mismatched(i64),
}

#[derive(Clone, Debug)]
enum Op {
    /// A user orders a bank top-up and the bank reports the money.
    TopUp { amount: i64, delivery: Delivery },
    /// A settled order reported again: the same report (a retry) or a second payment; neither
    /// may credit anything.
    TopUpAgain { which: usize, same_txn: bool },
    /// An admin credit or debit; zero, or a debit past the available balance, is refused.
    Adjust(Amount),
    /// A forwarded or transferred leg is opened and held for its longest allowed duration at
    /// its destination's rate; with `edge`, a rate whose hold is that far from the available
    /// balance.
    Hold {
        tariff: Tariff,
        edge: Option<i64>,
        transfer: bool,
    },
    /// An in-flight callback for one of the calls placed so far.
    Progress {
        call: usize,
        status: CallStatus,
        sid: bool,
    },
    /// The final callback or reconciliation's report; `twice` delivers it twice at once.
    Finish {
        call: usize,
        status: CallStatus,
        duration: i32,
        sid: bool,
        twice: bool,
    },
    /// The end written by a path that died before billing; the sweep must settle the hold.
    Orphan {
        call: usize,
        status: CallStatus,
        duration: i32,
    },
}

const FINALS: [CallStatus; 5] = [
    CallStatus::Completed,
    CallStatus::Busy,
    CallStatus::NoAnswer,
    CallStatus::Failed,
    CallStatus::Canceled,
];

/// Increments and prices an admin may set, the usual ones and odd ones that make rounding
/// matter.
fn tariff() -> impl Strategy<Value = Tariff> {
    (
        prop_oneof![0i64..=3_000, select(vec![1_000, 1_001, 1_200, 599, 7])],
        prop_oneof![select(vec![1, 6, 30, 60]), 1i32..=120],
        prop_oneof![select(vec![1, 6, 60]), 1i32..=90],
        prop_oneof![Just(0i64), 1i64..=500],
    )
        .prop_map(|(per_minute, first, step, fee)| Tariff {
            per_minute,
            first,
            step,
            fee,
        })
}

/// Mostly inside the hold, sometimes past it (the hold is then the most a call may cost).
fn duration() -> impl Strategy<Value = i32> {
    let max = MAX_CALL_SECS as i32;
    prop_oneof![
        1 => Just(0),
        6 => 1..=max,
        2 => max + 1..=max * 2 + 300,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let call = 0usize..8;
    let edge = -3i64..=3;
    let amount = prop_oneof![
        3 => (-200_000i64..=150_000).prop_map(Amount::Fixed),
        1 => edge.clone().prop_map(Amount::Edge),
    ];
    let delivery = prop_oneof![
        4 => Just(Delivery::Once),
        2 => Just(Delivery::Twice),
        1 => select(vec![-1i64, 1, 5_000]).prop_map(Delivery::Mismatched),
    ];
    let hold = (
        tariff(),
        proptest::option::weighted(0.25, edge),
        any::<bool>(),
    );
    prop_oneof![
        3 => (1i64..=150_000, delivery).prop_map(|(amount, delivery)| Op::TopUp { amount, delivery }),
        1 => (0usize..4, any::<bool>()).prop_map(|(which, same_txn)| Op::TopUpAgain { which, same_txn }),
        3 => amount.prop_map(Op::Adjust),
        5 => hold.prop_map(|(tariff, edge, transfer)| Op::Hold { tariff, edge, transfer }),
        2 => (call.clone(), select(vec![CallStatus::Ringing, CallStatus::InProgress]), any::<bool>())
            .prop_map(|(call, status, sid)| Op::Progress { call, status, sid }),
        4 => (call.clone(), select(FINALS.to_vec()), duration(), any::<bool>(), any::<bool>())
            .prop_map(|(call, status, duration, sid, twice)| Op::Finish { call, status, duration, sid, twice }),
        2 => (call, select(FINALS.to_vec()), duration())
            .prop_map(|(call, status, duration)| Op::Orphan { call, status, duration }),
    ]
}

/// Batches of up to four operations; the operations of a batch run at once. Most cases open
/// with a top-up, so that calls get placed; the rest start from nothing.
fn batches() -> impl Strategy<Value = Vec<Vec<Op>>> {
    (
        proptest::option::weighted(
            0.8,
            (1i64..=300_000).prop_map(|amount| Op::TopUp {
                amount,
                delivery: Delivery::Once,
            }),
        ),
        proptest::collection::vec(proptest::collection::vec(op(), 1..=4), 1..=12),
    )
        .prop_map(|(opening, rest)| opening.map(|op| vec![op]).into_iter().chain(rest).collect())
}

#[test]
fn random_interleavings_keep_the_books_balanced() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let (app, fixture) = rt.block_on(async {
        let app = TestApp::builder()
            .config(|c| {
                c.max_call_secs = u32::try_from(MAX_CALL_SECS).unwrap();
                // Any amount may be topped up, so small balances and their edges come up.
                c.payments.min_amount = 1;
                // Room for a batch's tasks and their duplicated deliveries at once.
                c.database_pool_size = 12;
            })
            .build()
            .await;
        let fixture = Arc::new(Fixture::new(&app.state).await);
        (app, fixture)
    });
    let mut runner = TestRunner::new(Config {
        cases: 48,
        // Each shrink step replays a case against the database.
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batches(), |batches| {
        rt.block_on(run_case(&app.state, &fixture, batches))
    });
    // The app and its database go inside the runtime they were made in.
    rt.block_on(async move { drop(app) });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, batches)) => panic!("{why}\nminimal case: {batches:#?}"),
        Err(TestError::Abort(why)) => panic!("aborted: {why}"),
    }
}

/// The admin who adjusts and the carrier account calls are placed on, shared by every case.
pub struct Fixture {
    admin: Viewer,
    account: Uuid,
}

impl Fixture {
    async fn new(state: &AppState) -> Self {
        let admin = new_user(state, "ADMIN").await;
        let account = Uuid::new_v4();
        let mut conn = state.conn().await.unwrap();
        diesel::sql_query(
            "INSERT INTO twilio_accounts (id, name, account_sid, auth_token_sealed, auth_token_last4, api_base_url, status)
             VALUES ($1, 'props', $2, 'sealed', 'abcd', 'http://127.0.0.1:9', 'ACTIVE')",
        )
        .bind::<SqlUuid, _>(account)
        .bind::<Text, _>(format!("AC{}", Uuid::new_v4().simple()))
        .execute(&mut conn)
        .await
        .unwrap();
        Self {
            admin: Viewer {
                id: admin,
                role: Role::Admin,
                scopes: None,
            },
            account,
        }
    }
}

async fn new_user(state: &AppState, role: &str) -> Uuid {
    let id = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, 'unused', $3)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(format!("props-{}@example.com", id.simple()))
    .bind::<Text, _>(role)
    .execute(&mut state.conn().await.unwrap())
    .await
    .unwrap();
    id
}

/// A fresh user holding one ACTIVE number on the fixture's account, to dial legs from.
async fn new_owner(state: &AppState, fixture: &Fixture) -> Owner {
    let user = new_user(state, "USER").await;
    // Numbers from a counter: a random one collides now and then across a run's many cases.
    static NEXT_NUMBER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let did = Uuid::new_v4();
    let n = NEXT_NUMBER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let did_number = format!("+84283{n:07}");
    diesel::sql_query(
        "INSERT INTO dids (id, twilio_account_id, phone_number, twilio_sid, country, assigned_user_id)
         VALUES ($1, $2, $3, $4, 'VN', $5)",
    )
    .bind::<SqlUuid, _>(did)
    .bind::<SqlUuid, _>(fixture.account)
    .bind::<Text, _>(&did_number)
    .bind::<Text, _>(format!("PN{}", did.simple()))
    .bind::<SqlUuid, _>(user)
    .execute(&mut state.conn().await.unwrap())
    .await
    .unwrap();
    Owner {
        user,
        did,
        did_number,
    }
}

/// One case: a fresh owner, the batches in order, each batch's operations as tasks at once,
/// the books checked after each batch.
async fn run_case(
    state: &AppState,
    fixture: &Arc<Fixture>,
    batches: Vec<Vec<Op>>,
) -> Result<(), TestCaseError> {
    let mut books = Books::new(new_owner(state, fixture).await);
    for batch in batches {
        let before = books.snapshot(state).await;
        let start = books.start(before.available());
        let tasks: Vec<_> = batch
            .iter()
            .map(|op| {
                tokio::spawn(ops::run(
                    state.clone(),
                    fixture.clone(),
                    start.clone(),
                    op.clone(),
                ))
            })
            .collect();
        let outcomes = futures_util::future::join_all(tasks).await;
        for (op, done) in batch.iter().zip(outcomes) {
            let done = done
                .map_err(|e| TestCaseError::fail(format!("{op:?} panicked: {e}")))?
                .map_err(|e| TestCaseError::fail(format!("{op:?} failed: {e}")))?;
            // Only an operation run alone can be judged against the balance it started from.
            if batch.len() == 1 {
                books.check_refusal(state, &before, op, &done).await?;
            }
            books.record(done);
        }
        books.check(state).await?;
    }
    Ok(())
}
