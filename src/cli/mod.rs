//! The `ringcast` command line: `serve` (default), `worker`, `migrate`, `create-admin`,
//! `export-schema`, `setup`, `doctor`.

mod doctor;
mod emulator;
pub mod jobs;
mod serve;
mod setup;
mod simulated;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{embedded, migrations};
use crate::keys::Keys;
use crate::users::service::NewAccount;
use crate::users::Role;

#[derive(Parser, Debug)]
#[command(
    name = "ringcast",
    version,
    about = "Automated outbound calling campaigns over Twilio, served as GraphQL"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// GraphQL API, webhooks and background jobs in one process (the default).
    Serve,
    /// Background jobs only, no HTTP: run several next to the API nodes to scale out.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator account.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema {
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// One-shot setup of a new host: settings, secrets, database, admin, webhooks.
    Setup {
        /// Drop and recreate the database first (asks you to type its name).
        #[arg(long)]
        reset: bool,
    },
    /// Check every part of the installation; exit code 0 only when all are good.
    Doctor,
    /// Run the Twilio-compatible emulator on its own (generates credentials when not given).
    Emulator {
        #[arg(long, default_value_t = 4010)]
        port: u16,
        #[arg(long)]
        account_sid: Option<String>,
        #[arg(long, hide_env_values = true)]
        auth_token: Option<String>,
        /// Numbers the account owns from the start.
        #[arg(long, default_value_t = 4)]
        numbers: usize,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ringcast: {e}");
            return ExitCode::from(2);
        }
    };
    crate::observability::init_logging(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::run(config, true).await,
        Command::Worker => serve::run(config, false).await,
        Command::Migrate => migrate(config).await,
        Command::CreateAdmin {
            email,
            password,
            name,
        } => create_admin(config, email, password, name).await,
        Command::ExportSchema { output } => export_schema(output),
        Command::Setup { reset } => setup::run(config, reset).await,
        Command::Doctor => return doctor::run(config).await,
        Command::Emulator {
            port,
            account_sid,
            auth_token,
            numbers,
        } => emulator::run(&config, port, account_sid, auth_token, numbers).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringcast: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = embedded::resolve(&config).await?;
    let applied = migrations::run(db.url.expose()).await?;
    println!(
        "applied {} migration(s): {}",
        applied.len(),
        applied.join(", ")
    );
    Ok(())
}

async fn create_admin(
    config: Config,
    email: String,
    password: String,
    name: Option<String>,
) -> anyhow::Result<()> {
    let db = embedded::resolve(&config).await?;
    migrations::run(db.url.expose()).await?;
    let pool = crate::db::pool(db.url.expose(), 2)?;
    let mut conn = pool.get().await?;
    let account = NewAccount {
        email,
        password,
        name,
        role: Role::Admin,
    };
    let user = crate::users::service::create_on(&mut conn, None, account)
        .await
        .map_err(|e| e.into_anyhow())?;
    crate::audit::service::record(
        &mut conn,
        None,
        "user.create_admin_cli",
        "user",
        &user.id.to_string(),
        serde_json::json!({"email": user.email}),
    )
    .await
    .map_err(|e| e.into_anyhow())?;
    println!("created admin {} ({})", user.email, user.id);
    Ok(())
}

fn export_schema(output: Option<PathBuf>) -> anyhow::Result<()> {
    let sdl = crate::schema::sdl();
    match output {
        Some(path) => std::fs::write(&path, sdl)?,
        None => print!("{sdl}"),
    }
    Ok(())
}

/// Keys are needed by every command that starts the app.
fn load_keys(config: &Config) -> anyhow::Result<Keys> {
    Ok(Keys::load(config)?.0)
}
