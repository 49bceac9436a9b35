//! More Ringcast processes beside a `TestApp`: the real binary on the same database, Redis
//! channel and keys, so tests can run several nodes at once and kill one.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_ringcast");
/// The key `TestApp` encrypts Twilio credentials with.
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

pub struct Node {
    child: Child,
    /// The node's own address (`serve` only).
    pub base: Option<String>,
    dir: PathBuf,
}

impl Node {
    /// `ringcast worker`: dispatcher and jobs, its calls' webhooks sent to the `TestApp`
    /// (as a load balancer would send them to any live node).
    pub async fn worker(app: &TestApp) -> Self {
        Self::start(
            app,
            "worker",
            Some(&app.state.public_url),
            "Ringcast worker running",
            &[],
        )
        .await
    }

    /// `ringcast serve` on its own port: dispatcher, jobs and its own webhooks.
    pub async fn serve(app: &TestApp) -> Self {
        Self::serve_with(app, &[]).await
    }

    /// `serve` with more environment, e.g. `RUST_LOG`.
    pub async fn serve_with(app: &TestApp, env: &[(&str, &str)]) -> Self {
        Self::start(app, "serve", None, "GraphiQL: ", env).await
    }

    async fn start(
        app: &TestApp,
        command: &str,
        public_url: Option<&str>,
        ready: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let dir =
            std::env::temp_dir().join(format!("ringcast-node-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("stderr.log")).unwrap();
        let config = &app.state.config;
        let mut cmd = Command::new(BIN);
        cmd.arg(command)
            .env_clear()
            .current_dir(&dir)
            .kill_on_drop(true)
            .env("DATABASE_URL", &app.db.url)
            .env("DATABASE_POOL_SIZE", "6")
            .env("REDIS_URL", super::redis_url())
            .env("EVENTS_CHANNEL", &config.events_channel)
            .env("JWT_SECRET", &app.jwt_secret)
            .env("ENCRYPTION_KEY", ENCRYPTION_KEY)
            .env("PORT", "0")
            .env("BIND_HOST", "127.0.0.1")
            .env("JOB_POLL_INTERVAL_MS", "200")
            .env("JOB_RETRY_BASE_SECS", "0")
            // The carriers this test process runs may receive the credentials registered for them.
            .env(
                "TWILIO_ALLOWED_BASE_URLS",
                ringcast::twilio::endpoint::allowed().join(","),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        cmd.envs(env.iter().copied());
        if let Some(url) = public_url {
            cmd.env("PUBLIC_URL", url);
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        let base = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                seen.push(line.clone());
                if let Some(rest) = line.trim().strip_prefix(ready.trim()) {
                    return rest.trim().strip_suffix("/graphiql").map(str::to_owned);
                }
            }
            panic!("ringcast {command} exited before it was ready: {seen:?}");
        })
        .await
        .expect("the node did not start within 60 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, base, dir }
    }

    /// Everything the node wrote to stderr (its log) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap()
    }

    /// SIGKILL: no shutdown, no cleanup, as in a crash or an OOM kill.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM and a clean exit; returns when the signal had been sent (anything the node
    /// starts later than that, it started after the signal).
    /// SIGTERM, then waits for a clean exit; returns the instant the node logged taking the
    /// signal (a signal is delivered some time after `kill` returns, so only the node can
    /// say when it knew; it stops claiming from that instant on).
    pub async fn stop(mut self) -> chrono::DateTime<chrono::Utc> {
        let pid = nix::unistd::Pid::from_raw(self.child.id().unwrap() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("no exit within 30 s of SIGTERM")
            .unwrap();
        assert!(
            status.success(),
            "exit {status}; log in {}",
            self.dir.display()
        );
        let log = self.log();
        let signalled = log
            .lines()
            .find(|line| line.contains("shutdown signal received"))
            .and_then(|line| {
                let plain = without_ansi(line);
                plain.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or_else(|| panic!("the node never logged taking the signal:\n{log}"));
        let _ = std::fs::remove_dir_all(&self.dir);
        signalled
    }
}

/// A log line without its terminal colour codes (`ESC [ ... m`).
fn without_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}
