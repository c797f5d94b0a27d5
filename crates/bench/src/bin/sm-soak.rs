//! The Socket Mode soak: one facade `SocketModeClient` with N sockets against an in-process
//! emulator that makes `events_api` events at a steady pace and injects random faults at
//! random times (seeded): refreshes, drops, 1011 closes, stalls (which also hold back acks, so
//! Slack redelivers), half-open sockets that stop answering pings, `disconnect` warnings and
//! 429s on `apps.connections.open`. The emulator redelivers every event not acked in time.
//!
//! At the end the faults stop, the emulator's record of every event is compared with what the
//! app was handed: **lost** (an event never handed over) and **duplicated** (handed over more
//! than once) must both be 0; the exit code is 1 otherwise.
//!
//! ```text
//! sm-soak [--seconds N] [--sockets K] [--seed S] [--interval-ms I] [--fault-ms F]
//! ```
//!
//! Run it with `cargo xtask soak --socket-mode --seconds N --sockets K` (release build).

use slack_rtm::SocketModeClient;
use slack_rtm::rtm::KeepaliveConfig;
use slack_rtm::rtm::ReconnectPolicy;
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm_bench::faults::{XorShift, socket_fault};
use slack_rtm_emulator::{Emulator, EmulatorConfig, SocketModeServerConfig, SocketTarget};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    seconds: u64,
    sockets: usize,
    seed: u64,
    interval: Duration,
    fault_every: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 60,
        sockets: 4,
        seed: 1,
        interval: Duration::from_millis(20),
        fault_every: Duration::from_millis(1500),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        let n: u64 = v.parse().map_err(|_| format!("{k}: not a number: {v}"))?;
        match k.as_str() {
            "--seconds" => a.seconds = n,
            "--sockets" => a.sockets = n.clamp(1, 10) as usize,
            "--seed" => a.seed = n,
            "--interval-ms" => a.interval = Duration::from_millis(n.max(1)),
            "--fault-ms" => a.fault_every = Duration::from_millis(n.max(10)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn emulator_config() -> EmulatorConfig {
    // Short deadlines so that faults cause redeliveries within the run; enough retries that
    // Slack does not give up on an event while one socket after another is faulted.
    let sm = SocketModeServerConfig::default()
        .ack_timeout(Duration::from_millis(800))
        .retry_delays(vec![
            Duration::ZERO,
            Duration::from_millis(300),
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(3),
            Duration::from_secs(5),
        ])
        .warning_lead(Duration::from_millis(300))
        .refresh_grace(Duration::from_secs(1))
        .ping_interval(Some(Duration::from_secs(1)));
    EmulatorConfig::default().send_rate(None).socket_mode(sm)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "sm-soak: {e}\nusage: sm-soak [--seconds N] [--sockets K] [--seed S] [--interval-ms I] [--fault-ms F]"
            );
            return ExitCode::from(2);
        }
    };
    let emu = Arc::new(Emulator::start(emulator_config()).await.expect("emulator"));
    let mut reconnect = ReconnectPolicy::new(Duration::from_millis(50), Duration::from_secs(2));
    reconnect.healthy_after = Duration::from_secs(5);
    let (client, mut items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connections(args.sockets)
        .ack_mode(AckMode::Auto)
        .keepalive(KeepaliveConfig::new(Duration::from_millis(500), Duration::from_secs(1)))
        .reconnect(reconnect)
        .capacity(4096)
        .connect()
        .await
        .expect("connect");
    println!(
        "sm-soak: {} s, {} sockets, an event every {:?}, a fault every ~{:?}, seed {}",
        args.seconds, args.sockets, args.interval, args.fault_every, args.seed
    );
    // The app: counts every event id handed over.
    let seen = Arc::new(std::sync::Mutex::new(HashMap::<String, u32>::new()));
    let app = {
        let seen = seen.clone();
        let verbose = std::env::var_os("SM_SOAK_VERBOSE").is_some();
        let t0 = Instant::now();
        tokio::spawn(async move {
            let (mut connected, mut stopped) = (0u64, None);
            while let Some(item) = items.next().await {
                if verbose && !matches!(item, SocketModeItem::Envelope(_)) {
                    eprintln!("{:>8.3} {item:?}", t0.elapsed().as_secs_f64());
                }
                match item {
                    SocketModeItem::Envelope(d) => {
                        if let Some(id) = d.event_id() {
                            *seen.lock().expect("lock").entry(id.to_owned()).or_default() += 1;
                        }
                    }
                    SocketModeItem::Connected { .. } => connected += 1,
                    SocketModeItem::Stopped { reason } => stopped = Some(reason.to_string()),
                    _ => {}
                }
            }
            (connected, stopped)
        })
    };
    let started = Instant::now();
    let end = started + Duration::from_secs(args.seconds);
    let mut rng = XorShift::new(args.seed);
    let mut faults: HashMap<&'static str, u64> = HashMap::new();
    let mut next_fault = Instant::now() + args.fault_every;
    let mut made = 0u64;
    let mut tick = tokio::time::interval(args.interval);
    while Instant::now() < end {
        tick.tick().await;
        emu.send_api_event(
            serde_json::json!({"type": "message", "text": format!("soak {made}"), "channel": "C0EMU00001"}),
        );
        made += 1;
        if Instant::now() >= next_fault {
            let what = socket_fault(&emu, &mut rng);
            if std::env::var_os("SM_SOAK_VERBOSE").is_some() {
                eprintln!("{:>8.3} FAULT {what}", started.elapsed().as_secs_f64());
            }
            *faults.entry(what).or_default() += 1;
            let jitter = rng.below(args.fault_every.as_millis() as u64);
            next_fault = Instant::now() + args.fault_every / 2 + Duration::from_millis(jitter);
        }
    }
    // Calm: every socket answers pings again and nothing is stalled; wait until every event
    // the emulator made was handed over (or the drain time passes).
    emu.answer_pings(SocketTarget::All, true);
    emu.stall_socket(SocketTarget::All, false);
    let records_done = |emu: &Emulator| {
        let seen = seen.lock().expect("lock");
        emu.envelopes().iter().all(|r| r.event_id.as_ref().is_some_and(|id| seen.contains_key(id)))
    };
    let drain_until = Instant::now() + Duration::from_secs(30);
    while !records_done(&emu) && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer: a redelivery still on its way must be suppressed, not handed over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    client.shutdown().await;
    let (connected, stopped) = app.await.unwrap_or((0, Some("the app task panicked".into())));
    let records = emu.envelopes();
    let seen = seen.lock().expect("lock").clone();
    let lost: Vec<&str> =
        records.iter().filter_map(|r| r.event_id.as_deref()).filter(|id| !seen.contains_key(*id)).collect();
    let duplicated = seen.values().filter(|n| **n > 1).count();
    let redelivered = records.iter().filter(|r| r.attempts.len() > 1).count();
    let gave_up = records.iter().filter(|r| r.gave_up).count();
    let late_acks = emu.acks().iter().filter(|a| a.late).count();
    let peak_rss = slack_rtm_bench::peak_rss_kb();
    let mut faults: Vec<_> = faults.into_iter().collect();
    faults.sort();
    println!("faults: {faults:?}");
    println!(
        "events made {made}, recorded {}, redelivered {redelivered}, gave up {gave_up}, late acks {late_acks}, \
         sockets opened {}, hellos {connected}, peak RSS {} KiB",
        records.len(),
        emu.sockets().len(),
        peak_rss
    );
    println!("lost {}, duplicated {duplicated}", lost.len());
    let mut ok = lost.is_empty() && duplicated == 0 && records.len() as u64 == made;
    if let Some(reason) = stopped.filter(|r| !r.contains("shut down")) {
        println!("VIOLATION: the session stopped: {reason}");
        ok = false;
    }
    if !lost.is_empty() {
        println!("VIOLATION: lost events, e.g. {:?}", &lost[..lost.len().min(5)]);
    }
    if duplicated > 0 {
        println!("VIOLATION: {duplicated} events handed to the app more than once");
    }
    if records.len() as u64 != made {
        println!("VIOLATION: the emulator recorded {} events of {made} (record limit?)", records.len());
    }
    if ok {
        println!("sm-soak: OK");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
