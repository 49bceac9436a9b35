//! `doctor`: the state of every setup step and every service, without changing anything.

use std::process::ExitCode;

use crate::app::AppState;
use crate::config::Config;
use crate::db::{embedded, migrations};
use crate::dids::{self, Did};
use crate::events::EventBus;
use crate::keys::Keys;
use crate::twilio_accounts::{service as accounts, TwilioAccount};

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

    let mut database_url = None;
    match embedded::resolve(&config).await {
        Err(e) => report.line(false, "postgresql", format!("{e:#}")),
        Ok(db) => {
            database_url = Some(db.url.expose().to_owned());
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
    match (&database_url, Keys::load_existing(&config)) {
        (Some(url), Some(keys)) => twilio(&mut report, &config, url, keys).await,
        _ => report.line(
            false,
            "twilio accounts",
            "not checked: needs the database and the secrets",
        ),
    }

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

/// Each real account answers, and every one of its numbers points at `PUBLIC_URL`.
async fn twilio(report: &mut Report, config: &Config, url: &str, keys: Keys) {
    let mut config = config.clone();
    // The check needs no events; do not open a Redis subscriber for it.
    config.redis_url = None;
    let public_url = config.public_url_for_port(config.port);
    let app = match AppState::build(config, url, keys, public_url.clone(), Default::default()).await
    {
        Ok(app) => app,
        Err(e) => return report.line(false, "twilio accounts", format!("{e:#}")),
    };
    let Ok(mut conn) = app.db.get().await else {
        return report.line(false, "twilio accounts", "database unavailable");
    };
    let all = TwilioAccount::all(&mut conn).await.unwrap_or_default();
    if all.is_empty() {
        report.line(
            true,
            "twilio accounts",
            "none registered: serve uses the built-in emulator",
        );
    }
    for account in &all {
        let name = format!("twilio account {} ({})", account.name, account.account_sid);
        if account.is_simulated {
            report.line(true, &name, "built-in emulator, runs inside serve");
            continue;
        }
        let verdict = match accounts::client_for(&app, account) {
            Ok(client) => match client.fetch_account().await {
                Ok(remote) if remote.status.as_deref().unwrap_or("active") == "active" => {
                    Ok("active".to_owned())
                }
                Ok(remote) => Err(format!("status {}", remote.status.unwrap_or_default())),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.message()),
        };
        match verdict {
            Ok(detail) => report.line(true, &name, detail),
            Err(detail) => report.line(false, &name, detail),
        }
    }
    let expected = dids::service::webhooks_for(&public_url).voice_url;
    let real: Vec<_> = all
        .iter()
        .filter(|a| !a.is_simulated)
        .map(|a| a.id)
        .collect();
    let live = Did::live(&mut conn).await.unwrap_or_default();
    let stale: Vec<&str> = live
        .iter()
        .filter(|d| real.contains(&d.twilio_account_id) && d.voice_url != expected)
        .map(|d| d.phone_number.as_str())
        .collect();
    if stale.is_empty() {
        report.line(
            true,
            "phone number webhooks",
            format!("every number points at {public_url}"),
        );
    } else {
        report.line(
            false,
            "phone number webhooks",
            format!(
                "{} point elsewhere ({}): run `ringcast setup` or configureWebhooks",
                stale.len(),
                stale.join(", ")
            ),
        );
    }
}
