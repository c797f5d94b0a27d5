//! The Socket Mode driver's loop: one task that owns the machine and, through the shared
//! [`Conns`] and [`Outbox`], the sockets and the hand-off to the application.

use super::super::batches::Batches;
use super::super::call::call_apps_connections_open;
use super::super::conns::{Conns, spawn_call};
use super::super::drive::{self, BATCH, Driven, Publisher, drive, next_session_id};
use super::super::outbox::{Outbox, Weighed};
use super::super::socket::FromSocket;
use super::unflushed::Unflushed;
use super::{Command, SocketModeDriverConfig, SocketModeStatus, SocketModeStreamItem};
use crate::common::{ConnId, ConnectFailure, EnvelopeId, Reason, SocketInput};
use crate::socket_mode::{
    DeliveryAckError, DeliverySeq, SocketModeEvent, SocketModeInput, SocketModeOutput, SocketModeSession,
};
use fastwebsockets::{Frame, OpCode, Payload};
use slack_rtm_codec::{AppToken, DynHttpTransport, OpenConfig, OpenResponse};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

type OpenResult = Result<OpenResponse, ConnectFailure>;

pub(super) struct Loop {
    machine: SocketModeSession,
    token: AppToken,
    transport: Arc<dyn DynHttpTransport>,
    open_cfg: OpenConfig,
    call_timeout: Duration,
    open_tx: mpsc::Sender<Box<OpenResult>>,
    conns: Conns<SocketModeInput>,
    outs: Outbox<SocketModeStreamItem>,
    status: Publisher<SocketModeStatus>,
    open_task: Option<JoinHandle<()>>,
    /// Opening calls started whose result was not taken yet.
    calls: usize,
    /// Acks the machine output in this turn, answered once the turn's writes are flushed: a
    /// turn's acks leave in one write, however many handles sent them.
    acks_sent: Vec<SentAck>,
    /// Acks in delivery order the machine output in this turn (`Command::AckedTo`), per run
    /// of one socket: how many; a failure is logged by socket and count, so no id is kept.
    in_order_sent: Vec<(ConnId, u32)>,
    /// The count acks in order move on (shared with the handles).
    in_order: Arc<super::plain::PlainAcks>,
    /// Acks written to a socket's buffer and not sent yet (left for the turn's end by
    /// [`Driven::drain_within_turn`]).
    unflushed: Unflushed,
}

/// An application's ack written in this turn: its socket, its id, who waits for the result.
type SentAck = (ConnId, EnvelopeId, Option<AckReply>);
type AckReply = tokio::sync::oneshot::Sender<Result<(), DeliveryAckError>>;

/// The channels the loop reads besides its commands.
pub(super) struct Inbound {
    sock_rx: super::super::inbox::InboxRx<FromSocket<SocketModeInput>>,
    open_rx: mpsc::Receiver<Box<OpenResult>>,
}

impl Loop {
    pub(super) fn new(
        config: SocketModeDriverConfig,
        status_tx: watch::Sender<SocketModeStatus>,
        in_order: Arc<super::plain::PlainAcks>,
    ) -> (Self, Inbound, Batches<SocketModeStreamItem>) {
        let (mut conns, sock_rx) = Conns::new(config.common.socket_open(), config.common.write_timeout);
        let (outs, out_rx) = Outbox::new(config.common.capacity, BATCH, config.common.capacity_bytes);
        conns.readers.hold_while_spent(outs.budget());
        let (open_tx, open_rx) = mpsc::channel(4);
        let lp = Self {
            machine: SocketModeSession::new(config.session, Instant::now()),
            token: config.token,
            transport: config.transport,
            open_cfg: config.open,
            call_timeout: config.common.call_timeout,
            open_tx,
            conns,
            outs,
            status: Publisher::new(SocketModeStatus::new(), status_tx),
            open_task: None,
            calls: 0,
            acks_sent: Vec::new(),
            in_order_sent: Vec::new(),
            in_order,
            unflushed: Unflushed::default(),
        };
        (lp, Inbound { sock_rx, open_rx }, out_rx)
    }

    fn call_open(&mut self) {
        let (transport, token, config) = (self.transport.clone(), self.token.clone(), self.open_cfg.clone());
        let call = async move {
            call_apps_connections_open(&*transport, &token, &config).await.map_err(ConnectFailure::from)
        };
        let tx = self.open_tx.clone();
        self.open_task = Some(spawn_call("apps.connections.open", call, self.call_timeout, tx));
        self.calls += 1;
    }

