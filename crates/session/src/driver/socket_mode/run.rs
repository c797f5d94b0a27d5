//! The Socket Mode driver's loop: one task that owns the machine, the sockets' write halves and
//! readers, and hands envelopes to the application in batches.

use super::super::call::call_apps_connections_open;
use super::super::readers::{self, Readers};
use super::super::run::BATCH;
use super::super::socket::{self, ControlFrame, FromSocket, Inputs, OpenConfig as SocketOpen, Writer};
use super::{Command, SocketModeDriverConfig, SocketModeOutput, SocketModeStatus};
use crate::machine::{ConnId, ConnectFailure, Reason, SkippedFrame, State};
use crate::socket_mode::{AckError, Event, Incoming, Input, Output, SocketModeSession};
use fastwebsockets::{Frame, OpCode, Payload};
use slack_rtm_codec::{AppToken, DynHttpTransport, OpenConfig, OpenResponse};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

/// Reader messages handled per loop turn (each up to a reader batch of 64 inputs).
const SOCKET_MESSAGES_PER_TURN: usize = 4;
/// Capacity of the readers → loop channel, in messages.
const SOCKET_CHANNEL: usize = 16;
/// Longest wait for a close frame to be written.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);
/// After the session stopped, how long the loop waits for the application to take the last
/// outputs.
const LINGER: Duration = Duration::from_secs(10);

/// Socket Mode's inputs from the shared reader.
pub(crate) struct Sm;

impl Inputs for Sm {
    type Input = Input;
    fn message(conn: ConnId, text: bool, payload: &[u8]) -> Input {
        Input::Frame { conn, frame: Incoming::message(text, payload) }
    }
    fn activity(conn: ConnId) -> Input {
        Input::Frame { conn, frame: Incoming::Activity }
    }
    fn invalid_utf8(conn: ConnId) -> Input {
        Input::Frame { conn, frame: Incoming::Skipped(SkippedFrame::InvalidUtf8 { len: None }) }
    }
    fn closed(conn: ConnId, reason: Reason) -> Input {
        Input::SocketClosed { conn, reason }
    }
}

pub(super) struct Loop {
    machine: SocketModeSession,
    token: AppToken,
    transport: Arc<dyn DynHttpTransport>,
    open_cfg: OpenConfig,
    socket: SocketOpen,
    write_timeout: Duration,
    open_timeout: Duration,
    sock_tx: mpsc::Sender<FromSocket<Input>>,
    sock_rx: Option<mpsc::Receiver<FromSocket<Input>>>,
    open_tx: mpsc::Sender<Result<OpenResponse, ConnectFailure>>,
    open_rx: Option<mpsc::Receiver<Result<OpenResponse, ConnectFailure>>>,
    writers: HashMap<ConnId, Option<Box<Writer>>>,
    outs: Vec<SocketModeOutput>,
    blocked: bool,
    out_tx: mpsc::Sender<Vec<SocketModeOutput>>,
    status: SocketModeStatus,
    status_changed: bool,
    status_tx: watch::Sender<SocketModeStatus>,
    closers: JoinSet<()>,
    open_task: Option<JoinHandle<()>>,
    readers: Readers,
}

impl Loop {
    pub(super) fn new(
        config: SocketModeDriverConfig,
        out_tx: mpsc::Sender<Vec<SocketModeOutput>>,
        status_tx: watch::Sender<SocketModeStatus>,
    ) -> Self {
        let socket = SocketOpen {
            dialer: config.dialer,
            tls: config.tls.map(socket::websocket_tls),
            max_message: config.max_message_bytes.max(1),
        };
        let (sock_tx, sock_rx) = mpsc::channel(SOCKET_CHANNEL);
        let (open_tx, open_rx) = mpsc::channel(4);
        Self {
            machine: SocketModeSession::new(config.session, Instant::now()),
            token: config.token,
            transport: config.transport,
            open_cfg: config.open,
            socket,
            write_timeout: config.write_timeout,
            open_timeout: config.open_timeout,
            sock_tx,
            sock_rx: Some(sock_rx),
            open_tx,
            open_rx: Some(open_rx),
            writers: HashMap::new(),
            outs: Vec::new(),
            blocked: false,
            out_tx,
            status: SocketModeStatus::new(),
            status_changed: false,
            status_tx,
            closers: JoinSet::new(),
            open_task: None,
            readers: Readers::default(),
        }
    }

