//! The fleet throughput bench: a real `redis-server`, an in-process emulator, one fleet
//! `Gateway` (Socket Mode, K sockets) and W `Worker`s (tasks of this process), all on one
//! machine. The emulator emits N `events_api` events, each carrying its sequence number in its
//! text; the handler maps it back to the emit time. Measured: end-to-end events/s (first emit
//! → last first handling), emit → handler latency p50/p99, events lost (never handled within
//! the drain time) and duplicates (handled more than once).
//!
//! Full speed (`--rate 0`): events are emitted as fast as the fleet takes them, with at most
//! `--window` emitted but not yet handled (so latency includes that queue). Paced
//! (`--rate R`): R events/s, for the latency of a fleet that keeps up.
//!
//! Each part runs on threads of its own (`--layout split`, the default): the emulator on a
//! runtime with one thread named `emulator`, the gateway on one named `gateway`, the workers on
//! one named `workers`, the emitter (which makes each event and hands it to the emulator) on a
//! thread named `emitter`; so the CPU each part spent is read from its threads and printed
//! apart from the others (`cpu_us_per_event_by_part`), and the fleet's own CPU per event
//! (gateway + workers + Redis) apart from the fake Slack's. `--layout shared` runs the
//! emulator, the gateway and the workers on one runtime with two threads, as the bench did
//! before (its parts cannot be told apart then).
//!
//! ```text
//! fleet-bench [--n N] [--rate R] [--fsync always|everysec] [--sockets K] [--workers W] [--window Q]
//!             [--layout split|shared]
//! ```
//!
//! Prints one JSON line (see `run`); exits 1 if an event was lost or the run failed.
//! Run it with `cargo xtask bench --fleet`.

