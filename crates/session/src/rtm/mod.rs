//! The sans-IO session machine: every decision of an RTM session, with no IO, no runtime and no
//! clock of its own.
//!
//! The caller (the tokio [driver](crate#the-driver), or your own) owns the sockets, the HTTP
//! client and the timers. It feeds the [`Session`] what happened ([`RtmInput`]) with the current
//! time, drains what to do ([`RtmOutput`]) until [`Session::poll_output`] returns `None`, and sleeps
//! until [`Session::poll_timeout`], then calls [`Session::handle_timeout`]. Time is always passed
//! in, so tests run on a virtual clock.
//!
//! What the machine decides:
//!
//! - **Connect**: calls `rtm.connect` (one call in flight at most), opens the URL before it
//!   expires (a stale URL is replaced by a fresh one), waits for `hello` with a deadline.
//! - **Keepalive**: an application-level `ping` after [`KeepaliveConfig::idle_ping`] of silence;
//!   any frame counts as liveness; silence for [`KeepaliveConfig::pong_timeout`] after the ping
//!   declares the connection dead.
//! - **Reconnect** on `goodbye`, `team_migration_started`, an `error` event, a close, an IO
//!   error, a dead keepalive: exponential backoff with jitter above a floor (0.5 s) and a cap,
//!   reset only after [`ReconnectPolicy::healthy_after`], `Retry-After` honoured, fatal `rtm.connect` errors stop
//!   the session. After `goodbye` the new socket is opened before the old one is closed, and
//!   events seen on both are delivered once.
//! - **Sending**: per-connection positive unique ids, replies matched by `reply_to` in any
//!   order, a reply deadline, [`SendError::Unconfirmed`] when the socket died after the frame
//!   was written, unwritten requests replayed exactly once after the next `hello`, a token bucket
//!   slowed down by `-1` replies, one `typing` per 3 s per channel, a bounded queue.
//! - **Presence**: the last `presence_sub` set is sent again after every `hello`.
//! - **Shutdown** with a deadline: no new requests, flush or fail the queue, close with 1000,
//!   resolve everything, then [`SessionEvent::Stopped`].
//!
//! # The drive loop
//!
//! As it looks with real IO (here behind a made-up `io` object: see the `sans_io` example of
//! the `slack-rtm` crate for a complete blocking one):
//!
//! ```no_run
//! use slack_rtm_session::rtm::{RtmIncoming, RtmInput, RtmOutput, Session, SessionConfig, SessionEvent};
//! use std::time::Instant;
//! # use slack_rtm_session::rtm::ConnId;
//! # struct Io;
//! # impl Io {
//! #     fn rtm_connect(&mut self) -> RtmInput { unimplemented!() }
//! #     fn open(&mut self, conn: ConnId, url: &str) -> RtmInput { unimplemented!() }
//! #     fn write(&mut self, conn: ConnId, text: &str, id: u64) -> RtmInput { unimplemented!() }
//! #     fn close(&mut self, conn: ConnId, code: u16) {}
//! #     fn read_until(&mut self, deadline: Option<Instant>) -> Option<(ConnId, bool, Vec<u8>)> { None }
//! # }
//! # let mut io = Io;
//! let mut session = Session::new(SessionConfig::default(), Instant::now());
//! loop {
//!     // 1. Drain every output, after every call that took input (`new` included).
//!     while let Some(output) = session.poll_output() {
//!         let input = match output {
//!             RtmOutput::CallConnect => Some(io.rtm_connect()), // RtmInput::ConnectResult
//!             RtmOutput::OpenSocket { conn, url } => Some(io.open(conn, &url)), // SocketOpened or SocketClosed
//!             RtmOutput::Send { conn, text, id } => Some(io.write(conn, &text, id)), // Written or SocketClosed
//!             RtmOutput::Close { conn, code } => { io.close(conn, code); None }
//!             RtmOutput::RawEvent { frame } => { println!("{:?}", SessionEvent::from_raw(&frame)); None }
//!             RtmOutput::Event(e) if matches!(*e, SessionEvent::Stopped { .. }) => return,
//!             other => { println!("{other:?}"); None } // other events, request completions
//!         };
//!         if let Some(input) = input {
//!             session.handle(input, Instant::now());
//!         }
//!     }
//!     // 2. Wait for a socket message or the next deadline, whichever comes first.
//!     match io.read_until(session.poll_timeout()) {
//!         Some((conn, text, payload)) => {
//!             let frame = RtmIncoming::message(text, &payload);
//!             session.handle(RtmInput::Frame { conn, frame }, Instant::now());
//!         }
//!         None => session.handle_timeout(Instant::now()),
//!     }
//! }
//! ```
//!
//! The contract:
//!
//! - `now` never goes backwards from one call to the next (use a monotonic clock).
//! - Drain [`Session::poll_output`] until `None` after every call that takes input:
//!   [`Session::handle`], [`Session::handle_timeout`], and also [`Session::submit`] and
//!   [`Session::shutdown`], which can output at once.
//! - Answer each `CallConnect`, `OpenSocket` and `Send` with the input its documentation names;
//!   hand every socket read to [`RtmIncoming::message`], and every [`RtmOutput::RawEvent`] to
//!   [`SessionEvent::from_raw`] (where the event is consumed).
//! - Call [`Session::handle_timeout`] once [`Session::poll_timeout`] has passed; calling it
//!   early or more often is harmless.

