//! `phonehome`: PhoneHome's Linux front end.

mod analyze;
mod channel;
mod cli;
mod detection;
mod intercept;
mod pidns;
mod report;
mod report_discovered;
mod resolv;
mod sandbox;
mod state;
mod summary;
mod watch;

use std::process::ExitCode;

use clap::Parser;

/// Exit status when phonehome itself fails (as `env`, `timeout` and container runners
/// use), so it stays apart from the watched program's own statuses.
const FAILED: u8 = 125;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    // Usage errors exit with 2, --help with 0.
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Watch(args) => watch::run(args).map_err(|e| e.to_string()),
        cli::Command::Analyze(args) => analyze::run(args).map_err(|e| e.to_string()),
        cli::Command::Report(args) => report::run(args).map_err(|e| e.to_string()),
        cli::Command::Ca(args) => intercept::run(args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("phonehome: {err}");
            ExitCode::from(FAILED)
        }
    }
}
