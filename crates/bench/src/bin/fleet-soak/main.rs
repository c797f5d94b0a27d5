//! The fleet soak: a real `redis-server` (AOF, `appendfsync always`), an in-process emulator
//! making `events_api` events at a steady pace (and redelivering every one not acked in time),
//! 3 gateway processes × 2 sockets and 3 worker processes, under seeded random faults: socket
//! drops, refreshes, 1011 closes, stalls, half-open sockets, warnings, 429s on open; SIGKILL of
//! a gateway (restarted after a pause), of a worker (restarted under a new consumer name), and
//! of Redis (restarted from its AOF).
//!
//! At the end the faults stop; once every event was acked by a gateway and handled by a
//! worker (or the drain time passed) the processes get SIGTERM, and the report compares the
//! emulator's record with the workers' output: **lost** events (never handled) must be 0, and
//! every duplicate handed to a handler must be explained — its earlier handling was by a worker
//! SIGKILLed later, or while Redis was down. Exit code 1 otherwise.
//!
//! ```text
//! fleet-soak --cli PATH [--seconds N] [--seed S] [--interval-ms I] [--fault-ms F] [--handler-ms H]
//! ```
//!
//! `--handler-ms H`: the tails' handler takes H ms an event (`--exec 'sleep …'`), so a batch's
//! events wait longer for their ack and a worker SIGKILL leaves duplicates to explain.
//!
//! `--cli`: the `slack-rtm` binary (`fleet gateway`, `fleet tail`). Run it with
//! `cargo xtask soak --fleet`, which builds both in release.

mod procs;
mod verdict;

use procs::{Fleet, Launcher};
use slack_rtm_bench::faults::{XorShift, socket_fault};
use slack_rtm_emulator::{Emulator, EmulatorConfig, SocketModeServerConfig, SocketTarget};
use slack_rtm_fleet::Keys;
use slack_rtm_fleet::testing::RedisServer;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use verdict::{Handled, Why};

const GATEWAYS: usize = 3;
const SOCKETS_PER_GATEWAY: usize = 2;
const WORKERS: usize = 3;
const CLAIM_IDLE_MS: u64 = 3000;
/// How long the end waits for every event to be acked and handled.
const DRAIN: Duration = Duration::from_secs(120);

struct Args {
    cli: PathBuf,
    seconds: u64,
    seed: u64,
    interval: Duration,
    fault_every: Duration,
    handler_ms: u64,
}

fn parse_args() -> Result<Args, String> {
    let (mut cli, mut seconds, mut seed, mut interval, mut fault_every, mut handler_ms) =
        (None, 60, 1, Duration::from_millis(20), Duration::from_millis(1500), 0);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--cli" => cli = Some(PathBuf::from(v)),
            _ => {
                let n: u64 = v.parse().map_err(|_| format!("{k}: not a number: {v}"))?;
                match k.as_str() {
                    "--seconds" => seconds = n,
                    "--seed" => seed = n,
                    "--interval-ms" => interval = Duration::from_millis(n.max(1)),
                    "--fault-ms" => fault_every = Duration::from_millis(n.max(10)),
                    "--handler-ms" => handler_ms = n,
                    other => return Err(format!("unknown argument {other}")),
                }
            }
        }
    }
    let cli = cli.ok_or("--cli PATH (the slack-rtm binary) is required")?;
    Ok(Args { cli, seconds, seed, interval, fault_every, handler_ms })
}

fn emulator_config() -> EmulatorConfig {
    // Short deadlines, so faults cause redeliveries within the run; so many retries that
    // Slack never gives up on an event while gateways, sockets and Redis are down.
    let mut retries =
        vec![Duration::ZERO, Duration::from_millis(300), Duration::from_secs(1), Duration::from_secs(2)];
    retries.extend(std::iter::repeat_n(Duration::from_secs(3), 100));
    let sm = SocketModeServerConfig::default()
        .ack_timeout(Duration::from_millis(1500))
        .retry_delays(retries)
        .warning_lead(Duration::from_millis(300))
        .refresh_grace(Duration::from_secs(1))
        .ping_interval(Some(Duration::from_secs(1)));
    EmulatorConfig::default().send_rate(None).socket_mode(sm)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_millis() as u64)
}

