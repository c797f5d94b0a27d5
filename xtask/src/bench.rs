//! `cargo xtask bench`: the end-to-end benchmark, every client side by side in one run.
//!
//! Builds the emulator and the bench clients in release mode, starts the emulator in its own
//! process (blast mode for events, plain for round trips), runs each client `--runs` times (the clients taking turns),
//! and prints medians with ratios against Floor A; then the Socket Mode rows
//! ([`crate::bench_sm`]). The full run also writes
//! `docs/benchmarks.md`; `--quick` (used by CI) runs small sizes once so the harness cannot rot.

use crate::official::{self, BenchMode, EmulatorProcess, Official, cargo, target_dir, workspace_root};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Options of a bench run.
#[derive(Clone, Debug)]
pub struct Options {
    pub events: u64,
    pub round_trips: u64,
    pub runs: usize,
    pub quick: bool,
    pub official: bool,
    pub write_doc: bool,
    pub sessions: Option<u64>,
    /// Sessions of the idle-sessions part in the full run (`--sessions N` runs that part alone).
    pub all_sessions: u64,
    /// `--rtm-only`: the RTM rows alone (printed, not written to the doc).
    pub rtm_only: bool,
    /// Socket Mode: envelopes per run at full speed, and at the paced rate.
    pub envelopes: u64,
    pub paced_envelopes: u64,
    /// Run the Socket Mode rows (`--no-socket-mode` skips them).
    pub socket_mode: bool,
    /// `--socket-mode-only`: the Socket Mode rows alone (printed, not written to the doc).
    pub socket_mode_only: bool,
    /// Keepalive ping interval of the scale test's sessions, in seconds (default: the library's).
    pub idle_ping: Option<u64>,
    /// `--fleet`: the fleet bench alone ([`crate::bench_fleet`]).
    pub fleet: bool,
    /// Fleet events per run at full speed, and at the paced rate.
    pub fleet_events: u64,
    pub fleet_paced_events: u64,
    /// `--http`: the HTTP mode receiver bench alone ([`crate::bench_http`]).
    pub http: bool,
    /// HTTP mode: signed requests per run at full speed, and at the paced rate.
    pub http_requests: u64,
    pub http_paced_requests: u64,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = Options {
            events: 200_000,
            round_trips: 5_000,
            runs: 3,
            quick: false,
            official: true,
            write_doc: true,
            sessions: None,
            all_sessions: 19_000,
            rtm_only: false,
            idle_ping: None,
            envelopes: 50_000,
            paced_envelopes: 20_000,
            socket_mode: true,
            socket_mode_only: false,
            fleet: false,
            fleet_events: 50_000,
            fleet_paced_events: 20_000,
            http: false,
            http_requests: 50_000,
            http_paced_requests: 20_000,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64, String> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a number"))
            };
            match a.as_str() {
                "--quick" => {
                    o.quick = true;
                    o.events = 5_000;
                    o.round_trips = 100;
                    o.envelopes = 2_000;
                    o.paced_envelopes = 1_000;
                    o.fleet_events = 2_000;
                    o.fleet_paced_events = 1_000;
                    o.http_requests = 2_000;
                    o.http_paced_requests = 1_000;
                    o.all_sessions = 200;
                    o.runs = 1;
                    o.official = false;
                    o.write_doc = false;
                }
                "--events" => o.events = num("--events")?,
                "--round-trips" => o.round_trips = num("--round-trips")?,
                "--runs" => o.runs = num("--runs")? as usize,
                "--envelopes" => o.envelopes = num("--envelopes")?,
                "--paced-envelopes" => o.paced_envelopes = num("--paced-envelopes")?,
                "--no-socket-mode" => o.socket_mode = false,
                "--socket-mode-only" => o.socket_mode_only = true,
                "--rtm-only" => o.rtm_only = true,
                "--fleet" => o.fleet = true,
                "--fleet-events" => o.fleet_events = num("--fleet-events")?,
                "--fleet-paced-events" => o.fleet_paced_events = num("--fleet-paced-events")?,
                "--http" => o.http = true,
                "--http-requests" => o.http_requests = num("--http-requests")?,
                "--http-paced-requests" => o.http_paced_requests = num("--http-paced-requests")?,
                "--no-official" => o.official = false,
                "--no-doc" => o.write_doc = false,
                "--sessions" => o.sessions = Some(num("--sessions")?),
                "--idle-ping" => o.idle_ping = Some(num("--idle-ping")?),
                other => return Err(format!("unknown bench option {other}")),
            }
        }
        Ok(o)
    }
}

