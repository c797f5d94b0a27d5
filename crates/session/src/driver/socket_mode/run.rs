//! The Socket Mode driver's loop: one task that owns the machine and, through the shared
//! [`Conns`] and [`Outbox`], the sockets and the hand-off to the application.

use super::super::call::call_apps_connections_open;
use super::super::conns::{Conns, Outbox, spawn_call};
use super::super::drive::{self, Driven, drive, driven_plumbing};
use super::super::run::BATCH;
use super::super::socket::{self, FromSocket, OpenConfig as SocketOpen, machine_inputs};
use super::{Command, SocketModeDriverConfig, SocketModeOutput, SocketModeStatus};
use crate::machine::{ConnId, ConnectFailure, Reason};
use crate::socket_mode::{AckError, Event, Input, Output, SocketModeSession};
use fastwebsockets::{Frame, OpCode, Payload};
use slack_rtm_codec::{AppToken, DynHttpTransport, OpenConfig, OpenResponse};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Socket Mode's inputs from the shared reader.
pub(crate) struct Sm;

machine_inputs!(Sm => crate::socket_mode);

type OpenResult = Result<OpenResponse, ConnectFailure>;

pub(super) struct Loop {
    machine: SocketModeSession,
    token: AppToken,
    transport: Arc<dyn DynHttpTransport>,
    open_cfg: OpenConfig,
    open_timeout: Duration,
    open_tx: mpsc::Sender<OpenResult>,
    conns: Conns<Sm>,
    outs: Outbox<SocketModeOutput>,
    status: SocketModeStatus,
    status_changed: bool,
    status_tx: watch::Sender<SocketModeStatus>,
    open_task: Option<JoinHandle<()>>,
}

/// The channels the loop reads besides its commands.
pub(super) struct Inbound {
    sock_rx: mpsc::Receiver<FromSocket<Input>>,
    open_rx: mpsc::Receiver<OpenResult>,
}

impl Loop {
    pub(super) fn new(
        config: SocketModeDriverConfig,
        status_tx: watch::Sender<SocketModeStatus>,
    ) -> (Self, Inbound, mpsc::Receiver<Vec<SocketModeOutput>>) {
        let socket = SocketOpen {
            dialer: config.dialer,
            tls: config.tls.map(socket::websocket_tls),
            max_message: config.max_message_bytes.max(1),
        };
        let (conns, sock_rx) = Conns::new(socket, config.write_timeout);
        let (outs, out_rx) = Outbox::new(config.capacity, BATCH);
        let (open_tx, open_rx) = mpsc::channel(4);
        let lp = Self {
            machine: SocketModeSession::new(config.session, Instant::now()),
            token: config.token,
            transport: config.transport,
            open_cfg: config.open,
            open_timeout: config.open_timeout,
            open_tx,
            conns,
            outs,
            status: SocketModeStatus::new(),
            status_changed: false,
            status_tx,
            open_task: None,
        };
        (lp, Inbound { sock_rx, open_rx }, out_rx)
    }

    fn call_open(&mut self) {
        let (transport, token, config) = (self.transport.clone(), self.token.clone(), self.open_cfg.clone());
        let call = async move { call_apps_connections_open(&*transport, &token, &config).await };
        let tx = self.open_tx.clone();
        self.open_task = Some(spawn_call("apps.connections.open", call, self.open_timeout, tx));
    }

    /// Runs the loop until the machine stops.
    pub(super) async fn run(self, cmd_rx: mpsc::UnboundedReceiver<Command>, inbound: Inbound) {
        drive(self, cmd_rx, inbound.sock_rx, inbound.open_rx).await;
    }
}

impl Driven for Loop {
    type P = Sm;
    type Cmd = Command;
    type Call = OpenResult;
    type Item = SocketModeOutput;

    driven_plumbing!(outs);

    fn on_call(&mut self, result: OpenResult, now: Instant) {
        self.open_task = None;
        self.machine.handle(Input::OpenResult(result), now);
    }

    async fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Ack { envelope_id, payload, reply } => {
                match self.machine.ack(&envelope_id, payload, now) {
                    Ok(conn) => {
                        // The machine output the ack just now: write it (with anything before it).
                        self.drain_outputs().await;
                        let _ =
                            reply.send(if self.conns.is_open(conn) { Ok(()) } else { Err(AckError::Unsent) });
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Release { envelope_id } => {
                // Unknown: acked meanwhile, or forgotten; either way nothing to release.
                let _ = self.machine.release(&envelope_id);
            }
            Command::Shutdown { grace } => self.machine.shutdown(now, grace),
        }
    }

    async fn drain_outputs(&mut self) {
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::CallOpen => self.call_open(),
                Output::OpenSocket { conn, url } => self.conns.start(conn, url),
                // An ack whose socket is not open is lost: Slack redelivers, the machine dedupes.
                Output::Send { conn, text } => {
                    drive::write(self, conn, Frame::text(Payload::Owned(text.into_bytes()))).await;
                }
                Output::Ping { conn } => {
                    let ping = Frame::new(true, OpCode::Ping, None, Payload::Borrowed(b"slack-rtm"));
                    drive::write(self, conn, ping).await;
                }
                Output::Close { conn, code } => self.conns.close(conn, code),
                Output::Deliver(d) => self.outs.push(SocketModeOutput::Envelope(d)),
                Output::Event(e) => {
                    self.status_changed |= self.status.note(&e);
                    if let Event::Disconnected { conn, .. } = &e {
                        self.conns.forget(*conn);
                    }
                    self.outs.push(SocketModeOutput::Event(e));
                }
            }
        }
    }

    async fn finish(mut self) {
        if let Some(t) = self.open_task.take() {
            t.abort();
        }
        self.conns.close_all().await;
        self.publish();
        self.outs.linger().await;
        tracing::debug!("socket mode loop finished");
    }
}
