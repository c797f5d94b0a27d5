//! Driving the sans-IO session machine with no async runtime at all: blocking `std::net`
//! sockets, a hand-written WebSocket client and a hand-written HTTP/1.1 `rtm.connect`.
//!
//! ```text
//! cargo run -p slack-rtm --example sans_io                 # scripted, local emulator
//! SLACK_TOKEN=xoxb-… cargo run -p slack-rtm --example sans_io   # for real
//! ```
//!
//! `slack_rtm::machine::Session` makes every decision of an RTM session — when to call
//! `rtm.connect`, which URL to open, keepalive pings, reconnect backoff, acks, flow control,
//! deduplication, shutdown — but performs no IO and reads no clock. This program is its IO:
//! one thread, no tokio, no futures. It
//!
//! - sends the request built by `ConnectConfig::build_request` over a `std::net::TcpStream`
//!   (rustls for `https://`) and hands the answer to `ConnectConfig::parse_response`;
//! - opens the socket URL with a minimal WebSocket client written below (client masking, text,
//!   ping/pong, close, fragments; no extensions; `Sec-WebSocket-Accept` checked);
//! - polls each open socket with a short read timeout, feeds what arrived, and calls
//!   `handle_timeout` when `poll_timeout` says so.
//!
//! Without `SLACK_TOKEN`, it starts the emulator and runs a script: post a message, have the
//! server say `goodbye` (the machine opens a second socket before closing the first), post
//! again on the new connection, shut down. It prints `acked <ts>` for each ack and checks them
//! against the emulator's record. **The emulator is a tokio program**: it runs on its own
//! runtime's worker thread, started in `scripted()`; nothing in the client's code path below
//! uses tokio.
//!
//! With `SLACK_TOKEN` (and optionally `SLACK_API_URL`) it prints events until you type `quit`
//! and Enter (a clean shutdown) or press Ctrl-C (the process just ends). For `https://` it
//! trusts the PEM bundle in `SSL_CERT_FILE` or `/etc/ssl/certs/ca-certificates.crt`.

use slack_rtm::codec::MAX_RESPONSE_BYTES;
use slack_rtm::http::{Request, Response, Uri};
use slack_rtm::machine::{ConnId, ConnectFailure, Incoming, Input, Output, Reason, Session, SkippedFrame};
use slack_rtm::{Ack, ClientMessage, ConnectConfig, Event, SendError, SessionConfig, SessionEvent, Token};
use std::collections::BTreeMap;
use std::error::Error;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// How long one socket read waits before the loop moves on (timers, other sockets).
const POLL: Duration = Duration::from_millis(10);
/// Largest WebSocket message accepted.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

fn main() -> BoxResult<()> {
    match std::env::var("SLACK_TOKEN") {
        Ok(token) if !token.trim().is_empty() => live(Token::new(token.trim())),
        _ => scripted(),
    }
}

// ---------------------------------------------------------------------------------------------
// The drive loop
// ---------------------------------------------------------------------------------------------

