//! `slack-rtm socket tail`: Socket Mode envelopes as NDJSON (or one line each), lifecycle on
//! stderr, and `--exec CMD`, a shell-script bot: CMD runs once per envelope with its JSON line
//! on stdin, at most `--exec-concurrency` at a time. The session acks every envelope the
//! moment it is decoded (auto ack mode), before it is printed or given to CMD: a slow CMD
//! never makes Slack redeliver.

use crate::cli::{SocketOpts, exit};
use crate::commands::{CLOSE_WAIT, Failure, check_insecure, interrupted};
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::Delivery;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::{SocketModeClient, SocketModeClientBuilder};
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long `socket tail` lets the session close (auto mode owes no acks).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// Most commands `--exec` runs at once.
pub const MAX_EXEC_CONCURRENCY: usize = 64;

/// What `socket tail` was asked to do.
#[derive(Debug)]
pub struct TailOptions {
    pub json: bool,
    pub count: Option<u64>,
    pub exec: Option<String>,
    pub exec_concurrency: usize,
    pub connections: usize,
}

/// The app-level token, from --token (with a warning), --token-file or SLACK_APP_TOKEN.
fn load_app_token(opts: &SocketOpts) -> Result<String, Failure> {
    if let Some(t) = &opts.token {
        tracing::warn!(
            "--token puts the token on the command line, where `ps` shows it to every user of this \
             machine; prefer SLACK_APP_TOKEN or --token-file"
        );
        return Ok(t.clone());
    }
    if let Some(path) = &opts.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read the token file {}: {e}", path.display())))?;
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err(Failure::usage(format!("the token file {} is empty", path.display())));
        }
        return Ok(first.to_owned());
    }
    match std::env::var("SLACK_APP_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        _ => Err(Failure::usage(
            "no app-level token: set SLACK_APP_TOKEN (xapp-…) or pass --token-file PATH \
             (or try `slack-rtm demo --socket-mode`, which needs none)",
        )),
    }
}

/// A Socket Mode builder from the common options.
pub fn builder(opts: &SocketOpts) -> Result<SocketModeClientBuilder, Failure> {
    let token = load_app_token(opts)?;
    let mut b = SocketModeClient::builder(token).ack_mode(AckMode::Auto);
    if let Some(url) = &opts.api_url {
        b = b.api_url(url).allow_insecure(check_insecure(url, opts.insecure)?);
    }
    Ok(b)
}

/// The NDJSON line of a delivery: the envelope's fields first, then its payload.
pub fn envelope_line(d: &Delivery) -> serde_json::Value {
    let whole = d.to_json();
    serde_json::json!({
        "envelope_id": d.envelope_id(),
        "type": d.envelope_type(),
        "event_id": d.event_id(),
        "retry_attempt": d.retry_attempt(),
        "event_type": d.event_type(),
        "accepts_response_payload": d.accepts_response_payload(),
        "payload": whole.get("payload").cloned().unwrap_or(serde_json::Value::Null),
    })
}

/// Runs CMD with `line` on stdin; its output goes where ours goes. Failures are logged
/// (with `envelope_id`, whatever identifies the line).
/// What an `--exec` command gets in `SLACK_BOT_TOKEN`.
pub(crate) enum BotTokenEnv {
    /// What this process has.
    Inherit,
    /// The request's workspace's bot token (`http tail --store`).
    Set(String),
    /// Nothing (`http tail --store`, a workspace with no installed bot).
    Unset,
}

