//! The tokio driver: runs the [machine](crate::machine) with real sockets and timers.
//!
//! [`connect`] spawns one task, the loop, which owns the [`Session`] and nothing else decides
//! anything. Around it:
//!
//! - `rtm.connect` runs in its own task through the [`DynHttpTransport`] you give (with a
//!   deadline); its result goes back to the loop.
//! - Each connection has a reader that opens the socket (TCP with `TCP_NODELAY`, rustls for
//!   `wss://`, the WebSocket handshake with `Sec-WebSocket-Accept` verified), hands the write
//!   half to the loop, then reads: it reassembles fragments (capped at
//!   [`DriverConfig::max_message_bytes`]), finds each frame's type (ordinary events go on
//!   undecoded, to be decoded by the application's task), reports binary and invalid UTF-8
//!   frames, and forwards WebSocket pings so the loop answers them. Readers are futures owned
//!   and polled by the loop task itself — one task per session, no cross-task wake-up per
//!   batch of frames — and are never dropped half-way unless their connection is abandoned
//!   (`read_frame` is not cancel-safe).
//! - The loop writes frames itself (then flushes), so "written" is known exactly: a frame the
//!   loop has not written when its socket dies is sent again after the next `hello`.
//! - Events reach the application through a bounded channel, in batches. When it is full, the
//!   loop stops reading sockets (the readers then stop, and TCP pushes back on the server) and
//!   tells the machine, which freezes liveness deadlines: a slow consumer never causes a
//!   spurious reconnect, and memory stays bounded.
//!
//! ```no_run
//! use slack_rtm_codec::{ConnectConfig, Token};
//! use slack_rtm_session::driver::{connect, DriverConfig};
//! use slack_rtm_session::{SessionConfig, SessionEvent};
//! use slack_rtm_codec::types::ClientMessage;
//! use std::sync::Arc;
//! # async fn demo(transport: Arc<dyn slack_rtm_codec::DynHttpTransport>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = DriverConfig::new(SessionConfig::default(), Token::new("xoxb-…"), transport);
//! let (handle, mut events) = connect(config)?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         SessionEvent::Connected { .. } => {
//!             let ack = handle.send(ClientMessage::message("C024BE91L", "Hello world")).await?;
//!             println!("posted: {ack:?}");
//!             handle.shutdown(std::time::Duration::from_secs(5)).await;
//!         }
//!         SessionEvent::Stopped { error } => println!("stopped: {error:?}"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

mod socket;

use crate::machine::{
    Ack, ConnId, ConnectFailure, Incoming, Input, Output, Reason, RequestId, SendError, Session,
    SessionConfig, SessionEvent, State,
};
use fastwebsockets::{Frame, Payload};
use rustls::ClientConfig;
use slack_rtm_codec::types::ClientMessage;
use slack_rtm_codec::{ConnectConfig, ConnectResponse, DynHttpTransport, Token};
use socket::{ControlFrame, FromSocket, Writer};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Most inputs handled (and events batched) per loop turn.
const BATCH: usize = 64;
/// Reader messages handled per loop turn: each can carry a batch of up to 64 inputs, so this
/// bounds one turn's events (and so one event batch) to about 256, and the event channel's
/// capacity, counted in batches, to a few thousand events.
const SOCKET_MESSAGES_PER_TURN: usize = 4;
/// Capacity of the readers → loop channel, in messages (each carries up to a reader batch of
/// 64 inputs, so this bounds the events in flight to about a thousand).
const SOCKET_CHANNEL: usize = 16;
/// Longest wait for a close frame to be written.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);
/// After the session stopped, how long the loop waits for the application to take the last
/// events before dropping them.
const LINGER: Duration = Duration::from_secs(10);

