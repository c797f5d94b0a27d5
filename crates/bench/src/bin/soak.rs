//! The soak: M facade sessions against one in-process emulator that injects random faults at
//! random times (seeded), while every session sends and receives. At the end it prints what
//! happened to every message, judged by the emulator's record, and exits non-zero if a message
//! was lost or posted twice.
//!
//! ```text
//! soak [--seconds N] [--sessions M] [--seed S] [--interval-ms I]   # the fault soak
//! soak --reconnects N                                               # RSS across N reconnects
//! ```
//!
//! Run it with `cargo xtask soak --seconds N --sessions M` (release build).

use slack_rtm::Client;
use slack_rtm::rtm::KeepaliveConfig;
use slack_rtm::rtm::Posted;
use slack_rtm::rtm::ReconnectPolicy;
use slack_rtm::rtm::SendError;
use slack_rtm::rtm::SendRate;
use slack_rtm::rtm::SessionConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm_emulator::{
    Emulator, EmulatorConfig, HelloMode, RawFrame, Rejection, ReplyFault, SendRateLimit as EmuRate, Target,
};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// xorshift64*: a small seeded generator (no `rand` dependency).
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

struct Args {
    seconds: u64,
    sessions: usize,
    seed: u64,
    interval: Duration,
    reconnects: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a =
        Args { seconds: 60, sessions: 20, seed: 1, interval: Duration::from_millis(500), reconnects: None };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        let n: u64 = v.parse().map_err(|_| format!("{k}: not a number: {v}"))?;
        match k.as_str() {
            "--seconds" => a.seconds = n,
            "--sessions" => a.sessions = n.max(1) as usize,
            "--seed" => a.seed = n,
            "--interval-ms" => a.interval = Duration::from_millis(n.max(1)),
            "--reconnects" => a.reconnects = Some(n),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// (current, peak) resident set size in KiB, from /proc (0 where unavailable).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn session_config() -> SessionConfig {
    let mut c = SessionConfig::default();
    let mut r = ReconnectPolicy::new(Duration::from_millis(50), Duration::from_secs(2));
    r.healthy_after = Duration::from_secs(5);
    c.reconnect = r;
    c.keepalive = KeepaliveConfig::new(Duration::from_millis(500), Duration::from_secs(1));
    c.send_rate = SendRate::new(Duration::from_millis(20), 5);
    c.sending.ack_timeout = Duration::from_secs(5);
    c.sending.queue_timeout = Duration::from_secs(30);
    c
}

async fn connect(emu: &Emulator, config: SessionConfig) -> Result<(Client, slack_rtm::Events), String> {
    Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .session_config(config)
        .connect_timeout(Some(Duration::from_secs(60)))
        .connect()
        .await
        .map_err(|e| e.to_string())
}

#[derive(Default)]
struct Tally {
    outcomes: Vec<(String, Option<Result<Posted, SendError>>)>,
    received: u64,
    reconnects: u64,
    fatal: Option<String>,
}

/// One session: sends a message every `interval` until `until`, reads every event.
async fn session(emu: Arc<Emulator>, idx: usize, until: Instant, interval: Duration) -> Tally {
    let (client, mut events) = match connect(&emu, session_config()).await {
        Ok(c) => c,
        Err(e) => {
            return Tally { fatal: Some(format!("session {idx} did not connect: {e}")), ..Tally::default() };
        }
    };
    let received = Arc::new(AtomicU64::new(0));
    let reconnects = Arc::new(AtomicU64::new(0));
    let fatal = Arc::new(std::sync::Mutex::new(None));
    let reader = {
        let (received, reconnects, fatal) = (received.clone(), reconnects.clone(), fatal.clone());
        tokio::spawn(async move {
            while let Some(e) = events.next().await {
                match e {
                    SessionEvent::Rtm(_) => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    SessionEvent::Connected { reconnect: true, .. } => {
                        reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                    SessionEvent::Stopped { reason } if reason.is_error() => {
                        if let Ok(mut g) = fatal.lock() {
                            *g = Some(reason.to_string());
                        }
                    }
                    _ => {}
                }
            }
        })
    };
    let channel = emu.general_channel();
    let mut sends = tokio::task::JoinSet::new();
    let mut n = 0u64;
    let mut tick = tokio::time::interval(interval);
    while Instant::now() < until {
        tick.tick().await;
        let text = format!("soak s{idx} m{n}");
        n += 1;
        let c = client.clone();
        let ch = channel.clone();
        sends.spawn(async move {
            // Longer than every deadline of the session: a send still pending then is lost.
            let r = tokio::time::timeout(Duration::from_secs(120), c.send_message(ch, text.clone())).await;
            (text, r.ok())
        });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = sends.join_next().await {
        match r {
            Ok(o) => outcomes.push(o),
            Err(e) => outcomes.push((format!("soak s{idx} task failed: {e}"), None)),
        }
    }
    client.shutdown_with(Duration::from_secs(1)).await;
    let _ = reader.await;
    let fatal = fatal.lock().ok().and_then(|g| g.clone());
    Tally {
        outcomes,
        received: received.load(Ordering::Relaxed),
        reconnects: reconnects.load(Ordering::Relaxed),
        fatal,
    }
}

/// Injects a random fault from the table at a random time until `until`. Returns how many
/// faults of each kind were injected.
async fn injector(emu: Arc<Emulator>, until: Instant, seed: u64) -> HashMap<&'static str, u64> {
    let mut rng = XorShift::new(seed);
    let mut counts: HashMap<&'static str, u64> = HashMap::new();
    let mut stalled: Vec<(Instant, Target)> = Vec::new();
    let mut hello_delayed_until: Option<Instant> = None;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20 + rng.below(200))).await;
        let now = Instant::now();
        // Lift the faults that last.
        stalled.retain(|(t, target)| {
            if *t <= now {
                emu.stall_connection(target.clone(), false);
                false
            } else {
                true
            }
        });
        if hello_delayed_until.is_some_and(|t| t <= now) {
            emu.set_hello(HelloMode::Immediate);
            hello_delayed_until = None;
        }
        let open = emu.open_connections();
        if open.is_empty() {
            continue;
        }
        let target = Target::Conn(open[rng.below(open.len() as u64) as usize]);
        let kind = match rng.below(16) {
            0 => {
                emu.drop_connection(target);
                "drop"
            }
            1 => {
                emu.goodbye(target);
                "goodbye"
            }
            2 => {
                emu.team_migration(target);
                "team_migration"
            }
            3 => {
                emu.close_connection(target, 1011, "internal error");
                "close_1011"
            }
            4 => {
                emu.send_raw_to_connection(
                    target,
                    RawFrame::CutMidFrame(bytes::Bytes::from(vec![b'x'; 512])),
                );
                "cut_mid_frame"
            }
            5 => {
                emu.stall_connection(target.clone(), true);
                stalled.push((now + Duration::from_secs(3), target));
                "stall"
            }
            6 => {
                emu.set_reply_fault(target, ReplyFault::Withhold(3));
                "withhold_replies"
            }
            7 => {
                emu.set_reply_fault(target, ReplyFault::Reverse(4));
                "reverse_replies"
            }
            8 => {
                emu.set_reply_fault(target, ReplyFault::Delay(Duration::from_millis(300)));
                "delay_replies"
            }
            9 => {
                emu.set_reply_fault(target.clone(), ReplyFault::None);
                emu.release_withheld(target);
                "release_replies"
            }
            10 => {
                let r = match rng.below(5) {
                    0 => Rejection::Status(500),
                    1 => Rejection::Html(502),
                    2 => Rejection::Truncated,
                    3 => Rejection::RateLimited { retry_after: Duration::from_secs(1) },
                    _ => Rejection::ExpiredUrl,
                };
                emu.reject_next_connects(1, r);
                "reject_connect"
            }
            11 => {
                let f = match rng.below(3) {
                    0 => RawFrame::malformed_json(),
                    1 => RawFrame::binary(),
                    _ => RawFrame::invalid_utf8(),
                };
                emu.send_raw_to_connection(target, f);
                "bad_frame"
            }
            12 => {
                emu.set_hello(HelloMode::Delay(Duration::from_millis(300)));
                hello_delayed_until = Some(now + Duration::from_secs(2));
                "hello_delayed"
            }
            _ => {
                let user = emu.second_user().user;
                emu.post_message(&emu.general_channel(), &user, "from alice");
                "incoming_message"
            }
        };
        *counts.entry(kind).or_default() += 1;
    }
    for (_, target) in stalled {
        emu.stall_connection(target, false);
    }
    emu.set_hello(HelloMode::Immediate);
    emu.clear_rejections();
    emu.set_reply_fault(Target::All, ReplyFault::None);
    emu.release_withheld(Target::All);
    counts
}