/// What the application is told.
enum Happened {
    Event(SessionEvent),
    Completed(slack_rtm::machine::RequestId, Result<Ack, SendError>),
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
            let mut stopped = false;
            // 1. Do what the machine asks, until it asks nothing more.
            while let Some(output) = self.session.poll_output() {
                match output {
                    Output::CallConnect => {
                        // Blocking, for simplicity: the session has no socket to serve meanwhile
                        // except during a reconnect, where the old socket just waits.
                        let result = self.rtm_connect();
                        self.session.handle(Input::ConnectResult(result), Instant::now());
                    }
                    Output::OpenSocket { conn, url } => match WebSocket::open(&url) {
                        Ok(ws) => {
                            self.sockets.insert(conn, ws);
                            self.session.handle(Input::SocketOpened { conn }, Instant::now());
                        }
                        Err(e) => {
                            let reason = Reason::OpenFailed(e.to_string());
                            self.session.handle(Input::SocketClosed { conn, reason }, Instant::now());
                        }
                    },
                    Output::Send { conn, text, id } => {
                        let written = match self.sockets.get_mut(&conn) {
                            Some(ws) => ws.send(OP_TEXT, text.as_bytes()).map_err(|e| e.to_string()),
                            None => Err("the socket is not open".to_owned()),
                        };
                        let input = match written {
                            // Written and flushed: from now on a lost connection means
                            // "unconfirmed", before it means "send again".
                            Ok(()) => Input::Written { conn, id },
                            Err(e) => {
                                self.sockets.remove(&conn);
                                Input::SocketClosed { conn, reason: Reason::Io(e) }
                            }
                        };
                        self.session.handle(input, Instant::now());
                    }
                    Output::Close { conn, code } => {
                        if let Some(mut ws) = self.sockets.remove(&conn) {
                            ws.close(code);
                        }
                    }
                    Output::Event(event) => {
                        stopped |= matches!(event, SessionEvent::Stopped { .. });
                        app(&mut self.session, Happened::Event(event));
                    }
                    Output::RawEvent { frame } => {
                        app(&mut self.session, Happened::Event(SessionEvent::from_raw(&frame)));
                    }
                    Output::Completed { request, result } => {
                        app(&mut self.session, Happened::Completed(request, result));
                    }
                    _ => {}
                }
            }
            if stopped {
                for (_, mut ws) in std::mem::take(&mut self.sockets) {
                    ws.close(1000);
                }
                return;
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

    /// Feeds the frames available on one socket; `true` if there were any.
    fn read_socket(&mut self, conn: ConnId) -> bool {
        let mut any = false;
        for _ in 0..64 {
            let Some(ws) = self.sockets.get_mut(&conn) else { return any };
            let frame = match ws.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return any,
                Err(e) => {
                    self.sockets.remove(&conn);
                    let reason = Reason::Io(e.to_string());
                    self.session.handle(Input::SocketClosed { conn, reason }, Instant::now());
                    return true;
                }
            };
            any = true;
            let now = Instant::now();
            match frame {
                Frame::Text(bytes) => {
                    let frame = Incoming::message(true, &bytes);
                    self.session.handle(Input::Frame { conn, frame }, now)
                }
                Frame::Binary(len) => {
                    let frame = Incoming::Skipped(SkippedFrame::Binary { len });
                    self.session.handle(Input::Frame { conn, frame }, now)
                }
                Frame::Ping(payload) => {
                    let _ = ws.send(OP_PONG, &payload);
                    self.session.handle(Input::Frame { conn, frame: Incoming::Activity }, now);
                }
                Frame::Pong => self.session.handle(Input::Frame { conn, frame: Incoming::Activity }, now),
                Frame::Close(code, reason) => {
                    if let Some(mut ws) = self.sockets.remove(&conn) {
                        ws.close(code.unwrap_or(1000));
                    }
                    let reason = Reason::Closed { code, reason };
                    self.session.handle(Input::SocketClosed { conn, reason }, now);
                    return true;
                }
            }
        }
        any
    }

    /// One blocking `rtm.connect`, built and judged by the codec.
    fn rtm_connect(&self) -> Result<slack_rtm::ConnectResponse, ConnectFailure> {
        let request = self
            .connect
            .build_request(&self.token)
            .map_err(|e| ConnectFailure::fatal(format!("cannot build the rtm.connect request: {e}")))?;
        let response = http_call(request)
            .map_err(|e| ConnectFailure::retryable(format!("rtm.connect transport error: {e}")))?;
        self.connect.parse_response(&response, Instant::now()).map_err(ConnectFailure::from)
    }
}

