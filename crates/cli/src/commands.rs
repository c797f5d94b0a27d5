//! The commands, on top of the `slack-rtm` facade.

use crate::cli::{Args, Command, ConnOpts, RtmOpts, SocketCommand, exit};
use crate::output::{Printer, Style};
use slack_rtm::rtm::ClientMessage;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::OutgoingMessage;
use slack_rtm::rtm::RtmAck;
use slack_rtm::rtm::SendError;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::Token;
use slack_rtm::{Client, ClientBuilder, ErrorKind};
use std::io::IsTerminal;
use std::io::Write;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// Runs the command and returns the process exit code.
pub async fn run(args: Args) -> u8 {
    let result = match args.command {
        Command::Connect { conn, rtm, json } => connect(conn, rtm, json).await,
        Command::Tail { conn, rtm, json, types, channels, count, presence } => {
            tail(conn, rtm, json, types, channels, count, presence).await
        }
        Command::Send { conn, channel, text, thread, blocks: Some(blocks), .. } => {
            crate::web::send_blocks(conn, channel, text, thread, blocks).await
        }
        Command::Send { conn, rtm_opts, rtm: true, channel, text, thread, rate, blocks: None } => {
            send(conn, rtm_opts, channel, text, thread, rate).await.map_err(|f| f.rtm_send_advice())
        }
        Command::Send { conn, channel, text, thread, rate, .. } => {
            crate::send_web::send(conn, channel, text, thread, rate).await
        }
        Command::Upload { conn, files, channel, thread, comment } => {
            crate::upload::upload(conn, files, channel, thread, comment).await
        }
        Command::Stream { conn, channel, thread, recipient, team } => {
            crate::stream::run(conn, crate::stream::StreamOptions { channel, thread, recipient, team }).await
        }
        Command::Api { conn, method, args, json } => crate::web::api(conn, method, args, json).await,
        Command::History { conn, channel, since, limit, json } => {
            crate::web::history(conn, channel, since, limit, json).await
        }
        Command::Emulator { action: Some(action), .. } => crate::emulator::act(action).await,
        Command::Emulator { port, tls, control_port, action: None } => {
            crate::emulator::run(port, tls, control_port).await
        }
        Command::Demo { seconds, json, rtm, socket_mode } => {
            crate::demo::run(Duration::from_secs(seconds), json, rtm, socket_mode).await
        }
        Command::Socket { command: SocketCommand::Tail { opts, out, connections } } => {
            let t = crate::socket::TailOptions {
                json: out.json,
                count: out.count,
                exec: out.exec,
                exec_concurrency: out.exec_concurrency,
                connections,
            };
            crate::socket::tail(opts, t).await
        }
        Command::Fleet { command } => crate::fleet::run(command).await,
        Command::Http { command } => crate::http::run(command).await,
        Command::Installations { command } => crate::installations::run(command).await,
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

    /// `send --rtm` refused because of the token's type: the Web API (plain `send`) takes it.
    fn rtm_send_advice(mut self) -> Self {
        if self.message.contains("not_allowed_token_type") {
            self.message.push_str(
                " To post with this token, leave out --rtm: `slack-rtm send` posts through the Web API.",
            );
        }
        self
    }
}

/// The exit code of a kind of failure.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Auth => exit::AUTH,
        ErrorKind::RateLimited => exit::RATE_LIMITED,
        ErrorKind::Network => exit::NETWORK,
        ErrorKind::Config => exit::USAGE,
        _ => exit::OTHER,
    }
}

impl From<slack_rtm::Error> for Failure {
    fn from(e: slack_rtm::Error) -> Self {
        Self { message: e.to_string(), code: exit_code(e.kind()) }
    }
}

impl From<slack_rtm::ApiCallError> for Failure {
    fn from(e: slack_rtm::ApiCallError) -> Self {
        Self { message: e.to_string(), code: exit_code(e.kind()) }
    }
}