async fn soak(a: &Args) -> Result<bool, String> {
    let config = EmulatorConfig::default()
        .send_rate(Some(EmuRate::new(100.0, 20).disconnect_after(50)))
        .record_frames(false)
        .record_limit(5_000_000)
        .goodbye_grace(Some(Duration::from_secs(1)));
    let emu = Arc::new(Emulator::start(config).await.map_err(|e| e.to_string())?);
    let started = Instant::now();
    let until = started + Duration::from_secs(a.seconds);
    let rss_start = rss_kib().0;
    let mut tasks = tokio::task::JoinSet::new();
    for idx in 0..a.sessions {
        tasks.spawn(session(emu.clone(), idx, until, a.interval));
    }
    let faults = tokio::spawn(injector(emu.clone(), until, a.seed));
    let mut tallies = Vec::new();
    while let Some(t) = tasks.join_next().await {
        tallies.push(t.map_err(|e| format!("a session task failed: {e}"))?);
    }
    let faults = faults.await.map_err(|e| format!("the injector failed: {e}"))?;
    let elapsed = started.elapsed();

    // The judge: the emulator's record.
    let posted = emu.posted_messages();
    let mut by_text: HashMap<&str, Vec<&slack_rtm_emulator::PostedMessage>> = HashMap::new();
    for p in &posted {
        by_text.entry(p.text.as_str()).or_default().push(p);
    }
    // Our messages only ("from alice" is injected by the emulator itself, many times).
    let duplicates = by_text.iter().filter(|(t, v)| t.starts_with("soak s") && v.len() > 1).count();
    let (mut sent, mut acked, mut unconfirmed, mut failed, mut lost, mut phantom) = (0, 0, 0, 0, 0, 0);
    let mut failures: HashMap<String, u64> = HashMap::new();
    let (mut received, mut reconnects) = (0, 0);
    let mut fatal = Vec::new();
    for t in &tallies {
        received += t.received;
        reconnects += t.reconnects;
        if let Some(f) = &t.fatal {
            fatal.push(f.clone());
        }
        for (text, outcome) in &t.outcomes {
            sent += 1;
            let record = by_text.get(text.as_str()).map(Vec::as_slice).unwrap_or_default();
            match outcome {
                None => lost += 1,
                Some(Ok(p)) => {
                    acked += 1;
                    if record.len() != 1 || p.ts.as_ref() != Some(&record[0].ts) {
                        lost += 1;
                    }
                }
                Some(Err(e)) if e.may_have_been_posted() => unconfirmed += 1,
                Some(Err(e)) => {
                    failed += 1;
                    *failures.entry(format!("{e}")).or_default() += 1;
                    if !record.is_empty() {
                        phantom += 1;
                    }
                }
            }
        }
    }
    let (_, peak) = rss_kib();
    println!("soak: {} sessions, {:.1} s, seed {}", a.sessions, elapsed.as_secs_f64(), a.seed);
    let mut f: Vec<_> = faults.into_iter().collect();
    f.sort();
    println!("faults injected: {f:?}");
    println!("messages sent:        {sent}");
    println!("  acked:              {acked}");
    println!("  unconfirmed:        {unconfirmed}  (AckTimeout/Unconfirmed: may have been posted)");
    println!("  failed (not sent):  {failed}  {failures:?}");
    println!("duplicates:           {duplicates}  (must be 0)");
    println!("lost:                 {lost}  (must be 0: acked but not in the record once, or unresolved)");
    println!("reported not sent but posted: {phantom}  (must be 0)");
    println!("events received:      {received}");
    println!("reconnects:           {reconnects}  (connections admitted: {})", emu.connection_count());
    println!("rtm.connect calls:    {}", emu.rtm_connect_call_count());
    println!("fatal stops:          {}  {fatal:?}", fatal.len());
    println!("RSS: start {rss_start} KiB, peak {peak} KiB");
    Ok(duplicates == 0 && lost == 0 && phantom == 0 && fatal.is_empty())
}

