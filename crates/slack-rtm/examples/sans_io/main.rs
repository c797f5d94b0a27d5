//! Driving the sans-IO session machine with no async runtime at all: one thread, blocking
//! `std::net` sockets, `tungstenite` for the WebSocket, and the codec's `rtm.connect`.
//!
//! ```text
//! cargo run -p slack-rtm --example sans_io                 # scripted, local emulator
//! SLACK_TOKEN=xoxb-… cargo run -p slack-rtm --example sans_io   # for real
//! ```
//!
//! `slack_rtm::rtm::machine::Session` makes every decision of an RTM session — when to call
//! `rtm.connect`, which URL to open, keepalive pings, reconnect backoff, acks, flow control,
//! deduplication, shutdown — but performs no IO and reads no clock. This file is the loop that
//! gives it IO (`net.rs` holds the sockets): it does what the machine asks, hands every socket
//! read to `RtmIncoming::message` and every raw event to `SessionEvent::from_raw`, and calls
//! `handle_timeout` when `poll_timeout` says so.
//!
//! Without `SLACK_TOKEN`, it starts the emulator and runs a script: post a message, have the
//! server say `goodbye` (the machine opens a second socket before closing the first), post
//! again on the new connection, shut down. It prints `acked <ts>` for each ack and checks them
//! against the emulator's record. **The emulator is a tokio program**: it runs on its own
//! runtime's worker thread, started in `scripted()`; nothing in the client's code path uses
//! tokio.
//!
//! With `SLACK_TOKEN` (and optionally `SLACK_API_URL`) it prints events until you type `quit`
//! and Enter (a clean shutdown) or press Ctrl-C (the process just ends). For `https://` it
//! trusts the PEM bundle in `SSL_CERT_FILE` or `/etc/ssl/certs/ca-certificates.crt`.

mod net;

use net::WebSocket;
use slack_rtm::rtm::ClientMessage;
use slack_rtm::rtm::ConnectConfig;
use slack_rtm::rtm::Event;
use slack_rtm::rtm::RtmAck;
use slack_rtm::rtm::SendError;
use slack_rtm::rtm::SessionConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::rtm::machine::{
    ConnId, ConnectFailure, Reason, RequestId, RtmIncoming, RtmInput, RtmOutput, Session, SkippedFrame,
};
use slack_rtm::types::Token;
use std::collections::BTreeMap;
use std::error::Error;
use std::io;
use std::time::{Duration, Instant};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// How long one socket read waits before the loop moves on (timers, other sockets).
const POLL: Duration = Duration::from_millis(10);

fn main() -> BoxResult<()> {
    match std::env::var("SLACK_TOKEN") {
        Ok(token) if !token.trim().is_empty() => live(Token::new(token.trim())),
        _ => scripted(),
    }
}

/// What the application is told.
enum Happened {
    Event(SessionEvent),
    Completed(RequestId, Result<RtmAck, SendError>),
    /// Nothing happened this turn (a chance to do background work).
    Idle,
}

/// The IO around the machine: the token, the `rtm.connect` settings, the open sockets.
struct Driver {
    session: Session,
    token: Token,
    connect: ConnectConfig,
    sockets: BTreeMap<ConnId, WebSocket>,
}

impl Driver {
    fn new(config: SessionConfig, connect: ConnectConfig, token: Token) -> Self {
        Self { session: Session::new(config, Instant::now()), token, connect, sockets: BTreeMap::new() }
    }