use slack_rtm::SocketModeClient;
use slack_rtm_bench::fleet::{emitted_seq, percentile, thread_cpu_time};
use slack_rtm_emulator::{Emulator, EmulatorConfig, SocketModeServerConfig};
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, FleetEvent, Gateway, Worker, WorkerConfig};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
struct Args {
    n: u64,
    rate: u64,
    fsync: &'static str,
    sockets: usize,
    workers: usize,
    window: u64,
    /// Each part on threads of its own (see the module's documentation).
    split: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a =
        Args { n: 20_000, rate: 0, fsync: "everysec", sockets: 4, workers: 3, window: 2_000, split: true };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        if k == "--layout" {
            a.split = match v.as_str() {
                "split" => true,
                "shared" => false,
                other => return Err(format!("--layout: split or shared, not {other}")),
            };
            continue;
        }
        if k == "--fsync" {
            a.fsync = match v.as_str() {
                "always" => "always",
                "everysec" => "everysec",
                "no" => "no",
                other => return Err(format!("--fsync: always, everysec or no, not {other}")),
            };
            continue;
        }
        let n: u64 = v.parse().map_err(|_| format!("{k}: not a number: {v}"))?;
        match k.as_str() {
            "--n" => a.n = n.max(1),
            "--rate" => a.rate = n,
            "--sockets" => a.sockets = n.clamp(1, 10) as usize,
            "--workers" => a.workers = n.clamp(1, 64) as usize,
            "--window" => a.window = n.max(1),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// What the handlers saw, indexed by sequence number.
struct Board {
    t0: Instant,
    /// Emit time of each event (ns after `t0`).
    emitted_at: Vec<AtomicU64>,
    /// Handler calls per event.
    handled: Vec<AtomicU32>,
    /// Events handled at least once.
    distinct: AtomicU64,
    /// Handler calls.
    calls: AtomicU64,
    /// Emit → first handling, µs.
    latencies_us: Mutex<Vec<u64>>,
    /// When the last first handling happened (ns after `t0`).
    last_ns: AtomicU64,
    /// Events whose text carried no sequence number (must be 0).
    foreign: AtomicU64,
}

impl Board {
    fn new(n: u64) -> Self {
        Self {
            t0: Instant::now(),
            emitted_at: (0..n).map(|_| AtomicU64::new(0)).collect(),
            handled: (0..n).map(|_| AtomicU32::new(0)).collect(),
            distinct: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            latencies_us: Mutex::new(Vec::with_capacity(n as usize)),
            last_ns: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
        }
    }

    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn on_event(&self, ev: &FleetEvent) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Some(seq) = emitted_seq(&ev.body).filter(|s| (*s as usize) < self.handled.len()) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if self.handled[seq as usize].fetch_add(1, Ordering::Relaxed) == 0 {
            let now = self.now_ns();
            let lat = now.saturating_sub(self.emitted_at[seq as usize].load(Ordering::Relaxed)) / 1_000;
            if let Ok(mut l) = self.latencies_us.lock() {
                l.push(lat);
            }
            self.last_ns.fetch_max(now, Ordering::Relaxed);
            self.distinct.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Envelope records the emulator keeps (its ring drops the oldest): enough for every envelope
/// not yet acked (at most `--window` at full speed, a few at 2,000/s), and the same for any
/// `--n`, so the process's memory does not grow with the run's length.
const RECORDS: usize = 20_000;

fn emulator_config() -> EmulatorConfig {
    // Slack's 3 s ack deadline; retries enough that the emulator never gives up in a run.
    let sm = SocketModeServerConfig::default().retry_delays(vec![
        Duration::ZERO,
        Duration::from_secs(1),
        Duration::from_secs(5),
        Duration::from_secs(10),
    ]);
    EmulatorConfig::default().send_rate(None).record_frames(false).record_limit(RECORDS).socket_mode(sm)
}

/// Event `seq`: a channel message whose text carries its sequence number. Built field by
/// field (`json!` would copy each string through `serde_json::to_value` once more).
fn bench_event(seq: u64) -> serde_json::Value {
    use serde_json::Value;
    let mut event = serde_json::Map::new();
    event.insert("type".into(), Value::String("message".into()));
    event.insert("channel".into(), Value::String("C0EMU00001".into()));
    event.insert("user".into(), Value::String("U0EMU00001".into()));
    event.insert("text".into(), Value::String(format!("fleet-bench {seq}")));
    Value::Object(event)
}

/// Emits the events: paced at `rate`/s, or as fast as the fleet takes them (`window`).
async fn emit(emu: &Emulator, board: &Board, a: &Args) {
    let mut seq = 0u64;
    let start = Instant::now();
    while seq < a.n {
        let allowed = if a.rate > 0 {
            (start.elapsed().as_secs_f64() * a.rate as f64) as u64
        } else {
            board.distinct.load(Ordering::Relaxed) + a.window
        };
        let upto = allowed.min(a.n);
        if seq >= upto {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        while seq < upto.min(seq + 256) {
            board.emitted_at[seq as usize].store(board.now_ns(), Ordering::Relaxed);
            emu.send_api_event(bench_event(seq));
            seq += 1;
        }
        tokio::task::yield_now().await;
    }
}

/// The runtimes the parts run on (one each when split, one shared otherwise).
struct Runtimes {
    emulator: tokio::runtime::Handle,
    gateway: tokio::runtime::Handle,
    workers: tokio::runtime::Handle,
    _owned: Vec<tokio::runtime::Runtime>,
}

impl Runtimes {
    fn new(split: bool) -> std::io::Result<Self> {
        let one = |name: &str| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name(name)
                .enable_all()
                .build()
        };
        if split {
            let owned = vec![one("emulator")?, one("gateway")?, one("workers")?];
            let h = |i: usize| owned[i].handle().clone();
            Ok(Self { emulator: h(0), gateway: h(1), workers: h(2), _owned: owned })
        } else {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            let h = rt.handle().clone();
            Ok(Self { emulator: h.clone(), gateway: h.clone(), workers: h, _owned: vec![rt] })
        }
    }
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "fleet-bench: {e}\nusage: fleet-bench [--n N] [--rate R] [--fsync always|everysec] \
                 [--sockets K] [--workers W] [--window Q] [--layout split|shared]"
            );
            return ExitCode::from(2);
        }
    };
    let runtimes = Runtimes::new(a.split);
    let main_rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let (runtimes, main_rt) = match (runtimes, main_rt) {
        (Ok(r), Ok(m)) => (r, m),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("fleet-bench: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match main_rt.block_on(run(&a, &runtimes)) {
        Ok(o) => {
            println!("{o}");
            if o["lost"] == 0 && o["foreign"] == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("fleet-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs once; the result line: `n`, `rate`, `fsync`, `sockets`, `workers`, `layout`, `handled`,
/// `lost`, `duplicates`, `foreign` (events not made by this bench: must be 0),
/// `events_per_sec`, `p50_ms`, `p99_ms`, `max_ms`, `redelivered` (deliveries the emulator made
/// again: an ack later than 3 s), `gateway_duplicates`, `gateway_faults`, `peak_rss_kb`,
/// `cpu_us_per_event` (this process: emitter, emulator, gateway and workers),
/// `redis_cpu_us_per_event`, and with `--layout split` `cpu_us_per_event_by_part` (emitter,
/// emulator, gateway, workers, other: this process's threads by name) and
/// `fleet_cpu_us_per_event` (gateway + workers + Redis); all over emit to last handling.
async fn run(a: &Args, rts: &Runtimes) -> Result<serde_json::Value, String> {
    let redis = RedisServer::start_with(a.fsync).map_err(|e| format!("redis-server: {e}"))?;
    let emu = rts
        .emulator
        .spawn(Emulator::start(emulator_config()))
        .await
        .map_err(|e| format!("emulator: {e}"))?
        .map(Arc::new)
        .map_err(|e| format!("emulator: {e}"))?;
    let fleet = FleetConfig::new(redis.url(), "bench").max_backlog(a.n + 1);
    let socket = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connections(a.sockets)
        .capacity(4096);
    let gateway = rts
        .gateway
        .spawn(Gateway::builder(socket, fleet.clone()).start())
        .await
        .map_err(|e| format!("gateway: {e}"))?
        .map_err(|e| format!("gateway: {e}"))?;
    emu.wait_for_open_sockets(a.sockets, Duration::from_secs(10))
        .await
        .map_err(|e| format!("sockets: {e}"))?;
    let board = Arc::new(Board::new(a.n));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for i in 0..a.workers {
        let config = WorkerConfig::new("bench").consumer(format!("w{i}")).batch(128);
        let mut worker = Worker::new(&fleet, config).map_err(|e| format!("worker: {e}"))?;
        let (board, mut stop) = (board.clone(), stop_rx.clone());
        workers.push(rts.workers.spawn(async move {
            let handler = move |ev: FleetEvent| {
                board.on_event(&ev);
                std::future::ready(Ok::<(), std::convert::Infallible>(()))
            };
            worker.run(handler, async move { while stop.changed().await.is_ok() && !*stop.borrow() {} }).await
        }));
    }
    let first_ns = board.now_ns();
    let redis_pid = redis.pid().map(|p| p.to_string()).unwrap_or_default();
    let parts = ["emulator", "gateway", "workers"];
    let part_cpu = || parts.map(thread_cpu_time);
    let (cpu0, redis_cpu0, parts0) =
        (slack_rtm_bench::cpu_time(), slack_rtm_bench::cpu_time_of(&redis_pid), part_cpu());
    // The emitter on a thread of its own; it reports its own CPU time before it ends.
    let emitter = {
        let (emu, board, a) = (emu.clone(), board.clone(), a.clone());
        std::thread::Builder::new()
            .name("emitter".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
                rt.block_on(emit(&emu, &board, &a));
                Ok::<_, std::io::Error>(thread_cpu_time("emitter"))
            })
            .map_err(|e| format!("emitter: {e}"))?
    };
    let emitter_cpu = tokio::task::spawn_blocking(move || emitter.join())
        .await
        .map_err(|e| format!("emitter: {e}"))?
        .map_err(|_| "the emitter panicked".to_owned())?
        .map_err(|e| format!("emitter: {e}"))?;
    // Drain: until every event was handled, or 30 s without progress.
    let mut last = (board.distinct.load(Ordering::Relaxed), Instant::now());
    while board.distinct.load(Ordering::Relaxed) < a.n && last.1.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let d = board.distinct.load(Ordering::Relaxed);
        if d != last.0 {
            last = (d, Instant::now());
        }
    }
    // The emitter's thread has ended: its time is added to the process's.
    let cpu = slack_rtm_bench::cpu_time().saturating_sub(cpu0) + emitter_cpu;
    let redis_cpu = slack_rtm_bench::cpu_time_of(&redis_pid).saturating_sub(redis_cpu0);
    let parts1 = part_cpu();
    // A little longer, so a duplicate on its way is counted.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    let counts = gateway.counts();
    gateway.shutdown().await;
    let handled = board.distinct.load(Ordering::Relaxed);
    let span_s = (board.last_ns.load(Ordering::Relaxed).saturating_sub(first_ns)) as f64 / 1e9;
    let mut lat = board.latencies_us.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort_unstable();
    let ms = |p: f64| percentile(&lat, p) as f64 / 1e3;
    let foreign = board.foreign.load(Ordering::Relaxed);
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / handled.max(1) as f64;
    let mut out = serde_json::json!({
        "n": a.n,
        "rate": a.rate,
        "fsync": a.fsync,
        "sockets": a.sockets,
        "workers": a.workers,
        "layout": if a.split { "split" } else { "shared" },
        "handled": handled,
        "lost": a.n - handled,
        "duplicates": board.calls.load(Ordering::Relaxed) - handled - foreign,
        "foreign": foreign,
        "events_per_sec": if span_s > 0.0 { handled as f64 / span_s } else { 0.0 },
        "p50_ms": ms(0.50),
        "p99_ms": ms(0.99),
        "max_ms": ms(1.0),
        "redelivered": emu.redeliveries(),
        "gateway_duplicates": counts.duplicates,
        "gateway_faults": counts.redis_failures + counts.refused_full,
        "peak_rss_kb": slack_rtm_bench::peak_rss_kb(),
        "cpu_us_per_event": per_event(cpu),
        "redis_cpu_us_per_event": per_event(redis_cpu),
    });
    if a.split {
        let spent: Vec<Duration> = parts0.iter().zip(parts1).map(|(b, e)| e.saturating_sub(*b)).collect();
        let named = spent.iter().sum::<Duration>() + emitter_cpu;
        out["cpu_us_per_event_by_part"] = serde_json::json!({
            "emitter": per_event(emitter_cpu),
            "emulator": per_event(spent[0]),
            "gateway": per_event(spent[1]),
            "workers": per_event(spent[2]),
            "other": per_event(cpu.saturating_sub(named)),
        });
        out["fleet_cpu_us_per_event"] = serde_json::json!(per_event(spent[1] + spent[2] + redis_cpu));
    }
    Ok(out)
}