/// Builds the release binaries the benchmark runs (the emulator with its `blast` feature:
/// `--blast` / `--sm-blast`).
pub fn build_release() -> Result<PathBuf, String> {
    let root = workspace_root();
    let status = Command::new(cargo())
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", "slack-rtm-emulator", "-p", "slack-rtm-bench"])
        .args(["--features", "slack-rtm-emulator/blast"])
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build --release failed".into());
    }
    Ok(target_dir().join("release"))
}

/// CPU time of a process so far: the nanosecond run time of its threads from
/// `/proc/<pid>/task/*/schedstat`.
pub fn cpu_of(pid: u32) -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            total += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Duration::from_nanos(total)
}

/// One client's result line, plus the emulator's CPU during the run.
#[derive(Clone, Debug)]
pub struct Sample {
    pub line: Value,
    pub emulator_cpu: Duration,
}

/// How to run one client once: (emulator, mode, n) → its JSON result line.
pub type RunFn = Box<dyn Fn(&EmulatorProcess, &str, u64) -> Result<Value, String>>;

/// A client to benchmark: a name and how to run it.
pub struct ClientSpec {
    pub name: &'static str,
    pub run: RunFn,
}

pub fn run_binary(bin: PathBuf, pre: Vec<String>) -> RunFn {
    run_binary_env(bin, pre, None)
}

/// Like [`run_binary`], with one extra environment variable set.
pub fn run_binary_env(bin: PathBuf, pre: Vec<String>, env: Option<(&'static str, &'static str)>) -> RunFn {
    run_binary_envs(bin, pre, env.into_iter().collect())
}

/// [`run_binary_env`] with several environment variables.
pub fn run_binary_envs(bin: PathBuf, pre: Vec<String>, envs: Vec<(&'static str, &'static str)>) -> RunFn {
    Box::new(move |emu, mode, n| {
        let mut cmd = Command::new(&bin);
        cmd.envs(envs.iter().copied());
        // Socket Mode clients take the app-level token.
        let token = if mode == "envelopes" { &emu.app_token } else { &emu.token };
        cmd.args(&pre)
            .args(["--api-url", &emu.api_url, "--token", token, "--mode", mode, "--n", &n.to_string()])
            .args(["--channel", &emu.channel]);
        result_line(cmd, &bin)
    })
}

