//! One fleet process for the fleet soak, with the flags and output of `slack-rtm fleet gateway`
//! and `slack-rtm fleet tail` (the soak runs these when the CLI has no `fleet` command):
//!
//! ```text
//! fleet-proc gateway --redis URL --app NAME [--connections K] [--api-url URL]   (SLACK_APP_TOKEN)
//! fleet-proc worker  --redis URL --app NAME --group G [--consumer C] [--claim-idle-ms MS]
//! ```
//!
//! A gateway appends every envelope to the app's stream and acks it once Redis has it; it
//! prints its counts on stderr every second. A worker prints one JSON line per event handed
//! to it (`FleetEvent::to_json` plus `handled_ms` and `consumer`), flushed before the event is
//! acked. Both stop cleanly on SIGTERM or Ctrl-C.

use slack_rtm::SocketModeClient;
use slack_rtm_fleet::{FleetConfig, FleetEvent, Gateway, Worker, WorkerConfig};
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "usage: fleet-proc gateway --redis URL --app NAME [--connections K] [--api-url URL]
       fleet-proc worker --redis URL --app NAME --group G [--consumer C] [--claim-idle-ms MS]";

fn flags(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        out.insert(k.trim_start_matches("--").to_owned(), v.clone());
    }
    Ok(out)
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_millis() as u64)
}

async fn gateway(f: &HashMap<String, String>, fleet: FleetConfig) -> Result<(), String> {
    let token = std::env::var("SLACK_APP_TOKEN").map_err(|_| "SLACK_APP_TOKEN is not set".to_owned())?;
    let connections =
        f.get("connections").map_or(Ok(2), |v| v.parse()).map_err(|_| "--connections: a number")?;
    let mut socket = SocketModeClient::builder(token.as_str()).connections(connections);
    if let Some(url) = f.get("api-url") {
        socket = socket.api_url(url).allow_insecure(true);
    }
    let gw = Gateway::builder(socket, fleet).start().await.map_err(|e| e.to_string())?;
    let stop = terminated();
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = &mut stop => break,
            _ = tick.tick() => eprintln!("{:?} last fault: {:?}", gw.counts(), gw.last_fault()),
        }
    }
    gw.shutdown().await;
    eprintln!("stopped: {:?}", gw.counts());
    Ok(())
}

async fn worker(f: &HashMap<String, String>, fleet: FleetConfig) -> Result<(), String> {
    let group = f.get("group").ok_or("--group is required")?;
    let mut config = WorkerConfig::new(group.as_str());
    if let Some(c) = f.get("consumer") {
        config = config.consumer(c.as_str());
    }
    let consumer = config.consumer.clone();
    if let Some(ms) = f.get("claim-idle-ms") {
        let ms: u64 = ms.parse().map_err(|_| "--claim-idle-ms: a number")?;
        let every = Duration::from_millis(ms / 3);
        config = config.claim(Duration::from_millis(ms), every);
    }
    let mut w = Worker::new(&fleet, config).map_err(|e| e.to_string())?;
    let handler = move |ev: FleetEvent| {
        let mut line = ev.to_json();
        line["handled_ms"] = now_ms().into();
        line["consumer"] = consumer.as_str().into();
        let mut out = std::io::stdout().lock();
        let written = writeln!(out, "{line}").and_then(|()| out.flush());
        std::future::ready(written)
    };
    let counts = w.run(handler, terminated()).await;
    eprintln!("stopped: {counts:?}");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Ok(f)) = (argv.first(), flags(argv.get(1..).unwrap_or(&[]))) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (Some(redis), Some(app)) = (f.get("redis"), f.get("app")) else {
        eprintln!("fleet-proc: --redis and --app are required\n{USAGE}");
        return ExitCode::from(2);
    };
    let fleet = FleetConfig::new(redis.as_str(), app);
    let result = match cmd.as_str() {
        "gateway" => gateway(&f, fleet).await,
        "worker" => worker(&f, fleet).await,
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet-proc: {e}");
            ExitCode::FAILURE
        }
    }
}