/// The driver's configuration.
#[non_exhaustive]
pub struct DriverConfig {
    /// The machine's configuration.
    pub session: SessionConfig,
    /// The token, sent only in the `Authorization` header of `rtm.connect`.
    pub token: Token,
    /// How `rtm.connect` is sent (e.g. `slack-rtm-hyper`'s transport).
    pub transport: Arc<dyn DynHttpTransport>,
    /// The TLS config for `wss://` (e.g. shared with the HTTP transport). `h2` is removed from
    /// its ALPN list for the socket. Default: ring, webpki roots.
    pub tls: Option<Arc<ClientConfig>>,
    /// Events buffered for the application before the session stops reading sockets.
    /// Default 1024.
    pub event_capacity: usize,
    /// Largest message (reassembled from fragments) accepted; a bigger one closes the
    /// connection with [`Reason::MessageTooLarge`] and reconnects. Default 16 MiB.
    pub max_message_bytes: usize,
    /// Longest time a frame write (and flush) may take before the connection is declared
    /// dead. Default 10 s.
    pub write_timeout: Duration,
    /// Longest time an `rtm.connect` call may take (on top of the transport's own limits).
    /// Default 30 s.
    pub connect_timeout: Duration,
}

impl DriverConfig {
    /// A config with the defaults.
    pub fn new(session: SessionConfig, token: Token, transport: Arc<dyn DynHttpTransport>) -> Self {
        Self {
            session,
            token,
            transport,
            tls: None,
            event_capacity: 1024,
            max_message_bytes: 16 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverConfig")
            .field("session", &self.session)
            .field("token", &self.token)
            .field("tls", &self.tls.as_ref().map(|_| "custom"))
            .field("event_capacity", &self.event_capacity)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("write_timeout", &self.write_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// Why [`connect`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Not called from within a tokio runtime.
    #[error("slack-rtm-session's driver must be started from within a tokio runtime")]
    NoRuntime,
}

enum Command {
    Submit {
        msg: ClientMessage,
        reply: oneshot::Sender<Result<Ack, SendError>>,
        permit: OwnedSemaphorePermit,
    },
    Shutdown {
        grace: Duration,
    },
}

/// Sends requests and controls the session. Cheap to clone; `Send + Sync`.
///
/// When every handle and the [`EventStream`] are dropped, the session shuts down.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    cmd: mpsc::UnboundedSender<Command>,
    permits: Arc<Semaphore>,
    state: watch::Receiver<State>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Submit { msg, .. } => write!(f, "Submit({})", msg.kind()),
            Command::Shutdown { grace } => write!(f, "Shutdown({grace:?})"),
        }
    }
}

impl SessionHandle {
    /// Sends a message and waits for its outcome: the ack (`ts`, echoed text), or why it
    /// failed (see [`SendError::may_have_been_posted`]). Waits for room in the queue first.
    pub async fn send(&self, msg: ClientMessage) -> Result<Ack, SendError> {
        self.submit(msg).await?.await
    }

    /// Queues a message, waiting while the queue is full; returns a future of its outcome.
    pub async fn submit(&self, msg: ClientMessage) -> Result<PendingAck, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| SendError::Stopped)?;
        self.enqueue(msg, permit)
    }

    /// Queues a message, failing with [`SendError::QueueFull`] instead of waiting.
    pub fn try_submit(&self, msg: ClientMessage) -> Result<PendingAck, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        let permit = self.permits.clone().try_acquire_owned().map_err(|e| match e {
            TryAcquireError::Closed => SendError::Stopped,
            TryAcquireError::NoPermits => SendError::QueueFull,
        })?;
        self.enqueue(msg, permit)
    }

    fn enqueue(&self, msg: ClientMessage, permit: OwnedSemaphorePermit) -> Result<PendingAck, SendError> {
        let (reply, rx) = oneshot::channel();
        self.cmd.send(Command::Submit { msg, reply, permit }).map_err(|_| SendError::Stopped)?;
        Ok(PendingAck { rx })
    }

    /// The session's current state.
    pub fn state(&self) -> State {
        *self.state.borrow()
    }

    /// A receiver of state changes.
    pub fn watch_state(&self) -> watch::Receiver<State> {
        self.state.clone()
    }

    /// Waits until the state satisfies `pred` (or the session is gone); returns the state.
    pub async fn wait_for_state(&self, pred: impl FnMut(&State) -> bool) -> State {
        let mut rx = self.state.clone();
        match rx.wait_for(pred).await {
            Ok(s) => *s,
            Err(_) => State::Stopped,
        }
    }

    /// Shuts down gracefully: no new requests; queued ones are still sent for up to `grace`;
    /// then everything outstanding is resolved, sockets are closed with code 1000, and the event
    /// stream ends after [`SessionEvent::Stopped`]. Returns once the session has stopped.
    /// Idempotent; never hangs longer than `grace` plus a short close.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.cmd.send(Command::Shutdown { grace });
        self.wait_for_state(|s| *s == State::Stopped).await;
    }
}