    /// Runs the loop until the machine stops. (Not an `async fn`, which would hold the loop's
    /// state twice for the session's life: see [`drive`].)
    pub(super) fn run(
        self,
        cmd_rx: super::plain::CmdRx,
        inbound: Inbound,
    ) -> impl std::future::Future<Output = ()> + Send {
        // One span per session: its id now, its app once a socket said `hello`.
        let span = tracing::info_span!(
            "socket_mode_session",
            session = next_session_id(),
            app = tracing::field::Empty
        );
        drive(self, cmd_rx, inbound.sock_rx, inbound.open_rx).instrument(span)
    }
}

/// A long run of acks in order is written out this many at a time (so their buffers go back
/// to the machine, for the next envelopes' acks, as a run goes on).
const ACKS_PER_DRAIN: u64 = 32;

impl Loop {
    /// The application acked every envelope numbered `from..to`, in delivery order: the ones
    /// still waiting are acked (the others were forgotten meanwhile, or acked or released by
    /// id: an ack of them is `Unknown`, logged as a detached ack's failure is).
    async fn acked_to(&mut self, from: u64, to: u64, now: Instant) {
        let mut found = 0u64;
        loop {
            let in_order_sent = &mut self.in_order_sent;
            let acked =
                self.machine.ack_oldest_run_before(DeliverySeq::new(to), now, ACKS_PER_DRAIN, |result| {
                    match result {
                        Ok(conn) => match in_order_sent.last_mut() {
                            Some((c, n)) if *c == conn => *n += 1,
                            _ => in_order_sent.push((conn, 1)),
                        },
                        Err(error) => {
                            tracing::warn!(%error, "an ack was not sent (Slack delivers the envelope again)");
                        }
                    }
                });
            found += acked;
            if acked < ACKS_PER_DRAIN {
                break;
            }
            // Written as a command batch's outputs are, so the machine gets their buffers back
            // for the next acks instead of allocating.
            self.drain(false).await;
        }
        let unknown = to.saturating_sub(from).saturating_sub(found);
        if unknown > 0 {
            tracing::warn!(acks = unknown, error = %DeliveryAckError::Unknown, "acks were not sent (Slack delivers the envelopes again)");
        }
    }

    /// Sends the acks written to `conn`'s buffer.
    async fn flush_acks(&mut self, conn: Option<ConnId>) {
        let Some(conn) = conn else { return };
        if let Err(error) = self.conns.flush(conn).await {
            self.machine.handle(SocketModeInput::closed(conn, Reason::Io(error)), Instant::now());
        }
    }
}

/// Tells the handle that waits for an ack how it went; a detached ack's failure is logged.
/// The id is read as text only for the log (its inline bytes are checked as UTF-8 on each read).
fn answer_ack(envelope_id: &EnvelopeId, reply: Option<AckReply>, result: Result<(), DeliveryAckError>) {
    match reply {
        Some(reply) => {
            let _ = reply.send(result);
        }
        None => {
            if let Err(error) = result {
                tracing::warn!(%envelope_id, %error, "an ack was not sent (Slack delivers the envelope again)");
            }
        }
    }
}

impl Weighed for SocketModeStreamItem {
    fn weight(&self) -> usize {
        match self {
            SocketModeStreamItem::Envelope(d) => d.frame.as_str().len(),
            SocketModeStreamItem::Event(_) => 0,
        }
    }
}

impl Driven for Loop {
    type M = SocketModeSession;
    type Cmd = Command;
    type Call = OpenResult;
    type Item = SocketModeStreamItem;
    type Status = SocketModeStatus;

    fn machine(&mut self) -> &mut SocketModeSession {
        &mut self.machine
    }
    fn machine_ref(&self) -> &SocketModeSession {
        &self.machine
    }
    fn conns(&mut self) -> &mut Conns<SocketModeInput> {
        &mut self.conns
    }
    fn outbox(&mut self) -> &mut Outbox<SocketModeStreamItem> {
        &mut self.outs
    }
    fn publisher(&mut self) -> &mut Publisher<SocketModeStatus> {
        &mut self.status
    }

    fn awaiting_call(&self) -> bool {
        self.calls > 0
    }

    fn on_call(&mut self, result: OpenResult, now: Instant) {
        self.open_task = None;
        self.calls = self.calls.saturating_sub(1);
        self.machine.handle(SocketModeInput::OpenResult(result), now);
    }

