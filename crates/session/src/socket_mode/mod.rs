//! The sans-IO Socket Mode machine: every decision of a Socket Mode session, with no IO, no
//! runtime and no clock of its own. A sibling of the RTM [`machine`](crate::rtm) over what
//! both use ([`common`](crate::common)): the backoff (jitter above a floor, `Retry-After`), the
//! classification of a failed opening call ([`ConnectFailure`](crate::common::ConnectFailure):
//! the fatal set), reasons and states, keepalive and deadline settings and the bounded dedupe
//! window; only what Socket Mode does differently lives here.
//!
//! What the machine decides:
//!
//! - **Several sockets**: keeps [`SocketModeConfig::connections`] open (default 2, at most 10),
//!   each from its own `apps.connections.open` call (one call in flight at a time), opened
//!   [`SocketModeConfig::stagger`] apart so they do not recycle together.
//! - **Make-before-break** on `disconnect` `warning` and `refresh_requested`: the replacement
//!   is opened at once; the old socket keeps serving until the new one said `hello`, then is
//!   closed after [`SocketModeConfig::drain`]. `too_many_websockets` is a capacity answer:
//!   the target count is lowered to the sockets Slack accepted (at least one) for
//!   [`SocketModeConfig::too_many_cooldown`], and the next call waits at least 5 s (jittered,
//!   and never less than the backoff); `link_disabled` and fatal
//!   `apps.connections.open` errors stop the session ([`StopReason`]).
//! - **Liveness**: a WebSocket ping ([`SocketModeOutput::Ping`]) after
//!   [`KeepaliveConfig::idle_ping`](crate::common::KeepaliveConfig::idle_ping) of silence;
//!   no frame within the pong deadline replaces the socket, and so does one that never says
//!   `hello`.
//! - **Acks** ([`AckMode`]): in auto mode the ack ([`SocketModeOutput::Send`]) is output before the
//!   envelope is handed over ([`SocketModeOutput::Deliver`]), from the id the light scan found, before
//!   any payload decode. In manual mode [`SocketModeSession::ack`] acks (with or without a
//!   response payload) on the socket the envelope came from; the 3 s deadline is tracked on
//!   the timer table: [`SocketModeEvent::AckDue`] before it, [`SocketModeEvent::AckMissed`] at it, [`SocketModeEvent::AckLate`]
//!   for an ack after it, [`DeliveryAckError::Unsent`] when its socket is gone.
//! - **Exactly once within a process**: an `events_api` envelope whose `event_id` was already
//!   handed over (any socket, any `retry_attempt`) is acked and reported as
//!   [`SocketModeEvent::Duplicate`], not handed over again. In manual mode an event counts as handed
//!   over once the application acked it; a redelivery of an event whose delivery the
//!   application still holds is held ([`SocketModeEvent::RedeliveryHeld`]: neither acked nor handed
//!   over), and one that arrives after the application released its delivery without an ack
//!   ([`SocketModeSession::release`]: its handler failed, its store was down) is handed over
//!   again. The window is
//!   [`SocketModeConfig::dedupe_window`] (≥ 6 min, Slack's retry schedule) and at most
//!   [`SocketModeConfig::dedupe_capacity`] ids (oldest forgotten first). A redelivery of an
//!   event never handed over is handed over, whatever its `retry_attempt`.
//! - **Shutdown** with a deadline: stop taking envelopes, wait (manual mode) for the acks of
//!   what was handed over, close every socket with 1000, then [`SocketModeEvent::Stopped`].
//!
//! The drive loop and its contract are those of the RTM machine (see [`crate::rtm`]):
//! drain [`SocketModeSession::poll_output`] after every call that takes input, answer
//! `CallOpen` / `OpenSocket` with the inputs their documentation names, feed every socket read
//! through [`SocketModeIncoming::message`], sleep until [`SocketModeSession::poll_timeout`].

mod acks;
mod config;
mod keys;
mod pending;
mod sockets;
mod timer;
mod types;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod prop;
#[cfg(test)]
mod tests;

pub use crate::common::EnvelopeId;
pub use config::{AckMode, MAX_CONNECTIONS, SocketModeConfig};
pub use types::{
    Delivered, DeliveryAckError, DeliverySeq, SocketModeEvent, SocketModeIncoming, SocketModeInput,
    SocketModeOutput, State, StopReason,
};

use crate::common::Backoff;
use crate::common::ConnId;
use crate::common::SeenWindow;
use crate::common::TimerTable;
use pending::Pending;
use sockets::Sock;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The sans-IO Socket Mode session. See the [module documentation](self).
#[derive(Debug)]
pub struct SocketModeSession {
    config: SocketModeConfig,
    outputs: VecDeque<SocketModeOutput>,
    backoff: Backoff,
    seen: SeenWindow,
    socks: Vec<Sock>,
    next_conn: u64,
    /// An `apps.connections.open` call is in flight.
    calling: bool,
    /// The next call may not start before this (stagger or backoff).
    next_open: Option<Instant>,
    /// `too_many_websockets`: at most this many sockets until then.
    cap: Option<(usize, Instant)>,
    ever_connected: bool,
    /// No socket serving since then (after one had served).
    down_since: Option<Instant>,
    pending: Pending,
    paused_since: Option<Instant>,
    shutdown_deadline: Option<Instant>,
    stopped: bool,
    /// The app, as the last `hello` named it.
    app_id: Option<String>,
    /// For acks in delivery order at one instant: that instant, and the deadline an envelope
    /// handed over before is late by then (`None`: none can be).
    late_before: Option<(Instant, Option<Instant>)>,
    /// Buffers of acks written out, given back by the loop, for the next acks' texts.
    ack_texts: Vec<String>,
}

