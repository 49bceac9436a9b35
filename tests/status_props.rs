//! `calls::status::apply` against PostgreSQL: whatever the carrier's reports go through (lost,
//! repeated, reordered, delivered at once, mixed with reconciliation's reports, and with a
//! stale "never placed" decision landing after the SID arrived), the call ends in the carrier's
//! own record, its duration included.

use std::time::Duration;

use chrono::Utc;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use ringcast::app::AppState;
use ringcast::calls::model::EventSource;
use ringcast::calls::status::{apply_if, Expect, StatusUpdate};
use ringcast::calls::{Call, CallStatus};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::carrier::Carrier;
use crate::helpers::TestApp;

/// How the carrier itself recorded the call.
#[derive(Clone, Debug)]
struct Record {
    status: CallStatus,
    duration: i32,
}

#[derive(Clone, Debug)]
enum Report {
    /// A status callback for an in-flight state.
    Progress(CallStatus),
    /// The final status callback.
    Final,
    /// Reconciliation fetched the call while it was still in this in-flight state.
    ReconcileMid(CallStatus),
    /// Reconciliation fetched the finished call.
    ReconcileFinal,
    /// Reconciliation read the row before any SID, found nothing listed, and decided "never
    /// placed" after a callback had stored the SID.
    StaleNeverPlaced,
}

#[derive(Clone, Debug)]
struct Case {
    record: Record,
    /// Delivered in order; each inner vector is delivered all at once.
    batches: Vec<Vec<Report>>,
}

const IN_FLIGHT: [CallStatus; 3] = [
    CallStatus::Initiated,
    CallStatus::Ringing,
    CallStatus::InProgress,
];

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (1i32..=900).prop_map(|duration| Record {
            status: CallStatus::Completed,
            duration
        }),
        select(vec![
            CallStatus::Busy,
            CallStatus::NoAnswer,
            CallStatus::Failed,
            CallStatus::Canceled,
        ])
        .prop_map(|status| Record {
            status,
            duration: 0
        }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        record(),
        subsequence(IN_FLIGHT.to_vec(), 1..=3),
        proptest::collection::vec(0usize..=3, 3),
        0usize..=3,
        proptest::collection::vec(select(IN_FLIGHT.to_vec()), 0..=2),
        0usize..=2,
        any::<bool>(),
        any::<u64>(),
        proptest::collection::vec(1usize..=3, 1..=12),
    )
        .prop_map(
            |(record, progress, copies, finals, mids, reconcile_finals, stale, seed, sizes)| {
                let mut reports: Vec<Report> = progress
                    .iter()
                    .zip(&copies)
                    .flat_map(|(s, n)| std::iter::repeat_n(Report::Progress(*s), *n))
                    .collect();
                reports.extend(std::iter::repeat_n(Report::Final, finals));
                reports.extend(mids.into_iter().map(Report::ReconcileMid));
                reports.extend(std::iter::repeat_n(
                    Report::ReconcileFinal,
                    reconcile_finals,
                ));
                // A deterministic shuffle from the seed keeps the case shrinkable.
                let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
                rand::seq::SliceRandom::shuffle(reports.as_mut_slice(), &mut rng);
                // The SID always reaches the row first, alone: a callback that carries it, then
                // the stale decision (before it, "never placed" would be a true verdict).
                if stale {
                    reports.insert(0, Report::StaleNeverPlaced);
                }
                let mut batches = vec![vec![Report::Progress(progress[0])]];
                let mut rest = reports.as_slice();
                for size in sizes.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let (head, tail) = rest.split_at((*size).min(rest.len()));
                    batches.push(head.to_vec());
                    rest = tail;
                }
                Case { record, batches }
            },
        )
}

/// The carrier's SID for our call (unique, as our calls table requires).
fn sid(call_id: Uuid) -> String {
    format!("CA{}", call_id.simple())
}

fn update(call_id: Uuid, record: &Record, report: &Report) -> (StatusUpdate, Expect) {
    let base = StatusUpdate {
        call_id,
        status: record.status,
        sequence: None,
        duration_secs: None,
        answered_by: None,
        twilio_sid: Some(sid(call_id)),
        occurred_at: Utc::now(),
        source: EventSource::Webhook,
        detail: json!({}),
    };
    match report {
        Report::Progress(status) => (
            StatusUpdate {
                status: *status,
                ..base
            },
            Expect::Any,
        ),
        Report::Final => (
            StatusUpdate {
                duration_secs: Some(record.duration),
                ..base
            },
            Expect::Any,
        ),
        Report::ReconcileMid(status) => (
            StatusUpdate {
                status: *status,
                source: EventSource::Reconcile,
                ..base
            },
            Expect::Any,
        ),
        Report::ReconcileFinal => (
            StatusUpdate {
                duration_secs: Some(record.duration),
                source: EventSource::Reconcile,
                ..base
            },
            Expect::Any,
        ),
        Report::StaleNeverPlaced => (
            StatusUpdate {
                status: CallStatus::Failed,
                twilio_sid: None,
                source: EventSource::Reconcile,
                ..base
            },
            Expect::Unplaced {
                quiet_before: Utc::now() - chrono::Duration::minutes(10),
            },
        ),
    }
}

async fn run_case(
    app: &TestApp,
    owner: &str,
    account: &str,
    from: &str,
    case: Case,
) -> Result<(), TestCaseError> {
    let id = app.call_row(owner, account, from, "+84912345670", 30).await;
    let state: &AppState = &app.state;
    let mut delivered_final = false;
    for batch in &case.batches {
        let runs = batch.iter().map(|report| {
            let (update, expect) = update(id, &case.record, report);
            apply_if(state, update, expect)
        });
        for (report, done) in batch.iter().zip(futures_util::future::join_all(runs).await) {
            done.map_err(|e| TestCaseError::fail(format!("{report:?} failed: {e:?}")))?;
            delivered_final |= matches!(report, Report::Final | Report::ReconcileFinal);
        }
    }
    if !delivered_final {
        // Every final report was lost: the periodic reconciliation fetches the call.
        let (update, expect) = update(id, &case.record, &Report::ReconcileFinal);
        apply_if(state, update, expect)
            .await
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    }
    let mut conn = state
        .db
        .get()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let call = Call::find(&mut conn, id)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(call.status, case.record.status, "the carrier's final state");
    prop_assert_eq!(
        call.duration_secs,
        Some(case.record.duration),
        "the carrier's duration"
    );
    prop_assert_eq!(call.twilio_sid, Some(sid(id)));
    Ok(())
}

#[test]
fn any_delivery_of_the_carriers_reports_converges_to_its_record() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, carrier, owner, account) = rt.block_on(async {
        let app = TestApp::new().await;
        let admin = app.admin_token().await;
        let carrier = Carrier::start(1).await;
        let account = app.add_carrier_account(&admin, &carrier).await;
        let (_, _, _, owner) = app.user().await;
        (app, carrier, owner, account)
    });
    let from = carrier.numbers()[0].clone();
    let mut runner = TestRunner::new(Config {
        cases: 96,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |case| {
        rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                run_case(&app, &owner, &account, &from, case),
            )
            .await
            .map_err(|_| TestCaseError::fail("a case took over 30 s"))?
        })
    });
    rt.block_on(async move {
        drop(carrier);
        drop(app)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, case)) => panic!("{why}\nminimal case: {case:#?}"),
        Err(TestError::Abort(why)) => panic!("aborted: {why}"),
    }
}
