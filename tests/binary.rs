//! The real `ringcast` binary, started with (almost) nothing in its environment.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::db::TestDb;
use crate::helpers::unique_email;

const BIN: &str = env!("CARGO_BIN_EXE_ringcast");

fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringcast-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn command(dir: &PathBuf, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().current_dir(dir).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

struct Running {
    child: Child,
    base: String,
    stdout: Vec<String>,
}

/// Starts `serve` on a free port and reads stdout until the GraphiQL line.
async fn start(dir: &PathBuf, env: &[(&str, &str)]) -> Running {
    let mut env = env.to_vec();
    env.push(("PORT", "0"));
    let mut child = command(dir, &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            stdout.push(line.clone());
            if let Some(url) = line.trim().strip_prefix("GraphiQL: ") {
                return url.trim_end_matches("/graphiql").to_owned();
            }
        }
        panic!("the server exited before printing its URL: {stdout:?}");
    })
    .await
    .expect("the server did not start within 60 s");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Running {
        child,
        base,
        stdout,
    }
}

impl Running {
    async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    async fn stop(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id().unwrap() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("no exit after SIGTERM")
            .unwrap();
        assert!(
            status.success(),
            "graceful shutdown must exit 0, got {status}"
        );
    }
}

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }";

#[tokio::test]
async fn with_only_a_database_url_it_prints_the_admin_and_serves_graphql() {
    let db = TestDb::new().await;
    let dir = work_dir();
    let server = start(&dir, &[("DATABASE_URL", &db.url)]).await;
    let password = server
        .stdout
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password: ")
                .map(|p| p.split_whitespace().next().unwrap().to_owned())
        })
        .unwrap_or_else(|| panic!("no generated password printed: {:?}", server.stdout));
    assert!(server
        .stdout
        .iter()
        .any(|l| l.contains("admin@ringcast.local")));

    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let login = server
        .gql(
            None,
            LOGIN,
            json!({"i": {"email": "admin@ringcast.local", "password": password}}),
        )
        .await;
    let access = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned();
    let r1 = login["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = server
        .gql(Some(&access), "{ me { email role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["role"], "ADMIN");

    // Rotation and reuse detection over HTTP.
    let rotated = server
        .gql(None, REFRESH, json!({"i": {"refreshToken": r1}}))
        .await;
    let r2 = rotated["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let reused = server
        .gql(None, REFRESH, json!({"i": {"refreshToken": r1}}))
        .await;
    assert_eq!(reused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let after = server
        .gql(None, REFRESH, json!({"i": {"refreshToken": r2}}))
        .await;
    assert_eq!(
        after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "family revoked"
    );

    // Reuse detection ended the family's access token too; sign in afresh.
    let dead = server
        .gql(Some(&access), "{ me { email } }", json!({}))
        .await;
    assert_eq!(dead["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let login = server
        .gql(
            None,
            LOGIN,
            json!({"i": {"email": "admin@ringcast.local", "password": password}}),
        )
        .await;
    let access = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned();

    // With no Twilio account configured, the built-in emulator is registered as "Simulated".
    let accounts = server
        .gql(Some(&access), "{ twilioAccounts { edges { node { name isSimulated status } } } dids { edges { node { phoneNumber voiceUrl } } } }", json!({}))
        .await;
    assert_eq!(
        accounts["data"]["twilioAccounts"]["edges"][0]["node"]["name"], "Simulated",
        "{accounts}"
    );
    assert_eq!(
        accounts["data"]["twilioAccounts"]["edges"][0]["node"]["isSimulated"],
        true
    );
    let dids = accounts["data"]["dids"]["edges"].as_array().unwrap();
    assert_eq!(dids.len(), 4);
    assert!(dids.iter().any(|d| d["node"]["phoneNumber"]
        .as_str()
        .unwrap()
        .starts_with("+84")));
    assert!(dids
        .iter()
        .any(|d| d["node"]["phoneNumber"].as_str().unwrap().starts_with("+1")));
    assert!(dids
        .iter()
        .all(|d| d["node"]["voiceUrl"]
            == format!("{}/webhooks/twilio/inbound", server.base).as_str()));

    // Secrets were generated into ./data with private permissions.
    for name in ["jwt_secret", "encryption_key"] {
        let mode = std::fs::metadata(dir.join("data").join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    server.stop().await;
    clear_jobs(&db.url).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn with_no_database_url_it_uses_the_local_server() {
    let dir = work_dir();
    // A database of its own on the local server: the shared `ringcast` one may hold running
    // campaigns (from `cargo run`) that this node's dispatcher would otherwise dial.
    let name = format!("ringcast_bin_{}", uuid::Uuid::new_v4().simple());
    let server = start(&dir, &[("DATABASE_NAME", &name)]).await;
    let email = unique_email("local");
    let registered = server
        .gql(
            None,
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({"i": {"email": email, "password": "long enough"}}),
        )
        .await;
    assert!(
        registered["data"]["register"]["accessToken"].is_string(),
        "{registered}"
    );
    let login = server
        .gql(
            None,
            LOGIN,
            json!({"i": {"email": email, "password": "long enough"}}),
        )
        .await;
    let access = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = server
        .gql(Some(&access), "{ me { email } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["email"], email.as_str());
    server.stop().await;
    let mut admin = AsyncPgConnection::establish("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    let created: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(&mut admin)
    .await
    .unwrap();
    assert_eq!(created, 1, "the node used the database it was told to");
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn serve_refuses_a_database_with_unknown_migrations() {
    let db = TestDb::new().await;
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('99991231235959')")
        .execute(&mut conn)
        .await
        .unwrap();
    let dir = work_dir();
    let output = command(&dir, &[("DATABASE_URL", &db.url), ("PORT", "0")])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not know") && stderr.contains("99991231235959"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn doctor_setup_and_create_admin() {
    let db = TestDb::new().await;
    let dir = work_dir();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("JWT_SECRET", "doctor-secret"),
        (
            "ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
    ];
    let doctor = command(&dir, &env).arg("doctor").output().await.unwrap();
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(!doctor.status.success(), "no admin yet: {report}");
    assert!(report.contains("[FAIL] admin"), "{report}");

    let created = command(&dir, &env)
        .args([
            "create-admin",
            "--email",
            "ops@example.com",
            "--password",
            "ops password",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let doctor = command(&dir, &env).arg("doctor").output().await.unwrap();
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );

    // setup with no secrets configured generates them, and reports each step.
    let setup = command(&dir, &[("DATABASE_URL", &db.url)])
        .arg("setup")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&setup.stdout);
    assert!(setup.status.success(), "{text}");
    for step in [
        "settings",
        "secrets",
        "migrations",
        "admin",
        "phone number webhooks",
    ] {
        assert!(
            text.contains(&format!("[ok]   {step}")),
            "missing step {step}: {text}"
        );
    }
    assert!(dir.join("data/jwt_secret").exists());

    // --reset needs the database name typed back.
    let mut reset = command(&dir, &[("DATABASE_URL", &db.url)])
        .args(["setup", "--reset"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    reset
        .stdin
        .take()
        .unwrap()
        .write_all(b"wrong-name\n")
        .await
        .unwrap();
    let out = reset.wait_with_output().await.unwrap();
    assert!(!out.status.success(), "a wrong confirmation must abort");
    let doctor = command(&dir, &env).arg("doctor").output().await.unwrap();
    assert!(doctor.status.success(), "nothing was dropped");

    let mut reset = command(&dir, &[("DATABASE_URL", &db.url)])
        .args(["setup", "--reset"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    reset
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", db.name).as_bytes())
        .await
        .unwrap();
    let out = reset.wait_with_output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("dropped and recreated") && text.contains("created admin@ringcast.local"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn clear_jobs(url: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query("DELETE FROM background_jobs")
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_standalone_emulator_places_a_call_that_fetches_twiml_and_sends_signed_callbacks() {
    let dir = work_dir();
    let sid = format!("AC{}", uuid::Uuid::new_v4().simple());
    let token = "standalone-token-1";
    let mut child = command(&dir, &[("EMULATOR_TIME_SCALE", "0.001")])
        .args([
            "emulator",
            "--port",
            "0",
            "--account-sid",
            &sid,
            "--auth-token",
            token,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let (base, from) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut base = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            printed.push(line.clone());
            if let Some(url) = line.strip_prefix("Twilio emulator listening on ") {
                base = Some(url.trim().to_owned());
            }
            if let Some(numbers) = line.trim().strip_prefix("numbers:") {
                let first = numbers.split(',').next().unwrap().trim().to_owned();
                return (base.unwrap(), first);
            }
        }
        panic!("the emulator exited: {printed:?}");
    })
    .await
    .unwrap();

    let customer = crate::helpers::carrier::Customer::start(token).await;
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/2010-04-01/Accounts/{sid}/Calls.json"))
        .basic_auth(&sid, Some(token))
        .form(&[
            ("To", "+84912345671"),
            ("From", from.as_str()),
            ("Url", &format!("{}/voice", customer.base)),
            ("StatusCallback", &format!("{}/status", customer.base)),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "queued", "{created}");
    crate::helpers::eventually(
        Duration::from_secs(10),
        "the completed callback",
        || async {
            customer
                .hits("status")
                .iter()
                .any(|h| h.get("CallStatus") == Some("completed") && h.signed)
                .then_some(())
        },
    )
    .await;
    let voice = customer.hits("voice");
    assert!(voice.len() == 1 && voice[0].signed);
    assert_eq!(customer.hits("gather")[0].get("Digits"), Some("1"));
    let ledger: Value = reqwest::get(format!("{base}/emulator/ledger"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["calls"].as_array().unwrap().len(), 1);
    assert_eq!(ledger["calls"][0]["to"], "+84912345671");
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(dir);
}
