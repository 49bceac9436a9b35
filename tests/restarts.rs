//! A server that outlives its database: PostgreSQL restarted under a running campaign. The
//! cluster is private to this test, so no other test loses its connections.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ringcast::db::embedded::{find_server_binaries, PrivateCluster};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::remote::Remote;

const PASSWORD: &str = "restart test password";
const CALLS_PER_SECOND: f64 = 2.0;
const MAX_CONCURRENT: usize = 5;

#[tokio::test]
async fn a_postgresql_restart_mid_campaign_is_survived_and_the_campaign_finishes() {
    let bin_dir =
        find_server_binaries().expect("PostgreSQL server binaries (apt-get install postgresql)");
    let root = std::env::temp_dir().join(format!(
        "ringcast-restart-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cluster = PrivateCluster::start(&bin_dir, &root.join("postgres"))
        .await
        .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ringcast"))
        .arg("serve")
        .env_clear()
        .current_dir(&root)
        .kill_on_drop(true)
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port),
        )
        .env("DATABASE_POOL_SIZE", "8")
        .env("DATA_DIR", root.join("data"))
        .env("ADMIN_EMAIL", "admin@restart.test")
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("PORT", "0")
        .env("BIND_HOST", "127.0.0.1")
        .env("EMULATOR_TIME_SCALE", "0.01")
        .env("JOB_POLL_INTERVAL_MS", "200")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(root.join("server.log")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.trim().strip_prefix("GraphiQL:") {
                return url.trim().trim_end_matches("/graphiql").to_owned();
            }
        }
        panic!("the server exited before it was ready");
    })
    .await
    .expect("the server started");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let mut api = Remote::new(&base);
    let me = api.login("admin@restart.test", PASSWORD).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dids = api
        .ok("{ dids(first: 1) { edges { node { id } } } }", json!({}))
        .await;
    let did = dids["dids"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.give_number(&me, &did).await;
    let numbers = numbers_open_now(30);
    let id = api
        .start_campaign(
            &did,
            numbers.clone(),
            json!({"callsPerSecond": CALLS_PER_SECOND, "maxConcurrent": MAX_CONCURRENT}),
        )
        .await;

    api.campaign_until(
        &id,
        "a few calls before the restart",
        Duration::from_secs(60),
        |c| c["contactCounts"]["done"].as_i64() >= Some(5),
    )
    .await;
    cluster.restart().unwrap();
    let done = api
        .campaign_until(
            &id,
            "the campaign to finish after the restart",
            Duration::from_secs(120),
            |c| c["status"] == "COMPLETED",
        )
        .await;
    assert_eq!(done["contactCounts"]["done"], 30, "{done}");
    // Judged by the carrier's own record, not by our rows.
    let ledger = carrier_ledger(&api).await;
    let mut to: Vec<&str> = ledger.iter().map(|(to, _)| to.as_str()).collect();
    to.sort_unstable();
    let mut asked = numbers.iter().map(String::as_str).collect::<Vec<_>>();
    asked.sort_unstable();
    assert_eq!(
        to, asked,
        "the carrier placed one call per contact, none twice"
    );
    assert_paced(&ledger, CALLS_PER_SECOND, MAX_CONCURRENT);

    child.kill().await.unwrap();
    cluster.stop();
    let _ = std::fs::remove_dir_all(&root);
}

/// (to, created at) of every call the server's built-in emulator placed, in order.
async fn carrier_ledger(api: &Remote) -> Vec<(String, DateTime<Utc>)> {
    let accounts = api
        .ok(
            "{ twilioAccounts { edges { node { apiBaseUrl } } } }",
            json!({}),
        )
        .await;
    let base = accounts["twilioAccounts"]["edges"][0]["node"]["apiBaseUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let body: Value = reqwest::get(format!("{base}/emulator/ledger"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut calls: Vec<(String, DateTime<Utc>)> = body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["to"].as_str().unwrap().to_owned(),
                c["created_at"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    calls.sort_by_key(|(_, at)| *at);
    calls
}

/// Pacing reserves start slots 1/cps apart in the database; a placement sleeps to its slot,
/// then makes two database round trips and the request. Over any span, the carrier sees at most
/// cps x span calls, plus what that send delay can bunch together: `JITTER` in normal running,
/// and after the outage the claims that waited on the database going out together: fewer than
/// `max_concurrent` beyond the first (a claim counts against it from the moment it is recorded).
fn assert_paced(ledger: &[(String, DateTime<Utc>)], cps: f64, max_concurrent: usize) {
    const JITTER: f64 = 0.25;
    let mut worst = (0.0_f64, 0, 0);
    for i in 0..ledger.len() {
        for j in i + 1..ledger.len() {
            let span = (ledger[j].1 - ledger[i].1).num_microseconds().unwrap() as f64 / 1e6;
            // Calls after the i-th within `span`, beyond what the rate allows.
            let excess = (j - i) as f64 - cps * span;
            if excess > worst.0 {
                worst = (excess, i, j);
            }
        }
    }
    let (excess, i, j) = worst;
    eprintln!("pacing: worst excess {excess:.2} calls between #{i} and #{j}");
    assert!(
        excess <= cps * JITTER + (max_concurrent - 1) as f64,
        "calls {i}..{j} came {excess:.2} calls faster than {cps}/s: {ledger:?}"
    );
}
