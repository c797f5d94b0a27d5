//! The Slack-shaped Socket Mode rows of `cargo xtask bench` (issue 26): the project's Rust
//! Socket Mode clients against the emulator's Slack-shaped envelope blast
//! (`--sm-blast N --sm-blast-slack-shapes`: `type` first, the `message` shapes Slack sends,
//! 1–2.6 KB, one envelope per write), at full speed and at 10,000 envelopes/s, the naive
//! client beside ours on both runtimes, all in the same run.
//!
//! Beside the table, the ratios the targets are stated in, each between two rows of this
//! same run: ours against the naive client on the same runtime (envelopes/s and CPU per
//! envelope), and `App` against the raw loop.

use crate::bench::Options;
use crate::bench_sm::{PACED_RATE, SmSummary, clients, measure, table};
use crate::official::EmulatorProcess;
use std::collections::BTreeMap;
use std::path::Path;

/// The flag that makes the emulator's envelope blast Slack-shaped.
const SLACK_SHAPES: &str = "--sm-blast-slack-shapes";

/// (label, ours, theirs): the pairs whose ratios are printed under the table.
const PAIRS: [(&str, &str, &str); 6] = [
    ("current-thread: slack-rtm / naive", "slack-rtm", "naive-socket-mode"),
    ("multi-thread: slack-rtm / naive", "slack-rtm, multi-thread", "naive-socket-mode, multi-thread"),
    ("current-thread: App / raw loop", "slack-rtm App", "slack-rtm"),
    ("current-thread: App / raw loop acked as App acks", "slack-rtm App", "slack-rtm, acked as App acks"),
    ("current-thread: App (a task per request) / raw loop", "slack-rtm App, a task per request", "slack-rtm"),
    ("multi-thread: App / raw loop", "slack-rtm App, multi-thread", "slack-rtm, multi-thread"),
];

/// The ratios under the table: envelopes/s and CPU per envelope of each pair.
fn ratios(full: &BTreeMap<&'static str, SmSummary>) -> String {
    let mut out = String::from("| ratio (same run) | envelopes/s | CPU µs/envelope |\n|---|---:|---:|\n");
    for (label, ours, theirs) in PAIRS {
        let (Some(a), Some(b)) = (full.get(ours), full.get(theirs)) else { continue };
        if a.base.failure.is_some() || b.base.failure.is_some() {
            continue;
        }
        out.push_str(&format!(
            "| {label} | {:.2} × | {:.2} × |\n",
            a.base.per_sec / b.base.per_sec,
            a.base.cpu_us_per_op / b.base.cpu_us_per_op
        ));
    }
    out
}

/// Runs both workloads on the Slack-shaped blast; returns the table (with its ratios) and the
/// names of the clients that failed.
pub fn run(bin: &Path, opts: &Options) -> Result<(String, Vec<&'static str>), String> {
    let clients = clients(bin, false)?;
    let emulator = bin.join("slack-rtm-emulator");
    eprintln!(
        "bench (Socket Mode, Slack shapes, one envelope per write): {} envelopes × {} runs at full speed, \
         {} at {PACED_RATE}/s",
        opts.envelopes, opts.runs, opts.paced_envelopes
    );
    let mut emu =
        EmulatorProcess::start(&emulator, &["--sm-blast", &opts.envelopes.to_string(), SLACK_SHAPES])?;
    let full = measure(&mut emu, &clients, opts.envelopes, opts.runs, "slack");
    drop(emu);
    let mut emu = EmulatorProcess::start(
        &emulator,
        &[
            "--sm-blast",
            &opts.paced_envelopes.to_string(),
            "--sm-blast-rate",
            &PACED_RATE.to_string(),
            SLACK_SHAPES,
        ],
    )?;
    let paced = measure(&mut emu, &clients, opts.paced_envelopes, opts.runs, "slack 10k/s");
    drop(emu);
    let order: Vec<&str> = clients.iter().map(|c| c.name).collect();
    let failed = full.iter().chain(paced.iter()).filter(|(_, s)| s.base.failure.is_some()).map(|(n, _)| *n);
    let mut failed: Vec<&'static str> = failed.collect();
    failed.dedup();
    Ok((format!("{}\n{}", table(&full, &paced, &order), ratios(&full)), failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Summary;

    fn summary(per_sec: f64, cpu: f64) -> SmSummary {
        SmSummary {
            base: Summary { per_sec, cpu_us_per_op: cpu, ..Summary::default() },
            ..SmSummary::default()
        }
    }

    #[test]
    fn ratios_pair_rows_of_the_same_runtime() {
        let mut full = BTreeMap::new();
        full.insert("slack-rtm", summary(300.0, 2.0));
        full.insert("naive-socket-mode", summary(200.0, 4.0));
        full.insert("slack-rtm, multi-thread", summary(100.0, 3.0));
        full.insert("naive-socket-mode, multi-thread", summary(50.0, 6.0));
        let t = ratios(&full);
        assert!(t.contains("| current-thread: slack-rtm / naive | 1.50 × | 0.50 × |"), "{t}");
        assert!(t.contains("| multi-thread: slack-rtm / naive | 2.00 × | 0.50 × |"), "{t}");
        // No App row measured: no App ratio.
        assert!(!t.contains("App"), "{t}");
    }

    #[test]
    fn the_multi_thread_app_is_compared_with_the_multi_thread_raw_loop() {
        let mut full = BTreeMap::new();
        full.insert("slack-rtm", summary(300.0, 2.0));
        full.insert("slack-rtm App", summary(150.0, 4.0));
        full.insert("slack-rtm, multi-thread", summary(400.0, 3.0));
        full.insert("slack-rtm App, multi-thread", summary(360.0, 3.3));
        let t = ratios(&full);
        assert!(t.contains("| current-thread: App / raw loop | 0.50 × | 2.00 × |"), "{t}");
        assert!(t.contains("| multi-thread: App / raw loop | 0.90 × | 1.10 × |"), "{t}");
    }

    #[test]
    fn the_app_is_compared_with_the_raw_loop_acking_as_it_does() {
        let mut full = BTreeMap::new();
        full.insert("slack-rtm", summary(300.0, 2.0));
        full.insert("slack-rtm, acked as App acks", summary(250.0, 2.5));
        full.insert("slack-rtm App", summary(200.0, 3.0));
        let t = ratios(&full);
        assert!(t.contains("| current-thread: App / raw loop | 0.67 × | 1.50 × |"), "{t}");
        assert!(t.contains("| current-thread: App / raw loop acked as App acks | 0.80 × | 1.20 × |"), "{t}");
    }
}
