//! The `ringcast` binary; see `cli` for the commands.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    ringcast::cli::run(ringcast::cli::Cli::parse()).await
}