/// Runs a bench binary (`bin`, what `cmd` runs; its stderr inherited) and reads the last JSON
/// line it printed: its result.
pub fn result_line(mut cmd: Command, bin: &std::path::Path) -> Result<Value, String> {
    let out =
        cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("{} exited with {}", bin.display(), out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().rev().find(|l| l.starts_with('{')).ok_or("no result line")?;
    serde_json::from_str(last).map_err(|e| format!("bad result line {last:?}: {e}"))
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// Medians of one client's runs in one mode.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub per_sec: f64,
    pub cpu_us_per_op: f64,
    pub peak_rss_mb: f64,
    pub connect_to_hello_ms: f64,
    pub emulator_cpu_us_per_op: f64,
    pub failure: Option<String>,
}

pub fn summarize(samples: &[Sample]) -> Summary {
    let f = |s: &Sample, k: &str| s.line[k].as_f64().unwrap_or(f64::NAN);
    Summary {
        per_sec: median(samples.iter().map(|s| f(s, "n") / (f(s, "elapsed_us") / 1e6)).collect()),
        cpu_us_per_op: median(samples.iter().map(|s| f(s, "cpu_us") / f(s, "n")).collect()),
        peak_rss_mb: median(samples.iter().map(|s| f(s, "peak_rss_kb") / 1024.0).collect()),
        connect_to_hello_ms: median(samples.iter().map(|s| f(s, "connect_to_hello_us") / 1e3).collect()),
        emulator_cpu_us_per_op: median(
            samples.iter().map(|s| s.emulator_cpu.as_micros() as f64 / f(s, "n")).collect(),
        ),
        failure: None,
    }
}

/// Calls `f(client, run)` for `runs` rounds over `clients` clients, taking turns (run 1 of
/// every client, then run 2 of every client, …), so that a change in the host's speed during a
/// measurement moves every client's figures alike rather than one client's. A client whose
/// run fails is not run again. Gives each client's results and its failure.
pub fn interleaved<T>(
    clients: usize,
    runs: usize,
    mut f: impl FnMut(usize, usize) -> Result<T, String>,
) -> Vec<(Vec<T>, Option<String>)> {
    let mut out: Vec<(Vec<T>, Option<String>)> = (0..clients).map(|_| (Vec::new(), None)).collect();
    for run in 0..runs {
        for (i, (done, failed)) in out.iter_mut().enumerate() {
            if failed.is_none() {
                match f(i, run) {
                    Ok(v) => done.push(v),
                    Err(e) => *failed = Some(e),
                }
            }
        }
    }
    out
}

/// Runs every client `runs` times in one mode against one emulator, the runs interleaved
/// ([`interleaved`]). A failed client's row keeps the runs it finished and the error.
pub fn measure(
    emu: &EmulatorProcess,
    clients: &[ClientSpec],
    mode: &str,
    n: u64,
    runs: usize,
) -> BTreeMap<&'static str, Summary> {
    let results = interleaved(clients.len(), runs, |i, run| {
        let c = &clients[i];
        let cpu0 = cpu_of(emu.pid());
        (c.run)(emu, mode, n)
            .map(|line| Sample { line, emulator_cpu: cpu_of(emu.pid()).saturating_sub(cpu0) })
            .inspect_err(|e| eprintln!("  {} {mode} run {}: FAILED: {e}", c.name, run + 1))
    });
    let mut out = BTreeMap::new();
    for (c, (samples, failure)) in clients.iter().zip(results) {
        let mut s = summarize(&samples);
        s.failure = failure;
        eprintln!(
            "  {:<22} {mode:<6} {:>12.0}/s  {:>8.2} µs CPU/op  {:>6.1} MB  hello {:>6.2} ms",
            c.name, s.per_sec, s.cpu_us_per_op, s.peak_rss_mb, s.connect_to_hello_ms
        );
        out.insert(c.name, s);
    }
    out
}

/// One run of `spec` against a fresh blast emulator of `n` events: did it finish?
fn survives(emulator: &std::path::Path, spec: &ClientSpec, n: u64) -> bool {
    match EmulatorProcess::start(emulator, &["--blast", &n.to_string(), "--no-rate-limit"]) {
        Ok(emu) => (spec.run)(&emu, "events", n).is_ok(),
        Err(_) => false,
    }
}

/// Searches the count at which a client starts failing, given that it failed at `failed_at`
/// and `survives(n)` tells whether one run of `n` succeeds: `(largest n survived, smallest n
/// failed)`, or `None` if it fails even at 1.
pub fn find_limit(failed_at: u64, mut survives: impl FnMut(u64) -> bool) -> Option<(u64, u64)> {
    let mut fail = failed_at;
    let mut ok = None;
    let mut n = failed_at;
    while n > 1 && ok.is_none() {
        n = (n / 4).max(1);
        if survives(n) {
            ok = Some(n);
        } else {
            fail = n;
        }
    }
    let mut ok = ok?;
    for _ in 0..8 {
        if fail - ok <= (ok / 20).max(1) {
            break;
        }
        let mid = ok + (fail - ok) / 2;
        if survives(mid) {
            ok = mid;
        } else {
            fail = mid;
        }
    }
    Some((ok, fail))
}

