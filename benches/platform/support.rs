//! What every scenario shares: a scratch database, the app served in-process on a real port,
//! the Twilio emulator, `ringcast` processes, numbers inside calling hours, and the table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use ringcast::app::AppState;
use ringcast::config::{Config, Secret};
use ringcast::emulator::{Emulator, Faults};
use ringcast::keys::Keys;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

/// The `ringcast` binary of this build (cargo builds it for every bench).
const BIN: &str = env!("CARGO_BIN_EXE_ringcast");
pub const JWT_SECRET: &str = "ringcast-bench-jwt-secret-0123456789";
pub const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const ADMIN_EMAIL: &str = "admin@bench.ringcast.local";
const ADMIN_PASSWORD: &str = "bench admin password";

// ---------------------------------------------------------------------------------------------
// Settings and the table

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// One line of the results: what was measured, the figure, the baseline, figure / baseline.
pub struct Row {
    pub what: String,
    pub figure: String,
    pub baseline: String,
    pub ratio: String,
}

impl Row {
    pub fn new(
        what: impl Into<String>,
        figure: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
    ) -> Self {
        let row = Self {
            what: what.into(),
            figure: figure.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
        };
        println!(
            "  => {} | {} | {} | {}",
            row.what, row.figure, row.baseline, row.ratio
        );
        row
    }
}

pub fn ratio(figure: f64, baseline: f64) -> String {
    if baseline > 0.0 {
        format!("{:.2}x", figure / baseline)
    } else {
        "-".into()
    }
}

/// 12,345 style.
pub fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Latencies, sorted once.
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut all: Vec<Duration>) -> Self {
        all.sort_unstable();
        Self(all)
    }

    pub fn pct(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A `/proc/<pid>/status` field in KiB (VmRSS, VmHWM).
pub fn memory_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The 1-minute load average: other work on the machine skews every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

pub fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `nproc`, the CPU model, RAM and PostgreSQL, for the table's caption.
pub async fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_owned(), |m| m.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let postgres = match AsyncPgConnection::establish(&base_url()).await {
        Ok(mut conn) => {
            #[derive(diesel::QueryableByName)]
            struct V {
                #[diesel(sql_type = diesel::sql_types::Text)]
                v: String,
            }
            diesel::sql_query("SELECT current_setting('server_version') AS v")
                .get_result::<V>(&mut conn)
                .await
                .map_or_else(|_| "?".into(), |v| v.v)
        }
        Err(_) => "?".into(),
    };
    format!(
        "{cores} cores (nproc), {model}, {:.1} GiB RAM, PostgreSQL {postgres}",
        mem_total / 1024.0 / 1024.0
    )
}

// ---------------------------------------------------------------------------------------------
// A scratch database

/// The server's maintenance database (`DATABASE_URL`, default the local `postgres`).
pub fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A database of its own per scenario, dropped afterwards.
pub struct Scratch {
    pub url: String,
    name: String,
}

impl Scratch {
    pub async fn create() -> anyhow::Result<Self> {
        let base = base_url();
        let name = format!("ringcast_bench_{}", uuid::Uuid::new_v4().simple());
        let (server, _) = base
            .rsplit_once('/')
            .ok_or_else(|| anyhow!("DATABASE_URL has no database"))?;
        let mut admin = AsyncPgConnection::establish(&base).await?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        Ok(Self {
            url: format!("{server}/{name}"),
            name,
        })
    }

    pub async fn remove(self) -> anyhow::Result<()> {
        let mut admin = AsyncPgConnection::establish(&base_url()).await?;
        diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        Ok(())
    }

    /// Runs `body` on a fresh database and drops it whatever happens.
    pub async fn with<T, F, Fut>(body: F) -> anyhow::Result<T>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<T>>,
    {
        let scratch = Self::create().await?;
        let outcome = body(scratch.url.clone()).await;
        scratch.remove().await?;
        outcome
    }
}

// ---------------------------------------------------------------------------------------------
// The app in this process

#[derive(diesel::QueryableByName)]
pub struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// The real router and state over the scratch database, served on 127.0.0.1 (which is also
/// its `PUBLIC_URL`), with the first admin signed in.
pub struct World {
    pub state: AppState,
    pub base: String,
    pub http: reqwest::Client,
    pub admin_token: String,
    shutdown: CancellationToken,
}

