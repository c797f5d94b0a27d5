//! `slack-rtm fleet gateway`: a [`Gateway`] until Ctrl-C or SIGTERM, its lifecycle and counts
//! on stderr.

use super::{fleet_config, start_failure};
use crate::cli::{FleetOpts, SocketOpts, exit};
use crate::commands::{Failure, interrupted_or_terminated};
use slack_rtm_fleet::{Gateway, GatewayCounts};
use std::time::Duration;

/// How often the gateway's counts are printed.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// How often sockets, faults and the session's state are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// What `fleet gateway` was asked to do besides connecting.
#[derive(Debug)]
pub struct GatewayOptions {
    pub connections: usize,
    pub max_backlog: Option<u64>,
}

/// The counts line, as printed every 10 s and on exit.
pub fn counts_line(c: &GatewayCounts) -> String {
    format!(
        "fleet gateway: received {}, appended {}, duplicates {}, refused {} (full), redis failures {}, acked {}, sockets {}",
        c.received, c.appended, c.duplicates, c.refused_full, c.redis_failures, c.acked, c.sockets
    )
}

/// What was last reported, to print changes only.
#[derive(Default)]
struct Watch {
    sockets: u64,
    faults: u64,
    successes: u64,
    failing: bool,
}

impl Watch {
    /// Lines for what changed since the last look.
    fn changes(&mut self, c: &GatewayCounts, last_fault: impl FnOnce() -> Option<String>) -> Vec<String> {
        let mut lines = Vec::new();
        if c.sockets != self.sockets {
            self.sockets = c.sockets;
            let n = if c.sockets == 1 { "1 socket".to_owned() } else { format!("{} sockets", c.sockets) };
            lines.push(format!("fleet gateway: {n} open"));
        }
        let (faults, successes) = (c.redis_failures + c.refused_full, c.appended + c.duplicates);
        if faults > self.faults {
            let why = last_fault().unwrap_or_default();
            lines.push(format!(
                "fleet gateway: {} envelope(s) not acked, Slack will deliver them again: {why}",
                faults - self.faults
            ));
            self.failing = true;
        } else if self.failing && successes > self.successes {
            lines.push("fleet gateway: appending again".to_owned());
            self.failing = false;
        }
        (self.faults, self.successes) = (faults, successes);
        lines
    }
}

/// `slack-rtm fleet gateway`.
pub async fn run(opts: SocketOpts, fleet: FleetOpts, g: GatewayOptions) -> Result<u8, Failure> {
    let max = slack_rtm::socket_mode::MAX_CONNECTIONS;
    if !(1..=max).contains(&g.connections) {
        return Err(Failure::usage(format!("--connections must be 1 to {max}")));
    }
    let config = fleet_config(&fleet, g.max_backlog)?;
    let socket = crate::socket::builder(&opts)?.connections(g.connections);
    let mut stop = interrupted_or_terminated();
    eprintln!(
        "fleet gateway: starting: {} sockets, appending to {} on {}",
        g.connections,
        config.keys.stream,
        config.redis.redacted()
    );
    let gateway = tokio::select! {
        r = Gateway::builder(socket, config.clone()).start() => r.map_err(|e| start_failure(e, &config))?,
        () = &mut stop => {
            eprintln!("fleet gateway: interrupted while starting");
            return Ok(exit::OK);
        }
    };
    let mut watch = Watch::default();
    let mut look = tokio::time::interval(WATCH_EVERY);
    let mut report = tokio::time::interval_at(tokio::time::Instant::now() + REPORT_EVERY, REPORT_EVERY);
    let failure = loop {
        tokio::select! {
            () = &mut stop => {
                eprintln!("fleet gateway: shutting down");
                break None;
            }
            _ = look.tick() => {
                for line in watch.changes(&gateway.counts(), || gateway.last_fault()) {
                    eprintln!("{line}");
                }
                if let Some(reason) = gateway.client().status().stopped {
                    eprintln!("fleet gateway: stopped: {reason}");
                    break reason.is_error().then(|| Failure::from(slack_rtm::Error::Stopped(reason)));
                }
            }
            _ = report.tick() => eprintln!("{}", counts_line(&gateway.counts())),
        }
    };
    // Lets the appends under way finish and ack, then closes the sockets.
    gateway.shutdown().await;
    eprintln!("{}", counts_line(&gateway.counts()));
    match failure {
        Some(f) => Err(f),
        None => Ok(exit::OK),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_reported_once_and_so_is_the_recovery() {
        let mut w = Watch::default();
        let mut c = GatewayCounts::default();
        (c.sockets, c.received, c.appended, c.acked) = (2, 1, 1, 1);
        assert_eq!(w.changes(&c, || None), ["fleet gateway: 2 sockets open"]);
        assert!(w.changes(&c, || None).is_empty());
        c.redis_failures = 2;
        let lines = w.changes(&c, || Some("Redis: connection refused".into()));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("2 envelope(s) not acked") && lines[0].ends_with("connection refused"));
        assert!(w.changes(&c, || None).is_empty());
        c.duplicates = 1;
        assert_eq!(w.changes(&c, || None), ["fleet gateway: appending again"]);
        assert!(w.changes(&c, || None).is_empty());
    }
}