/// Searches the event count at which `spec` starts failing (it failed at `failed_at`), then
/// measures it at the largest count it survives.
fn official_limit(
    emulator: &std::path::Path,
    spec: &ClientSpec,
    failed_at: u64,
    runs: usize,
) -> Option<Summary> {
    let (ok, fail) = find_limit(failed_at, |n| survives(emulator, spec, n))?;
    eprintln!("  {}: fails from about N={fail}; measuring at N={ok}", spec.name);
    let emu = EmulatorProcess::start(emulator, &["--blast", &ok.to_string(), "--no-rate-limit"]).ok()?;
    let mut s = measure(&emu, std::slice::from_ref(spec), "events", ok, runs).remove(spec.name)?;
    s.failure = Some(format!("fails on a burst of {fail} events; measured at {ok}"));
    Some(s)
}

/// The table, with ratios against Floor A.
pub fn table(
    events: &BTreeMap<&'static str, Summary>,
    rtt: &BTreeMap<&'static str, Summary>,
    order: &[&str],
) -> String {
    let floor_ev = events.get("floor-a-value").map(|s| s.per_sec).unwrap_or(f64::NAN);
    let floor_rtt_cpu = rtt.get("floor-a-value").map(|s| s.cpu_us_per_op).unwrap_or(f64::NAN);
    let floor_hello = events.get("floor-a-value").map(|s| s.connect_to_hello_ms).unwrap_or(f64::NAN);
    let mut t = String::from(
        "| client | events/s | × Floor A | CPU µs/event | peak RSS MB | connect→hello ms | × Floor A | round trips/s | CPU µs/round trip | × Floor A | emulator CPU µs/event |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for name in order {
        let (Some(e), r) = (events.get(name), rtt.get(name)) else { continue };
        let note = e
            .failure
            .as_ref()
            .or(r.and_then(|r| r.failure.as_ref()))
            .map(|f| format!(" (failed: {f})"))
            .unwrap_or_default();
        // Rows measured in the events mode only have no round-trip figures.
        let rtt_cells = match r {
            Some(r) => {
                format!("{:.0} | {:.1} | {:.2}", r.per_sec, r.cpu_us_per_op, r.cpu_us_per_op / floor_rtt_cpu)
            }
            None => "– | – | –".to_owned(),
        };
        t.push_str(&format!(
            "| {name}{note} | {:.0} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {rtt_cells} | {:.2} |\n",
            e.per_sec,
            e.per_sec / floor_ev,
            e.cpu_us_per_op,
            e.peak_rss_mb,
            e.connect_to_hello_ms,
            e.connect_to_hello_ms / floor_hello,
            e.emulator_cpu_us_per_op,
        ));
    }
    t
}

/// `cargo xtask bench [...]`: every part of [`crate::bench_parts::PARTS`] in one run (their
/// tables written together to `docs/benchmarks.md`), or the one part a flag asks for.
pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--upload") {
        return crate::bench_upload::run(args);
    }
    let opts = Options::parse(args)?;
    let bin = build_release()?;
    if let Some(sessions) = opts.sessions {
        return crate::scale::run(&bin, sessions, opts.quick, opts.idle_ping).map(drop);
    }
    if opts.fleet {
        return crate::bench_fleet::run(&bin, &opts);
    }
    if opts.http {
        return crate::bench_http::run(&bin, &opts).map(drop);
    }
    if opts.rtm_only {
        let (rtm, failed) = rtm_rows(&bin, &opts)?;
        println!("{rtm}");
        return if opts.quick && !failed.is_empty() {
            Err(format!("bench clients failed: {}", failed.join(", ")))
        } else {
            Ok(())
        };
    }
    if opts.socket_mode_only {
        let (sm, failed) = crate::bench_sm::run(&bin, &opts)?;
        println!("{sm}");
        return if opts.quick && !failed.is_empty() {
            Err(format!("bench clients failed: {}", failed.join(", ")))
        } else {
            Ok(())
        };
    }
    crate::bench_parts::run_all(&bin, &opts)
}