mod bucket;
mod config;
mod conn;
pub(crate) mod dedupe;
pub(crate) mod incoming;
mod keepalive;
mod lazy;
mod lifecycle;
mod outbox;
mod shutdown;
pub(crate) mod timer;
mod types;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use config::{
    DedupeConfig, KeepaliveConfig, ReconnectPolicy, SendRate, SendingConfig, SessionConfig, Timeouts,
};
pub use incoming::RtmIncoming;
pub use lazy::{LazyEvent, LazySessionEvent};
pub use types::{
    ConnId, ConnectFailure, FailureKind, Reason, RequestId, RtmAck, RtmInput, RtmOutput, SendError,
    SessionEvent, SkippedFrame, State, StopReason, SubmitError, Warning,
};

use crate::common::Backoff;
use crate::common::TimerTable;
use bucket::Bucket;
use conn::{Conn, ConnectPhase, Queued, TypingSlot};
use dedupe::Dedupe;
use slack_rtm_codec::check_client_message;
use slack_rtm_codec::types::{ChannelId, ClientMessage, UserId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub(crate) use crate::common::{CLOSE_NORMAL, CLOSE_REPLACED, MAX_CONFIG_DURATION, MAX_RETRY_AFTER};

/// Clamps every duration of the configuration to [`MAX_CONFIG_DURATION`].
fn sanitize(mut c: SessionConfig) -> SessionConfig {
    let clamp = |d: &mut Duration| *d = (*d).min(MAX_CONFIG_DURATION);
    clamp(&mut c.keepalive.idle_ping);
    clamp(&mut c.keepalive.pong_timeout);
    clamp(&mut c.timeouts.open);
    clamp(&mut c.timeouts.hello);
    clamp(&mut c.reconnect.initial);
    clamp(&mut c.reconnect.max);
    clamp(&mut c.reconnect.healthy_after);
    clamp(&mut c.reconnect.min_delay);
    clamp(&mut c.send_rate.interval);
    clamp(&mut c.send_rate.recovery);
    clamp(&mut c.send_rate.typing_interval);
    clamp(&mut c.sending.ack_timeout);
    clamp(&mut c.sending.queue_timeout);
    clamp(&mut c.dedupe.window);
    clamp(&mut c.dedupe.drain);
    c.send_rate.burst = c.send_rate.burst.clamp(1, 1_000_000);
    c
}

/// The sans-IO RTM session. See the [module documentation](self) for the drive loop.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    start: Instant,
    outputs: VecDeque<RtmOutput>,
    backoff: Backoff,
    bucket: Bucket,
    dedupe: Dedupe,
    connect: ConnectPhase,
    next_conn: u64,
    next_request: u64,
    primary: Option<Conn>,
    /// The connection being replaced after `goodbye` (make-before-break).
    old: Option<Conn>,
    ever_connected: bool,
    down_since: Option<Instant>,
    /// Rate-limited requests, oldest first.
    queue: VecDeque<Queued>,
    /// `presence_sub` requests: not rate-limited.
    control: VecDeque<Queued>,
    /// Application requests not yet completed.
    outstanding: usize,
    typing: HashMap<ChannelId, TypingSlot>,
    presence: Option<Vec<UserId>>,
    /// Reply deadlines in the order they were set: (deadline, conn, wire id). Stale entries
    /// are skipped lazily.
    ack_deadlines: VecDeque<(Instant, ConnId, u64)>,
    paused_since: Option<Instant>,
    shutdown_deadline: Option<Instant>,
    stopped: bool,
    reconnect_url: Option<String>,
}

impl Session {
    /// A new session at `now`. Its first outputs are [`SessionEvent::Connecting`] and
    /// [`RtmOutput::CallConnect`].
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let config = sanitize(config);
        let backoff = Backoff::new(config.reconnect);
        let bucket = Bucket::new(&config.send_rate, now);
        let dedupe = Dedupe::new(config.dedupe.window, config.dedupe.capacity);
        let mut s = Self {
            config,
            start: now,
            outputs: VecDeque::new(),
            backoff,
            bucket,
            dedupe,
            connect: ConnectPhase::Idle,
            next_conn: 1,
            next_request: 1,
            primary: None,
            old: None,
            ever_connected: false,
            down_since: None,
            queue: VecDeque::new(),
            control: VecDeque::new(),
            outstanding: 0,
            typing: HashMap::new(),
            presence: None,
            ack_deadlines: VecDeque::new(),
            paused_since: None,
            shutdown_deadline: None,
            stopped: false,
            reconnect_url: None,
        };
        s.emit(SessionEvent::Connecting);
        s.call_connect();
        s
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The overall state.
    pub fn state(&self) -> State {
        if self.stopped {
            State::Stopped
        } else if self.shutdown_deadline.is_some() {
            State::ShuttingDown
        } else if self.serving() {
            State::Connected
        } else if self.ever_connected {
            State::Reconnecting
        } else {
            State::Connecting
        }
    }