/// The token, from --token (with a warning), --token-file, SLACK_BOT_TOKEN or SLACK_TOKEN.
fn load_token(conn: &ConnOpts) -> Result<Token, Failure> {
    if let Some(t) = &conn.token {
        tracing::warn!(
            "--token puts the token on the command line, where `ps` shows it to every user of this \
             machine; prefer SLACK_BOT_TOKEN or --token-file"
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
    for var in ["SLACK_BOT_TOKEN", "SLACK_TOKEN"] {
        match std::env::var(var) {
            Ok(t) if !t.trim().is_empty() => return Ok(Token::new(t.trim())),
            _ => {}
        }
    }
    Err(Failure::usage(
        "no token: set SLACK_BOT_TOKEN or pass --token-file PATH (or try `slack-rtm demo`, which needs none)",
    ))
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
    pub use slack_rtm::transport::http::Uri;
}

/// `http://` is fine for this machine; for another host it needs `--insecure`, and the
/// refusal names the flag.
pub fn check_insecure(url: &str, insecure: bool) -> Result<bool, Failure> {
    let plain = url.trim_start().to_ascii_lowercase().starts_with("http://");
    if plain && !insecure && !is_loopback_url(url) {
        return Err(Failure::usage(format!(
            "refusing the plain http:// API URL {url}: http:// is accepted only for this machine \
             (localhost, 127.0.0.1, ::1); pass --insecure to allow it for another host (never for Slack)"
        )));
    }
    Ok(insecure || is_loopback_url(url))
}

/// A client builder from the common options.
pub fn builder(conn: &ConnOpts) -> Result<ClientBuilder, Failure> {
    let token = load_token(conn)?;
    let mut b = Client::builder(token);
    if let Some(url) = &conn.api_url {
        b = b.api_url(url).allow_insecure(check_insecure(url, conn.insecure)?);
    }
    Ok(b)
}

/// A client builder for an RTM session.
fn rtm_builder(conn: &ConnOpts, rtm: RtmOpts) -> Result<ClientBuilder, Failure> {
    Ok(builder(conn)?.batch_presence_aware(rtm.batch_presence))
}

async fn connect(conn: ConnOpts, rtm: RtmOpts, json: bool) -> Result<u8, Failure> {
    let answer = rtm_builder(&conn, rtm)?.rtm_connect().await?;
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

/// Resolves on the first Ctrl-C (SIGINT). The handler is installed when this is called, not
/// when the future is first polled, so a Ctrl-C that arrives while connecting is not lost (nor
/// does it kill the process with the default action).
pub fn interrupted() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::interrupt()) {
            Ok(mut s) => Box::pin(async move {
                s.recv().await;
            }),
            Err(e) => {
                tracing::warn!("cannot listen for Ctrl-C: {e}");
                Box::pin(std::future::pending())
            }
        }
    }
    #[cfg(not(unix))]
    {
        Box::pin(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// Resolves on the first Ctrl-C (SIGINT) or SIGTERM (how process managers stop a service).
/// Installed when called, like [`interrupted`].
pub fn interrupted_or_terminated() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    let ctrl_c = interrupted();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => Box::pin(async move {
                tokio::select! {
                    () = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }),
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                ctrl_c
            }
        }
    }
    #[cfg(not(unix))]
    {
        ctrl_c
    }
}

/// How long `tail` lets the session close after Ctrl-C or `--count` (it sends nothing, so
/// there is nothing to flush).
const TAIL_SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Longest wait for the session to close its sockets after a shutdown.
pub const CLOSE_WAIT: Duration = Duration::from_secs(5);

