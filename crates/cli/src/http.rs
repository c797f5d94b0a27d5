//! `slack-rtm http tail`: a Request URL that prints what Slack posts to it, the HTTP twin of
//! `socket tail`. Each verified request is answered 200 (an empty ack) the moment it is
//! verified, before it is printed or given to `--exec`; a request that fails verification is
//! refused by the receiver and never reaches this code.

use crate::cli::{HttpCommand, TailOutput, exit};
use crate::commands::{Failure, interrupted};
use crate::socket::{BotTokenEnv, MAX_EXEC_CONCURRENCY, run_exec};
use slack_rtm::app::http::{
    Bytes, HttpServer, Inbound, InboundHandler, InboundKind, SigningSecret, SlackReceiver, Verifier,
};
use slack_rtm::app::oauth::{InstallationStore, request_workspace};
use slack_rtm::transport::http::{Response, StatusCode};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Requests verified but not printed yet; past it, Slack is answered 503 (and retries).
const BACKLOG: usize = 1024;
/// How long the server may take to answer its last requests at exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Answers 200 and queues the request for printing.
struct Tail {
    tx: mpsc::Sender<Inbound>,
}

impl InboundHandler for Tail {
    async fn handle(&self, inbound: Inbound) -> Response<Bytes> {
        let mut r = Response::new(Bytes::new());
        if self.tx.try_send(inbound).is_err() {
            tracing::warn!("too many requests waiting to be printed: answered 503 (Slack retries)");
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        r
    }
}

/// The signing secret: --signing-secret-file, else SLACK_SIGNING_SECRET.
fn load_secret(file: Option<&Path>) -> Result<SigningSecret, Failure> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!("cannot read the signing secret file {}: {e}", path.display()))
        })?;
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err(Failure::usage(format!("the signing secret file {} is empty", path.display())));
        }
        return Ok(SigningSecret::new(first));
    }
    match std::env::var("SLACK_SIGNING_SECRET") {
        Ok(s) if !s.trim().is_empty() => Ok(SigningSecret::new(s)),
        _ => Err(Failure::usage(
            "no signing secret: set SLACK_SIGNING_SECRET or pass --signing-secret-file PATH \
             (Basic Information → App Credentials → Signing Secret)",
        )),
    }
}

fn kind_name(kind: InboundKind) -> &'static str {
    match kind {
        InboundKind::Event => "event",
        InboundKind::SlashCommand => "slash_command",
        InboundKind::Interactive => "interactive",
        InboundKind::Options => "options",
        InboundKind::AppRateLimited => "app_rate_limited",
        InboundKind::UrlVerification => "url_verification",
        InboundKind::SslCheck => "ssl_check",
        _ => "other",
    }
}

/// The NDJSON line of a request.
pub fn request_line(i: &Inbound) -> serde_json::Value {
    serde_json::json!({
        "kind": kind_name(i.kind()),
        "type": i.type_name(),
        "event_id": i.event_id(),
        "retry_num": i.retry().map_or(0, |r| r.num),
        "retry_reason": i.retry().map(|r| r.reason.as_str()),
        "payload": i.payload().to_value(),
    })
}

/// With `--store`: the request's workspace, whether it is installed (never a token), and what
/// `--exec` gets in `SLACK_BOT_TOKEN`.
async fn lookup(store: &dyn InstallationStore, i: &Inbound) -> (serde_json::Value, BotTokenEnv) {
    let payload = i.payload().to_value();
    let Some((ws, user)) = request_workspace(&payload) else {
        return (serde_json::json!({"workspace": null, "installed": false}), BotTokenEnv::Unset);
    };
    let workspace = serde_json::json!({
        "enterprise_id": ws.enterprise_id.as_ref().map(|e| e.as_str()),
        "team_id": ws.team_id.as_ref().map(|t| t.as_str()),
        "user_id": user.as_ref().map(|u| u.as_str()),
    });
    let (installed, token) = match store.find(ws, user).await {
        Ok(Some(inst)) => {
            let bot = inst.bot.as_ref().map(|b| b.grant.token.expose_secret().to_owned());
            (true, bot.map_or(BotTokenEnv::Unset, BotTokenEnv::Set))
        }
        Ok(None) => (false, BotTokenEnv::Unset),
        Err(e) => {
            tracing::warn!(error = %e, "the installation store failed");
            (false, BotTokenEnv::Unset)
        }
    };
    (serde_json::json!({"workspace": workspace, "installed": installed}), token)
}