/// The RTM rows (events: plain, type last, Slack shapes; round trips), every client side by
/// side: the table and the names of the clients that failed.
pub fn rtm_rows(bin: &std::path::Path, opts: &Options) -> Result<(String, Vec<&'static str>), String> {
    let bin = bin.to_path_buf();
    let mut clients = vec![
        ClientSpec {
            name: "slack-rtm (current_thread)",
            run: run_binary_env(bin.join("bench-client"), vec![], Some(("BENCH_CURRENT_THREAD", "1"))),
        },
        ClientSpec { name: "slack-rtm (multi_thread)", run: run_binary(bin.join("bench-client"), vec![]) },
        ClientSpec { name: "floor-a-value", run: run_binary(bin.join("floor"), vec!["value".into()]) },
        ClientSpec { name: "floor-b-raw", run: run_binary(bin.join("floor"), vec!["raw".into()]) },
    ];
    if opts.official {
        let installed = official::install_official_clients(&target_dir())?;
        for client in Official::ALL {
            let installed = installed.clone();
            clients.push(ClientSpec {
                name: client.bench_id(),
                run: Box::new(move |emu, mode, n| {
                    let mode = match mode {
                        "rtt" => BenchMode::Rtt { channel: emu.channel.clone() },
                        _ => BenchMode::Events,
                    };
                    let line = official::run_official_bench(
                        &installed,
                        client,
                        &emu.api_url,
                        &emu.token,
                        &mode,
                        n,
                        Duration::from_secs(120),
                    )?;
                    serde_json::from_str(&line).map_err(|e| format!("bad result line {line:?}: {e}"))
                }),
            });
        }
    }
    eprintln!(
        "bench: {} events × {} runs, {} round trips × {} runs",
        opts.events, opts.runs, opts.round_trips, opts.runs
    );
    let emulator = bin.join("slack-rtm-emulator");
    let blast = EmulatorProcess::start(&emulator, &["--blast", &opts.events.to_string(), "--no-rate-limit"])?;
    let mut events = measure(&blast, &clients, "events", opts.events, opts.runs);
    // The slack-rtm rows read events lazily (`Events::next_lazy`); these decode every event to
    // a typed `Event` (`Events::next`), on the same blast.
    let typed = crate::bench_rtm::typed_clients(&bin);
    events.extend(measure(&blast, &typed, "events", opts.events, opts.runs));
    drop(blast);
    // An official client that fails on the workload: find the smallest N it fails at, and
    // measure it at the largest N it survives.
    for spec in clients.iter().filter(|c| !c.name.starts_with("slack-rtm") && !c.name.starts_with("floor")) {
        if events.get(spec.name).is_some_and(|s| s.failure.is_some())
            && let Some(s) = official_limit(&emulator, spec, opts.events, opts.runs)
        {
            events.insert(spec.name, s);
        }
    }
    // The same blast with the keys sorted (`type` after `blocks` and `text`): the worst case for
    // slack-rtm's type scan; Floor A beside it (its `Value` parse does not care about order).
    let type_last = [
        ClientSpec {
            name: "slack-rtm (current_thread), type last",
            run: run_binary_env(bin.join("bench-client"), vec![], Some(("BENCH_CURRENT_THREAD", "1"))),
        },
        ClientSpec {
            name: "floor-a-value, type last",
            run: run_binary(bin.join("floor"), vec!["value".into()]),
        },
    ];
    let sorted = EmulatorProcess::start(
        &emulator,
        &["--blast", &opts.events.to_string(), "--blast-type-last", "--no-rate-limit"],
    )?;
    events.extend(measure(&sorted, &type_last, "events", opts.events, opts.runs));
    drop(sorted);
    // Frames shaped like the messages Slack really sends (file uploads, link unfurls, edits,
    // thread replies and parents, bot messages: 450 bytes to 2 KB), Floor A beside it.
    let shapes = [
        ClientSpec {
            name: "slack-rtm (current_thread), Slack shapes",
            run: run_binary_env(bin.join("bench-client"), vec![], Some(("BENCH_CURRENT_THREAD", "1"))),
        },
        ClientSpec {
            name: "floor-a-value, Slack shapes",
            run: run_binary(bin.join("floor"), vec!["value".into()]),
        },
    ];
    let real = EmulatorProcess::start(
        &emulator,
        &["--blast", &opts.events.to_string(), "--blast-slack-shapes", "--no-rate-limit"],
    )?;
    events.extend(measure(&real, &shapes, "events", opts.events, opts.runs));
    drop(real);
    // Round trips, with Floor A on the multi-thread runtime too (its row is in the table below
    // the main one, against slack-rtm on the same runtime).
    clients.push(crate::bench_rtm::floor_multi_thread(&bin));
    // On one CPU, the emulator and every client alike (see `pin`): unpinned, where the
    // scheduler put the two decided a run's CPU per round trip more than the client did.
    let pinned = crate::pin::OneCpu::pin().inspect_err(|e| eprintln!("bench: round trips not pinned: {e}"));
    let plain = EmulatorProcess::start(&emulator, &["--no-rate-limit"])?;
    let rtt = measure(&plain, &clients, "rtt", opts.round_trips, opts.runs);
    drop(plain);
    let pinned_cpu = pinned.as_ref().ok().map(|p| p.cpu);
    drop(pinned);
    let mut order: Vec<&str> = clients.iter().map(|c| c.name).collect();
    order.extend(typed.iter().map(|c| c.name));
    order.extend(type_last.iter().map(|c| c.name));
    order.extend(shapes.iter().map(|c| c.name));
    let mut t = format!(
        "{}\n\n{}\n{}",
        crate::bench_rtm::EVENTS_NOTE,
        table(&events, &rtt, &order),
        crate::bench_rtm::rtt_by_runtime(&rtt, pinned_cpu)
    );
    // Slack-shaped frames on both runtimes, and the blasts written one frame per system call.
    let harder = crate::bench_rtm::run(&bin, opts.events, opts.runs)?;
    t = format!("{t}\n### RTM events on harder traffic\n\n{harder}");
    println!("{t}");
    let failed: Vec<&'static str> =
        events.iter().chain(rtt.iter()).filter(|(_, s)| s.failure.is_some()).map(|(n, _)| *n).collect();
    Ok((t, failed))
}

#[cfg(test)]
mod tests {
    use super::{find_limit, interleaved};

    #[test]
    fn clients_take_turns_and_a_failed_one_is_not_run_again() {
        let mut calls = Vec::new();
        let out = interleaved(3, 3, |client, run| {
            calls.push((client, run));
            if client == 1 && run == 1 {
                Err(format!("client {client} failed"))
            } else {
                Ok(run * 10 + client)
            }
        });
        assert_eq!(calls, [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 2), (2, 2)]);
        assert_eq!(out[0], (vec![0, 10, 20], None));
        assert_eq!(out[1], (vec![1], Some("client 1 failed".to_owned())));
        assert_eq!(out[2], (vec![2, 12, 22], None));
    }

    #[test]
    fn find_limit_brackets_the_failing_size() {
        let (ok, fail) = find_limit(100_000, |n| n < 700).expect("survives small runs");
        assert!(ok < 700 && fail >= 700, "{ok} {fail}");
        assert!(fail - ok <= (ok / 20).max(1), "{ok} {fail}");
        assert_eq!(find_limit(100, |_| false), None);
    }
}
