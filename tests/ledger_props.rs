//! The ledger against PostgreSQL under random interleavings of top-ups, admin adjustments, call
//! holds, status callbacks and the orphan sweep, some run at once, through the server's own
//! functions (`ops`). After every step the books must balance (`books`).

mod books;
mod ops;

use chrono::Utc;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use ringcast::app::AppState;
use ringcast::auth::Viewer;
use ringcast::billing::rates::Rate;
use ringcast::calls::CallStatus;
use ringcast::users::Role;
use uuid::Uuid;

use crate::helpers::TestApp;
use books::Books;

/// A set amount, or one set against the available balance when its batch starts, so that
/// refusals are tried right at their edge.
#[derive(Clone, Copy, Debug)]
enum Amount {
    Fixed(i64),
    /// For an adjustment: what it leaves available. For a hold: how far it exceeds what is.
    Edge(i64),
}

#[derive(Clone, Debug)]
enum Op {
    /// A payment settles and its top-up is credited.
    TopUp(i64),
    /// A settled payment reported again: crediting it a second time must fail.
    TopUpAgain(usize),
    /// An admin credit or debit; zero, or a debit past the available balance, is refused.
    Adjust(Amount),
    /// The dispatcher places a call and holds the price of its longest allowed duration (or,
    /// with `edge`, an amount next to the available balance).
    Hold {
        rate: Rate,
        max_secs: i64,
        edge: Option<i64>,
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

fn rate() -> impl Strategy<Value = Rate> {
    (
        0i64..=3_000,
        select(vec![1, 6, 30, 60]),
        select(vec![1, 6, 60]),
        prop_oneof![Just(0i64), 1i64..=500],
    )
        .prop_map(|(per_minute, first, step, fee)| Rate {
            prefix: String::new(),
            per_minute,
            initial_increment: first,
            billing_increment: step,
            connection_fee: fee,
            description: None,
            updated_at: Utc::now(),
        })
}

fn op() -> impl Strategy<Value = Op> {
    let call = 0usize..8;
    let edge = -3i64..=3;
    let amount = prop_oneof![
        3 => (-200_000i64..=150_000).prop_map(Amount::Fixed),
        1 => edge.clone().prop_map(Amount::Edge),
    ];
    let hold = (rate(), 0i64..=900, proptest::option::weighted(0.2, edge));
    prop_oneof![
        3 => (1i64..=150_000).prop_map(Op::TopUp),
        1 => (0usize..4).prop_map(Op::TopUpAgain),
        3 => amount.prop_map(Op::Adjust),
        5 => hold.prop_map(|(rate, max_secs, edge)| Op::Hold { rate, max_secs, edge }),
        2 => (call.clone(), select(vec![CallStatus::Ringing, CallStatus::InProgress]), any::<bool>())
            .prop_map(|(call, status, sid)| Op::Progress { call, status, sid }),
        4 => (call.clone(), select(FINALS.to_vec()), 0i32..=1_500, any::<bool>(), any::<bool>())
            .prop_map(|(call, status, duration, sid, twice)| Op::Finish { call, status, duration, sid, twice }),
        2 => (call, select(FINALS.to_vec()), 0i32..=1_500)
            .prop_map(|(call, status, duration)| Op::Orphan { call, status, duration }),
    ]
}

/// Batches of up to four operations; the operations of a batch run at once. Most cases open
/// with a top-up, so that calls get placed; the rest start from nothing.
fn batches() -> impl Strategy<Value = Vec<Vec<Op>>> {
    (
        proptest::option::weighted(0.8, (1i64..=300_000).prop_map(Op::TopUp)),
        proptest::collection::vec(proptest::collection::vec(op(), 1..=4), 1..=12),
    )
        .prop_map(|(opening, rest)| opening.map(|op| vec![op]).into_iter().chain(rest).collect())
}

#[test]
fn random_interleavings_keep_the_books_balanced() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, fixture) = rt.block_on(async {
        let app = TestApp::new().await;
        let fixture = Fixture::new(&app.state).await;
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
struct Fixture {
    admin: Viewer,
    account: Uuid,
}

impl Fixture {
    async fn new(state: &AppState) -> Self {
        let admin = new_user(state, "ADMIN").await;
        let account = Uuid::new_v4();
        let mut conn = state.conn().await.unwrap();
        diesel::sql_query(
            "INSERT INTO twilio_accounts (id, name, account_sid, auth_token_sealed, auth_token_last4, api_base_url)
             VALUES ($1, 'props', $2, 'sealed', 'abcd', 'http://127.0.0.1:9')",
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

/// One case: a fresh user, the batches in order, the books checked after each.
async fn run_case(
    state: &AppState,
    fixture: &Fixture,
    batches: Vec<Vec<Op>>,
) -> Result<(), TestCaseError> {
    let mut books = Books::new(new_user(state, "USER").await);
    for batch in batches {
        let before = books.snapshot(state).await;
        let runs = batch
            .iter()
            .map(|op| ops::run(state, fixture, &books, before.available(), op));
        let outcomes = futures_util::future::join_all(runs).await;
        for (op, done) in batch.iter().zip(outcomes) {
            let done = done.map_err(|e| TestCaseError::fail(format!("{op:?} failed: {e}")))?;
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