impl World {
    pub async fn start(url: &str, pool_size: usize) -> anyhow::Result<Self> {
        ringcast::db::migrations::run(url).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let config = Config {
            database_pool_size: pool_size,
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(Secret::new(ADMIN_PASSWORD)),
            data_dir: std::env::temp_dir().join("ringcast-bench-data"),
            // Tokens are minted once per run; they must outlive it.
            access_token_ttl: std::time::Duration::from_secs(6 * 3600),
            ..Config::default()
        };
        let shutdown = CancellationToken::new();
        let state = AppState::build(config, url, keys(), base.clone(), shutdown.clone()).await?;
        ringcast::users::service::ensure_first_admin(&state)
            .await
            .map_err(|e| e.into_anyhow())?;
        let router = ringcast::server::router(state.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
            if let Err(e) = served {
                eprintln!("in-process server stopped: {e}");
            }
        });
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut world = Self {
            state,
            base,
            http,
            admin_token: String::new(),
            shutdown,
        };
        let login = world
            .gql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({"i": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}}),
            )
            .await?;
        world.admin_token = string_at(&login, "login.accessToken")?;
        Ok(world)
    }

    /// A GraphQL request over HTTP; `data`, or the errors as an error.
    pub async fn gql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body: Value = request.send().await?.json().await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }

    pub async fn admin(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        self.gql(Some(&self.admin_token), query, variables).await
    }

    pub async fn sql(&self, sql: &str) -> anyhow::Result<usize> {
        let mut conn = self.state.db.get().await?;
        Ok(diesel::sql_query(sql).execute(&mut conn).await?)
    }

    /// `SELECT count(*) ... ` (the query must name its count `n`).
    pub async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        let mut conn = self.state.db.get().await?;
        Ok(diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .await?
            .n)
    }

    /// Registers a user with `balance` VND; returns (access token, id).
    pub async fn user(&self, balance: i64) -> anyhow::Result<(String, String)> {
        let email = format!("user-{}@bench.example.com", uuid::Uuid::new_v4().simple());
        let r = self
            .gql(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken user { id } } }",
                json!({"i": {"email": email, "password": "a good bench password", "name": "Bench User"}}),
            )
            .await?;
        let id = string_at(&r, "register.user.id")?;
        self.admin(
            "mutation($i: AdjustBalanceInput!) { adjustBalance(input: $i) { entry { id } } }",
            json!({"i": {"userId": id, "amount": balance, "reason": "bench balance"}}),
        )
        .await?;
        Ok((string_at(&r, "register.accessToken")?, id))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.state.db.close();
    }
}

pub fn keys() -> Keys {
    Keys {
        jwt_secret: Secret::new(JWT_SECRET),
        encryption_key: Secret::new(ENCRYPTION_KEY),
    }
}

pub fn string_at(value: &Value, path: &str) -> anyhow::Result<String> {
    let mut v = value;
    for key in path.split('.') {
        v = &v[key];
    }
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no string at {path} in {value}"))
}

/// An access token for a user made with SQL (registering thousands through argon2 is slow).
pub async fn mint_token(state: &AppState, user: uuid::Uuid) -> anyhow::Result<String> {
    let session = ringcast::auth::service::session_without_password(state, user)
        .await
        .map_err(|e| e.into_anyhow())?;
    Ok(session.access_token)
}

// ---------------------------------------------------------------------------------------------
// The carrier

/// The Twilio emulator on a real port. With `hold_calls`, calls sit ringing for ever and no
/// status callback is sent: the REST request is all the dispatcher sees of the carrier.
pub struct Carrier {
    pub emulator: Emulator,
    pub base: String,
    /// account SID -> auth token
    pub tokens: HashMap<String, String>,
    shutdown: CancellationToken,
}

impl Carrier {
    pub async fn start(hold_calls: bool) -> anyhow::Result<Self> {
        // Real seconds per simulated second: 1000 keeps every call in its first ring.
        let emulator = Emulator::new(7, if hold_calls { 1000.0 } else { 0.001 });
        if hold_calls {
            emulator.set_faults(Faults {
                drop_callbacks: 100.0,
                ..Faults::default()
            });
        }
        let shutdown = CancellationToken::new();
        let addr = emulator
            .spawn(SocketAddr::from(([127, 0, 0, 1], 0)), shutdown.clone())
            .await?;
        Ok(Self {
            emulator,
            base: format!("http://{addr}"),
            tokens: HashMap::new(),
            shutdown,
        })
    }

