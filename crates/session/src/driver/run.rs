//! The driver's loop: one task that owns the machine, the sockets' write halves and readers,
//! and hands events to the application.

use super::call::call_rtm_connect;
use super::config::DriverConfig;
use super::handle::{Command, Delivery, EventStream, SessionHandle, Status};
use super::readers::{self, Readers};
use super::socket::{self, ControlFrame, FromSocket, OpenConfig, Writer};
use crate::machine::{
    Ack, ConnId, ConnectFailure, Incoming, Input, Output, Reason, RequestId, SendError, Session, State,
};
use fastwebsockets::{Frame, Payload};
use slack_rtm_codec::{ConnectConfig, ConnectResponse, DynHttpTransport, Token};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Most inputs handled (and events batched) per loop turn.
pub(crate) const BATCH: usize = 64;
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

/// Spawns the loop of a new session on `runtime`.
pub(crate) fn spawn(config: DriverConfig, runtime: &tokio::runtime::Handle) -> (SessionHandle, EventStream) {
    let open = OpenConfig {
        dialer: config.dialer,
        tls: config.tls.map(socket::websocket_tls),
        max_message: config.max_message_bytes.max(1),
    };
    let capacity = config.session.sending.queue_capacity.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(capacity));
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (sock_tx, sock_rx) = mpsc::channel(SOCKET_CHANNEL);
    let (connect_tx, connect_rx) = mpsc::channel(4);
    let (event_tx, event_rx) = mpsc::channel((config.event_capacity / BATCH).max(2));
    let (status_tx, status_rx) = watch::channel(Status::new());
    let machine = Session::new(config.session, Instant::now());
    let lp = Loop {
        machine,
        token: config.token,
        transport: config.transport,
        connect_cfg: config.connect,
        open,
        write_timeout: config.write_timeout,
        connect_timeout: config.connect_timeout,
        sock_tx,
        connect_tx,
        conns: HashMap::new(),
        waiters: HashMap::new(),
        events: Vec::new(),
        blocked: false,
        event_tx,
        status: Status::new(),
        status_changed: false,
        status_tx,
        permits: permits.clone(),
        closers: JoinSet::new(),
        connect_task: None,
        readers: Readers::default(),
    };
    runtime.spawn(lp.run(cmd_rx, sock_rx, connect_rx));
    let handle = SessionHandle { cmd: cmd_tx, permits, status: status_rx };
    (handle, EventStream { rx: event_rx, buf: Vec::new().into_iter() })
}

struct ConnIo {
    writer: Option<Box<Writer>>,
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
    /// How sockets are opened: dialer, TLS, size cap.
    open: OpenConfig,
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
    /// The status as published (or about to be) to the handles.
    status: Status,
    /// `status` changed since it was last published.
    status_changed: bool,
    status_tx: watch::Sender<Status>,
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

    /// Publishes the status to the handles if it changed.
    fn publish_state(&mut self) {
        let state = self.machine.state();
        if state != self.status.state || self.status_changed {
            self.status.state = state;
            self.status_changed = false;
            self.status_tx.send_replace(self.status.clone());
        }
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
        let result = readers::write_polling(&mut self.readers, w, frame, self.write_timeout).await;
        let Err(error) = result else { return true };
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
                    let reader = socket::run_connection::<socket::Rtm>(
                        conn,
                        url,
                        self.open.clone(),
                        self.sock_tx.clone(),
                    );
                    self.readers.start(conn, reader);
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
                Output::Event(e) => {
                    self.status_changed |= self.status.note(&e);
                    self.deliver(Delivery::Event(Box::new(e)));
                }
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
            let call = call_rtm_connect(&*transport, &token, &config);
            let result = match tokio::time::timeout(limit, call).await {
                Err(_) => Err(ConnectFailure::retryable(format!("rtm.connect took longer than {limit:?}"))),
                // The transport's and the codec's errors never hold the token.
                Ok(result) => result.map_err(ConnectFailure::from),
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
