//! The Socket Mode rows of `cargo xtask bench`: every Socket Mode client against the
//! emulator's envelope blast, in two workloads.
//!
//! - **Throughput**: `--sm-blast N`, as fast as the socket takes them: envelopes/s, CPU µs per
//!   envelope, peak RSS, and the ack latency under that load.
//! - **Ack latency at 10,000 envelopes/s**: `--sm-blast M --sm-blast-rate 10000`: p50/p99
//!   from the envelope written to its ack read, as the emulator sees it (which bounds
//!   "delivery to ack on the wire").
//!
//! The ack latencies come from the emulator's `SM_BLAST_REPORT` line for the client's socket
//! (one socket per client run); a run whose acks did not all arrive is a failure.

use crate::bench::{
    ClientSpec, Options, Sample, Summary, cpu_of, find_limit, run_binary, run_binary_env, summarize,
};
use crate::official::{self, BenchMode, EmulatorProcess, Official, target_dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The paced workload's rate (issue 13's target: ack p99 under 2 ms at 10,000 envelopes/s).
pub const PACED_RATE: u64 = 10_000;

/// One client's medians in one workload, with the emulator's ack latencies.
#[derive(Clone, Debug, Default)]
pub struct SmSummary {
    pub base: Summary,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
}

/// The Socket Mode clients: the facade's raw loop and the same through `App` (when built; its
/// default, then with a task per request), the raw loop acking as `App` does, the naive floor, the raw loop, `App` and the naive floor again on
/// the multi-thread runtime, the official ones.
pub fn clients(bin: &Path, with_official: bool) -> Result<Vec<ClientSpec>, String> {
    let mut clients = Vec::new();
    if bin.join("sm-client").exists() {
        clients.push(ClientSpec { name: "slack-rtm", run: run_binary(bin.join("sm-client"), vec![]) });
    }
    if bin.join("sm-app").exists() {
        clients.push(ClientSpec { name: "slack-rtm App", run: run_binary(bin.join("sm-app"), vec![]) });
        // The default is `App::start_inline` (a request gets a task only if it waits); the same
        // app with `start_inline(false)`: a task for every request.
        clients.push(ClientSpec {
            name: "slack-rtm App, a task per request",
            run: run_binary_env(bin.join("sm-app"), vec![], Some(("BENCH_APP_INLINE", "0"))),
        });
    }
    // The raw loop acking as `App` acks (manual ack when it takes an envelope, not the
    // session's ack on read: docs/perf/app8.md), so `App`'s own cost shows apart from its
    // stronger ack (measured only beside `App`).
    if bin.join("sm-client").exists() && bin.join("sm-app").exists() {
        clients.push(ClientSpec {
            name: "slack-rtm, acked as App acks",
            run: run_binary_env(bin.join("sm-client"), vec![], Some(("BENCH_RAW_ACK", "manual"))),
        });
    }
    clients.push(ClientSpec { name: "naive-socket-mode", run: run_binary(bin.join("sm-floor"), vec![]) });
    // The same on the multi-thread runtime (2 workers): the raw loop, `App`, the naive client.
    if bin.join("sm-client").exists() {
        clients.push(ClientSpec {
            name: "slack-rtm, multi-thread",
            run: run_binary_env(bin.join("sm-client"), vec![], Some(("BENCH_MULTI_THREAD", "1"))),
        });
    }
    if bin.join("sm-app").exists() {
        clients.push(ClientSpec {
            name: "slack-rtm App, multi-thread",
            run: run_binary_env(bin.join("sm-app"), vec![], Some(("BENCH_MULTI_THREAD", "1"))),
        });
    }
    clients.push(ClientSpec {
        name: "naive-socket-mode, multi-thread",
        run: run_binary_env(bin.join("sm-floor"), vec![], Some(("BENCH_MULTI_THREAD", "1"))),
    });
    if with_official {
        let installed = official::install_official_clients(&target_dir())?;
        for client in Official::ALL {
            let installed = installed.clone();
            clients.push(ClientSpec {
                name: client.sm_bench_id(),
                run: Box::new(move |emu, _mode, n| {
                    let line = official::run_official_bench(
                        &installed,
                        client,
                        &emu.api_url,
                        &emu.app_token,
                        &BenchMode::Envelopes,
                        n,
                        Duration::from_secs(180),
                    )?;
                    serde_json::from_str(&line).map_err(|e| format!("bad result line {line:?}: {e}"))
                }),
            });
        }
    }
    Ok(clients)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The emulator's report of the socket the client just used.
fn blast_report(emu: &mut EmulatorProcess) -> Result<Value, String> {
    let lines = emu.lines(Some("SM_BLAST_REPORT "), Duration::from_secs(5));
    let last = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("SM_BLAST_REPORT "))
        .ok_or("the emulator printed no SM_BLAST_REPORT")?;
    serde_json::from_str(last).map_err(|e| format!("bad SM_BLAST_REPORT {last:?}: {e}"))
}

