#![cfg_attr(test, allow(clippy::unwrap_used))]
//! `ftl`: a local PubSub development environment for FTL projects.
//!
//! `ftl dev` validates the project, lazily starts a Kafka-compatible broker
//! through the Docker Engine API when the first topic needs it, provisions
//! topics and dead-letter topics, and runs every subscription in one runner.
//! docs/design.md describes what it does; `run` is the whole program.

pub mod access;
pub mod admin;
pub mod broker;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deadletter;
pub mod diag;
pub mod docker;
pub mod error;
pub mod events;
pub mod ftl_proto;
#[cfg(test)]
mod fuzz;
pub mod hub;
pub mod inspect;
pub mod kafka;
pub mod limits;
pub mod load;
pub mod output;
pub mod provision;
pub mod publisher;
pub mod retained;
pub mod runner;
pub mod runtime;
pub mod schema;
pub mod session;
pub mod telemetry;
pub mod text;
pub mod trace;
pub mod types;
pub mod units;
pub mod watch;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::output::Printer;

/// Parses the command line, runs the command, and turns its outcome into an
/// exit code: 0 ok, 1 failure, 2 usage or invalid project.
pub fn run() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { error::EXIT_USAGE } else { 0 });
        }
    };
    let overrides = commands::overrides(&cli.global, &matches);
    init_tracing(cli.global.verbose, cli.global.quiet);
    let printer = Printer::new(
        cli.global.json,
        cli.global.quiet,
        cli.global.verbose,
        cli.global.color,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(&format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(error::EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(commands::dispatch(cli, overrides, &printer));
    // Consumers close on their own threads; do not wait on them forever.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            printer.report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "ftl=error,rdkafka=off",
        (false, 0) => "ftl=info,rdkafka=off",
        (false, 1) => "ftl=debug,rdkafka=warn",
        _ => "ftl=trace,rdkafka=info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .with_target(false)
        .without_time()
        .try_init();
}
