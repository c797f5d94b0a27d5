//! The tokio driver of the [Socket Mode machine](crate::socket_mode): the same loop design as
//! RTM's (one task owning the machine, readers polled by it, writes done by it, batched
//! hand-offs, backpressure), the same socket code ([`Dialer`], TLS, handshake, reader) and the
//! same call path style ([`call_apps_connections_open`](super::call_apps_connections_open)).
//!
//! [`connect_socket_mode`] returns a cloneable [`SocketModeHandle`] (manual acks, shutdown,
//! the published [`SocketModeStatus`]) and a [`SocketModeStream`] of [`SocketModeStreamItem`]s.

mod plain;
mod run;
mod unflushed;

use super::config::DriverError;
use super::config::LoopConfig;
use crate::common::EnvelopeId;
use crate::rtm::{Reason, State};
use crate::socket_mode::{
    Delivered, DeliveryAckError, DeliverySeq, SocketModeConfig, SocketModeEvent, StopReason,
};
use slack_rtm_codec::types::RawJson;
use slack_rtm_codec::{AppToken, DynHttpTransport, OpenConfig};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// The Socket Mode driver's configuration.
#[non_exhaustive]
pub struct SocketModeDriverConfig {
    /// The machine's configuration.
    pub session: SocketModeConfig,
    /// Where `apps.connections.open` is called and which socket URLs are acceptable.
    pub open: OpenConfig,
    /// The app-level token (`xapp-…`), sent only in the `Authorization` header.
    pub token: AppToken,
    /// How `apps.connections.open` is sent.
    pub transport: Arc<dyn DynHttpTransport>,
    /// What both drivers share: TLS, dialer, capacity, size cap, deadlines.
    pub common: LoopConfig,
}

impl SocketModeDriverConfig {
    /// A config with the defaults (Slack's API, no TLS config, direct connections).
    pub fn new(session: SocketModeConfig, token: AppToken, transport: Arc<dyn DynHttpTransport>) -> Self {
        Self { session, open: OpenConfig::default(), token, transport, common: LoopConfig::default() }
    }
}

impl fmt::Debug for SocketModeDriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketModeDriverConfig")
            .field("session", &self.session)
            .field("open", &self.open)
            .field("token", &self.token)
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

/// What the loop publishes to every handle.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SocketModeStatus {
    /// The overall state.
    pub state: State,
    /// Sockets serving.
    pub sockets: usize,
    /// The last thing that went wrong, if any.
    pub last_problem: Option<Reason>,
    /// Why the session stopped, once it has.
    pub stopped: Option<StopReason>,
}

impl SocketModeStatus {
    fn new() -> Self {
        Self { state: State::Connecting, sockets: 0, last_problem: None, stopped: None }
    }

    /// Updates from an event; whether anything changed.
    fn note(&mut self, event: &SocketModeEvent) -> bool {
        match event {
            SocketModeEvent::Connected { sockets, .. } => self.sockets = *sockets,
            SocketModeEvent::Disconnected { reason, sockets, .. } => {
                self.sockets = *sockets;
                self.last_problem = Some(reason.clone());
            }
            SocketModeEvent::Reconnecting { reason, .. } => self.last_problem = Some(reason.clone()),
            SocketModeEvent::Stopped { reason } => {
                self.sockets = 0;
                self.stopped = Some(reason.clone());
            }
            _ => return false,
        }
        true
    }
}

/// What the application gets from the session.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SocketModeStreamItem {
    /// An envelope handed over (decode it on the application's task).
    Envelope(Delivered),
    /// Something the machine reports.
    Event(SocketModeEvent),
}

pub(crate) enum Command {
    /// `reply`: `None` for an ack nobody waits for (its failure is logged).
    Ack {
        envelope_id: EnvelopeId,
        payload: Option<RawJson>,
        reply: Option<oneshot::Sender<Result<(), DeliveryAckError>>>,
    },
    Release {
        envelope_id: EnvelopeId,
    },
    /// The application acked, in delivery order, every envelope numbered `from..to` (plain
    /// acks, nobody waiting: see [`plain`]).
    AckedTo {
        from: u64,
        to: u64,
    },
    Shutdown {
        grace: Duration,
    },
}

/// A cloneable handle to a Socket Mode session.
#[derive(Clone, Debug)]
pub struct SocketModeHandle {
    /// Shared by the clones: a clone (one per envelope handed over in manual ack mode, in the
    /// facade's `Delivery`) and its drop touch one count, not the four of a command sender and
    /// a status receiver.
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cmd: plain::CmdTx,
    status: watch::Receiver<SocketModeStatus>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Ack { envelope_id, .. } => write!(f, "Ack({envelope_id})"),
            Command::Release { envelope_id } => write!(f, "Release({envelope_id})"),
            Command::AckedTo { from, to } => write!(f, "AckedTo({from}..{to})"),
            Command::Shutdown { grace } => write!(f, "Shutdown({grace:?})"),
        }
    }
}

impl SocketModeHandle {
    /// Manual mode: acks `envelope_id` (with an optional response payload) on the socket it
    /// came from. Resolves once the ack is written, or with why it was not.
    pub async fn ack(
        &self,
        envelope_id: impl Into<EnvelopeId>,
        payload: Option<RawJson>,
    ) -> Result<(), DeliveryAckError> {
        let (reply, rx) = oneshot::channel();
        let cmd = Command::Ack { envelope_id: envelope_id.into(), payload, reply: Some(reply) };
        self.shared.cmd.send(cmd)?;
        rx.await.unwrap_or(Err(DeliveryAckError::Stopped))
    }

