//! `slack-rtm fleet`: a Socket Mode app run as a fleet of processes over a Redis Stream
//! (the `slack-rtm-fleet` crate). `fleet gateway` holds a share of the app's sockets and
//! appends every envelope to the stream, acking it only once Redis has it; `fleet tail` is a
//! worker that prints every event as one JSON line (or hands it to `--exec CMD`) before it is
//! acked. Lifecycle and counts go to stderr; stdout carries only the tail's JSON lines.

mod gateway;
mod tail;

use crate::cli::{FleetCommand, FleetOpts, exit};
use crate::commands::Failure;
use slack_rtm_fleet::{FleetConfig, FleetError};

/// Runs a `fleet` command.
pub async fn run(command: FleetCommand) -> Result<u8, Failure> {
    match command {
        FleetCommand::Gateway { opts, fleet, connections, max_backlog } => {
            gateway::run(opts, fleet, gateway::GatewayOptions { connections, max_backlog }).await
        }
        FleetCommand::Tail { fleet, group, consumer, count, claim_idle_ms, max_attempts, exec } => {
            let t = tail::TailOptions { group, consumer, count, claim_idle_ms, max_attempts, exec };
            tail::run(fleet, t).await
        }
    }
}

/// The fleet's configuration from the command line (the Redis URL kept as given: its password
/// is used, never shown).
fn fleet_config(f: &FleetOpts, max_backlog: Option<u64>) -> Result<FleetConfig, Failure> {
    let app = f.app.trim();
    if app.is_empty() || app.contains(['{', '}']) {
        return Err(Failure::usage("--app must be a non-empty name without braces"));
    }
    let mut config = FleetConfig::new(String::new(), app);
    config.redis = f.redis.clone();
    if let Some(n) = max_backlog {
        if n == 0 {
            return Err(Failure::usage("--max-backlog must be at least 1"));
        }
        config = config.max_backlog(n);
    }
    Ok(config)
}

/// The failure of starting against Redis (or Slack), with the URL shown without its password.
fn start_failure(e: FleetError, config: &FleetConfig) -> Failure {
    let url = config.redis.redacted();
    match e {
        // Its text names the URL without credentials already.
        FleetError::BadRedisUrl { .. } => Failure::usage(e.to_string()),
        FleetError::Slack(e) => Failure::from(e),
        FleetError::Redis(_) | FleetError::Timeout(_) | FleetError::Protocol(_) => {
            Failure { message: format!("Redis at {url} does not answer: {e}"), code: exit::NETWORK }
        }
        other => Failure::other(format!("Redis at {url}: {other}")),
    }
}

/// Unix time in milliseconds.
fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
