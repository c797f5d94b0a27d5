//! Scale benchmark: many idle sessions in one process (keepalive on). Prints one JSON line
//! with RSS per session and idle CPU.
//!
//! `bench-sessions --api-url URL --token T [--api-url URL2 --token T2 ...] --n SESSIONS [--idle
//! SECS] [--idle-ping SECS] [--pong-timeout SECS]` (the sessions' keepalive: ping after
//! `--idle-ping` of silence, dead after `--pong-timeout` more; default the library's — the line
//! reports both, and their sum, the longest a dead connection goes unnoticed). With several emulators (each `--api-url` with the `--token` after it), the
//! sessions are spread over them in turn: one emulator process cannot hold more sockets than
//! its open-files limit, so sessions near that limit need two.

use slack_rtm::Client;
use slack_rtm::rtm::KeepaliveConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::transport::HyperTransport;
use slack_rtm_bench::{cpu_time, peak_rss_kb};
use std::time::{Duration, Instant};

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut servers: Vec<(String, String)> = Vec::new();
    let mut n = 1000usize;
    let mut idle = 10u64;
    let mut keepalive = KeepaliveConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--api-url" => servers.push((v, String::new())),
            "--token" => {
                if let Some(last) = servers.last_mut() {
                    last.1 = v;
                }
            }
            "--n" => n = v.parse().unwrap_or(n),
            "--idle" => idle = v.parse().unwrap_or(idle),
            "--idle-ping" => {
                if let Ok(secs) = v.parse() {
                    keepalive.idle_ping = Duration::from_secs(secs);
                }
            }
            "--pong-timeout" => {
                if let Ok(secs) = v.parse() {
                    keepalive.pong_timeout = Duration::from_secs(secs);
                }
            }
            _ => {}
        }
    }
    if servers.is_empty() {
        eprintln!("bench-sessions: --api-url URL --token T needed");
        std::process::exit(2);
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        // One shared HTTP transport, as a service holding many workspaces would use.
        let transport = HyperTransport::builder().allow_http(true).build().expect("transport");
        let base_rss = rss_kb();
        let started = Instant::now();
        let mut clients = Vec::with_capacity(n);
        let mut pending = tokio::task::JoinSet::new();
        let mut failed = 0usize;
        for i in 0..n {
            let (api_url, token) = servers[i % servers.len()].clone();
            let transport = transport.clone();
            pending.spawn(async move {
                Client::builder(token.as_str())
                    .api_url(&api_url)
                    .allow_insecure(true)
                    .proxy_from_env(false)
                    .transport(transport)
                    .capacity(16)
                    .keepalive(keepalive)
                    .connect()
                    .await
            });
            // Keep a bounded number of handshakes in flight.
            if pending.len() >= 64 || i + 1 == n {
                while let Some(r) = pending.join_next().await {
                    match r {
                        Ok(Ok((client, mut events))) => {
                            tokio::spawn(async move {
                                while let Some(ev) = events.next().await {
                                    if let SessionEvent::Stopped { .. } = ev {
                                        break;
                                    }
                                }
                            });
                            clients.push(client);
                        }
                        _ => failed += 1,
                    }
                    if pending.len() < 32 && i + 1 != n {
                        break;
                    }
                }
            }
        }
        let connect_secs = started.elapsed().as_secs_f64();
        // Let allocations settle, then measure idle CPU over the window (keepalive pings run).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_connected = rss_kb();
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(idle)).await;
        let idle_cpu = cpu_time().saturating_sub(cpu0);
        let window = t0.elapsed();
        let connected = clients.len();
        let line = serde_json::json!({
            "client": "slack-rtm",
            "sessions": connected,
            "emulators": servers.len(),
            "failed": failed,
            "idle_ping_secs": keepalive.idle_ping.as_secs_f64(),
            "pong_timeout_secs": keepalive.pong_timeout.as_secs_f64(),
            "dead_after_secs": (keepalive.idle_ping + keepalive.pong_timeout).as_secs_f64(),
            "connect_secs": connect_secs,
            "rss_base_kb": base_rss,
            "rss_connected_kb": rss_connected,
            "rss_per_session_kb": (rss_connected.saturating_sub(base_rss)) as f64 / connected.max(1) as f64,
            "idle_window_secs": window.as_secs_f64(),
            "idle_cpu_percent_of_one_core": idle_cpu.as_secs_f64() / window.as_secs_f64() * 100.0,
            "peak_rss_kb": peak_rss_kb(),
        });
        println!("{line}");
        for c in &clients {
            c.shutdown_with(Duration::ZERO).await;
        }
    });
}