async fn tail(
    conn: ConnOpts,
    rtm: RtmOpts,
    json: bool,
    types: Vec<String>,
    channels: Vec<String>,
    count: Option<u64>,
    presence: Vec<String>,
) -> Result<u8, Failure> {
    let mut ctrl_c = interrupted();
    let builder = rtm_builder(&conn, rtm)?;
    let (client, mut events) = tokio::select! {
        r = builder.connect() => r?,
        _ = &mut ctrl_c => {
            eprintln!("slack-rtm: interrupted while connecting");
            return Ok(exit::OK);
        }
    };
    if !presence.is_empty() {
        let ids = presence.iter().map(|u| slack_rtm::types::UserId::new(u.as_str())).collect::<Vec<_>>();
        if let Err(e) = client.subscribe_presence(ids).await {
            tracing::warn!("presence subscription failed: {e}");
        }
    }
    let style = if json {
        Style::Json
    } else {
        Style::human(crate::output::use_color(std::io::stdout().is_terminal()))
    };
    let mut printer = Printer::new(style);
    let mut printed = 0u64;
    if count == Some(0) {
        client.shutdown_with(TAIL_SHUTDOWN_GRACE).await;
        return Ok(exit::OK);
    }
    loop {
        tokio::select! {
            _ = &mut ctrl_c => {
                eprintln!("slack-rtm: shutting down (Ctrl-C again to quit at once)");
                break;
            }
            ev = events.next() => {
                let Some(ev) = ev else { return Ok(exit::OK) };
                match ev {
                    SessionEvent::Rtm(event) => {
                        if filtered(&event, &types, &channels) {
                            continue;
                        }
                        printer.event(&event);
                        printed += 1;
                        if count.is_some_and(|c| printed >= c) {
                            break;
                        }
                    }
                    SessionEvent::Stopped { reason } if reason.is_error() => {
                        return Err(Failure::from(slack_rtm::Error::from(reason)));
                    }
                    other => printer.lifecycle(&other),
                }
            }
        }
    }
    // Close the socket with 1000; a second Ctrl-C stops waiting.
    let mut second = interrupted();
    let close = async {
        client.shutdown_with(TAIL_SHUTDOWN_GRACE).await;
        // The stream ends once the session's close frames are written: wait for that, or the
        // process could exit before the server sees a clean close.
        while events.next().await.is_some() {}
    };
    tokio::select! {
        _ = close => {}
        _ = &mut second => eprintln!("slack-rtm: quitting without a clean close"),
        _ = tokio::time::sleep(CLOSE_WAIT) => tracing::warn!("the session did not close in time"),
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
            Some(c) => !channels.contains(&c),
            None => true,
        }
    } else {
        false
    }
}

/// An answer `send` is waiting for, in input order.
type PendingSend = std::pin::Pin<Box<dyn std::future::Future<Output = Result<RtmAck, SendError>> + Send>>;

async fn send(
    conn: ConnOpts,
    rtm: RtmOpts,
    channel: String,
    text: Option<String>,
    thread: Option<String>,
    rate: f64,
) -> Result<u8, Failure> {
    let interval = check_send_args(&channel, rate)?;
    let (client, mut events) =
        rtm_builder(&conn, rtm)?.send_rate(slack_rtm::rtm::SendRate::new(interval, 3)).connect().await?;
    // Drain events in the background so the session never waits on us; report reconnects.
    let drain = tokio::spawn(async move {
        let mut printer = Printer::new(Style::Json);
        while let Some(ev) = events.next().await {
            if !matches!(ev, SessionEvent::Rtm(_)) {
                printer.lifecycle(&ev);
            }
        }
    });

    // Requests are submitted one by one from this task, so they are queued (and posted) in
    // input order; acks are printed in that order too.
    let submit = |line: String| -> PendingSend {
        let mut msg = OutgoingMessage::new(channel.as_str(), line);
        if let Some(ts) = &thread {
            msg = msg.in_thread(ts.as_str());
        }
        let session = client.session().clone();
        Box::pin(async move { session.submit(ClientMessage::Message(msg)).await?.await })
    };

    let mut tally =
        SendTally { progress: std::io::stderr().is_terminal() && text.is_none(), ..Default::default() };
    match text {
        Some(t) => tally.report(submit(t).await),
        None => {
            let mut pending: std::collections::VecDeque<PendingSend> = std::collections::VecDeque::new();
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            let mut eof = false;
            while !eof || !pending.is_empty() {
                tokio::select! {
                    biased;
                    // The oldest answer first, so output stays in input order.
                    result = async {
                        match pending.front_mut() {
                            Some(f) => f.await,
                            None => std::future::pending().await,
                        }
                    }, if !pending.is_empty() => {
                        pending.pop_front();
                        tally.report(result);
                    }
                    line = lines.next_line(), if !eof && pending.len() < MAX_IN_FLIGHT => match line {
                        Ok(Some(l)) if l.trim().is_empty() => {}
                        Ok(Some(l)) => {
                            tally.read += 1;
                            // Submitting here (not in a spawned task) keeps the queue in input order.
                            // Start it now: the first poll queues the message.
                            let mut fut = submit(l);
                            let fut = match poll_once(&mut fut).await {
                                Some(done) => Box::pin(std::future::ready(done)) as PendingSend,
                                None => fut,
                            };
                            pending.push_back(fut);
                        }
                        Ok(None) => eof = true,
                        Err(e) => {
                            eprintln!("slack-rtm: reading stdin: {e}");
                            eof = true;
                            tally.failed += 1;
                        }
                    },
                }
                tally.show_progress(pending.len());
            }
            tally.end_progress();
        }
    }
    client.shutdown().await;
    let _ = drain.await;
    Ok(if tally.failed == 0 { exit::OK } else { exit::NOT_ALL_SENT })
}