    /// The newest connection (the one being opened or in use), if any.
    pub fn current_conn(&self) -> Option<ConnId> {
        self.primary.as_ref().map(|c| c.id)
    }

    /// Application requests accepted and not yet completed (never more than
    /// [`SendingConfig::queue_capacity`]).
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// Requests waiting to be written.
    pub fn queued(&self) -> usize {
        self.queue.len() + self.control.len()
    }

    /// The last `reconnect_url` the server sent. Recorded for diagnostics and never used: Slack
    /// documents it as unsupported, and a fresh URL always comes from `rtm.connect`.
    pub fn last_reconnect_url(&self) -> Option<&str> {
        self.reconnect_url.as_deref()
    }

    /// The current time per token of the send bucket (grows after `-1` replies).
    pub fn send_interval(&self) -> Duration {
        self.bucket.interval()
    }

    /// The next output, if any. Drain until `None` after every input.
    pub fn poll_output(&mut self) -> Option<RtmOutput> {
        self.outputs.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next, if ever: the earliest armed
    /// deadline (see the timer table, `rtm/timer.rs`).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline()
    }

    /// Feeds one input that happened at `now`.
    pub fn handle(&mut self, input: RtmInput, now: Instant) {
        if self.stopped {
            return;
        }
        match input {
            RtmInput::ConnectResult(result) => self.on_connect_result(*result, now),
            RtmInput::SocketOpened { conn } => self.on_opened(conn, now),
            RtmInput::Frame { conn, frame } => self.on_frame(conn, frame, now),
            RtmInput::Written { conn, id } => self.on_written(conn, id),
            RtmInput::SocketClosed { conn, reason } => self.drop_conn(conn, *reason, None, now),
            RtmInput::Backpressure(on) => self.on_backpressure(on, now),
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

    /// Submits a request. It is validated first (Slack's limits: 4000 characters, 16 KB frame,
    /// 500 `presence_query` ids), then queued; its outcome comes later as
    /// [`RtmOutput::Completed`] with the returned id (a throttled `typing` completes at once with
    /// [`RtmAck::Throttled`]).
    pub fn submit(&mut self, msg: ClientMessage, now: Instant) -> Result<RequestId, SubmitError> {
        if self.stopped || self.shutdown_deadline.is_some() {
            return Err(SubmitError::Stopped);
        }
        // Slack's limits, the frame's size with the longest possible id included.
        check_client_message(&msg).map_err(SubmitError::Invalid)?;
        if self.outstanding >= self.config.sending.queue_capacity {
            return Err(SubmitError::QueueFull);
        }
        let request = RequestId(self.next_request);
        self.next_request += 1;
        if let ClientMessage::Typing { channel } = &msg
            && !self.typing_allowed(channel, now)
        {
            self.outputs.push_back(RtmOutput::Completed { request, result: Ok(RtmAck::Throttled) });
            return Ok(request);
        }
        let item = Queued { request, msg, deadline: now + self.config.sending.queue_timeout, retries: 0 };
        self.outstanding += 1;
        if let ClientMessage::PresenceSub { ids } = &item.msg {
            self.presence = Some(ids.clone());
            self.control.push_back(item);
        } else {
            self.queue.push_back(item);
        }
        self.after(now);
        Ok(request)
    }

    /// Starts a graceful shutdown: no new requests; queued ones are still written if a
    /// connection is up, until `grace` has passed; then every remaining request is failed, the
    /// sockets are closed with code 1000, and [`SessionEvent::Stopped`] is emitted.
    ///
    /// Calling it again while shutting down can only bring the deadline closer (e.g. a second
    /// Ctrl-C with a zero grace stops at once); it never extends it.
    pub fn shutdown(&mut self, now: Instant, grace: Duration) {
        self.begin_shutdown(now, grace);
    }

    // ----- internals -----

    pub(super) fn emit(&mut self, event: SessionEvent) {
        self.outputs.push_back(RtmOutput::Event(Box::new(event)));
    }

    pub(super) fn serving(&self) -> bool {
        self.primary.as_ref().is_some_and(Conn::is_ready) || self.old.is_some()
    }
}

impl crate::common::Machine for Session {
    type Input = RtmInput;
    type Output = RtmOutput;

    fn handle(&mut self, input: RtmInput, now: Instant) {
        Session::handle(self, input, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now);
    }
    fn poll_output(&mut self) -> Option<RtmOutput> {
        Session::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
    fn state(&self) -> State {
        Session::state(self)
    }
    fn shutdown(&mut self, now: Instant, grace: Duration) {
        Session::shutdown(self, now, grace);
    }
}
