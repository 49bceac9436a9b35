//! `setup`: the one-shot preparation of a new host, printing each step and its result.

use std::io::{BufRead, Write};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::app::AppState;
use crate::config::Config;
use crate::db::{embedded, migrations};
use crate::keys::{KeyOrigin, Keys};
use crate::users::service::FirstAdmin;

pub async fn run(config: Config, reset: bool) -> anyhow::Result<()> {
    step("settings", || {
        Ok(format!(
            "database: {}, redis: {}, public URL: {}",
            if config.database_url.is_some() {
                "DATABASE_URL"
            } else {
                "found or started locally"
            },
            if config.redis_url.is_some() {
                "REDIS_URL"
            } else {
                "in-process event bus"
            },
            config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.1:{}", config.port)),
        ))
    })?;

    let (keys, origins) = Keys::load(&config)?;
    step("secrets", || {
        let describe = |o: KeyOrigin| match o {
            KeyOrigin::Setting => "from settings",
            KeyOrigin::File => "kept in the data directory",
            KeyOrigin::Generated => "generated now (0600)",
        };
        Ok(format!(
            "JWT secret {}; encryption key {}",
            describe(origins[0]),
            describe(origins[1])
        ))
    })?;

    let db = embedded::resolve(&config).await?;
    if reset {
        reset_database(db.url.expose()).await?;
    }
    let applied = migrations::run(db.url.expose()).await?;
    step("migrations", || {
        Ok(format!("{} applied now, schema is current", applied.len()))
    })?;

    let public_url = config.public_url_for_port(config.port);
    let app = AppState::build(
        config,
        db.url.expose(),
        keys,
        public_url,
        Default::default(),
    )
    .await?;
    let admin = crate::users::service::ensure_first_admin(&app)
        .await
        .map_err(|e| e.into_anyhow())?;
    step("admin", || {
        Ok(match admin {
            FirstAdmin::Exists => "an admin account exists".to_owned(),
            FirstAdmin::Created {
                email,
                generated_password: Some(p),
            } => {
                format!("created {email} with password {p} (shown once)")
            }
            FirstAdmin::Created {
                email,
                generated_password: None,
            } => format!("created {email} (password from ADMIN_PASSWORD)"),
        })
    })?;
    let emulator = super::simulated::start(&app).await?;
    let report = crate::dids::service::configure_webhooks(&app, None, None)
        .await
        .map_err(|e| e.into_anyhow())?;
    drop(emulator);
    app.shutdown.cancel();
    step("phone number webhooks", || {
        if report.failed.is_empty() {
            Ok(format!(
                "{} number(s) point at {}",
                report.updated, app.public_url
            ))
        } else {
            let failed: Vec<String> = report
                .failed
                .iter()
                .map(|(n, e)| format!("{n}: {e}"))
                .collect();
            Err(anyhow::anyhow!(
                "{} re-pointed, failed: {}",
                report.updated,
                failed.join("; ")
            ))
        }
    })?;
    println!("setup complete");
    Ok(())
}

fn step(name: &str, f: impl FnOnce() -> anyhow::Result<String>) -> anyhow::Result<()> {
    match f() {
        Ok(detail) => {
            println!("[ok]   {name}: {detail}");
            Ok(())
        }
        Err(e) => {
            println!("[fail] {name}: {e:#}");
            Err(e)
        }
    }
}

/// Drops and recreates the database after the operator types its name.
async fn reset_database(url: &str) -> anyhow::Result<()> {
    let (base, name) = url
        .rsplit_once('/')
        .ok_or_else(|| anyhow::anyhow!("cannot find the database name in the database URL"))?;
    let name = name.split('?').next().unwrap_or(name).to_owned();
    print!("This deletes every row in database {name:?}. Type its name to confirm: ");
    std::io::stdout().flush()?;
    let mut typed = String::new();
    std::io::stdin().lock().read_line(&mut typed)?;
    if typed.trim() != name {
        anyhow::bail!("confirmation did not match; nothing was dropped");
    }
    let mut conn = AsyncPgConnection::establish(&format!("{base}/postgres")).await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    diesel::sql_query(format!("CREATE DATABASE {quoted}"))
        .execute(&mut conn)
        .await?;
    println!("[ok]   reset: dropped and recreated {name}");
    Ok(())
}
