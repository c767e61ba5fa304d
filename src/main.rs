//! `odoo-dump`: inspect, validate, diff and upload PostgreSQL dumps of Odoo databases.
//!
//! This file only parses the command line and dispatches; each subcommand lives in `cmd/`.

mod cmd;
mod facts;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Streams PostgreSQL dumps of Odoo databases (.sql, .sql.gz, Odoo backup .zip, pg_dump custom
/// and directory archives, or - for stdin) without restoring them.
#[derive(Parser)]
#[command(name = "odoo-dump", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 1 a finding or difference (check, diff, version), 2 error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Inspect(cmd::inspect::Args),
    Version(cmd::version::Args),
    Check(cmd::check::Args),
    Diff(cmd::diff::Args),
    Upload(cmd::upload::Args),
    Status(cmd::status::Args),
    Download(cmd::download::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Version(args) => cmd::version::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Upload(args) => cmd::upload::run(args),
        Command::Status(args) => cmd::status::run(args),
        Command::Download(args) => cmd::download::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("odoo-dump: {e:#}");
            ExitCode::from(2)
        }
    }
}