/// The outcome of a submitted request, as a future.
#[derive(Debug)]
pub struct PendingAck {
    rx: oneshot::Receiver<Result<Ack, SendError>>,
}

impl Future for PendingAck {
    type Output = Result<Ack, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or(Err(SendError::Stopped)))
    }
}

/// What the loop hands to the application: an event, or an ordinary server event still to be
/// decoded (on the application's side, see [`Output::RawEvent`]).
///
/// Decoded events are boxed: most deliveries of a busy session are raw frames (40 bytes), and a
/// batch of a few hundred stays small enough to be recycled by the allocator instead of growing
/// and trimming the heap.
#[derive(Debug)]
enum Delivery {
    Event(Box<SessionEvent>),
    Raw(slack_rtm_codec::EventFrame),
}

impl Delivery {
    /// The event, decoding it if needed (on the consumer's task: allocation and release of the
    /// decoded strings happen on the same thread, and in parallel with the socket reader).
    fn into_event(self) -> SessionEvent {
        match self {
            Delivery::Event(e) => *e,
            Delivery::Raw(frame) => SessionEvent::from_raw(&frame),
        }
    }
}

/// The session's events, in order. Ends (`None`) after [`SessionEvent::Stopped`].
///
/// Ordinary server events are decoded here, as they are taken, on the application's task.
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::Receiver<Vec<Delivery>>,
    buf: std::vec::IntoIter<Delivery>,
}

impl EventStream {
    /// The next event; `None` once the session has stopped and everything was delivered.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next event.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<SessionEvent>> {
        loop {
            if let Some(e) = self.buf.next() {
                return Poll::Ready(Some(e.into_event()));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(batch)) => self.buf = batch.into_iter(),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<SessionEvent> {
        loop {
            if let Some(e) = self.buf.next() {
                return Some(e.into_event());
            }
            self.buf = self.rx.try_recv().ok()?.into_iter();
        }
    }
}

/// Starts a session: spawns its loop on the current tokio runtime and returns the handle and
/// the event stream. The first event is [`SessionEvent::Connecting`].
pub fn connect(config: DriverConfig) -> Result<(SessionHandle, EventStream), DriverError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
    // The default TLS config (parsing the webpki roots) is built on the first wss:// open,
    // so a ws:// session never pays for it.
    let tls = config.tls.map(socket::websocket_tls);
    let capacity = config.session.sending.queue_capacity.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(capacity));
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (sock_tx, sock_rx) = mpsc::channel(SOCKET_CHANNEL);
    let (connect_tx, connect_rx) = mpsc::channel(4);
    let (event_tx, event_rx) = mpsc::channel((config.event_capacity / BATCH).max(2));
    let (state_tx, state_rx) = watch::channel(State::Connecting);
    let connect_cfg = config.session.connect.clone();
    let machine = Session::new(config.session, Instant::now());
    let lp = Loop {
        machine,
        token: config.token,
        transport: config.transport,
        connect_cfg,
        tls,
        max_message: config.max_message_bytes.max(1),
        write_timeout: config.write_timeout,
        connect_timeout: config.connect_timeout,
        sock_tx,
        connect_tx,
        conns: HashMap::new(),
        waiters: HashMap::new(),
        events: Vec::new(),
        blocked: false,
        event_tx,
        state_tx,
        permits: permits.clone(),
        closers: JoinSet::new(),
        connect_task: None,
        readers: Readers::default(),
    };
    runtime.spawn(lp.run(cmd_rx, sock_rx, connect_rx));
    let handle = SessionHandle { cmd: cmd_tx, permits, state: state_rx };
    Ok((handle, EventStream { rx: event_rx, buf: Vec::new().into_iter() }))
}

struct ConnIo {
    writer: Option<Box<Writer>>,
}

/// The connections' readers, polled by the loop task (see [`Readers::poll`]).
#[derive(Default)]
struct Readers(Vec<(ConnId, socket::BoxFuture)>);