    /// Runs until the session stops; `app` sees every event and completion.
    fn run(&mut self, mut app: impl FnMut(&mut Session, Happened)) {
        loop {
            // 1. Do what the machine asks, until it asks nothing more.
            while let Some(output) = self.session.poll_output() {
                let input = match output {
                    // Blocking, for simplicity: meanwhile the other sockets just wait.
                    RtmOutput::CallConnect => Some(RtmInput::ConnectResult(Box::new(
                        net::rtm_connect(&self.token, &self.connect).map_err(ConnectFailure::from),
                    ))),
                    RtmOutput::OpenSocket { conn, url } => Some(match net::open_socket(&url, POLL) {
                        Ok(ws) => {
                            self.sockets.insert(conn, ws);
                            RtmInput::SocketOpened { conn }
                        }
                        Err(e) => RtmInput::SocketClosed { conn, reason: Box::new(Reason::OpenFailed(e)) },
                    }),
                    RtmOutput::Send { conn, text, id } => Some(self.send(conn, text, id)),
                    RtmOutput::Close { conn, code } => {
                        self.close(conn, code);
                        None
                    }
                    RtmOutput::RawEvent { frame } => {
                        app(&mut self.session, Happened::Event(SessionEvent::from_raw(&frame)));
                        None
                    }
                    RtmOutput::Event(event) => {
                        let stopped = matches!(*event, SessionEvent::Stopped { .. });
                        app(&mut self.session, Happened::Event(*event));
                        if stopped {
                            let open: Vec<ConnId> = self.sockets.keys().copied().collect();
                            open.into_iter().for_each(|conn| self.close(conn, 1000));
                            return;
                        }
                        None
                    }
                    RtmOutput::Completed { request, result } => {
                        app(&mut self.session, Happened::Completed(request, result));
                        None
                    }
                    _ => None,
                };
                if let Some(input) = input {
                    self.session.handle(input, Instant::now());
                }
            }
            // 2. Deadlines.
            let now = Instant::now();
            if self.session.poll_timeout().is_some_and(|t| t <= now) {
                self.session.handle_timeout(now);
                continue;
            }
            // 3. Sockets: whatever arrived, each read waiting at most `POLL`.
            let mut busy = false;
            let ids: Vec<ConnId> = self.sockets.keys().copied().collect();
            for conn in ids {
                busy |= self.read_socket(conn);
            }
            if self.sockets.is_empty() {
                // Nothing to read: sleep until the next deadline (briefly, to stay responsive).
                let wait = self.session.poll_timeout().map_or(POLL, |t| t.saturating_duration_since(now));
                std::thread::sleep(wait.min(POLL));
            }
            if !busy {
                app(&mut self.session, Happened::Idle);
            }
        }
    }

    /// Writes (and flushes) one frame: from then on a lost connection means "unconfirmed",
    /// before it means "send again".
    fn send(&mut self, conn: ConnId, text: String, id: u64) -> RtmInput {
        let Some(ws) = self.sockets.get_mut(&conn) else {
            return RtmInput::SocketClosed {
                conn,
                reason: Box::new(Reason::Io("the socket is not open".into())),
            };
        };
        match ws.send(Message::text(text)) {
            Ok(()) => RtmInput::Written { conn, id },
            Err(e) => {
                self.sockets.remove(&conn);
                RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io(e.to_string())) }
            }
        }
    }

    /// Closes a socket with `code` (best effort) and forgets it.
    fn close(&mut self, conn: ConnId, code: u16) {
        if let Some(mut ws) = self.sockets.remove(&conn) {
            let _ = ws.close(Some(CloseFrame { code: code.into(), reason: "".into() }));
            let _ = ws.flush();
        }
    }

    /// Feeds the messages available on one socket; `true` if there were any.
    fn read_socket(&mut self, conn: ConnId) -> bool {
        for n in 0..64 {
            let Some(ws) = self.sockets.get_mut(&conn) else { return n > 0 };
            let frame = match ws.read() {
                Ok(Message::Text(text)) => RtmIncoming::message(true, text.as_bytes()),
                Ok(Message::Binary(bytes)) => RtmIncoming::message(false, &bytes),
                Ok(Message::Close(frame)) => {
                    let _ = ws.flush(); // tungstenite queued the close echo
                    self.sockets.remove(&conn);
                    let (code, reason) =
                        frame.map_or((None, String::new()), |f| (Some(f.code.into()), f.reason.to_string()));
                    self.session.handle(
                        RtmInput::SocketClosed { conn, reason: Box::new(Reason::Closed { code, reason }) },
                        Instant::now(),
                    );
                    return true;
                }
                Ok(_) => {
                    let _ = ws.flush(); // a ping: tungstenite queued the pong
                    RtmIncoming::Activity
                }
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    return n > 0;
                }
                Err(tungstenite::Error::Utf8(_)) => {
                    RtmIncoming::Skipped(SkippedFrame::InvalidUtf8 { len: None })
                }
                Err(e) => {
                    self.sockets.remove(&conn);
                    self.session.handle(
                        RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io(e.to_string())) },
                        Instant::now(),
                    );
                    return true;
                }
            };
            self.session.handle(RtmInput::Frame { conn, frame }, Instant::now());
        }
        true
    }
}