    /// An emulator account with one number, registered with the app through GraphQL (added,
    /// tested, numbers imported). Twilio's own queue is set out of the way; the app paces
    /// each account at `cps`.
    pub async fn account(&mut self, world: &World, cps: f64) -> anyhow::Result<String> {
        let sid = format!("AC{}", uuid::Uuid::new_v4().simple());
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.emulator.add_account(&sid, &token, "Bench", 1);
        self.emulator.set_calls_per_second(&sid, 1e9);
        let r = world
            .admin(
                "mutation($i: AddTwilioAccountInput!) { addTwilioAccount(input: $i) { twilioAccount { id } } }",
                json!({"i": {"name": format!("Bench {}", &sid[2..10]), "accountSid": sid, "authToken": token,
                    "apiBaseUrl": self.base, "callsPerSecond": cps}}),
            )
            .await?;
        let id = string_at(&r, "addTwilioAccount.twilioAccount.id")?;
        world
            .admin(
                "mutation($id: ID!) { testTwilioAccount(input: {id: $id}) { twilioAccount { status } } }",
                json!({"id": id}),
            )
            .await?;
        world
            .admin(
                "mutation($id: ID!) { syncTwilioAccount(input: {id: $id}) { imported } }",
                json!({"id": id}),
            )
            .await?;
        self.tokens.insert(sid, token);
        Ok(id)
    }
}

impl Drop for Carrier {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers that may be called

/// `count` distinct mobile numbers (from `offset`) in a country whose calling hours are open
/// now and for the next 30 minutes at least, for `ringcast` processes on the real clock (the
/// plans are tested for every hour in `tests/helpers/calling_hours.rs`).
pub fn numbers_open_now(offset: usize, count: usize) -> anyhow::Result<Vec<String>> {
    crate::calling_hours::numbers_open_at(Utc::now(), offset, count)
        .map(|(_, numbers)| numbers)
        .map_err(|e| anyhow!(e))
}

/// 10:00 in Ho Chi Minh City today: the clock of scenarios that dial in this process, fixed
/// so that Vietnamese numbers are inside their calling hours whenever the bench runs.
pub fn vietnamese_morning() -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    today
        .and_hms_opt(3, 0, 0)
        .map_or_else(Utc::now, |t| t.and_utc())
}

/// Makes this process's request handlers and `dispatcher` judge calling hours at
/// [`vietnamese_morning`]; returns the dispatcher to run.
pub fn fixed_clock_dispatcher(world: &World) -> ringcast::dispatcher::Dispatcher {
    let at = vietnamese_morning();
    world.state.clock.fix(at);
    ringcast::dispatcher::Dispatcher::with_clock(
        world.state.clone(),
        std::sync::Arc::new(move || at),
    )
}

/// The `i`-th Vietnamese mobile number (+84 90 and seven digits: room for 10,000,000).
pub fn vn_number(i: usize) -> String {
    format!("+8490{:07}", i % 10_000_000)
}

/// `count` Vietnamese mobile numbers from `offset`, for scenarios on [`vietnamese_morning`].
pub fn vn_numbers(offset: usize, count: usize) -> Vec<String> {
    (offset..offset + count).map(vn_number).collect()
}