impl Readers {
    fn start(&mut self, conn: ConnId, reader: impl Future<Output = ()> + Send + 'static) {
        self.0.push((conn, Box::pin(reader)));
    }

    /// Drops a connection's reader (its socket is abandoned, so stopping mid-frame is fine).
    fn abort(&mut self, conn: ConnId) {
        self.0.retain(|(c, _)| *c != conn);
    }

    /// Drives every reader; finished ones are removed. Always pending: the readers' results
    /// reach the loop through its socket channel, and their wake-ups wake the loop task.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.retain_mut(|(_, reader)| reader.as_mut().poll(cx).is_pending());
        Poll::Pending
    }
}

struct Waiter {
    reply: oneshot::Sender<Result<Ack, SendError>>,
    _permit: OwnedSemaphorePermit,
}

struct Loop {
    machine: Session,
    token: Token,
    transport: Arc<dyn DynHttpTransport>,
    connect_cfg: ConnectConfig,
    /// The WebSocket TLS config; built on first use when the user gave none.
    tls: Option<Arc<ClientConfig>>,
    max_message: usize,
    write_timeout: Duration,
    connect_timeout: Duration,
    sock_tx: mpsc::Sender<FromSocket>,
    connect_tx: mpsc::Sender<Result<ConnectResponse, ConnectFailure>>,
    conns: HashMap<ConnId, ConnIo>,
    waiters: HashMap<RequestId, Waiter>,
    /// Events not yet handed to the application.
    events: Vec<Delivery>,
    /// The event channel was full: `events` waits for room and sockets are not read.
    blocked: bool,
    event_tx: mpsc::Sender<Vec<Delivery>>,
    state_tx: watch::Sender<State>,
    permits: Arc<Semaphore>,
    closers: JoinSet<()>,
    connect_task: Option<JoinHandle<()>>,
    readers: Readers,
}

impl Loop {
    async fn run(
        mut self,
        mut cmd_rx: mpsc::UnboundedReceiver<Command>,
        mut sock_rx: mpsc::Receiver<FromSocket>,
        mut connect_rx: mpsc::Receiver<Result<ConnectResponse, ConnectFailure>>,
    ) {
        let mut inbox: Vec<FromSocket> = Vec::with_capacity(BATCH);
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        let mut cmds_open = true;
        let mut orphaned = false;
        // A second sender, so waiting for room does not borrow `self`.
        let event_tx = self.event_tx.clone();
        self.drain_outputs().await;
        self.flush_events();
        while self.machine.state() != State::Stopped {
            let next = self.machine.poll_timeout();
            if next != armed {
                if let Some(t) = next {
                    sleep.as_mut().reset(tokio::time::Instant::from_std(t));
                }
                armed = next;
            }
            tokio::select! {
                biased;
                // First, so every turn reads what the sockets have (up to the channel's room)
                // before handling it. Never completes.
                () = std::future::poll_fn(|cx| self.readers.poll(cx)) => {}
                _ = &mut sleep, if armed.is_some() => {
                    armed = None;
                    self.machine.handle_timeout(Instant::now());
                }
                cmd = cmd_rx.recv(), if cmds_open => match cmd {
                    Some(c) => self.on_command(c),
                    None => cmds_open = false,
                },
                // Every handle is gone, and now the event stream too (in either order).
                () = event_tx.closed(), if !cmds_open && !orphaned => {
                    orphaned = true;
                    tracing::debug!("every handle and the event stream are gone: shutting down");
                    self.machine.shutdown(Instant::now(), Duration::ZERO);
                }
                Some(result) = connect_rx.recv() => {
                    self.connect_task = None;
                    self.machine.handle(Input::ConnectResult(result), Instant::now());
                }
                permit = event_tx.reserve(), if self.blocked => {
                    self.blocked = false;
                    match permit {
                        Ok(p) => p.send(std::mem::take(&mut self.events)),
                        Err(_) => {
                            self.events.clear();
                            if !cmds_open {
                                self.machine.shutdown(Instant::now(), Duration::ZERO);
                            }
                        }
                    }
                    self.machine.handle(Input::Backpressure(false), Instant::now());
                }
                _ = sock_rx.recv_many(&mut inbox, SOCKET_MESSAGES_PER_TURN), if !self.blocked => {
                    let now = Instant::now();
                    let mut batch = std::mem::take(&mut inbox);
                    for msg in batch.drain(..) {
                        self.on_socket(msg, now).await;
                    }
                    inbox = batch;
                }
            }
            self.drain_outputs().await;
            self.flush_events();
            // `Stopped` is published by `finish`, once the sockets are closed.
            if self.machine.state() != State::Stopped {
                self.publish_state();
            }
        }
        drop(event_tx);
        self.finish().await;
    }