/// Runs every client `runs` times against one blast emulator of `n` envelopes per socket, the
/// clients taking turns (run 1 of each, then run 2 of each, …) so a change in the machine's
/// load falls on all of them alike.
pub fn measure(
    emu: &mut EmulatorProcess,
    clients: &[ClientSpec],
    n: u64,
    runs: usize,
    label: &str,
) -> BTreeMap<&'static str, SmSummary> {
    let results = crate::bench::interleaved(clients.len(), runs, |i, run| {
        let c = &clients[i];
        let cpu0 = cpu_of(emu.pid());
        let result = (c.run)(emu, "envelopes", n).and_then(|line| {
            let emulator_cpu = cpu_of(emu.pid()).saturating_sub(cpu0);
            let report = blast_report(emu)?;
            let acked = report["acked"].as_u64().unwrap_or(0);
            if acked != n {
                return Err(format!("the emulator received {acked} acks of {n} envelopes"));
            }
            let p = |k: &str| report[k].as_f64().unwrap_or(f64::NAN) / 1e3;
            Ok((Sample { line, emulator_cpu }, p("ack_p50_us"), p("ack_p99_us")))
        });
        if let Err(e) = &result {
            eprintln!("  {} {label} run {}: FAILED: {e}", c.name, run + 1);
            // Drain the report of the failed run so it is not taken for the next one.
            let _ = emu.lines(None, Duration::from_millis(200));
        }
        result
    });
    let mut out = BTreeMap::new();
    for (c, (runs, failure)) in clients.iter().zip(results) {
        let (samples, (p50, p99)): (Vec<Sample>, (Vec<f64>, Vec<f64>)) =
            runs.into_iter().map(|(sample, p50, p99)| (sample, (p50, p99))).unzip();
        let mut base = summarize(&samples);
        base.failure = failure;
        let s = SmSummary { base, ack_p50_ms: median(p50), ack_p99_ms: median(p99) };
        eprintln!(
            "  {:<22} {label:<10} {:>10.0}/s  {:>7.2} µs CPU/env  {:>6.1} MB  ack p50 {:>8.3} ms  p99 {:>8.3} ms",
            c.name, s.base.per_sec, s.base.cpu_us_per_op, s.base.peak_rss_mb, s.ack_p50_ms, s.ack_p99_ms
        );
        out.insert(c.name, s);
    }
    out
}

/// One run of `spec` against a fresh emulator blasting `n` envelopes: did it finish?
fn survives(emulator: &Path, spec: &ClientSpec, n: u64) -> bool {
    match EmulatorProcess::start(emulator, &["--sm-blast", &n.to_string()]) {
        Ok(emu) => (spec.run)(&emu, "envelopes", n).is_ok(),
        Err(_) => false,
    }
}

/// Measures `spec` at the largest burst it survives (it failed at `failed_at`).
fn official_limit(emulator: &Path, spec: &ClientSpec, failed_at: u64, runs: usize) -> Option<SmSummary> {
    let (ok, fail) = find_limit(failed_at, |n| survives(emulator, spec, n))?;
    eprintln!("  {}: fails from about N={fail}; measuring at N={ok}", spec.name);
    let mut emu = EmulatorProcess::start(emulator, &["--sm-blast", &ok.to_string()]).ok()?;
    let mut s = measure(&mut emu, std::slice::from_ref(spec), ok, runs, "full").remove(spec.name)?;
    s.base.failure = Some(format!("fails on a burst of {fail} envelopes; measured at {ok}"));
    Some(s)
}