/// Checks `--channel` and `--rate`; returns the interval between messages.
pub fn check_send_args(channel: &str, rate: f64) -> Result<Duration, Failure> {
    if !(rate.is_finite() && rate > 0.0 && rate <= 1000.0) {
        return Err(Failure::usage("--rate must be a number of messages per second in (0, 1000]"));
    }
    if channel.trim().is_empty() {
        return Err(Failure::usage("--channel must not be empty"));
    }
    Ok(Duration::from_secs_f64(1.0 / rate))
}

/// Most messages read ahead of their acks (the session queues them and paces the sending).
const MAX_IN_FLIGHT: usize = 64;

/// Polls a future once, so its synchronous prefix (queueing the message) runs now. Returns its
/// output if it finished at once; the caller keeps polling it otherwise.
async fn poll_once(fut: &mut PendingSend) -> Option<Result<RtmAck, SendError>> {
    std::future::poll_fn(|cx| match std::future::Future::poll(fut.as_mut(), cx) {
        std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// What `send` did so far.
#[derive(Default)]
struct SendTally {
    read: u64,
    acked: u64,
    failed: u64,
    progress: bool,
    shown: bool,
}

impl SendTally {
    fn report(&mut self, result: Result<RtmAck, SendError>) {
        let n = self.acked + self.failed + 1;
        match result {
            Ok(RtmAck::Posted { ts, .. }) => {
                self.acked += 1;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", ts.as_ref().map(|t| t.as_str()).unwrap_or("?"));
                let _ = out.flush();
            }
            Ok(other) => {
                self.failed += 1;
                let what = match other {
                    RtmAck::Throttled => "a request to slow down",
                    RtmAck::Pong { .. } => "a pong",
                    _ => "an answer of another kind",
                };
                eprintln!("slack-rtm: message {n}: the server answered with {what}, not an acknowledgement");
            }
            Err(e) => {
                self.failed += 1;
                let note =
                    if e.may_have_been_posted() { " (it may have been posted)" } else { " (not posted)" };
                eprintln!("slack-rtm: message {n} not acknowledged: {e}{note}");
            }
        }
    }

    /// `\r`-rewritten status line on a terminal's stderr.
    fn show_progress(&mut self, waiting: usize) {
        if self.progress {
            eprint!(
                "\rslack-rtm: {} read, {} acknowledged, {} waiting, {} failed ",
                self.read, self.acked, waiting, self.failed
            );
            self.shown = true;
        }
    }

    fn end_progress(&mut self) {
        if self.shown {
            eprintln!();
        }
    }
}