    fn publish_state(&self) {
        let now = self.machine.state();
        self.state_tx.send_if_modified(|s| {
            let changed = *s != now;
            *s = now;
            changed
        });
    }

    fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Submit { msg, reply, permit } => match self.machine.submit(msg, now) {
                Ok(id) => {
                    self.waiters.insert(id, Waiter { reply, _permit: permit });
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Command::Shutdown { grace } => self.machine.shutdown(now, grace),
        }
    }

    async fn on_socket(&mut self, msg: FromSocket, now: Instant) {
        match msg {
            FromSocket::Opened(conn, writer) => match self.conns.get_mut(&conn) {
                Some(io) => {
                    io.writer = Some(writer);
                    self.machine.handle(Input::SocketOpened { conn }, now);
                }
                // The machine gave up on it meanwhile.
                None => {
                    self.closers.spawn(socket::close_socket(writer, 1000, CLOSE_LIMIT));
                }
            },
            FromSocket::Inputs(inputs) => {
                for input in inputs {
                    self.machine.handle(input, now);
                }
            }
            FromSocket::Input(input) => {
                if let Input::SocketClosed { conn, reason } = &input
                    && let Some(io) = self.conns.remove(conn)
                    && let (Some(w), Reason::MessageTooLarge { .. }) = (io.writer, reason)
                {
                    self.closers.spawn(socket::close_socket(w, 1009, CLOSE_LIMIT));
                }
                self.machine.handle(input, now);
            }
            FromSocket::Control(conn, frame) => {
                let (frame, activity) = match frame {
                    ControlFrame::Pong(p) => (Frame::pong(Payload::Owned(p)), true),
                    ControlFrame::CloseEcho(p) => (Frame::close_raw(Payload::Owned(p)), false),
                };
                self.write(conn, frame).await;
                if activity {
                    self.machine.handle(Input::Frame { conn, frame: Incoming::Activity }, now);
                }
            }
        }
    }

    /// Writes and flushes one frame; a failure or a stuck write kills the connection. The
    /// readers keep being polled meanwhile: a peer that only reads once its own writes go
    /// through must not stall the write.
    async fn write(&mut self, conn: ConnId, frame: Frame<'_>) -> bool {
        let Some(w) = self.conns.get_mut(&conn).and_then(|io| io.writer.as_mut()) else {
            return false;
        };
        let result = {
            let mut write =
                std::pin::pin!(tokio::time::timeout(self.write_timeout, socket::write_and_flush(w, frame)));
            let readers = &mut self.readers;
            std::future::poll_fn(|cx| {
                let _ = readers.poll(cx);
                write.as_mut().poll(cx)
            })
            .await
        };
        let error = match result {
            Ok(Ok(())) => return true,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("a write took longer than {:?}", self.write_timeout),
        };
        tracing::debug!(%conn, %error, "write failed");
        self.conns.remove(&conn);
        self.readers.abort(conn);
        self.machine.handle(Input::SocketClosed { conn, reason: Reason::Io(error) }, Instant::now());
        false
    }