    async fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Ack { envelope_id, payload, reply } => {
                match self.machine.ack(envelope_id.as_str(), payload, now) {
                    // The machine output the ack just now: it is written with the turn's other
                    // outputs (the loop drains them after every command batch), and answered then.
                    Ok(conn) => self.acks_sent.push((conn, envelope_id, reply)),
                    Err(error) => answer_ack(&envelope_id, reply, Err(error)),
                }
            }
            Command::Release { envelope_id } => {
                // Unknown: acked meanwhile, or forgotten; either way nothing to release.
                let _ = self.machine.release(envelope_id.as_str());
            }
            Command::AckedTo { from, to } => self.acked_to(from, to, now).await,
            Command::Shutdown { grace } => self.machine.shutdown(now, grace),
        }
    }

    async fn drain_outputs(&mut self) {
        self.drain(true).await;
    }

    async fn drain_within_turn(&mut self) {
        self.drain(false).await;
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

impl Loop {
    /// Carries out the machine's outputs. Acks are written to their socket's buffer and sent
    /// in one write per socket: at the turn's end (`turn_end`), or within a turn once a reader
    /// batch's worth (64) waits, so a turn of many small reader batches does not pay a write
    /// per batch.
    async fn drain(&mut self, turn_end: bool) {
        // Acks are written to their socket's buffer, then sent in one write per socket.
        while let Some(output) = self.machine.poll_output() {
            match output {
                SocketModeOutput::CallOpen => self.call_open(),
                SocketModeOutput::OpenSocket { conn, url } => self.conns.start(conn, url),
                // An ack whose socket is not open is lost: Slack redelivers, the machine dedupes.
                SocketModeOutput::Send { conn, text } => {
                    if let Some(other) = self.unflushed.before_write(conn) {
                        self.flush_acks(Some(other)).await;
                    }
                    // Written from the ack's own buffer (masked in place), then given back to
                    // the machine for a later ack: no allocation per ack.
                    let mut bytes = text.into_bytes();
                    let written =
                        self.conns.write_unflushed(conn, Frame::text(Payload::BorrowedMut(&mut bytes))).await;
                    self.machine.recycle_ack(bytes);
                    match written {
                        Ok(true) => self.unflushed.written(conn),
                        Ok(false) => {}
                        Err(error) => self
                            .machine
                            .handle(SocketModeInput::closed(conn, Reason::Io(error)), Instant::now()),
                    }
                }
                SocketModeOutput::Ping { conn } => {
                    let ping = Frame::new(true, OpCode::Ping, None, Payload::Borrowed(b"slack-rtm"));
                    drive::write(self, conn, ping).await;
                }
                SocketModeOutput::Close { conn, code } => self.conns.close(conn, code),
                SocketModeOutput::Deliver(d) => {
                    self.outs.push(SocketModeStreamItem::Envelope(d));
                    // Batches of at most 64: the channel's bound then holds in envelopes.
                    if self.outs.batch_is_full() {
                        self.outs.flush();
                        drive::tell_backpressure(self);
                    }
                }
                SocketModeOutput::Event(e) => {
                    if let (SocketModeEvent::Connected { .. }, Some(app)) = (&e, self.machine.app_id()) {
                        tracing::Span::current().record("app", tracing::field::display(app));
                    }
                    self.status.update(|s| s.note(&e));
                    if let SocketModeEvent::Disconnected { conn, .. } = &e {
                        self.conns.forget(*conn);
                    }
                    self.outs.push(SocketModeStreamItem::Event(e));
                }
            }
        }
        // Acks in order take the shared count again once the envelopes acked otherwise are
        // behind the oldest still waiting.
        self.in_order.catch_up(self.machine.first_waiting_seq());
        // Not due: left for the turn's end; the acks written are answered once sent.
        let Some(unflushed) = self.unflushed.due(turn_end) else { return };
        self.flush_acks(unflushed).await;
        // Written and flushed (or their socket is gone): the acks of this turn are answered.
        let mut sent = std::mem::take(&mut self.acks_sent);
        // A turn's acks are mostly on one socket: its state is looked up once per run of them
        // (nothing opens or closes a socket in this loop).
        let mut last: Option<(ConnId, bool)> = None;
        for (conn, envelope_id, reply) in sent.drain(..) {
            let open = match last {
                Some((c, open)) if c == conn => open,
                _ => {
                    let open = self.conns.is_open(conn);
                    last = Some((conn, open));
                    open
                }
            };
            let result = if open { Ok(()) } else { Err(DeliveryAckError::Unsent) };
            answer_ack(&envelope_id, reply, result);
        }
        self.acks_sent = sent;
        for (conn, acks) in self.in_order_sent.drain(..) {
            if !self.conns.is_open(conn) {
                tracing::warn!(%conn, acks, error = %DeliveryAckError::Unsent, "acks were not sent (Slack delivers the envelopes again)");
            }
        }
    }
}

impl super::super::drive::Published for SocketModeStatus {
    fn state_mut(&mut self) -> &mut crate::common::State {
        &mut self.state
    }
}
