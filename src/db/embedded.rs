//! Finds a PostgreSQL when `DATABASE_URL` is unset: the local server, else a private cluster
//! started from the installed server binaries under `<data_dir>/postgres`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::config::{Config, Secret};

/// Where the local-server probe looks, in order: TCP, then the Debian socket directory.
const LOCAL_CANDIDATES: &[&str] = &[
    "postgres://postgres@127.0.0.1:5432",
    "postgres://postgres@%2Fvar%2Frun%2Fpostgresql",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseSource {
    Configured,
    LocalServer,
    PrivateCluster,
}

#[derive(Debug)]
pub struct ResolvedDatabase {
    pub url: Secret,
    pub source: DatabaseSource,
    /// Present when we started the server ourselves and must stop it on shutdown.
    pub cluster: Option<PrivateCluster>,
}

pub async fn resolve(config: &Config) -> anyhow::Result<ResolvedDatabase> {
    if let Some(url) = &config.database_url {
        tracing::info!("database: using DATABASE_URL");
        return Ok(ResolvedDatabase {
            url: url.clone(),
            source: DatabaseSource::Configured,
            cluster: None,
        });
    }
    for base in LOCAL_CANDIDATES {
        if let Ok(url) = ensure_database(base, &config.database_name).await {
            tracing::info!(server = %base, "database: DATABASE_URL unset, using the local PostgreSQL server");
            return Ok(ResolvedDatabase {
                url: Secret::new(url),
                source: DatabaseSource::LocalServer,
                cluster: None,
            });
        }
    }
    let Some(bin_dir) = find_server_binaries() else {
        anyhow::bail!(
            "No database: DATABASE_URL is not set, no PostgreSQL answers on 127.0.0.1:5432 or \
             /var/run/postgresql, and no PostgreSQL server binaries (initdb, pg_ctl) were found on \
             PATH or under /usr/lib/postgresql/*/bin. Either set DATABASE_URL to a PostgreSQL 13+ \
             database (e.g. postgres://user:pass@host:5432/ringcast), start a local PostgreSQL, or \
             install the server (Debian/Ubuntu: apt-get install postgresql) so Ringcast can run a \
             private one under {}.",
            config.data_dir.join("postgres").display()
        );
    };
    let cluster = PrivateCluster::start(&bin_dir, &config.data_dir.join("postgres")).await?;
    let url = ensure_database(
        &format!("postgres://postgres@127.0.0.1:{}", cluster.port),
        &config.database_name,
    )
    .await?;
    tracing::info!(
        port = cluster.port,
        dir = %cluster.data_dir.display(),
        "database: no local server answered, started a private PostgreSQL cluster"
    );
    Ok(ResolvedDatabase {
        url: Secret::new(url),
        source: DatabaseSource::PrivateCluster,
        cluster: Some(cluster),
    })
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Connects to `base`'s maintenance database and creates `name` when missing.
async fn ensure_database(base: &str, name: &str) -> anyhow::Result<String> {
    let admin_url = format!("{base}/postgres");
    let mut conn = tokio::time::timeout(
        Duration::from_secs(3),
        AsyncPgConnection::establish(&admin_url),
    )
    .await??;
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(name)
            .get_result(&mut conn)
            .await?;
    if !found.exists {
        let created = diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await;
        // Another node may have created it between the check and here.
        if let Err(e) = created {
            if !e.to_string().contains("already exists") {
                return Err(e.into());
            }
        }
        tracing::info!(database = name, "created database");
    }
    Ok(format!("{base}/{name}"))
}

/// The directory holding `initdb` and `pg_ctl`: PATH first, then Debian's versioned layout.
pub fn find_server_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = entry.path().join("bin");
                bin.join("pg_ctl").is_file().then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    })
}

/// A PostgreSQL server this process started; stopped by `stop()` (or on drop).
#[derive(Debug)]
pub struct PrivateCluster {
    pub port: u16,
    pub data_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
    stopped: bool,
}

impl PrivateCluster {
    pub async fn start(bin_dir: &Path, data_dir: &Path) -> anyhow::Result<Self> {
        let bin_dir = bin_dir.to_owned();
        let data_dir = std::path::absolute(data_dir)?;
        tokio::task::spawn_blocking(move || Self::start_blocking(bin_dir, data_dir)).await?
    }

    fn start_blocking(bin_dir: PathBuf, data_dir: PathBuf) -> anyhow::Result<Self> {
        // PostgreSQL refuses to run as root; run it as the `postgres` system user instead.
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres")?.ok_or_else(|| {
                anyhow::anyhow!(
                    "running as root and there is no `postgres` system user to run PostgreSQL as"
                )
            })?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        std::fs::create_dir_all(&data_dir)?;
        let mut cluster = Self {
            port: 0,
            data_dir,
            bin_dir,
            run_as,
            stopped: false,
        };
        if let Some((uid, gid)) = run_as {
            nix::unistd::chown(&cluster.data_dir, Some(uid), Some(gid))?;
        }
        std::fs::set_permissions(
            &cluster.data_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;

        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.run(
                "initdb",
                &[
                    "-D",
                    &cluster.path_arg(),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ],
            )?;
        }
        if let Some(port) = cluster.running_port() {
            cluster.port = port;
            return Ok(cluster);
        }
        cluster.port = free_port()?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            cluster.port,
            cluster.path_arg()
        );
        let log = cluster.data_dir.join("server.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &cluster.path_arg(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        )?;
        Ok(cluster)
    }

    fn path_arg(&self) -> String {
        self.data_dir.to_string_lossy().into_owned()
    }

    /// The port of a server already running on this directory (left by an earlier run).
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let mut lines = pid_file.lines();
        let pid: i32 = lines.next()?.trim().parse().ok()?;
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        let port = lines.nth(2)?.trim().parse().ok()?;
        alive.then_some(port)
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.args(args).current_dir(&self.data_dir);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let output = cmd.output()?;
        if !output.status.success() {
            anyhow::bail!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// A fast restart on the same port (what an operator's `pg_ctl restart` does).
    pub fn restart(&self) -> anyhow::Result<()> {
        // Without `-l` the new postmaster would inherit our output pipe and `run` would wait
        // for it to close, forever.
        let log = self.data_dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.path_arg(),
                "-l",
                &log.to_string_lossy(),
                "-m",
                "fast",
                "-w",
                "restart",
            ],
        )
    }

    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        match self.run(
            "pg_ctl",
            &["-D", &self.path_arg(), "-m", "fast", "-w", "stop"],
        ) {
            Ok(()) => tracing::info!("stopped the private PostgreSQL cluster"),
            Err(e) => tracing::warn!(error = %e, "could not stop the private PostgreSQL cluster"),
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