    pub(super) async fn run(mut self, mut cmd_rx: mpsc::UnboundedReceiver<Command>) {
        let (Some(mut sock_rx), Some(mut open_rx)) = (self.sock_rx.take(), self.open_rx.take()) else {
            return;
        };
        let mut inbox = Vec::with_capacity(SOCKET_MESSAGES_PER_TURN);
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut armed: Option<Instant> = None;
        let mut cmds_open = true;
        let mut orphaned = false;
        let out_tx = self.out_tx.clone();
        self.drain_outputs().await;
        self.flush();
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
                () = std::future::poll_fn(|cx| self.readers.poll(cx)) => {}
                _ = &mut sleep, if armed.is_some() => {
                    armed = None;
                    self.machine.handle_timeout(Instant::now());
                }
                cmd = cmd_rx.recv(), if cmds_open => match cmd {
                    Some(c) => self.on_command(c).await,
                    None => cmds_open = false,
                },
                () = out_tx.closed(), if !cmds_open && !orphaned => {
                    orphaned = true;
                    tracing::debug!("every handle and the stream are gone: shutting down");
                    self.machine.shutdown(Instant::now(), Duration::ZERO);
                }
                Some(result) = open_rx.recv() => {
                    self.open_task = None;
                    self.machine.handle(Input::OpenResult(result), Instant::now());
                }
                permit = out_tx.reserve(), if self.blocked => {
                    self.blocked = false;
                    match permit {
                        Ok(p) => p.send(std::mem::take(&mut self.outs)),
                        Err(_) => self.outs.clear(),
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
            self.flush();
            if self.machine.state() != State::Stopped {
                self.publish();
            }
        }
        drop(out_tx);
        self.finish().await;
    }

    fn publish(&mut self) {
        let state = self.machine.state();
        if state != self.status.state || self.status_changed {
            self.status.state = state;
            self.status_changed = false;
            self.status_tx.send_replace(self.status.clone());
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Ack { envelope_id, payload, reply } => {
                match self.machine.ack(&envelope_id, payload, now) {
                    Ok(conn) => {
                        // The machine output the ack just now: write it (with anything before it).
                        self.drain_outputs().await;
                        let written = self.writers.get(&conn).is_some_and(Option::is_some);
                        let _ = reply.send(if written { Ok(()) } else { Err(AckError::Unsent) });
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Shutdown { grace } => self.machine.shutdown(now, grace),
        }
    }

    async fn on_socket(&mut self, msg: FromSocket<Input>, now: Instant) {
        match msg {
            FromSocket::Opened(conn, writer) => match self.writers.get_mut(&conn) {
                Some(slot) => {
                    *slot = Some(writer);
                    self.machine.handle(Input::SocketOpened { conn }, now);
                }
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
                    && let Some(Some(w)) = self.writers.remove(conn)
                    && matches!(reason, Reason::MessageTooLarge { .. })
                {
                    self.closers.spawn(socket::close_socket(w, 1009, CLOSE_LIMIT));
                }
                self.machine.handle(input, now);
            }
            FromSocket::Control(conn, frame) => {
                let frame = match frame {
                    ControlFrame::Pong(p) => Frame::pong(Payload::Owned(p)),
                    ControlFrame::CloseEcho(p) => Frame::close_raw(Payload::Owned(p)),
                };
                self.write(conn, frame).await;
            }
        }
    }

    /// Writes one frame; a failure or a stuck write kills the socket (reported to the machine).
    async fn write(&mut self, conn: ConnId, frame: Frame<'_>) -> bool {
        let Some(Some(w)) = self.writers.get_mut(&conn) else { return false };
        let Err(error) = readers::write_polling(&mut self.readers, w, frame, self.write_timeout).await else {
            return true;
        };
        tracing::debug!(%conn, %error, "write failed");
        self.writers.remove(&conn);
        self.readers.abort(conn);
        self.machine.handle(Input::SocketClosed { conn, reason: Reason::Io(error) }, Instant::now());
        false
    }

    async fn drain_outputs(&mut self) {
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::CallOpen => self.call_open(),
                Output::OpenSocket { conn, url } => {
                    let reader =
                        socket::run_connection::<Sm>(conn, url, self.socket.clone(), self.sock_tx.clone());
                    self.readers.start(conn, reader);
                    self.writers.insert(conn, None);
                }
                Output::Send { conn, text } => {
                    if !self.write(conn, Frame::text(Payload::Owned(text.into_bytes()))).await {
                        tracing::debug!(%conn, "an ack could not be written: its socket is gone");
                    }
                }
                Output::Ping { conn } => {
                    self.write(conn, Frame::new(true, OpCode::Ping, None, Payload::Borrowed(b"slack-rtm")))
                        .await;
                }
                Output::Close { conn, code } => {
                    if let Some(w) = self.writers.remove(&conn) {
                        self.readers.abort(conn);
                        if let Some(w) = w {
                            self.closers.spawn(socket::close_socket(w, code, CLOSE_LIMIT));
                        }
                    }
                }
                Output::Deliver(d) => self.push(SocketModeOutput::Envelope(d)),
                Output::Event(e) => {
                    self.status_changed |= self.status.note(&e);
                    if let Event::Disconnected { conn, .. } = &e {
                        self.writers.remove(conn);
                        self.readers.abort(*conn);
                    }
                    self.push(SocketModeOutput::Event(e));
                }
            }
        }
        while self.closers.try_join_next().is_some() {}
    }

    fn call_open(&mut self) {
        let transport = self.transport.clone();
        let token = self.token.clone();
        let config = self.open_cfg.clone();
        let tx = self.open_tx.clone();
        let limit = self.open_timeout;
        self.open_task = Some(tokio::spawn(async move {
            let call = call_apps_connections_open(&*transport, &token, &config);
            let result = match tokio::time::timeout(limit, call).await {
                Err(_) => Err(ConnectFailure::retryable(format!(
                    "apps.connections.open took longer than {limit:?}"
                ))),
                Ok(result) => result,
            };
            let _ = tx.send(result).await;
        }));
    }

    fn push(&mut self, o: SocketModeOutput) {
        if self.outs.capacity() == 0 {
            self.outs.reserve(BATCH);
        }
        self.outs.push(o);
    }

    fn flush(&mut self) {
        if self.blocked || self.outs.is_empty() {
            return;
        }
        match self.out_tx.try_send(std::mem::take(&mut self.outs)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(batch)) => {
                self.outs = batch;
                self.blocked = true;
                self.machine.handle(Input::Backpressure(true), Instant::now());
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    async fn finish(mut self) {
        if let Some(t) = self.open_task.take() {
            t.abort();
        }
        self.readers = Readers::default();
        for (_, w) in self.writers.drain() {
            if let Some(w) = w {
                self.closers.spawn(socket::close_socket(w, 1000, CLOSE_LIMIT));
            }
        }
        let closers = async { while self.closers.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(CLOSE_LIMIT * 2, closers).await;
        self.publish();
        if !self.outs.is_empty() {
            let batch = std::mem::take(&mut self.outs);
            if tokio::time::timeout(LINGER, self.out_tx.send(batch)).await.is_err() {
                tracing::warn!("the application did not take the last outputs in time; dropped");
            }
        }
        tracing::debug!("socket mode loop finished");
    }
}
