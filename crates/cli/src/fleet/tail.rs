//! `slack-rtm fleet tail`: a fleet worker that prints every event as one JSON line on stdout,
//! written and flushed before the event is acked (a tail killed at any moment never loses an
//! event it acked), or hands it to `--exec CMD` first.

use super::{fleet_config, now_ms, start_failure};
use crate::cli::{FleetOpts, exit};
use crate::commands::{Failure, interrupted_or_terminated};
use slack_rtm_fleet::{EventStream, FleetEvent, Worker, WorkerConfig, WorkerCounts};
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

/// Most entries read at once.
const BATCH: u64 = 64;

/// What `fleet tail` was asked to do.
#[derive(Debug)]
pub struct TailOptions {
    pub group: String,
    pub consumer: Option<String>,
    pub count: Option<u64>,
    pub claim_idle_ms: u64,
    pub max_attempts: u32,
    pub exec: Option<String>,
}

/// What the handler shares with the command.
struct Shared {
    count: Option<u64>,
    exec: Option<String>,
    printed: AtomicU64,
    /// Stdout could not be written: the tail stops.
    stdout_closed: AtomicBool,
    stop: Notify,
}

/// The stderr line of a worker's counts.
pub fn counts_line(c: &WorkerCounts) -> String {
    format!(
        "fleet tail: handled {}, failures {}, dead-lettered {}, taken over {}, redis failures {}",
        c.handled, c.failures, c.dead_lettered, c.taken_over, c.redis_failures
    )
}

/// The worker's settings from the options.
fn worker_config(t: &TailOptions) -> Result<WorkerConfig, Failure> {
    if t.group.trim().is_empty() {
        return Err(Failure::usage("--group must not be empty"));
    }
    if t.max_attempts == 0 {
        return Err(Failure::usage("--max-attempts must be at least 1"));
    }
    if t.claim_idle_ms < 10 {
        return Err(Failure::usage("--claim-idle-ms must be at least 10"));
    }
    let idle = Duration::from_millis(t.claim_idle_ms);
    let every = (idle / 10).max(Duration::from_millis(10));
    let batch = t.count.map_or(BATCH, |c| c.clamp(1, BATCH)) as usize;
    let mut config =
        WorkerConfig::new(t.group.as_str()).claim(idle, every).max_attempts(t.max_attempts).batch(batch);
    if let Some(name) = &t.consumer {
        if name.trim().is_empty() {
            return Err(Failure::usage("--consumer must not be empty"));
        }
        config = config.consumer(name.as_str());
    }
    Ok(config)
}

/// `slack-rtm fleet tail`.
pub async fn run(fleet: FleetOpts, t: TailOptions) -> Result<u8, Failure> {
    let config = fleet_config(&fleet, None)?;
    let worker_config = worker_config(&t)?;
    let mut stop = interrupted_or_terminated();
    // The worker retries Redis failures for ever: check once that Redis answers at all.
    let ping = async { EventStream::new(&config)?.ping().await };
    tokio::select! {
        r = ping => r.map_err(|e| start_failure(e, &config))?,
        () = &mut stop => return Ok(exit::OK),
    }
    eprintln!(
        "fleet tail: reading {} on {} as {} in group {}",
        config.keys.stream,
        config.redis.redacted(),
        worker_config.consumer,
        worker_config.group
    );
    let shared = Arc::new(Shared {
        count: t.count,
        exec: t.exec,
        printed: AtomicU64::new(0),
        stdout_closed: AtomicBool::new(false),
        stop: Notify::new(),
    });
    if t.count == Some(0) {
        eprintln!("{}", counts_line(&WorkerCounts::default()));
        return Ok(exit::OK);
    }
    let mut worker = Worker::new(&config, worker_config).map_err(|e| start_failure(e, &config))?;
    let handler = {
        let shared = shared.clone();
        move |event: FleetEvent| {
            let shared = shared.clone();
            async move { handle(event, &shared).await }
        }
    };
    let stopped = {
        let shared = shared.clone();
        async move {
            tokio::select! {
                () = stop => eprintln!("fleet tail: stopping after the current event"),
                () = shared.stop.notified() => {}
            }
        }
    };
    let counts = worker.run(handler, stopped).await;
    eprintln!("{}", counts_line(&counts));
    if shared.stdout_closed.load(Ordering::Relaxed) {
        return Err(Failure::other("stdout is closed: stopped (the event not printed was not acked)"));
    }
    Ok(exit::OK)
}

/// Handles one event: `--exec CMD` first if given, then its line on stdout, flushed. `Ok`
/// only once the line is out: the worker acks after that.
async fn handle(event: FleetEvent, shared: &Shared) -> Result<(), String> {
    let mut line = event.to_json();
    if let Some(cmd) = &shared.exec {
        run_exec(cmd, &line.to_string(), event.idempotency_key()).await?;
    }
    line["handled_ms"] = now_ms().into();
    let written = {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    if let Err(e) = written {
        // Not printed, so not handled: the event stays pending and another tail takes it over.
        shared.stdout_closed.store(true, Ordering::Relaxed);
        shared.stop.notify_one();
        return Err(format!("cannot write to stdout: {e}"));
    }
    let printed = shared.printed.fetch_add(1, Ordering::Relaxed) + 1;
    if shared.count == Some(printed) {
        shared.stop.notify_one();
    }
    Ok(())
}

/// Runs `sh -c CMD` with `line` on stdin (its output goes to our stderr: stdout carries only
/// the JSON lines). `Err` unless it exits 0.
async fn run_exec(cmd: &str, line: &str, key: &str) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run the --exec command: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is fine.
        let _ = stdin.write_all(line.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    match child.wait().await {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("the --exec command failed for {key}: {status}")),
        Err(e) => Err(format!("the --exec command for {key}: {e}")),
    }
}
