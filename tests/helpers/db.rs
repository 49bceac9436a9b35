//! One database per test, cloned from a template migrated once per test process.

use std::sync::OnceLock;

use diesel::sql_types::{Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::postgres_base_url;

/// Serialises template creation between concurrent test processes.
const TEMPLATE_LOCK: i64 = 0x7465_6d70_6c61_7465;

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let template = template();
        let name = format!("rc_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_conn().await;
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await
            .unwrap();
        Self {
            url: format!("{}/{name}", postgres_base_url()),
            name,
        }
    }
}

#[derive(QueryableByName)]
struct Leftover {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
    /// Which jobs, so a rare leftover can be traced to its cause from the failure alone.
    #[diesel(sql_type = diesel::sql_types::Text)]
    jobs: String,
}

/// Like crates.io's harness: a test that leaves jobs behind has not finished its work.
impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let url = self.url.clone();
        // Drop cannot await; a short-lived runtime on another thread does the work.
        let leftover = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let leftover = match AsyncPgConnection::establish(&url).await {
                    Ok(mut conn) => diesel::sql_query(
                        "SELECT count(*) AS count, coalesce(string_agg(
                                 job_type || ' ' || data::text || ' retries ' || retries
                                 || coalesce(' last error: ' || last_error, ''), '; '), '') AS jobs
                             FROM background_jobs",
                    )
                    .get_result::<Leftover>(&mut conn)
                    .await
                    .map(|c| (c.count, c.jobs))
                    .unwrap_or_default(),
                    Err(_) => Default::default(),
                };
                let mut conn = admin_conn().await;
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                leftover
            })
        })
        .join()
        .unwrap_or_default();
        let (count, jobs) = leftover;
        if count > 0 && !std::thread::panicking() {
            panic!("the test left {count} job(s) in the queue ({jobs}); run them or delete them");
        }
    }
}

async fn admin_conn() -> AsyncPgConnection {
    AsyncPgConnection::establish(&format!("{}/postgres", postgres_base_url()))
        .await
        .expect("PostgreSQL must answer at TEST_DATABASE_BASE_URL (default 127.0.0.1:5432)")
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// The template's name changes with the set of migrations, so a stale one is never used.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(create_template())
        })
        .join()
        .unwrap()
    })
}

async fn create_template() -> String {
    use sha2::Digest;
    let versions: Vec<String> = ringcast::db::migrations::known_versions()
        .into_iter()
        .collect();
    let migrations_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut hasher = sha2::Sha256::new();
    for version in &versions {
        hasher.update(version.as_bytes());
    }
    // Editing a migration in place also yields a new template.
    let mut files: Vec<_> = walk(&migrations_dir);
    files.sort();
    for file in files {
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    let name = format!("rc_tpl_{}", &hex::encode(hasher.finalize())[..16]);

    let mut conn = admin_conn().await;
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await
        .unwrap();
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<Text, _>(&name)
            .get_result(&mut conn)
            .await
            .unwrap();
    if !found.exists {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .unwrap();
        ringcast::db::migrations::run(&format!("{}/{building}", super::postgres_base_url()))
            .await
            .unwrap();
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .execute(&mut conn)
        .await
        .unwrap();
    name
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// PostgreSQL's own `pg_dump`, matching the server's version when it is installed.
pub fn pg_dump() -> std::path::PathBuf {
    ringcast::db::embedded::find_server_binaries()
        .map(|dir| dir.join("pg_dump"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_dump".into())
}
