//! `doctor`: the state of every setup step and every service, without changing anything.

use std::process::ExitCode;

use crate::config::Config;
use crate::db::{embedded, migrations};
use crate::events::EventBus;

struct Report {
    failures: usize,
}

impl Report {
    fn line(&mut self, ok: bool, name: &str, detail: impl std::fmt::Display) {
        if !ok {
            self.failures += 1;
        }
        println!("[{}] {name}: {detail}", if ok { "ok  " } else { "FAIL" });
    }
}

pub async fn run(config: Config) -> ExitCode {
    let mut report = Report { failures: 0 };
    report.line(true, "settings", "parsed");

    let secrets = ["jwt_secret", "encryption_key"].map(|name| config.data_dir.join(name).exists());
    let jwt_ok = config.jwt_secret.is_some() || secrets[0];
    let enc_ok = config.encryption_key.is_some() || secrets[1];
    report.line(
        jwt_ok && enc_ok,
        "secrets",
        if jwt_ok && enc_ok {
            "JWT secret and encryption key present"
        } else {
            "missing: run `ringcast setup`"
        },
    );

    match embedded::resolve(&config).await {
        Err(e) => report.line(false, "postgresql", format!("{e:#}")),
        Ok(db) => {
            report.line(true, "postgresql", format!("reachable ({:?})", db.source));
            match migrations::state(db.url.expose()).await {
                Ok(state) if state.is_current() => report.line(
                    true,
                    "migrations",
                    format!("{} applied, none pending", state.applied.len()),
                ),
                Ok(state) => report.line(
                    false,
                    "migrations",
                    format!(
                        "pending: [{}], unknown to this binary: [{}]",
                        state.pending.join(", "),
                        state.unknown.join(", ")
                    ),
                ),
                Err(e) => report.line(false, "migrations", format!("{e:#}")),
            }
            match admin_exists(db.url.expose()).await {
                Ok(true) => report.line(true, "admin", "an admin account exists"),
                Ok(false) => report.line(
                    false,
                    "admin",
                    "no admin: run `ringcast setup` or `ringcast create-admin`",
                ),
                Err(e) => report.line(false, "admin", format!("{e:#}")),
            }
        }
    }

    match &config.redis_url {
        None => report.line(
            true,
            "redis",
            "not configured: in-process event bus (single node only)",
        ),
        Some(url) => {
            match EventBus::redis(url.expose(), &config.events_channel, Default::default()).await {
                Ok(bus) => match bus.ping().await {
                    Some(Ok(())) => report.line(true, "redis", "answers PING"),
                    Some(Err(e)) => report.line(false, "redis", e),
                    None => report.line(false, "redis", "not connected"),
                },
                Err(e) => report.line(false, "redis", format!("{e:#}")),
            }
        }
    }
    report.line(
        true,
        "twilio accounts",
        "none registered yet (Twilio accounts arrive with the Twilio issue)",
    );
    report.line(true, "phone number webhooks", "no phone numbers registered");

    if report.failures == 0 {
        println!("all good");
        ExitCode::SUCCESS
    } else {
        println!("{} problem(s) found", report.failures);
        ExitCode::FAILURE
    }
}

async fn admin_exists(url: &str) -> anyhow::Result<bool> {
    let pool = crate::db::pool(url, 1)?;
    let mut conn = pool.get().await?;
    Ok(crate::users::User::any_admin(&mut conn).await?)
}
