//! The commands, on top of the `slack-rtm` facade.

use crate::cli::{Args, Command, ConnOpts, exit};
use crate::output::{Printer, Style};
use slack_rtm::{Client, ClientBuilder, ErrorKind, Event, SessionEvent, Token};
use std::io::IsTerminal;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// Runs the command and returns the process exit code.
pub async fn run(args: Args) -> u8 {
    let result = match args.command {
        Command::Connect { conn, json } => connect(conn, json).await,
        Command::Tail { conn, json, types, channels, count, presence } => {
            tail(conn, json, types, channels, count, presence).await
        }
        Command::Send { conn, channel, text, thread, rate } => send(conn, channel, text, thread, rate).await,
        Command::Emulator { port, tls } => emulator(port, tls).await,
        Command::Demo { seconds, json } => crate::demo::run(Duration::from_secs(seconds), json).await,
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("slack-rtm: {}", failure.message);
            failure.code
        }
    }
}

/// A failed command: what to print and the exit code.
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: exit::USAGE }
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: exit::OTHER }
    }
}

impl From<slack_rtm::Error> for Failure {
    fn from(e: slack_rtm::Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Auth => exit::AUTH,
            ErrorKind::RateLimited => exit::RATE_LIMITED,
            ErrorKind::Network => exit::NETWORK,
            ErrorKind::Config => exit::USAGE,
            _ => exit::OTHER,
        };
        Self { message: e.to_string(), code }
    }
}

/// The token, from --token (with a warning), --token-file or SLACK_TOKEN.
fn load_token(conn: &ConnOpts) -> Result<Token, Failure> {
    if let Some(t) = &conn.token {
        tracing::warn!(
            "--token puts the token on the command line, where `ps` shows it to every user of this \
             machine; prefer SLACK_TOKEN or --token-file"
        );
        return Ok(Token::new(t.as_str()));
    }
    if let Some(path) = &conn.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read the token file {}: {e}", path.display())))?;
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            return Err(Failure::usage(format!("the token file {} is empty", path.display())));
        }
        return Ok(Token::new(first));
    }
    match std::env::var("SLACK_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(Token::new(t)),
        _ => Err(Failure::usage(
            "no token: set SLACK_TOKEN or pass --token-file PATH (or try `slack-rtm demo`, which needs none)",
        )),
    }
}

/// Whether an API URL points at this machine (http:// is then harmless).
fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http_uri::Uri>() else { return false };
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

mod http_uri {
    pub use slack_rtm::http::Uri;
}

/// A client builder from the common options.
pub fn builder(conn: &ConnOpts) -> Result<ClientBuilder, Failure> {
    let token = load_token(conn)?;
    let mut b = Client::builder(token).batch_presence_aware(conn.batch_presence);
    if let Some(url) = &conn.api_url {
        let insecure = conn.insecure || is_loopback_url(url);
        b = b.api_url(url).allow_insecure(insecure);
    }
    Ok(b)
}

async fn connect(conn: ConnOpts, json: bool) -> Result<u8, Failure> {
    let answer = builder(&conn)?.rtm_connect().await?;
    let c = &answer.connected;
    if json {
        let value = serde_json::json!({
            "self": c.self_,
            "team": c.team,
            "url": c.url,
            "expires_in_secs": answer.expires_at().saturating_duration_since(std::time::Instant::now()).as_secs(),
            "warnings": answer.warnings.iter().map(|w| w.as_str()).collect::<Vec<_>>(),
            "req_id": answer.req_id,
        });
        println!("{value}");
    } else {
        let team = &c.team;
        let mut team_line = format!("{} ({}, {}.slack.com)", team.name, team.id, team.domain);
        if let Some(e) = &team.enterprise_id {
            team_line.push_str(&format!(
                ", enterprise {} {}",
                e,
                team.enterprise_name.as_deref().unwrap_or("")
            ));
        }
        println!("team      {team_line}");
        println!("self      {} ({})", c.self_.name, c.self_.id);
        println!("url       {}", c.url);
        println!(
            "expires   in {} s (single use)",
            answer.expires_at().saturating_duration_since(std::time::Instant::now()).as_secs()
        );
        for w in &answer.warnings {
            println!("warning   {w}");
        }
        if let Some(id) = &answer.req_id {
            println!("req id    {id}");
        }
    }
    Ok(exit::OK)
}

