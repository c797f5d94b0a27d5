//! `slack-rtm`: a command-line client for Slack's Real Time Messaging API.
//!
//! Logs go to stderr, data to stdout. See `slack-rtm --help`.

mod cli;
mod commands;
mod demo;
mod demo_socket;
mod demo_table;
mod emulator;
mod fleet;
mod http;
mod installations;
mod output;
mod send_web;
mod socket;
mod socket_lines;
mod stream;
mod upload;
mod web;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    init_tracing(args.verbose, args.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slack-rtm: cannot start the async runtime: {e}");
            return ExitCode::from(cli::exit::OTHER);
        }
    };
    let code = runtime.block_on(commands::run(args));
    // Don't wait for stray tasks (e.g. a stdin reader) after the command is done.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

fn init_tracing(verbose: u8, quiet: u8) {
    let level = match (verbose as i8) - (quiet as i8) {
        i8::MIN..=-2 => "off",
        -1 => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SLACK_RTM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour codes only on a terminal, and not with NO_COLOR: a log file or a pipe gets text.
    let ansi = output::use_color(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}