/// RSS across `n` goodbye-reconnects of one session.
async fn reconnects(n: u64) -> Result<bool, String> {
    let emu = Emulator::start(
        EmulatorConfig::default().record_frames(false).goodbye_grace(Some(Duration::from_secs(1))),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut config = session_config();
    config.reconnect = ReconnectPolicy::new(Duration::from_millis(1), Duration::from_millis(5));
    let (client, mut events) = connect(&emu, config).await?;
    let mut cycle = async |count: u64| -> Result<(), String> {
        for _ in 0..count {
            if emu.goodbye(Target::All) == 0 {
                return Err("no open connection".into());
            }
            loop {
                match tokio::time::timeout(Duration::from_secs(30), events.next()).await {
                    Ok(Some(SessionEvent::Connected { reconnect: true, .. })) => break,
                    Ok(Some(SessionEvent::Stopped { reason })) => return Err(format!("stopped: {reason}")),
                    Ok(Some(_)) => {}
                    Ok(None) => return Err("the session ended".into()),
                    Err(_) => return Err("no reconnect within 30 s".into()),
                }
            }
        }
        Ok(())
    };
    // Warm up (allocator pools, buffers), then measure.
    cycle(50).await?;
    client.send_message(emu.general_channel(), "warm").await.map_err(|e| e.to_string())?;
    let (before, _) = rss_kib();
    let started = Instant::now();
    cycle(n).await?;
    let took = started.elapsed();
    let posted = client.send_message(emu.general_channel(), "after").await;
    let (after, peak) = rss_kib();
    println!("reconnects: {n} goodbye-reconnects in {:.2} s", took.as_secs_f64());
    println!(
        "RSS before {before} KiB, after {after} KiB, delta {} KiB, peak {peak} KiB",
        after as i64 - before as i64
    );
    println!("connections admitted: {}, open now: {}", emu.connection_count(), emu.open_connections().len());
    client.shutdown().await;
    Ok(posted.is_ok())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "{e}\nusage: soak [--seconds N] [--sessions M] [--seed S] [--interval-ms I] | --reconnects N"
            );
            return ExitCode::from(2);
        }
    };
    let result = match a.reconnects {
        Some(n) => reconnects(n).await,
        None => soak(&a).await,
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("soak: an invariant was violated (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("soak failed: {e}");
            ExitCode::FAILURE
        }
    }
}