async fn tail(
    conn: ConnOpts,
    json: bool,
    types: Vec<String>,
    channels: Vec<String>,
    count: Option<u64>,
    presence: Vec<String>,
) -> Result<u8, Failure> {
    let (client, mut events) = builder(&conn)?.connect().await?;
    if !presence.is_empty() {
        let ids = presence.iter().map(|u| slack_rtm::UserId::new(u.as_str())).collect::<Vec<_>>();
        if let Err(e) = client.subscribe_presence(ids).await {
            tracing::warn!("presence subscription failed: {e}");
        }
    }
    let style = if json { Style::Json } else { Style::human(std::io::stdout().is_terminal()) };
    let mut printer = Printer::new(style);
    let mut printed = 0u64;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => {
                eprintln!("slack-rtm: shutting down");
                client.shutdown().await;
            }
            ev = events.next() => {
                let Some(ev) = ev else { break };
                match ev {
                    SessionEvent::Rtm(event) => {
                        if filtered(&event, &types, &channels) {
                            continue;
                        }
                        printer.event(&event);
                        printed += 1;
                        if count.is_some_and(|c| printed >= c) {
                            client.shutdown().await;
                        }
                    }
                    SessionEvent::Stopped { error: Some(fatal) } => {
                        return Err(Failure::from(slack_rtm::Error::from(fatal)));
                    }
                    other => printer.lifecycle(&other),
                }
            }
        }
    }
    Ok(exit::OK)
}

/// Whether `--type`/`--channel` filter this event out.
fn filtered(event: &Event, types: &[String], channels: &[String]) -> bool {
    if !types.is_empty() && !types.iter().any(|t| t == event.event_type()) {
        return true;
    }
    if !channels.is_empty() {
        match crate::output::channel_of(event) {
            Some(c) => !channels.iter().any(|want| *want == c),
            None => true,
        }
    } else {
        false
    }
}

async fn send(
    conn: ConnOpts,
    channel: String,
    text: Option<String>,
    thread: Option<String>,
    rate: f64,
) -> Result<u8, Failure> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(Failure::usage("--rate must be a positive number of messages per second"));
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (client, mut events) =
        builder(&conn)?.send_rate(slack_rtm::SendRate::new(interval, 3)).connect().await?;
    // Drain events in the background so the session never waits on us.
    let drain = tokio::spawn(async move { while events.next().await.is_some() {} });

    let send_one = |line: String| {
        let client = client.clone();
        let channel = channel.clone();
        let thread = thread.clone();
        async move {
            let mut msg = client.send_message(channel.as_str(), line);
            if let Some(ts) = thread {
                msg = msg.in_thread(ts.as_str());
            }
            msg.await
        }
    };

    let mut failures = 0u64;
    let mut sent = 0u64;
    let progress = std::io::stderr().is_terminal();
    let mut report = |result: Result<slack_rtm::Posted, slack_rtm::SendError>, sent: u64| match result {
        Ok(posted) => println!("{}", posted.ts.as_ref().map(|t| t.as_str()).unwrap_or("?")),
        Err(e) => {
            failures += 1;
            let note = if e.may_have_been_posted() { " (it may have been posted)" } else { "" };
            eprintln!("slack-rtm: message {sent} not acknowledged: {e}{note}");
        }
    };
    match text {
        Some(t) => {
            sent += 1;
            report(send_one(t).await, sent);
        }
        None => {
            // Keep a few sends in flight so pacing, not round trips, sets the speed; print acks
            // in input order.
            let mut pending = std::collections::VecDeque::new();
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            loop {
                let line = match lines.next_line().await {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => return Err(Failure::other(format!("reading stdin: {e}"))),
                };
                if line.trim().is_empty() {
                    continue;
                }
                pending.push_back(tokio::spawn(send_one(line)));
                if pending.len() >= 8 {
                    if let Some(h) = pending.pop_front() {
                        sent += 1;
                        report(h.await.unwrap_or(Err(slack_rtm::SendError::Stopped)), sent);
                        if progress {
                            eprint!("\rslack-rtm: {sent} acknowledged ");
                        }
                    }
                }
            }
            while let Some(h) = pending.pop_front() {
                sent += 1;
                report(h.await.unwrap_or(Err(slack_rtm::SendError::Stopped)), sent);
                if progress {
                    eprint!("\rslack-rtm: {sent} acknowledged ");
                }
            }
            if progress {
                eprintln!();
            }
        }
    }
    client.shutdown().await;
    let _ = drain.await;
    Ok(if failures == 0 { exit::OK } else { exit::NOT_ALL_SENT })
}

async fn emulator(port: u16, tls: bool) -> Result<u8, Failure> {
    use slack_rtm::emulator::{Emulator, EmulatorConfig};
    let emu = Emulator::start(EmulatorConfig::default().port(port).tls(tls))
        .await
        .map_err(|e| Failure::other(format!("cannot start the emulator: {e}")))?;
    println!("api url   {}", emu.api_url());
    println!("token     {}", emu.token());
    println!("channel   {}", emu.general_channel());
    if let Some(pem) = emu.tls_root_cert_pem() {
        println!("certificate (trust it to use https):\n{pem}");
    }
    println!();
    println!("try:  SLACK_TOKEN={} slack-rtm tail --api-url {}", emu.token(), emu.api_url());
    eprintln!("slack-rtm: emulator running; Ctrl-C to stop");
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown().await;
    Ok(exit::OK)
}