// ---------------------------------------------------------------------------------------------
// The two ways to run it
// ---------------------------------------------------------------------------------------------

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
        Happened::Event(SessionEvent::Stopped { error }) => failure = error,
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
                Ok(Ack::Posted { ts: Some(ts), .. }) => {
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
            Happened::Event(SessionEvent::Stopped { error: Some(e) }) => problem = Some(e.to_string()),
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

// ---------------------------------------------------------------------------------------------
// Blocking TCP / TLS
// ---------------------------------------------------------------------------------------------

/// A plain or TLS connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn connect(uri: &Uri, timeout: Duration) -> io::Result<Stream> {
        let secure = matches!(uri.scheme_str(), Some("https" | "wss"));
        let host = uri.host().ok_or_else(|| io::Error::other("no host in URL"))?;
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let host_plain = host.trim_start_matches('[').trim_end_matches(']');
        let mut last = io::Error::other("the host resolved to no address");
        for addr in (host_plain, port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(tcp) => {
                    tcp.set_nodelay(true)?;
                    tcp.set_read_timeout(Some(timeout))?;
                    tcp.set_write_timeout(Some(timeout))?;
                    if !secure {
                        return Ok(Stream::Plain(tcp));
                    }
                    let name = rustls::pki_types::ServerName::try_from(host_plain.to_owned())
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    let conn =
                        rustls::ClientConnection::new(tls_config()?, name).map_err(io::Error::other)?;
                    return Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// rustls with the ring provider and the system's PEM bundle, built once.
fn tls_config() -> io::Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    static CONFIG: std::sync::OnceLock<Result<Arc<rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let path = std::env::var("SSL_CERT_FILE")
                .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into());
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&path).map_err(|e| format!("{path}: {e}"))? {
                let _ = roots.add(cert.map_err(|e| format!("{path}: {e}"))?);
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(io::Error::other)
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1, just enough for rtm.connect
// ---------------------------------------------------------------------------------------------

/// Sends the request (`Connection: close`) and reads the whole response.
fn http_call(request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, String> {
    let uri = request.uri().clone();
    let mut stream = Stream::connect(&uri, Duration::from_secs(30)).map_err(|e| e.to_string())?;
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {}\r\n",
        request.method(),
        uri.authority().map(|a| a.as_str()).unwrap_or("")
    );
    for (name, value) in request.headers() {
        // The Authorization header goes to the socket only; nothing here is logged.
        let value = value.to_str().map_err(|_| format!("header {name} is not text"))?;
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", request.body().len()));
    stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    stream.write_all(request.body()).map_err(|e| e.to_string())?;
    stream.flush().map_err(|e| e.to_string())?;

    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(response) = parse_http(&buf, false)? {
            return Ok(response);
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A TLS peer that closes without close_notify: the body is judged as it is.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.to_string()),
        }
        if buf.len() > MAX_RESPONSE_BYTES + 64 * 1024 {
            return Err("the response is too large".into());
        }
    }
    parse_http(&buf, true)?.ok_or_else(|| "the connection closed before a complete response".into())
}

/// A complete response in `buf`, `None` if more bytes are needed (`eof`: none will come).
fn parse_http(buf: &[u8], eof: bool) -> Result<Option<Response<Vec<u8>>>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if eof { Err("no complete response head".into()) } else { Ok(None) };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "the response head is not text")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut builder = Response::builder().status(status);
    let (mut length, mut chunked) = (None, false);
    for line in lines {
        let (name, value) = line.split_once(':').ok_or("a malformed header")?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "a bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
        builder = builder.header(name, value);
    }
    let rest = &buf[end + 4..];
    let body = if chunked {
        match dechunk(rest)? {
            Some(body) => body,
            None if eof => return Err("a truncated chunked body".into()),
            None => return Ok(None),
        }
    } else if let Some(n) = length {
        if rest.len() < n {
            return if eof { Err("a truncated body".into()) } else { Ok(None) };
        }
        rest[..n].to_vec()
    } else if eof {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    builder.body(body).map(Some).map_err(|e| e.to_string())
}

/// Decodes a complete chunked body, `None` if incomplete.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| "a bad chunk size")?;
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| "a bad chunk size")?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(Some(body));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal WebSocket client (RFC 6455): masking, text, ping/pong, close, fragments
// ---------------------------------------------------------------------------------------------

const OP_CONT: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

enum Frame {
    Text(Vec<u8>),
    Binary(usize),
    Ping(Vec<u8>),
    Pong,
    Close(Option<u16>, String),
}

struct WebSocket {
    stream: Stream,
    /// Bytes read and not yet parsed.
    buf: Vec<u8>,
    /// A fragmented message being reassembled: its opcode and data.
    partial: Option<(u8, Vec<u8>)>,
}