/// The Socket Mode table, with ratios against the naive client.
pub fn table(
    full: &BTreeMap<&'static str, SmSummary>,
    paced: &BTreeMap<&'static str, SmSummary>,
    order: &[&str],
) -> String {
    let naive = full.get("naive-socket-mode").map_or(f64::NAN, |s| s.base.per_sec);
    let mut t = format!(
        "| client | envelopes/s | × naive | CPU µs/envelope | peak RSS MB | ack p50 / p99 ms (full speed) | \
         ack p50 / p99 ms at {PACED_RATE}/s | connect→hello ms |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for name in order {
        let Some(f) = full.get(name) else { continue };
        let p = paced.get(name);
        let mut notes: Vec<String> = f.base.failure.iter().cloned().collect();
        if let Some(e) = p.and_then(|p| p.base.failure.as_ref()) {
            notes.push(format!("at {PACED_RATE}/s: {e}"));
        }
        let note = if notes.is_empty() { String::new() } else { format!(" (failed: {})", notes.join("; ")) };
        let paced_cell = match p {
            Some(p) if p.base.failure.is_none() => format!("{:.3} / {:.3}", p.ack_p50_ms, p.ack_p99_ms),
            _ => "–".to_owned(),
        };
        t.push_str(&format!(
            "| {name}{note} | {:.0} | {:.2} | {:.2} | {:.1} | {:.3} / {:.3} | {paced_cell} | {:.2} |\n",
            f.base.per_sec,
            f.base.per_sec / naive,
            f.base.cpu_us_per_op,
            f.base.peak_rss_mb,
            f.ack_p50_ms,
            f.ack_p99_ms,
            f.base.connect_to_hello_ms,
        ));
    }
    t
}

/// Runs both workloads; returns the table and the names of the clients that failed.
pub fn run(bin: &Path, opts: &Options) -> Result<(String, Vec<&'static str>), String> {
    let clients = clients(bin, opts.official)?;
    let emulator = bin.join("slack-rtm-emulator");
    eprintln!(
        "bench (Socket Mode): {} envelopes × {} runs at full speed, {} at {PACED_RATE}/s",
        opts.envelopes, opts.runs, opts.paced_envelopes
    );
    let mut emu = EmulatorProcess::start(&emulator, &["--sm-blast", &opts.envelopes.to_string()])?;
    let mut full = measure(&mut emu, &clients, opts.envelopes, opts.runs, "full");
    drop(emu);
    // An official client that fails on the burst: find the smallest N it fails at, and
    // measure it at the largest N it survives.
    for spec in clients.iter().filter(|c| c.name.ends_with("-socket-mode") && c.name != "naive-socket-mode") {
        if full.get(spec.name).is_some_and(|s| s.base.failure.is_some())
            && let Some(s) = official_limit(&emulator, spec, opts.envelopes, opts.runs)
        {
            full.insert(spec.name, s);
        }
    }
    let mut emu = EmulatorProcess::start(
        &emulator,
        &["--sm-blast", &opts.paced_envelopes.to_string(), "--sm-blast-rate", &PACED_RATE.to_string()],
    )?;
    let paced = measure(&mut emu, &clients, opts.paced_envelopes, opts.runs, "10k/s");
    drop(emu);
    let order: Vec<&str> = clients.iter().map(|c| c.name).collect();
    let failed = full.iter().chain(paced.iter()).filter(|(_, s)| s.base.failure.is_some()).map(|(n, _)| *n);
    let mut failed: Vec<&'static str> = failed.collect();
    failed.dedup();
    // The same Rust clients on Slack-shaped envelopes, one per write (issue 26).
    let (slack, slack_failed) = crate::bench_sm_slack::run(bin, opts)?;
    failed.extend(slack_failed);
    let t = table(&full, &paced, &order);
    Ok((format!("{t}\n#### Slack-shaped envelopes, one per write\n\n{slack}"), failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_with(files: &[&str]) -> Vec<&'static str> {
        let dir =
            std::env::temp_dir().join(format!("xtask-sm-clients-{}-{}", std::process::id(), files.len()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), b"").unwrap();
        }
        let names = clients(&dir, false).unwrap().iter().map(|c| c.name).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        names
    }

    #[test]
    fn the_app_is_measured_on_both_runtimes_when_it_is_built() {
        let names = names_with(&["sm-client", "sm-app", "sm-floor"]);
        for row in [
            "slack-rtm App",
            "slack-rtm App, a task per request",
            "slack-rtm, acked as App acks",
            "slack-rtm App, multi-thread",
        ] {
            assert!(names.contains(&row), "{row} missing from {names:?}");
        }
        let without_app = names_with(&["sm-client"]);
        assert!(!without_app.iter().any(|n| n.contains("App")), "{without_app:?}");
        assert!(without_app.contains(&"slack-rtm, multi-thread"), "{without_app:?}");
    }
}