    async fn drain_outputs(&mut self) {
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::CallConnect => self.call_connect(),
                Output::OpenSocket { conn, url } => {
                    if self.tls.is_none() && url.starts_with("wss:") {
                        match socket::default_tls() {
                            Ok(c) => self.tls = Some(c),
                            Err(e) => tracing::error!("cannot build the TLS configuration: {e}"),
                        }
                    }
                    self.readers.start(
                        conn,
                        socket::run_connection(
                            conn,
                            url,
                            self.tls.clone(),
                            self.max_message,
                            self.sock_tx.clone(),
                        ),
                    );
                    self.conns.insert(conn, ConnIo { writer: None });
                }
                Output::Send { conn, text, id } => {
                    if self.write(conn, Frame::text(Payload::Owned(text.into_bytes()))).await {
                        self.machine.handle(Input::Written { conn, id }, Instant::now());
                    } else if !self.conns.contains_key(&conn) {
                        // Not open (or already gone): the machine requeues the request.
                        self.machine.handle(
                            Input::SocketClosed { conn, reason: Reason::Io("the socket is not open".into()) },
                            Instant::now(),
                        );
                    }
                }
                Output::Close { conn, code } => {
                    if let Some(io) = self.conns.remove(&conn) {
                        self.readers.abort(conn);
                        if let Some(w) = io.writer {
                            self.closers.spawn(socket::close_socket(w, code, CLOSE_LIMIT));
                        }
                    }
                }
                Output::Event(e) => self.deliver(Delivery::Event(Box::new(e))),
                Output::RawEvent { frame } => self.deliver(Delivery::Raw(frame)),
                Output::Completed { request, result } => {
                    if let Some(w) = self.waiters.remove(&request) {
                        let _ = w.reply.send(result);
                    }
                }
            }
        }
        // Reap finished close tasks so the set stays small.
        while self.closers.try_join_next().is_some() {}
    }

    fn call_connect(&mut self) {
        let transport = self.transport.clone();
        let token = self.token.clone();
        let config = self.connect_cfg.clone();
        let tx = self.connect_tx.clone();
        let limit = self.connect_timeout;
        self.connect_task = Some(tokio::spawn(async move {
            let result = match config.build_request(&token) {
                // A request that cannot be built never will be: fatal. BuildError never holds
                // the token.
                Err(e) => Err(ConnectFailure::fatal(format!("cannot build the rtm.connect request: {e}"))),
                Ok(request) => match tokio::time::timeout(limit, transport.send_boxed(request)).await {
                    Err(_) => {
                        Err(ConnectFailure::retryable(format!("rtm.connect took longer than {limit:?}")))
                    }
                    Ok(Err(e)) => Err(ConnectFailure::retryable(format!("rtm.connect transport error: {e}"))),
                    Ok(Ok(response)) => {
                        config.parse_response(&response, Instant::now()).map_err(ConnectFailure::from)
                    }
                },
            };
            let _ = tx.send(result).await;
        }));
    }

    /// Queues an event for the application; a new batch starts with room for a loop turn's
    /// worth, so it is not reallocated as it grows.
    fn deliver(&mut self, d: Delivery) {
        if self.events.capacity() == 0 {
            self.events.reserve(BATCH);
        }
        self.events.push(d);
    }

    /// Hands the pending events to the application, or notes that it cannot take them.
    fn flush_events(&mut self) {
        if self.blocked || self.events.is_empty() {
            return;
        }
        match self.event_tx.try_send(std::mem::take(&mut self.events)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(batch)) => {
                self.events = batch;
                self.blocked = true;
                self.machine.handle(Input::Backpressure(true), Instant::now());
            }
            // Nobody listens: drop events (the session keeps serving handles).
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    async fn finish(mut self) {
        self.permits.close();
        if let Some(t) = self.connect_task.take() {
            t.abort();
        }
        self.readers = Readers::default();
        for (_, io) in self.conns.drain() {
            if let Some(w) = io.writer {
                self.closers.spawn(socket::close_socket(w, 1000, CLOSE_LIMIT));
            }
        }
        for (_, w) in self.waiters.drain() {
            let _ = w.reply.send(Err(SendError::Stopped));
        }
        // Close frames are written before the handles learn the session stopped, so a program
        // that exits right after `shutdown().await` still closes its sockets cleanly.
        let closers = async { while self.closers.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(CLOSE_LIMIT * 2, closers).await;
        self.publish_state();
        if !self.events.is_empty() {
            let batch = std::mem::take(&mut self.events);
            if tokio::time::timeout(LINGER, self.event_tx.send(batch)).await.is_err() {
                tracing::warn!("the application did not take the last events in time; dropped");
            }
        }
        tracing::debug!("session loop finished");
    }
}
