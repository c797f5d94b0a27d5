//! The parts of `cargo xtask bench`'s one run. Each part is a row producer: it runs its
//! clients (each beside its floor, in the same run) and returns its table, the command that
//! makes it alone, and what failed. [`PARTS`] lists them in the order they run and appear in
//! the generated section of `docs/benchmarks.md`; a new set of rows is one more entry there
//! (a function of the release binaries' directory and the [`Options`]).

use crate::bench::Options;
use std::path::Path;
use std::time::Instant;

/// What a part produced.
pub struct PartRows {
    /// Its table (Markdown), floors included.
    pub table: String,
    /// The command that makes this part alone, with this run's sizes.
    pub command: String,
    /// What failed (clients, workloads), empty if nothing did.
    pub failed: Vec<String>,
}

/// One part of the run.
pub struct Part {
    /// Its heading in the generated section.
    pub title: &'static str,
    /// Makes its rows.
    pub rows: fn(&Path, &Options) -> Result<PartRows, String>,
}

/// Every part, in order.
pub const PARTS: &[Part] = &[
    Part { title: "RTM", rows: rtm },
    Part { title: "Socket Mode", rows: socket_mode },
    Part { title: "HTTP mode", rows: http },
    Part { title: "Fleet (Redis Streams)", rows: fleet },
    Part { title: "Idle sessions", rows: sessions },
];

fn strings(v: Vec<&'static str>) -> Vec<String> {
    v.into_iter().map(str::to_owned).collect()
}

fn rtm(bin: &Path, o: &Options) -> Result<PartRows, String> {
    let (table, failed) = crate::bench::rtm_rows(bin, o)?;
    let official = if o.official { "" } else { " --no-official" };
    let command = format!(
        "cargo xtask bench --rtm-only --events {} --round-trips {} --runs {}{official}",
        o.events, o.round_trips, o.runs
    );
    Ok(PartRows { table, command, failed: strings(failed) })
}

fn socket_mode(bin: &Path, o: &Options) -> Result<PartRows, String> {
    let official = if o.official { "" } else { " --no-official" };
    let command = format!(
        "cargo xtask bench --socket-mode-only --envelopes {} --paced-envelopes {} --runs {}{official}",
        o.envelopes, o.paced_envelopes, o.runs
    );
    if !o.socket_mode {
        return Ok(PartRows { table: "Skipped (`--no-socket-mode`).\n".into(), command, failed: Vec::new() });
    }
    let (table, failed) = crate::bench_sm::run(bin, o)?;
    Ok(PartRows { table, command, failed: strings(failed) })
}

fn http(bin: &Path, o: &Options) -> Result<PartRows, String> {
    let command = format!(
        "cargo xtask bench --http --http-requests {} --http-paced-requests {} --runs {}",
        o.http_requests, o.http_paced_requests, o.runs
    );
    Ok(match crate::bench_http::run(bin, o) {
        Ok(table) => PartRows { table, command, failed: Vec::new() },
        Err(e) => PartRows { table: format!("Failed: {e}\n"), command, failed: vec!["http-bench".into()] },
    })
}

fn fleet(bin: &Path, o: &Options) -> Result<PartRows, String> {
    let started = std::time::Instant::now();
    let (table, failed) = crate::bench_fleet::rows(bin, o);
    if o.write_doc {
        crate::bench_fleet::write_doc(o, &table, started.elapsed())?;
    }
    let command = format!(
        "cargo xtask bench --fleet --fleet-events {} --fleet-paced-events {} --runs {}",
        o.fleet_events, o.fleet_paced_events, o.runs
    );
    Ok(PartRows { table, command, failed })
}

fn sessions(bin: &Path, o: &Options) -> Result<PartRows, String> {
    let n = o.sessions.unwrap_or(o.all_sessions);
    let ping = o.idle_ping.map(|s| format!(" --idle-ping {s}")).unwrap_or_default();
    let command = format!("cargo xtask bench --sessions {n}{ping}{}", if o.quick { " --quick" } else { "" });
    Ok(match crate::scale::run(bin, n, o.quick, o.idle_ping) {
        Ok(table) => PartRows { table, command, failed: Vec::new() },
        Err(e) => PartRows { table: format!("Failed: {e}\n"), command, failed: vec!["sessions".into()] },
    })
}

/// The machine's load average (1, 5, 15 minutes) now.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// Runs every part; writes their tables to `docs/benchmarks.md` (unless `--no-doc` or
/// `--quick`); `Err` if something failed in a quick run (CI), or if a part could not run.
pub fn run_all(bin: &Path, opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    let mut text = String::new();
    let mut failed = Vec::new();
    for part in PARTS {
        let (t0, load0) = (Instant::now(), load());
        eprintln!("bench: {} (load average {load0})", part.title);
        let rows = (part.rows)(bin, opts)?;
        text.push_str(&format!(
            "### {}\n\nCommand for this part alone: `{}`. Took {} s; load average (1/5/15 min) {load0} before, {} after.\n\n{}\n",
            part.title,
            rows.command,
            t0.elapsed().as_secs(),
            load(),
            rows.table
        ));
        failed.extend(rows.failed);
    }
    if opts.write_doc {
        crate::bench_doc::write(opts, &text, started.elapsed())?;
    }
    if opts.quick && !failed.is_empty() {
        return Err(format!("bench clients failed: {}", failed.join(", ")));
    }
    if !failed.is_empty() {
        eprintln!("bench: failed: {}", failed.join(", "));
    }
    Ok(())
}
