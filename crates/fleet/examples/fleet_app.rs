//! A Socket Mode app run as a fleet: two gateways (two sockets each) append every envelope to
//! a Redis Stream and ack it once Redis has it; three workers share the events in one consumer
//! group. One handler fails once (the event is tried again); one worker stops halfway (the
//! others go on).
//!
//! ```text
//! cargo run -p slack-rtm-fleet --features testing --example fleet_app     # local emulator + redis-server
//! SLACK_APP_TOKEN=xapp-… REDIS_URL=redis://127.0.0.1:6379 cargo run -p slack-rtm-fleet --features testing --example fleet_app
//! ```
//!
//! Without `SLACK_APP_TOKEN` it starts the emulator and a throwaway `redis-server` (Debian's
//! `redis-server` must be installed), has the emulator send 30 events, prints
//! `handled <event id> by worker <n> (attempt <k>)` for each handler call, checks that every
//! event was handled and every envelope acked, and exits. With a token (and `REDIS_URL`) it
//! runs one gateway and one worker against Slack until Ctrl-C.

use slack_rtm::SocketModeClient;
use slack_rtm::emulator::{Emulator, EmulatorConfig};
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, FleetEvent, Gateway, Worker, WorkerConfig};
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

#[tokio::main]
async fn main() -> BoxResult<()> {
    match std::env::var("SLACK_APP_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        Some(token) => live(token.trim()).await,
        None => scripted().await,
    }
}

/// One gateway and one worker against Slack, until Ctrl-C.
async fn live(token: &str) -> BoxResult<()> {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let fleet = FleetConfig::new(redis, "fleet-example");
    let gateway =
        Gateway::builder(SocketModeClient::builder(token).connections(2), fleet.clone()).start().await?;
    let mut worker = Worker::new(&fleet, WorkerConfig::new("handlers"))?;
    println!("gateway and worker running; Ctrl-C stops them");
    let counts = worker
        .run(
            |ev: FleetEvent| async move {
                println!("{} {:?} attempt {}", ev.idempotency_key(), ev.event_type, ev.attempt);
                Ok::<(), std::io::Error>(())
            },
            async {
                tokio::signal::ctrl_c().await.ok();
            },
        )
        .await;
    gateway.shutdown().await;
    println!("worker: {counts:?}\ngateway: {:?}", gateway.counts());
    Ok(())
}

/// Against the emulator and a throwaway redis-server.
async fn scripted() -> BoxResult<()> {
    let redis = RedisServer::start()?;
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let fleet = FleetConfig::new(redis.url(), "fleet-example");
    let mut gateways = Vec::new();
    for _ in 0..2 {
        let socket = SocketModeClient::builder(emu.app_token())
            .api_url(&emu.api_url())
            .allow_insecure(true)
            .connections(2);
        gateways.push(Gateway::builder(socket, fleet.clone()).start().await?);
    }
    emu.wait_for_open_sockets(4, Duration::from_secs(10)).await?;

    // Three workers. Each records what it handled; one event fails on its first attempt.
    let handled: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let failed_once: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut stops = Vec::new();
    let mut tasks = Vec::new();
    for n in 1..=3 {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config =
            WorkerConfig::new("handlers").consumer(format!("example-{n}")).block(Duration::from_millis(100));
        let mut worker = Worker::new(&fleet, config.retry_delay(Duration::from_millis(50)))?;
        let (handled, failed_once) = (handled.clone(), failed_once.clone());
        tasks.push(tokio::spawn(async move {
            worker
                .run(
                    move |ev: FleetEvent| {
                        let key = ev.idempotency_key().to_owned();
                        let fail = ev.body.contains("\"text\":\"event 7\"")
                            && failed_once.lock().unwrap().insert(key.clone());
                        if fail {
                            println!("failed  {key} in worker {n} (attempt {}): tried again", ev.attempt);
                        } else {
                            println!("handled {key} by worker {n} (attempt {})", ev.attempt);
                            *handled.lock().unwrap().entry(key).or_default() += 1;
                        }
                        async move { if fail { Err("a transient failure") } else { Ok(()) } }
                    },
                    async {
                        let _ = stopped.await;
                    },
                )
                .await
        }));
        stops.push(stop);
    }

    for i in 0..30 {
        emu.send_api_event(serde_json::json!({
            "type": "message", "channel": "C0EMU0001", "user": "U0EMU0001",
            "text": format!("event {i}"), "ts": format!("17000000{i:02}.000100"),
        }));
        if i == 15 {
            // One worker leaves; the other two take its share from now on.
            let _ = stops.remove(0).send(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent: HashSet<String> = emu.envelopes().iter().filter_map(|e| e.event_id.clone()).collect();
    for _ in 0..250 {
        if sent.iter().all(|id| handled.lock().unwrap().contains_key(id))
            && emu.envelopes().iter().all(|e| e.acked)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    for stop in stops {
        let _ = stop.send(());
    }
    for t in tasks {
        t.await?;
    }
    for g in &gateways {
        g.shutdown().await;
    }
    let handled = handled.lock().unwrap();
    let missing: Vec<&String> = sent.iter().filter(|id| !handled.contains_key(*id)).collect();
    let unacked = emu.envelopes().iter().filter(|e| !e.acked).count();
    let appended: u64 = gateways.iter().map(|g| g.counts().appended).sum();
    if !missing.is_empty() || unacked > 0 || sent.len() != 30 {
        return Err(format!("missing {missing:?}, {unacked} envelopes not acked").into());
    }
    println!(
        "fleet_app: {} events appended by 2 gateways, all {} handled by 3 workers, every envelope acked",
        appended,
        handled.len()
    );
    Ok(())
}
