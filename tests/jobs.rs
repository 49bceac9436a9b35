//! The job queue: retries, dedupe, panics, exclusive claims, NOTIFY wake-up, periodic jobs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel_async::RunQueryDsl;
use ringcast::jobs::queue::{self, NewJob};
use ringcast::jobs::runner::JobOutcome;
use ringcast::jobs::{BackgroundJob, Job, PeriodicJob, Registry, Runner, Scheduler};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::helpers::{eventually, TestApp};

async fn enqueue_raw(
    app: &TestApp,
    job_type: &'static str,
    data: serde_json::Value,
    dedupe_key: Option<&str>,
) -> bool {
    let mut conn = app.state.db.get().await.unwrap();
    queue::insert(
        &mut conn,
        NewJob {
            job_type,
            data,
            dedupe_key: dedupe_key.map(str::to_owned),
            priority: 0,
        },
    )
    .await
    .unwrap()
}

fn runner(app: &TestApp, registry: Registry) -> Runner {
    Runner::new(
        app.state.db.clone(),
        registry,
        app.state.config.jobs.clone(),
    )
}

#[tokio::test]
async fn a_failing_job_is_retried_until_it_succeeds() {
    let app = TestApp::new().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::default();
    let seen = attempts.clone();
    registry.register_fn("flaky", move |_| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            anyhow::ensure!(n > 0, "first attempt fails");
            Ok(())
        }
    });
    enqueue_raw(&app, "flaky", serde_json::json!({}), None).await;
    let outcomes = runner(&app, registry).drain().await.unwrap();
    assert!(
        matches!(&outcomes[0], JobOutcome::Failed { error, .. } if error.contains("first attempt fails"))
    );
    assert!(matches!(&outcomes[1], JobOutcome::Succeeded { .. }));
    assert_eq!(outcomes.len(), 2);
    assert_eq!(app.job_count().await, 0);
}

#[tokio::test]
async fn a_panicking_job_is_recorded_as_failed_and_kept() {
    let app = TestApp::new().await;
    let mut registry = Registry::default();
    registry.register_fn("panics", |_| async { panic!("job bug") });
    enqueue_raw(&app, "panics", serde_json::json!({}), None).await;
    let runner = runner(&app, registry);
    let outcome = runner.run_one().await.unwrap().unwrap();
    assert!(
        matches!(&outcome, JobOutcome::Failed { error, .. } if error.contains("job bug")),
        "{outcome:?}"
    );
    assert_eq!(
        app.job_count().await,
        1,
        "a failed job stays queued for its retry"
    );
    app.execute_sql("DELETE FROM background_jobs").await;
}

#[tokio::test]
async fn jobs_with_the_same_key_are_queued_once() {
    let app = TestApp::new().await;
    assert!(enqueue_raw(&app, "noop", serde_json::json!({}), Some("k")).await);
    assert!(!enqueue_raw(&app, "noop", serde_json::json!({}), Some("k")).await);
    assert!(enqueue_raw(&app, "noop", serde_json::json!({}), Some("other")).await);
    assert_eq!(app.job_count().await, 2);
    let mut registry = Registry::default();
    registry.register_fn("noop", |_| async { Ok(()) });
    assert_eq!(runner(&app, registry).drain().await.unwrap().len(), 2);
}

#[tokio::test]
async fn two_workers_never_run_one_job_twice() {
    let app = TestApp::new().await;
    let runs: Arc<Mutex<HashMap<i64, usize>>> = Arc::default();
    let mut registry = Registry::default();
    let seen = runs.clone();
    registry.register_fn("count", move |data| {
        let seen = seen.clone();
        async move {
            // Let the other worker interleave while this job holds its lock.
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            *seen
                .lock()
                .unwrap()
                .entry(data["n"].as_i64().unwrap())
                .or_default() += 1;
            Ok(())
        }
    });
    for n in 0..60 {
        enqueue_raw(&app, "count", serde_json::json!({"n": n}), None).await;
    }
    // Separate pools: as two processes would have.
    let other_pool = ringcast::db::pool(&app.db.url, 4).unwrap();
    let a = runner(&app, registry.clone());
    let b = Runner::new(other_pool, registry, app.state.config.jobs.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.drain().await.unwrap() }),
        tokio::spawn(async move { b.drain().await.unwrap() })
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.len() + rb.len(), 60);
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 60);
    assert!(runs.values().all(|&count| count == 1), "{runs:?}");
}

