//! A server that outlives its database: PostgreSQL restarted under a running campaign. The
//! cluster is private to this test, so no other test loses its connections.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use ringcast::db::embedded::{find_server_binaries, PrivateCluster};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::helpers::calling_hours::numbers_open_now;
use crate::helpers::remote::Remote;

const PASSWORD: &str = "restart test password";

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
        .env("DATABASE_POOL_SIZE", "4")
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
    let id = api
        .start_campaign(
            &did,
            numbers_open_now(30),
            json!({"callsPerSecond": 2, "maxConcurrent": 5}),
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
    let calls = api
        .ok("query($id: ID!) { calls(first: 100, filter: {campaignId: $id}) { edges { node { to } } } }", json!({"id": id}))
        .await;
    let mut to: Vec<&str> = calls["calls"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["to"].as_str().unwrap())
        .collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), 30, "one call per contact, none twice");
    assert_eq!(calls["calls"]["edges"].as_array().unwrap().len(), 30);

    child.kill().await.unwrap();
    cluster.stop();
    let _ = std::fs::remove_dir_all(&root);
}