fn human_line(i: &Inbound) -> String {
    let mut line = format!("{} {}", kind_name(i.kind()), i.type_name().unwrap_or("-"));
    if let Some(id) = i.event_id() {
        line.push_str(&format!(" {id}"));
    }
    if let Some(r) = i.retry() {
        line.push_str(&format!(" (retry {} {})", r.num, r.reason));
    }
    line
}

/// `slack-rtm http …`.
pub async fn run(command: HttpCommand) -> Result<u8, Failure> {
    let HttpCommand::Tail { listen, path, signing_secret_file, store, out } = command;
    let store = store.open()?;
    let TailOutput { json, count, exec, exec_concurrency } = out;
    if !(1..=MAX_EXEC_CONCURRENCY).contains(&exec_concurrency) {
        return Err(Failure::usage(format!("--exec-concurrency must be 1 to {MAX_EXEC_CONCURRENCY}")));
    }
    let secret = load_secret(signing_secret_file.as_deref())?;
    let verifier = Verifier::new(secret).map_err(|e| Failure::usage(e.to_string()))?;
    let (tx, mut rx) = mpsc::channel(BACKLOG);
    let server = HttpServer::bind(listen, path, SlackReceiver::new(verifier, Tail { tx }))
        .await
        .map_err(|e| Failure::other(format!("cannot listen on {listen}: {e}")))?;
    eprintln!("slack-rtm: listening on {}", server.url());
    let mut ctrl_c = interrupted();
    let exec: Option<Arc<str>> = exec.as_deref().map(Arc::from);
    let permits = Arc::new(Semaphore::new(exec_concurrency));
    let mut running = JoinSet::new();
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    while count.is_none_or(|c| printed < c) {
        let inbound = tokio::select! {
            _ = &mut ctrl_c => {
                eprintln!("slack-rtm: shutting down");
                break;
            }
            i = rx.recv() => i,
        };
        let Some(inbound) = inbound else { break };
        let mut line = request_line(&inbound);
        let mut human = human_line(&inbound);
        let mut bot_token = BotTokenEnv::Inherit;
        if let Some(store) = &store {
            let (found, token) = lookup(store.as_ref(), &inbound).await;
            let team =
                found["workspace"]["team_id"].as_str().or(found["workspace"]["enterprise_id"].as_str());
            human.push_str(&format!(
                " [{} {}]",
                team.unwrap_or("-"),
                if found["installed"] == true { "installed" } else { "not installed" }
            ));
            line["workspace"] = found["workspace"].clone();
            line["installed"] = found["installed"].clone();
            bot_token = token;
        }
        let line = line.to_string();
        {
            let mut out = stdout.lock();
            let shown = if json { &line } else { &human };
            // A closed stdout (e.g. `| head`) is not worth a panic.
            let _ = writeln!(out, "{shown}").and_then(|_| out.flush());
        }
        printed += 1;
        if let Some(cmd) = &exec {
            let permit = tokio::select! {
                p = permits.clone().acquire_owned() => p.ok(),
                _ = &mut ctrl_c => break,
            };
            let (cmd, id) = (cmd.clone(), inbound.event_id().unwrap_or("-").to_owned());
            running.spawn(async move {
                run_exec(cmd, line, id, bot_token).await;
                drop(permit);
            });
            while running.try_join_next().is_some() {}
        }
    }
    server.shutdown(SHUTDOWN_GRACE).await;
    let mut second = interrupted();
    tokio::select! {
        _ = async { while running.join_next().await.is_some() {} } => {}
        _ = &mut second => eprintln!("slack-rtm: not waiting for the running --exec commands"),
    }
    Ok(exit::OK)
}