/// Polls the group's backlog (entries not yet delivered + delivered, not acked); keeps the peak.
fn watch_backlog(url: String, peak: Arc<AtomicU64>) {
    let stream = Keys::for_app("soak").stream;
    tokio::spawn(async move {
        let Ok(client) = redis::Client::open(url) else { return };
        let mut conn = None;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if conn.is_none() {
                conn = client.get_multiplexed_async_connection().await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            let groups: Result<Vec<BTreeMap<String, redis::Value>>, _> =
                redis::cmd("XINFO").arg("GROUPS").arg(&stream).query_async(c).await;
            match groups {
                Ok(gs) => {
                    let n = |g: &BTreeMap<String, redis::Value>, k: &str| match g.get(k) {
                        Some(redis::Value::Int(i)) => *i as u64,
                        _ => 0,
                    };
                    for g in &gs {
                        peak.fetch_max(n(g, "lag") + n(g, "pending"), Ordering::Relaxed);
                    }
                }
                Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => conn = None,
                Err(_) => {}
            }
        }
    });
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "fleet-soak: {e}\nusage: fleet-soak --cli PATH [--seconds N] [--seed S] \
                 [--interval-ms I] [--fault-ms F] [--handler-ms H]"
            );
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("fleet-soak: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the fault loop did.
#[derive(Default)]
struct Faults {
    counts: BTreeMap<&'static str, u64>,
    /// Redis down windows (Unix ms): from the kill to a second after it answered again.
    redis_windows: Vec<(u64, u64)>,
    redis_down_since: Option<(u64, Instant)>,
}

async fn run(args: Args) -> Result<bool, String> {
    let mut redis = RedisServer::start().map_err(|e| {
        format!("{e}\nthe fleet soak needs a real redis-server: apt-get install redis-server (or set REDIS_SERVER)")
    })?;
    let emu = Arc::new(Emulator::start(emulator_config()).await.map_err(|e| format!("emulator: {e}"))?);
    let dir = std::env::temp_dir().join(format!("slack-rtm-fleet-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let launcher = Launcher {
        cli: args.cli.clone(),
        redis_url: redis.url(),
        api_url: emu.api_url(),
        app_token: emu.app_token(),
        dir: dir.clone(),
        connections: SOCKETS_PER_GATEWAY,
        claim_idle_ms: CLAIM_IDLE_MS,
        handler_ms: args.handler_ms,
    };
    let mut fleet =
        Fleet::start(launcher, GATEWAYS, WORKERS).map_err(|e| format!("cannot start the fleet: {e}"))?;
    emu.wait_for_open_sockets(GATEWAYS * SOCKETS_PER_GATEWAY, Duration::from_secs(30))
        .await
        .map_err(|e| format!("the gateways did not open their sockets (see {}): {e}", dir.display()))?;
    let peak_backlog = Arc::new(AtomicU64::new(0));
    watch_backlog(redis.url(), peak_backlog.clone());
    println!(
        "fleet-soak: {} s, {GATEWAYS} gateways × {SOCKETS_PER_GATEWAY} sockets, {WORKERS} workers ({}), an event \
         every {:?}, a fault every ~{:?}, handler {} ms, seed {}; output in {}",
        args.seconds,
        args.cli.display(),
        args.interval,
        args.fault_every,
        args.handler_ms,
        args.seed,
        dir.display()
    );
    let verbose = std::env::var_os("FLEET_SOAK_VERBOSE").is_some();
    let started = Instant::now();
    let end = started + Duration::from_secs(args.seconds);
    let mut rng = XorShift::new(args.seed);
    let mut faults = Faults::default();
    let mut next_fault = Instant::now() + args.fault_every;
    let mut made = 0u64;
    let mut tick = tokio::time::interval(args.interval);
    while Instant::now() < end {
        tick.tick().await;
        emu.send_api_event(serde_json::json!({
            "type": "message", "text": format!("fleet soak {made}"), "channel": "C0EMU00001", "user": "U0EMU00001"
        }));
        made += 1;
        let now = Instant::now();
        restart_redis_if_due(&mut redis, &mut faults, now)?;
        fleet.supervise(now).map_err(|e| format!("cannot restart a process: {e}"))?;
        if now >= next_fault {
            let what = fault(&emu, &mut fleet, &mut redis, &mut faults, &mut rng);
            if verbose {
                let open = emu.open_sockets().len();
                eprintln!("{:>8.3} FAULT {what} ({open} sockets open)", started.elapsed().as_secs_f64());
            }
            let jitter = rng.below(args.fault_every.as_millis() as u64);
            next_fault = Instant::now() + args.fault_every / 2 + Duration::from_millis(jitter);
        }
    }
    // Calm: Redis up, every process running, every socket answering and flowing.
    restart_redis_if_due(&mut redis, &mut faults, Instant::now() + Duration::from_secs(3600))?;
    fleet.restart_all_now().map_err(|e| format!("cannot restart a process: {e}"))?;
    emu.answer_pings(SocketTarget::All, true);
    emu.stall_socket(SocketTarget::All, false);
    let emitted: Vec<String> = emu.envelopes().iter().filter_map(|r| r.event_id.clone()).collect();
    let drain_start = Instant::now();
    let drained = loop {
        let records = emu.envelopes();
        let handled = Handled::read(&dir).map_err(|e| format!("reading the workers' output: {e}"))?;
        if records.iter().all(|r| r.acked) && emitted.iter().all(|id| handled.by_event.contains_key(id)) {
            break true;
        }
        if drain_start.elapsed() > DRAIN {
            break false;
        }
        fleet.supervise(Instant::now()).map_err(|e| format!("cannot restart a process: {e}"))?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let drain_took = drain_start.elapsed();
    // A little longer: a redelivery or a takeover on its way must not be handed over again.
    tokio::time::sleep(Duration::from_secs(2 + CLAIM_IDLE_MS / 1000)).await;
    let forced = tokio::task::block_in_place(|| fleet.terminate(Duration::from_secs(10)));
    report(
        made,
        &emu,
        &fleet,
        &faults,
        &dir,
        peak_backlog.load(Ordering::Relaxed),
        drained,
        drain_took,
        &forced,
    )
}

/// Restarts Redis once its pause is over (at `now`); records the down window.
fn restart_redis_if_due(redis: &mut RedisServer, faults: &mut Faults, now: Instant) -> Result<(), String> {
    let Some((since_ms, due)) = faults.redis_down_since else { return Ok(()) };
    if now < due {
        return Ok(());
    }
    tokio::task::block_in_place(|| redis.restart())
        .map_err(|e| format!("cannot restart redis-server: {e}"))?;
    faults.redis_windows.push((since_ms, now_ms() + 1000));
    faults.redis_down_since = None;
    Ok(())
}

/// One random fault: mostly on a socket (through the emulator), sometimes a SIGKILL of a
/// gateway, a worker, or Redis.
fn fault(
    emu: &Arc<Emulator>,
    fleet: &mut Fleet,
    redis: &mut RedisServer,
    faults: &mut Faults,
    rng: &mut XorShift,
) -> &'static str {
    let what = match rng.below(10) {
        7 => {
            let pause = Duration::from_millis(500 + rng.below(2500));
            fleet
                .kill_one(true, rng.below(100), pause, now_ms())
                .map_or("skipped (no gateway running)", |_| "SIGKILL gateway")
        }
        8 => {
            let pause = Duration::from_millis(200 + rng.below(1500));
            fleet
                .kill_one(false, rng.below(100), pause, now_ms())
                .map_or("skipped (no worker running)", |_| "SIGKILL worker")
        }
        9 if faults.redis_down_since.is_none() => {
            let pause = Duration::from_millis(300 + rng.below(2000));
            redis.kill();
            faults.redis_down_since = Some((now_ms(), Instant::now() + pause));
            "SIGKILL redis"
        }
        _ => socket_fault(emu, rng),
    };
    *faults.counts.entry(what).or_default() += 1;
    what
}

#[allow(clippy::too_many_arguments)]
fn report(
    made: u64,
    emu: &Emulator,
    fleet: &Fleet,
    faults: &Faults,
    dir: &std::path::Path,
    peak_backlog: u64,
    drained: bool,
    drain_took: Duration,
    forced: &[String],
) -> Result<bool, String> {
    let records = emu.envelopes();
    let handled = Handled::read(dir).map_err(|e| format!("reading the workers' output: {e}"))?;
    let emitted: HashSet<&str> = records.iter().filter_map(|r| r.event_id.as_deref()).collect();
    let lost: Vec<&str> = emitted.iter().copied().filter(|id| !handled.by_event.contains_key(*id)).collect();
    let unacked = records.iter().filter(|r| !r.acked).count();
    let foreign = handled.by_event.keys().filter(|id| !emitted.contains(id.as_str())).count();
    let calls: usize = handled.by_event.values().map(Vec::len).sum();
    let dups = verdict::duplicates(&handled, &fleet.killed_workers, &faults.redis_windows);
    let n = |w: Why| dups.get(&w).map_or(0, Vec::len);
    println!("faults: {:?}", faults.counts);
    println!(
        "events emitted {made}, recorded {}, redelivered by the emulator {}, gave up {}, not acked {unacked}; \
         sockets opened {}; drained in {:.1} s{}",
        records.len(),
        records.iter().filter(|r| r.attempts.len() > 1).count(),
        records.iter().filter(|r| r.gave_up).count(),
        emu.sockets().len(),
        drain_took.as_secs_f64(),
        if drained { "" } else { " (drain time passed)" }
    );
    println!(
        "processes: gateway SIGKILLs {}, worker SIGKILLs {}, Redis SIGKILLs {}, restarts {}, exited by themselves {}, \
         SIGKILLed at the end (SIGTERM ignored) {}; peak backlog {peak_backlog}",
        fleet.gateway_kills,
        fleet.worker_kills,
        faults.redis_windows.len(),
        fleet.restarts,
        fleet.unexpected_exits.len(),
        forced.len()
    );
    for e in &fleet.unexpected_exits {
        println!("  {e}");
    }
    println!(
        "handled {} events in {calls} handler calls; lost {}; duplicates {} (after a worker SIGKILL {}, around a \
         Redis restart {}, unexplained {}); unreadable output lines {}; unknown event ids {foreign}",
        handled.by_event.len(),
        lost.len(),
        calls - handled.by_event.len(),
        n(Why::WorkerKilled),
        n(Why::RedisRestart),
        n(Why::Unexplained),
        handled.bad_lines,
    );
    let mut ok = true;
    if !lost.is_empty() {
        println!("VIOLATION: {} events lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(5)]);
        ok = false;
    }
    if let Some(u) = dups.get(&Why::Unexplained) {
        println!("VIOLATION: {} unexplained duplicates, e.g. {:?}", u.len(), &u[..u.len().min(5)]);
        ok = false;
    }
    if records.len() as u64 != made {
        println!("VIOLATION: the emulator recorded {} events of {made}", records.len());
        ok = false;
    }
    if ok {
        println!("fleet-soak: OK");
        let _ = std::fs::remove_dir_all(dir);
    } else {
        println!("fleet-soak: FAILED; the processes' output is in {}", dir.display());
    }
    Ok(ok)
}