#[tokio::test]
async fn a_running_worker_wakes_on_notify_without_polling() {
    let app = TestApp::new().await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut registry = Registry::default();
    let seen = done.clone();
    registry.register_fn("wake", move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    // One worker on a pool of its own with one connection, and a poll far beyond the deadline
    // below: once that connection is back in the pool, the worker's startup poll is over and only
    // a NOTIFY (or an hour) can make it claim again.
    let mut settings = app.state.config.jobs.clone();
    settings.poll_interval = Duration::from_secs(3600);
    settings.workers = 1;
    let worker_pool = ringcast::db::pool(&app.db.url, 1).unwrap();
    let runner = Runner::new(worker_pool.clone(), registry, settings);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner.run(app.db.url.clone(), shutdown.clone()));
    eventually(
        Duration::from_secs(10),
        "the worker's startup poll",
        || async {
            let status = worker_pool.status();
            (status.size == 1 && status.available == 1).then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(10), "the LISTEN connection", || async {
        let mut conn = app.state.db.get().await.unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::sql_query(
            // Other tests' workers listen too, each in its own database.
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN background_jobs%' AND datname = current_database()",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        (n.n > 0).then_some(())
    })
    .await;
    enqueue_raw(&app, "wake", serde_json::json!({}), None).await;
    eventually(Duration::from_secs(10), "the job to run", || async {
        (AtomicUsize::load(&done, Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn periodic_jobs_are_enqueued_once_per_interval_across_nodes() {
    let app = TestApp::new().await;
    let periodic = vec![PeriodicJob::new(
        &ringcast::auth::jobs::PurgeExpiredTokens,
        Duration::from_secs(3600),
    )];
    let node_a = Scheduler::new(app.state.db.clone(), periodic.clone());
    let node_b = Scheduler::new(ringcast::db::pool(&app.db.url, 2).unwrap(), periodic);
    let (a, b) = tokio::join!(node_a.tick(), node_b.tick());
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    assert!(
        node_a.tick().await.unwrap().is_empty(),
        "not due again within the interval"
    );
    assert_eq!(app.job_count().await, 1);
    let registry = ringcast::cli::jobs::registry(&app.state);
    assert_eq!(runner(&app, registry).drain().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_purge_job_removes_expired_tokens_and_old_failures_only() {
    let app = TestApp::new().await;
    let (email, password, ..) = app.user().await;
    app.tokens(&email, &password).await;
    app.login(&email, "wrong password").await;
    app.execute_sql("UPDATE refresh_tokens SET expires_at = now() - interval '1 day' WHERE id IN (SELECT id FROM refresh_tokens LIMIT 1)").await;
    app.execute_sql("INSERT INTO login_failures (email, ip, failed_at) VALUES ('old@example.com', '1.2.3.4', now() - interval '1 hour')").await;

    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        tokens: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        failures: i64,
    }
    let counts = || async {
        let mut conn = app.state.db.get().await.unwrap();
        let c: Counts = diesel::sql_query("SELECT (SELECT count(*) FROM refresh_tokens) AS tokens, (SELECT count(*) FROM login_failures) AS failures")
            .get_result(&mut conn)
            .await
            .unwrap();
        (c.tokens, c.failures)
    };
    let (tokens_before, failures_before) = counts().await;
    assert_eq!(failures_before, 2);

    let mut conn = app.state.db.get().await.unwrap();
    ringcast::jobs::enqueue(&mut conn, &ringcast::auth::jobs::PurgeExpiredTokens)
        .await
        .unwrap();
    drop(conn);
    let ran = runner(&app, ringcast::cli::jobs::registry(&app.state))
        .drain()
        .await
        .unwrap();
    assert!(
        matches!(&ran[..], [JobOutcome::Succeeded { job_type, .. }] if job_type == ringcast::auth::jobs::PurgeExpiredTokens::JOB_TYPE)
    );
    assert_eq!(counts().await, (tokens_before - 1, 1));
}

#[derive(Serialize, Deserialize)]
struct Typed {
    value: u32,
}

impl Job for Typed {
    const JOB_TYPE: &'static str = "typed";

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("typed:{}", self.value))
    }
}

impl BackgroundJob for Typed {
    async fn run(self, _: ringcast::app::AppState) -> anyhow::Result<()> {
        anyhow::ensure!(self.value == 7, "wrong payload");
        Ok(())
    }
}

#[tokio::test]
async fn typed_jobs_round_trip_their_payload_and_enqueue_inside_transactions() {
    use diesel_async::AsyncConnection;
    let app = TestApp::new().await;
    let mut conn = app.state.db.get().await.unwrap();
    // Rolled back: the job must vanish with the transaction.
    let _ = conn
        .transaction::<(), diesel::result::Error, _>(async |conn| {
            ringcast::jobs::enqueue(conn, &Typed { value: 7 }).await?;
            Err(diesel::result::Error::RollbackTransaction)
        })
        .await;
    assert_eq!(app.job_count().await, 0);
    ringcast::jobs::enqueue(&mut conn, &Typed { value: 7 })
        .await
        .unwrap();
    drop(conn);
    let mut registry = Registry::default();
    registry.register::<Typed>(app.state.clone());
    let ran = runner(&app, registry).drain().await.unwrap();
    assert!(
        matches!(&ran[..], [JobOutcome::Succeeded { .. }]),
        "{ran:?}"
    );
}