pub(crate) async fn run_exec(cmd: Arc<str>, line: String, envelope_id: String, bot_token: BotTokenEnv) {
    let mut command = tokio::process::Command::new("sh");
    match bot_token {
        BotTokenEnv::Inherit => {}
        BotTokenEnv::Set(token) => {
            command.env("SLACK_BOT_TOKEN", token);
        }
        BotTokenEnv::Unset => {
            command.env_remove("SLACK_BOT_TOKEN");
        }
    }
    let child = command
        .arg("-c")
        .arg(&*cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(envelope = %envelope_id, "cannot run --exec command: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is fine.
        let _ = stdin.write_all(line.as_bytes()).await;
        let _ = stdin.write_all(b"\n").await;
    }
    match child.wait().await {
        Ok(status) if status.success() => {}
        Ok(status) => tracing::warn!(envelope = %envelope_id, "--exec command failed: {status}"),
        Err(e) => tracing::warn!(envelope = %envelope_id, "--exec command: {e}"),
    }
}

/// `slack-rtm socket tail`.
pub async fn tail(opts: SocketOpts, t: TailOptions) -> Result<u8, Failure> {
    if !(1..=MAX_EXEC_CONCURRENCY).contains(&t.exec_concurrency) {
        return Err(Failure::usage(format!("--exec-concurrency must be 1 to {MAX_EXEC_CONCURRENCY}")));
    }
    if !(1..=slack_rtm::socket_mode::MAX_CONNECTIONS).contains(&t.connections) {
        return Err(Failure::usage(format!(
            "--connections must be 1 to {}",
            slack_rtm::socket_mode::MAX_CONNECTIONS
        )));
    }
    let mut ctrl_c = interrupted();
    let builder = builder(&opts)?.connections(t.connections);
    let (client, mut items) = tokio::select! {
        r = builder.connect() => r?,
        _ = &mut ctrl_c => {
            eprintln!("slack-rtm: interrupted while connecting");
            return Ok(exit::OK);
        }
    };
    let exec: Option<Arc<str>> = t.exec.as_deref().map(Arc::from);
    let permits = Arc::new(Semaphore::new(t.exec_concurrency));
    let mut running = JoinSet::new();
    let mut printed = 0u64;
    let mut failure = None;
    let stdout = std::io::stdout();
    while t.count.is_none_or(|c| printed < c) {
        let item = tokio::select! {
            _ = &mut ctrl_c => {
                eprintln!("slack-rtm: shutting down (Ctrl-C again to quit at once)");
                break;
            }
            item = items.next() => item,
        };
        let Some(item) = item else { break };
        match item {
            SocketModeItem::Envelope(d) => {
                // Auto ack mode: this envelope was acked before it got here.
                let json = envelope_line(&d).to_string();
                {
                    let mut out = stdout.lock();
                    let line = if t.json { &json } else { &crate::socket_lines::human_line(&d) };
                    // A closed stdout (e.g. `| head`) is not worth a panic.
                    let _ = writeln!(out, "{line}").and_then(|_| out.flush());
                }
                printed += 1;
                if let Some(cmd) = &exec {
                    // Bounded: waits for a free slot (the session keeps reading and acking
                    // meanwhile, up to its buffer).
                    let permit = tokio::select! {
                        p = permits.clone().acquire_owned() => p.ok(),
                        _ = &mut ctrl_c => break,
                    };
                    let (cmd, id) = (cmd.clone(), d.envelope_id().to_owned());
                    running.spawn(async move {
                        run_exec(cmd, json, id, BotTokenEnv::Inherit).await;
                        drop(permit);
                    });
                    while running.try_join_next().is_some() {}
                }
            }
            SocketModeItem::Stopped { reason } => {
                // An error is printed once, as the command's failure.
                if reason.is_error() {
                    failure = Some(Failure::from(slack_rtm::Error::Stopped(reason)));
                } else {
                    eprintln!("slack-rtm: stopped: {reason}");
                }
                break;
            }
            other => {
                if let Some(line) = crate::socket_lines::lifecycle_line(&other) {
                    eprintln!("slack-rtm: {line}");
                }
            }
        }
    }
    // Close every socket with 1000, let the running commands finish; a second Ctrl-C stops
    // waiting.
    let mut second = interrupted();
    let close = async {
        client.shutdown_with(SHUTDOWN_GRACE).await;
        while items.next().await.is_some() {}
    };
    let mut quit = false;
    tokio::select! {
        _ = close => {}
        _ = &mut second => {
            eprintln!("slack-rtm: quitting without a clean close");
            quit = true;
        }
        _ = tokio::time::sleep(CLOSE_WAIT) => tracing::warn!("the session did not close in time"),
    }
    if !quit {
        tokio::select! {
            _ = async { while running.join_next().await.is_some() {} } => {}
            _ = &mut second => eprintln!("slack-rtm: not waiting for the running --exec commands"),
        }
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(exit::OK),
    }
}