/// Writes `count` contacts of `campaign` with `COPY ... FROM STDIN` (Vietnamese numbers,
/// `state(i)` giving each one's state and skip reason), as a bulk load would, not through the
/// API; then analyzes the table.
pub async fn copy_contacts(
    database_url: &str,
    campaign: uuid::Uuid,
    count: usize,
    state: impl Fn(usize) -> (&'static str, Option<&'static str>),
) -> anyhow::Result<()> {
    use futures_util::SinkExt;
    if count > 10_000_000 {
        bail!("only 10,000,000 Vietnamese numbers in the plan");
    }
    let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    let sink = client
        .copy_in::<_, std::io::Cursor<Vec<u8>>>(
            "COPY campaign_contacts (campaign_id, phone, country, name, vars, state, skip_reason) FROM STDIN",
        )
        .await?;
    futures_util::pin_mut!(sink);
    let mut chunk = String::new();
    for i in 0..count {
        let (state, reason) = state(i);
        chunk.push_str(&format!(
            "{campaign}\t{}\tVN\tKhách {i}\t{{\"time\": \"9:00\"}}\t{state}\t{}\n",
            vn_number(i),
            reason.unwrap_or("\\N")
        ));
        if chunk.len() > 1 << 20 {
            sink.send(std::io::Cursor::new(
                std::mem::take(&mut chunk).into_bytes(),
            ))
            .await?;
        }
    }
    sink.send(std::io::Cursor::new(chunk.into_bytes())).await?;
    let copied = sink.as_mut().finish().await?;
    if copied != count as u64 {
        bail!("COPY wrote {copied} contacts of {count}");
    }
    client
        .batch_execute("VACUUM ANALYZE campaign_contacts")
        .await?;
    drop(client);
    connection.await??;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// `ringcast` processes

/// The real binary on the scratch database: `worker` (dispatcher and jobs) or `serve`.
pub struct Node {
    child: Child,
    pub pid: String,
    /// `serve` only: its base URL.
    pub base: Option<String>,
    dir: PathBuf,
}

impl Node {
    pub async fn start(
        command: &str,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "ringcast-bench-node-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::File::create(dir.join("stderr.log"))?;
        // `NODE_WRAPPER="heaptrack -o /tmp/serve"` runs the node under a profiler (its memory
        // rows then read the wrapper, not the node).
        let wrapper = std::env::var("NODE_WRAPPER").unwrap_or_default();
        let mut wrapper = wrapper.split_whitespace();
        let mut cmd = match wrapper.next() {
            Some(program) => {
                let mut cmd = Command::new(program);
                cmd.args(wrapper).arg(BIN);
                cmd
            }
            None => Command::new(BIN),
        };
        cmd.arg(command)
            .env_clear()
            .current_dir(&dir)
            .kill_on_drop(true)
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("DATA_DIR", &dir)
            .env("PORT", "0")
            .env("BIND_HOST", "127.0.0.1")
            // The emulators this bench runs may receive the credentials registered for them.
            .env(
                "TWILIO_ALLOWED_BASE_URLS",
                ringcast::twilio::endpoint::allowed().join(","),
            )
            .env(
                "RUST_LOG",
                std::env::var("NODE_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {BIN}"))?;
        let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = if command == "serve" {
            "GraphiQL:"
        } else {
            "Ringcast worker running"
        };
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.trim().strip_prefix(ready) {
                    return Ok(rest.trim().strip_suffix("/graphiql").map(str::to_owned));
                }
            }
            bail!("ringcast {command} exited; see {}", dir.display())
        })
        .await
        .map_err(|_| anyhow!("ringcast {command} not ready within 60 s"))??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            base,
            dir,
        })
    }

    pub fn rss_kib(&self) -> u64 {
        memory_kib(&self.pid, "VmRSS:")
    }

    pub fn peak_kib(&self) -> u64 {
        memory_kib(&self.pid, "VmHWM:")
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if std::env::var("NODE_WRAPPER").is_ok_and(|w| !w.trim().is_empty()) {
            // A profiler writes its report once the node exits: stop the node gently.
            let _ = Command::new("pkill")
                .args(["-TERM", "-P", &self.pid])
                .status()
                .await;
            let _ = tokio::time::timeout(Duration::from_secs(300), self.child.wait()).await;
        }
        self.child.kill().await?;
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Bulk data made with SQL

/// A Twilio account row for calls made with SQL (never contacted).
pub async fn bulk_account(world: &World) -> anyhow::Result<uuid::Uuid> {
    let input = ringcast::twilio_accounts::service::AccountInput {
        name: "Bulk".into(),
        account_sid: format!("AC{}", uuid::Uuid::new_v4().simple()),
        auth_token: uuid::Uuid::new_v4().simple().to_string(),
        // Twilio's own host is always allowed, and this account is never contacted.
        api_base_url: Some("https://api.twilio.com".into()),
        calls_per_second: Some(1.0),
    };
    let account = ringcast::twilio_accounts::service::add(&world.state, None, input, false)
        .await
        .map_err(|e| e.into_anyhow())?;
    Ok(account.id)
}

/// `count` users made with SQL, with access tokens minted for them.
pub async fn bulk_users(world: &World, count: usize) -> anyhow::Result<Vec<(uuid::Uuid, String)>> {
    let ids: Vec<uuid::Uuid> = (0..count).map(|_| uuid::Uuid::now_v7()).collect();
    for chunk in ids.chunks(1000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|id| {
                format!(
                    "('{id}', 'bench-{}@bench.example.com', 'x', 'Bench', 'USER')",
                    id.simple()
                )
            })
            .collect();
        world
            .sql(&format!(
                "INSERT INTO users (id, email, password_hash, name, role) VALUES {}",
                values.join(", ")
            ))
            .await?;
    }
    let mut users = Vec::new();
    for id in ids {
        users.push((id, mint_token(&world.state, id).await?));
    }
    Ok(users)
}