    /// Manual mode: queues the ack of `envelope_id` and returns at once, without waiting for
    /// it to be written (the loop writes it on its next turn, in order with the other acks; a
    /// failure — the socket gone, an unknown id — is logged, and Slack redelivers what was
    /// not acked). For a receiver that acks an envelope and goes on handling it: no round trip
    /// to the session's task per envelope. [`DeliveryAckError::Stopped`] if the session is gone.
    /// Without a payload it takes the session's queue of plain acks, not its command channel
    /// (still in order with the other commands).
    pub fn ack_detached(
        &self,
        envelope_id: impl Into<EnvelopeId>,
        payload: Option<RawJson>,
    ) -> Result<(), DeliveryAckError> {
        match payload {
            None => self.shared.cmd.ack(envelope_id.into()),
            payload => {
                self.shared.cmd.send(Command::Ack { envelope_id: envelope_id.into(), payload, reply: None })
            }
        }
    }

    /// [`SocketModeHandle::ack_detached`] without a payload, of the envelope handed over as
    /// `seq` ([`Delivered::seq`]): when the acks come in the order the envelopes were handed
    /// over, the loop is told by a shared count (one atomic operation), without the id; any
    /// other ack goes as [`SocketModeHandle::ack_detached`] does. Same guarantees: the ack is
    /// written on the loop's next turn (the first one after the loop last looked wakes it), in
    /// order with the other commands; a failure is logged; `Stopped` if the session is gone.
    pub fn ack_detached_in_order(&self, envelope_id: &str, seq: DeliverySeq) -> Result<(), DeliveryAckError> {
        self.shared.cmd.ack_in_order_with(seq, || EnvelopeId::new(envelope_id))
    }

    /// [`SocketModeHandle::ack_detached_in_order`] with the id given as a function, called
    /// only when the ack cannot go by the count alone (out of order, or a command in flight)
    /// and takes the queue by id: an ack in order reads no id. The same guarantees.
    // Always inlined (with the count's update): an app's pump acks every event through it, and
    // left to itself the compiler made it a call there.
    #[inline(always)]
    pub fn ack_detached_in_order_with(
        &self,
        seq: DeliverySeq,
        envelope_id: impl FnOnce() -> EnvelopeId,
    ) -> Result<(), DeliveryAckError> {
        self.shared.cmd.ack_in_order_with(seq, envelope_id)
    }

    /// Manual mode: gives `envelope_id` up without acking it, so that Slack's redelivery of
    /// its event is handed over again (see [`SocketModeSession::release`]). Fire and forget.
    ///
    /// [`SocketModeSession::release`]: crate::socket_mode::SocketModeSession::release
    pub fn release(&self, envelope_id: impl Into<EnvelopeId>) {
        let _ = self.shared.cmd.send(Command::Release { envelope_id: envelope_id.into() });
    }

    /// The overall state.
    pub fn state(&self) -> State {
        self.shared.status.borrow().state
    }

    /// The published status.
    pub fn status(&self) -> SocketModeStatus {
        self.shared.status.borrow().clone()
    }

    /// A watch of status changes ([`StatusWatch::changed`](super::StatusWatch::changed)).
    pub fn watch_status(&self) -> super::StatusWatch<SocketModeStatus> {
        super::StatusWatch::new(self.shared.status.clone())
    }

    /// Waits until the status matches `pred` (or the session is gone) and returns it.
    pub async fn wait_for_status(&self, pred: impl FnMut(&SocketModeStatus) -> bool) -> SocketModeStatus {
        super::handle::wait_for(&self.shared.status, pred).await
    }

    /// Shuts down gracefully (see
    /// [`SocketModeSession::shutdown`](crate::socket_mode::SocketModeSession::shutdown)) and
    /// waits until every socket is closed.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.shared.cmd.send(Command::Shutdown { grace });
        self.wait_for_status(|s| s.state == State::Stopped).await;
    }
}

/// The session's outputs, in order. Dropping it (and every handle) shuts the session down.
#[derive(Debug)]
pub struct SocketModeStream {
    batches: super::batches::Batches<SocketModeStreamItem>,
}

impl SocketModeStream {
    /// The next output; `None` once the session stopped and everything was read. Cancel-safe.
    pub async fn recv(&mut self) -> Option<SocketModeStreamItem> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next output.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketModeStreamItem>> {
        self.batches.poll_next(cx)
    }

    /// Bytes of the envelope frames the session handed over and this stream has not given out
    /// yet (counted per batch of up to 64: a batch's bytes until its last item is taken). The
    /// session stops reading its sockets while this is at
    /// [`LoopConfig::capacity_bytes`](super::LoopConfig::capacity_bytes).
    pub fn queued_bytes(&self) -> usize {
        self.batches.queued_bytes()
    }

    /// A handle reading [`SocketModeStream::queued_bytes`] without the stream (for whoever
    /// hands the stream to a task of its own).
    pub fn queued_bytes_gauge(&self) -> super::QueuedBytes {
        self.batches.queued_bytes_gauge()
    }
}

/// Starts a Socket Mode session: spawns its loop on the current tokio runtime. The first
/// output is [`SocketModeEvent::Connecting`].
pub fn connect_socket_mode(
    config: SocketModeDriverConfig,
) -> Result<(SocketModeHandle, SocketModeStream), DriverError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
    let (cmd_tx, cmd_rx) = plain::channel();
    let (status_tx, status_rx) = watch::channel(SocketModeStatus::new());
    let (lp, inbound, out_rx) = run::Loop::new(config, status_tx, cmd_rx.shared());
    runtime.spawn(lp.run(cmd_rx, inbound));
    let handle = SocketModeHandle { shared: Arc::new(Shared { cmd: cmd_tx, status: status_rx }) };
    Ok((handle, SocketModeStream { batches: out_rx }))
}