impl WebSocket {
    /// Connects and performs the opening handshake.
    fn open(url: &str) -> io::Result<WebSocket> {
        let uri: Uri = url.parse().map_err(|_| io::Error::other("not a valid socket URL"))?;
        let mut stream = Stream::connect(&uri, Duration::from_secs(10))?;
        let key = base64(&random_bytes::<16>());
        let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let host = uri.authority().map(|a| a.as_str()).unwrap_or("");
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: {}\r\n\r\n",
            slack_rtm::codec::USER_AGENT
        );
        stream.write_all(request.as_bytes())?;
        stream.flush()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 || buf.len() > 16 * 1024 {
                return Err(io::Error::other("no valid handshake answer"));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let mut lines = head.split("\r\n");
        if lines.next().and_then(|l| l.split_whitespace().nth(1)) != Some("101") {
            return Err(io::Error::other(format!(
                "handshake refused: {}",
                head.lines().next().unwrap_or("")
            )));
        }
        let expected = base64(&sha1(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes()));
        let accept = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case("sec-websocket-accept"))
            .map(|(_, v)| v.trim().to_owned());
        if accept.as_deref() != Some(expected.as_str()) {
            return Err(io::Error::other("wrong Sec-WebSocket-Accept"));
        }
        stream.tcp().set_read_timeout(Some(POLL))?;
        Ok(WebSocket { stream, buf: buf[end + 4..].to_vec(), partial: None })
    }

    /// Writes one masked frame and flushes it.
    fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mut frame = Vec::with_capacity(payload.len() + 14);
        frame.push(0x80 | opcode);
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = random_bytes::<4>();
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame)?;
        self.stream.flush()
    }

    /// Sends a close frame (best effort) and ends the connection.
    fn close(&mut self, code: u16) {
        let _ = self.send(OP_CLOSE, &code.to_be_bytes());
        let _ = self.stream.tcp().shutdown(std::net::Shutdown::Both);
    }

    /// The next complete frame, or `None` if none arrived within `POLL`.
    fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.parse()? {
                return Ok(Some(frame));
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the TCP connection",
                    ));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes one frame from the buffer if it is complete; reassembles fragments.
    fn parse(&mut self) -> io::Result<Option<Frame>> {
        loop {
            let b = &self.buf;
            if b.len() < 2 {
                return Ok(None);
            }
            let (fin, opcode) = (b[0] & 0x80 != 0, b[0] & 0x0F);
            if b[0] & 0x70 != 0 || b[1] & 0x80 != 0 {
                return Err(io::Error::other("reserved bits or a masked frame from the server"));
            }
            let (len, header) = match b[1] & 0x7F {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as u64, 4),
                127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap_or([0xFF; 8])), 10),
                126 | 127 => return Ok(None),
                n => (n as u64, 2),
            };
            if len > MAX_MESSAGE as u64 {
                return Err(io::Error::other("a frame over the size limit"));
            }
            let total = header + len as usize;
            if b.len() < total {
                return Ok(None);
            }
            let payload: Vec<u8> = self.buf[header..total].to_vec();
            self.buf.drain(..total);
            match opcode {
                OP_PING => return Ok(Some(Frame::Ping(payload))),
                OP_PONG => return Ok(Some(Frame::Pong)),
                OP_CLOSE => {
                    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or(&[])).into_owned();
                    return Ok(Some(Frame::Close(code, reason)));
                }
                OP_TEXT | OP_BINARY if self.partial.is_none() => {
                    if fin {
                        return Ok(Some(finish(opcode, payload)));
                    }
                    self.partial = Some((opcode, payload));
                }
                OP_CONT => {
                    let Some((op, mut data)) = self.partial.take() else {
                        return Err(io::Error::other("a continuation frame without a start"));
                    };
                    if data.len() + payload.len() > MAX_MESSAGE {
                        return Err(io::Error::other("a message over the size limit"));
                    }
                    data.extend_from_slice(&payload);
                    if fin {
                        return Ok(Some(finish(op, data)));
                    }
                    self.partial = Some((op, data));
                }
                _ => return Err(io::Error::other(format!("unexpected opcode {opcode}"))),
            }
        }
    }
}

fn finish(opcode: u8, data: Vec<u8>) -> Frame {
    if opcode == OP_TEXT { Frame::Text(data) } else { Frame::Binary(data.len()) }
}

/// Unpredictable bytes from std's randomly keyed hasher (masking keys and handshake nonces
/// need unpredictability, not cryptographic strength).
fn random_bytes<const N: usize>() -> [u8; N] {
    use std::hash::{BuildHasher, Hasher};
    let mut out = [0u8; N];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

fn base64(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(c.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1 (FIPS 180-4), only for the handshake's `Sec-WebSocket-Accept`.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (o, x) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&x.to_be_bytes());
    }
    out
}