/// A REMINDER campaign per owner in `owners` (made with SQL, never started).
pub async fn bulk_campaigns(
    world: &World,
    owners: &[uuid::Uuid],
) -> anyhow::Result<Vec<uuid::Uuid>> {
    let ids: Vec<uuid::Uuid> = owners.iter().map(|_| uuid::Uuid::now_v7()).collect();
    for (chunk_ids, chunk_owners) in ids.chunks(1000).zip(owners.chunks(1000)) {
        let values: Vec<String> = chunk_ids
            .iter()
            .zip(chunk_owners)
            .map(|(id, owner)| {
                format!("('{id}', '{owner}', 'Bench', 'REMINDER', '{{\"text\": \"Xin chào\"}}', '{{}}')")
            })
            .collect();
        world
            .sql(&format!(
                "INSERT INTO campaigns (id, owner_id, name, purpose, message, schedule) VALUES {}",
                values.join(", ")
            ))
            .await?;
    }
    Ok(ids)
}

/// `rows` finished outbound calls over the last 30 days, ids time-ordered like the app's
/// (UUIDv7, so `ORDER BY id` is the order they were made in), spread over `campaigns` (owned
/// by `owners`, same length) in runs of 20, with a realistic mix of outcomes: 60 % completed,
/// 20 % no answer, 10 % busy, 5 % failed, 5 % canceled.
pub async fn bulk_calls(
    world: &World,
    rows: usize,
    account: uuid::Uuid,
    owners: &[uuid::Uuid],
    campaigns: &[uuid::Uuid],
) -> anyhow::Result<()> {
    let array = |ids: &[uuid::Uuid]| {
        format!(
            "'{{{}}}'::uuid[]",
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let (owners, campaigns, n) = (array(owners), array(campaigns), campaigns.len());
    // In slices, so one statement never holds a million rows of WAL at once.
    let slice = 100_000;
    let mut from = 0;
    while from < rows {
        let to = (from + slice).min(rows);
        world
            .sql(&format!(
                "INSERT INTO calls (id, owner_id, twilio_account_id, twilio_sid, direction, from_number, to_number,
                                    status, duration_secs, answered_at, ended_at, created_at, updated_at, campaign_id, attempt)
                 SELECT (lpad(to_hex((EXTRACT(EPOCH FROM t.at) * 1000)::bigint), 12, '0') || '7000' || '8'
                         || lpad(to_hex(i), 15, '0'))::uuid,
                        ({owners})[1 + (i / 20) % {n}], '{account}', 'CA' || md5(i::text), 'OUTBOUND',
                        '+14155550100', '+1415' || lpad((i % 10000000)::text, 7, '0'),
                        s.status,
                        CASE WHEN s.status = 'COMPLETED' THEN 20 + i % 90 ELSE 0 END,
                        CASE WHEN s.status = 'COMPLETED' THEN t.at + interval '5 seconds' END,
                        t.at + interval '2 minutes', t.at, t.at + interval '2 minutes',
                        ({campaigns})[1 + (i / 20) % {n}], 1
                 FROM generate_series({from}, {last}) AS i,
                      LATERAL (SELECT now() - interval '30 days' + i * (interval '30 days' / {rows})) AS t(at),
                      LATERAL (SELECT CASE WHEN i % 20 < 12 THEN 'COMPLETED' WHEN i % 20 < 16 THEN 'NO_ANSWER'
                                           WHEN i % 20 < 18 THEN 'BUSY' WHEN i % 20 = 18 THEN 'FAILED'
                                           ELSE 'CANCELED' END) AS s(status)",
                last = to - 1
            ))
            .await?;
        from = to;
    }
    world.sql("VACUUM ANALYZE calls").await?;
    Ok(())
}