impl SocketModeSession {
    /// A new session at `now`. Its first outputs are [`SocketModeEvent::Connecting`] and
    /// [`SocketModeOutput::CallOpen`].
    pub fn new(config: SocketModeConfig, now: Instant) -> Self {
        let config = config.sanitized();
        let mut s = Self {
            backoff: Backoff::new(config.reconnect),
            seen: SeenWindow::new(config.dedupe_window, config.dedupe_capacity),
            pending: Pending::default(),
            config,
            outputs: VecDeque::new(),
            socks: Vec::new(),
            next_conn: 1,
            calling: false,
            next_open: None,
            cap: None,
            ever_connected: false,
            down_since: None,
            paused_since: None,
            shutdown_deadline: None,
            stopped: false,
            app_id: None,
            late_before: None,
            ack_texts: Vec::new(),
        };
        s.emit(SocketModeEvent::Connecting);
        s.top_up(now);
        s
    }

    /// The configuration (sanitized).
    pub fn config(&self) -> &SocketModeConfig {
        &self.config
    }

    /// The overall state.
    pub fn state(&self) -> State {
        if self.stopped {
            State::Stopped
        } else if self.shutdown_deadline.is_some() {
            State::ShuttingDown
        } else if self.serving() > 0 {
            State::Connected
        } else if self.ever_connected {
            State::Reconnecting
        } else {
            State::Connecting
        }
    }

    /// Sockets that said `hello` and are still open (a socket being replaced included).
    pub fn serving(&self) -> usize {
        self.socks.iter().filter(|s| s.is_ready()).count()
    }

    /// The socket count the session aims for now (lowered for a while after
    /// `too_many_websockets`).
    pub fn target(&self) -> usize {
        match self.cap {
            Some((cap, _)) => cap.min(self.config.connections),
            None => self.config.connections,
        }
    }

    /// The app's id, as the last `hello` named it (`connection_info.app_id`), if one did.
    pub fn app_id(&self) -> Option<&str> {
        self.app_id.as_deref()
    }

    /// Envelopes handed over in manual mode and not acked yet.
    pub fn pending_acks(&self) -> usize {
        self.pending.len()
    }

    /// The [`DeliverySeq`] of the oldest envelope still waiting for its ack (of the next one
    /// handed over if none is): every envelope numbered below it is acked, released or forgotten.
    pub(crate) fn first_waiting_seq(&self) -> u64 {
        self.pending.first_waiting()
    }

    /// `event_id`s currently remembered for deduplication.
    pub fn remembered_events(&self) -> usize {
        self.seen.len()
    }

    /// The next output, if any. Drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<SocketModeOutput> {
        self.outputs.pop_front()
    }

    /// When [`SocketModeSession::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline()
    }

    /// Feeds one input that happened at `now`.
    pub fn handle(&mut self, input: SocketModeInput, now: Instant) {
        if self.stopped {
            return;
        }
        match input {
            SocketModeInput::OpenResult(result) => self.on_open_result(result, now),
            SocketModeInput::SocketOpened { conn } => self.on_opened(conn, now),
            SocketModeInput::Frame { conn, frame } => self.on_frame(conn, frame, now),
            SocketModeInput::SocketClosed { conn, reason } => self.drop_sock(conn, reason, None, now),
            SocketModeInput::Backpressure(on) => self.on_backpressure(on, now),
        }
        self.after(now);
    }

    /// Acts on every deadline that has passed at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.fire_due(now);
        self.after(now);
    }

    /// Starts a graceful shutdown: envelopes are no longer taken; in manual mode the acks of
    /// what was handed over are still sent until `grace` has passed; then every socket is
    /// closed with 1000 and [`SocketModeEvent::Stopped`] is emitted. A second call can only bring the
    /// deadline closer.
    pub fn shutdown(&mut self, now: Instant, grace: Duration) {
        if self.stopped {
            return;
        }
        let deadline = now + grace.min(Duration::from_secs(3600));
        self.shutdown_deadline = Some(self.shutdown_deadline.map_or(deadline, |d| d.min(deadline)));
        self.calling = false;
        self.after(now);
    }

    // ----- internals -----

    fn emit(&mut self, event: SocketModeEvent) {
        self.outputs.push_back(SocketModeOutput::Event(event));
    }

    fn new_conn(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }

    /// After every input: finish a shutdown that has nothing left to wait for, keep the
    /// socket count up.
    fn after(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        if self.shutdown_deadline.is_some() {
            if self.pending.is_empty() || self.serving() == 0 {
                self.finish(StopReason::Shutdown, now);
            }
            return;
        }
        self.top_up(now);
    }

    /// Closes every socket and stops.
    fn finish(&mut self, reason: StopReason, now: Instant) {
        for s in std::mem::take(&mut self.socks) {
            self.outputs.push_back(SocketModeOutput::Close { conn: s.id, code: sockets::CLOSE_NORMAL });
        }
        self.pending.clear();
        self.stopped = true;
        let _ = now;
        self.emit(SocketModeEvent::Stopped { reason });
    }
}

impl crate::common::Machine for SocketModeSession {
    type Input = SocketModeInput;
    type Output = SocketModeOutput;

    fn handle(&mut self, input: SocketModeInput, now: Instant) {
        SocketModeSession::handle(self, input, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        SocketModeSession::handle_timeout(self, now);
    }
    fn poll_output(&mut self) -> Option<SocketModeOutput> {
        SocketModeSession::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        SocketModeSession::poll_timeout(self)
    }
    fn state(&self) -> State {
        SocketModeSession::state(self)
    }
    fn shutdown(&mut self, now: Instant, grace: Duration) {
        SocketModeSession::shutdown(self, now, grace);
    }
}