fn live(token: Token) -> BoxResult<()> {
    let mut connect = ConnectConfig::default();
    if let Ok(url) = std::env::var("SLACK_API_URL") {
        connect = ConnectConfig::with_api_base(&url, url.starts_with("http://"))?;
    }
    // `quit` on stdin asks for a clean shutdown (std has no portable Ctrl-C hook).
    let (quit_tx, quit_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for line in io::stdin().lines() {
            if line.map(|l| l.trim() == "quit").unwrap_or(true) {
                let _ = quit_tx.send(());
                return;
            }
        }
    });
    let mut driver = Driver::new(SessionConfig::default(), connect, token);
    let mut failure = None;
    driver.run(|session, happened| match happened {
        Happened::Event(SessionEvent::Rtm(Event::Message(m))) => println!(
            "message in {}: {}",
            m.channel.as_ref().map(|c| c.as_str()).unwrap_or("-"),
            m.text.as_deref().unwrap_or("")
        ),
        Happened::Event(SessionEvent::Rtm(e)) => println!("event {}", e.event_type()),
        Happened::Event(SessionEvent::Stopped { reason }) => failure = Some(reason).filter(|r| r.is_error()),
        Happened::Event(other) => eprintln!("{other:?}"),
        Happened::Completed(..) => {}
        Happened::Idle => {
            if quit_rx.try_recv().is_ok() {
                session.shutdown(Instant::now(), Duration::from_secs(2));
            }
        }
    });
    match failure {
        Some(f) => Err(f.into()),
        None => Ok(()),
    }
}

fn scripted() -> BoxResult<()> {
    // The emulator, and only it, runs on tokio: a runtime whose worker thread serves it.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let emu = runtime.block_on(slack_rtm_emulator::Emulator::start(Default::default()))?;

    let connect = ConnectConfig::with_api_base(&emu.api_url(), true)?;
    let mut driver = Driver::new(SessionConfig::default(), connect, Token::new(emu.token()));
    let channel = emu.general_channel();
    let mut requests = Vec::new();
    let mut acked: Vec<String> = Vec::new();
    let mut problem: Option<String> = None;
    let mut reconnected = false;
    let started = Instant::now();

    driver.run(|session, happened| {
        let now = Instant::now();
        match happened {
            Happened::Event(SessionEvent::Connected { reconnect, conn, .. }) => {
                println!("connected on {conn}{}", if reconnect { " (reconnect)" } else { "" });
                reconnected |= reconnect;
                let text =
                    if reconnect { "second, on the new socket" } else { "first, from a blocking client" };
                match session.submit(ClientMessage::message(channel.clone(), text), now) {
                    Ok(id) => requests.push(id),
                    Err(e) => problem = Some(format!("submit failed: {e}")),
                }
            }
            Happened::Completed(id, result) if requests.contains(&id) => match result {
                Ok(RtmAck::Posted { ts: Some(ts), .. }) => {
                    println!("acked {ts}");
                    acked.push(ts.as_str().to_owned());
                    if acked.len() == 1 {
                        // The server asks us to move: the machine opens a new socket first.
                        emu.goodbye(slack_rtm_emulator::Target::All);
                    } else {
                        session.shutdown(now, Duration::from_secs(1));
                    }
                }
                other => {
                    problem = Some(format!("unexpected outcome {other:?}"));
                    session.shutdown(now, Duration::ZERO);
                }
            },
            Happened::Event(SessionEvent::Stopped { reason }) if reason.is_error() => {
                problem = Some(reason.to_string())
            }
            Happened::Idle if started.elapsed() > Duration::from_secs(10) && problem.is_none() => {
                problem = Some("the script did not finish in 10 s".into());
                session.shutdown(now, Duration::ZERO);
            }
            _ => {}
        }
    });

    let recorded: Vec<String> = emu
        .posted_messages()
        .iter()
        .filter(|m| m.user == emu.bot_user())
        .map(|m| m.ts.as_str().to_owned())
        .collect();
    runtime.block_on(emu.shutdown());
    if let Some(p) = problem {
        return Err(p.into());
    }
    if !reconnected || acked.len() != 2 || recorded != acked {
        return Err(
            format!("acked {acked:?}, emulator recorded {recorded:?}, reconnected {reconnected}").into()
        );
    }
    println!("sans_io: 2 messages acked across a goodbye reconnect, matching the emulator's record");
    Ok(())
}
