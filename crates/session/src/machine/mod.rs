//! The sans-IO session machine: every decision of an RTM session, with no IO, no runtime and no
//! clock of its own.
//!
//! The caller (the tokio [driver](crate#the-driver), or your own) owns the sockets, the HTTP
//! client and the timers. It feeds the [`Session`] what happened ([`Input`]) with the current
//! time, drains what to do ([`Output`]) until [`Session::poll_output`] returns `None`, and sleeps
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
//!   error, a dead keepalive: exponential backoff with full jitter and a cap, reset only after
//!   [`ReconnectPolicy::healthy_after`], `Retry-After` honoured, fatal `rtm.connect` errors stop
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
//! ```
//! use slack_rtm_codec::{ConnectConfig, ConnectResponse, Connected};
//! use slack_rtm_codec::types::{ClientMessage, SelfInfo, TeamInfo};
//! use slack_rtm_session::machine::{Input, Output, Session, SessionConfig, SessionEvent};
//! use std::collections::VecDeque;
//! use std::time::{Duration, Instant};
//!
//! // A fake HTTP transport: rtm.connect always answers with this.
//! fn fake_rtm_connect(now: Instant) -> ConnectResponse {
//!     ConnectResponse {
//!         connected: Connected {
//!             self_: SelfInfo { id: "U1".into(), name: "bot".into() },
//!             team: TeamInfo {
//!                 id: "T1".into(), name: "Team".into(), domain: "team".into(),
//!                 enterprise_id: None, enterprise_name: None,
//!             },
//!             url: "wss://example.invalid/ws".into(),
//!         },
//!         warnings: vec![], messages: vec![], req_id: None, obtained_at: now,
//!     }
//! }
//!
//! // A fake socket: the server says hello, then acks every message it gets.
//! let mut from_server: VecDeque<String> = VecDeque::new();
//! let mut clock = Instant::now(); // a virtual clock: only ever advanced by hand
//! let mut session = Session::new(SessionConfig::default(), clock);
//! let request = session.submit(ClientMessage::message("C1", "hello"), clock).unwrap();
//! let mut inputs: VecDeque<Input> = VecDeque::new();
//! let mut acked = false;
//!
//! for _round in 0..100 {
//!     // 1. Drain every output and act on it.
//!     while let Some(output) = session.poll_output() {
//!         match output {
//!             Output::CallConnect => inputs.push_back(Input::ConnectResult(Ok(fake_rtm_connect(clock)))),
//!             Output::OpenSocket { conn, url } => {
//!                 assert!(url.starts_with("wss://"));
//!                 inputs.push_back(Input::SocketOpened { conn });
//!                 from_server.push_back(r#"{"type":"hello"}"#.into());
//!             }
//!             Output::Send { conn, text, id } => {
//!                 inputs.push_back(Input::Written { conn, id }); // written and flushed
//!                 if text.contains(r#""type":"message""#) {
//!                     from_server.push_back(format!(r#"{{"ok":true,"reply_to":{id},"ts":"1.000001","text":"hello"}}"#));
//!                 }
//!             }
//!             Output::Close { .. } => {}
//!             Output::Event(SessionEvent::Connected { team, .. }) => assert_eq!(team.id, "T1"),
//!             Output::Event(_) => {}
//!             Output::Completed { request: r, result } => {
//!                 assert_eq!(r, request);
//!                 assert!(result.is_ok());
//!                 acked = true;
//!             }
//!             _ => {}
//!         }
//!     }
//!     if acked {
//!         break;
//!     }
//!     // 2. Feed what happened: IO results first, then socket frames.
//!     if let Some(input) = inputs.pop_front() {
//!         session.handle(input, clock);
//!     } else if let Some(text) = from_server.pop_front() {
//!         session.handle(Input::Text { conn: session.current_conn().unwrap(), text }, clock);
//!     } else if let Some(deadline) = session.poll_timeout() {
//!         // 3. Nothing to do: "sleep" until the next deadline.
//!         clock = clock.max(deadline);
//!         session.handle_timeout(clock);
//!     }
//! }
//! assert!(acked);
//! ```

mod backoff;
mod bucket;
mod config;
mod dedupe;
mod types;

#[cfg(test)]
mod tests;

pub use config::{
    DedupeConfig, KeepaliveConfig, ReconnectPolicy, SendRate, SendingConfig, SessionConfig, Timeouts,
};
pub use types::{
    Ack, ConnId, ConnectFailure, FailureKind, Fatal, Input, Output, Reason, RequestId, SendError,
    SessionEvent, SkippedFrame, State, SubmitError, Warning,
};

use backoff::Backoff;
use bucket::Bucket;
use dedupe::Dedupe;
use slack_rtm_codec::types::client::Ping;
use slack_rtm_codec::types::event::{Pong, Reply};
use slack_rtm_codec::types::{ChannelId, ClientMessage, Event, SelfInfo, TeamInfo, UserId};
use slack_rtm_codec::{
    ConnectResponse, DecodeError, EventFrame, decode_event, decode_event_frame, encode_client_message,
    is_session_event_type,
};
use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU64;
use std::time::{Duration, Instant};

/// Close code used when the machine replaces a connection that stopped answering.
const CLOSE_REPLACED: u16 = 4000;
/// Normal closure.
const CLOSE_NORMAL: u16 = 1000;

/// Longest `Retry-After` honoured (a garbled or hostile value must not park the session for
/// centuries, nor overflow an `Instant`).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Longest duration taken from the configuration, so deadline arithmetic cannot overflow.
const MAX_CONFIG_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

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

/// A deadline that passed, found while only borrowing the session.
enum Due {
    Nothing,
    Drop(ConnId, Reason),
    Ping,
}

/// Where the `rtm.connect` part of the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnectPhase {
    /// Nothing in progress.
    Idle,
    /// Backing off until then.
    Waiting(Instant),
    /// `rtm.connect` is in flight.
    Calling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnPhase {
    /// The socket is being opened; give up at the deadline.
    Opening(Instant),
    /// Open; `hello` must arrive before the deadline.
    AwaitingHello(Instant),
    /// `hello` received at this instant.
    Ready(Instant),
}

#[derive(Debug)]
enum FlightKind {
    /// An application request.
    App { request: RequestId, msg: ClientMessage, retries: u32, queue_deadline: Instant },
    /// The keepalive ping.
    Ping,
    /// The automatic `presence_sub` after `hello`.
    Presence,
}

#[derive(Debug)]
struct InFlight {
    kind: FlightKind,
    written: bool,
    deadline: Instant,
}

#[derive(Debug)]
struct Conn {
    id: ConnId,
    phase: ConnPhase,
    self_: SelfInfo,
    team: TeamInfo,
    next_wire_id: u64,
    last_rx: Instant,
    /// The outstanding keepalive ping: wire id and deadline.
    ping: Option<(u64, Instant)>,
    in_flight: HashMap<u64, InFlight>,
    /// For a replaced connection after the new one's `hello`: close at this instant at the
    /// latest.
    drain_until: Option<Instant>,
}

impl Conn {
    fn is_ready(&self) -> bool {
        matches!(self.phase, ConnPhase::Ready(_))
    }

    fn app_in_flight(&self) -> usize {
        self.in_flight.values().filter(|f| matches!(f.kind, FlightKind::App { .. })).count()
    }

    fn take_wire_id(&mut self) -> NonZeroU64 {
        let id = NonZeroU64::new(self.next_wire_id).unwrap_or(NonZeroU64::MIN);
        self.next_wire_id = self.next_wire_id.saturating_add(1).max(1);
        id
    }
}

#[derive(Debug)]
struct Queued {
    request: RequestId,
    msg: ClientMessage,
    deadline: Instant,
    retries: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct TypingSlot {
    queued: bool,
    last_sent: Option<Instant>,
}

/// The sans-IO RTM session. See the [module documentation](self) for the drive loop.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    start: Instant,
    outputs: VecDeque<Output>,
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
    /// [`Output::CallConnect`].
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
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Session::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.stopped {
            return None;
        }
        let paused = self.paused_since.is_some();
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        if let ConnectPhase::Waiting(t) = self.connect {
            consider(t);
        }
        if let Some(c) = &self.primary {
            match c.phase {
                ConnPhase::Opening(t) => consider(t),
                ConnPhase::AwaitingHello(t) if !paused => consider(t),
                ConnPhase::Ready(_) if !paused => consider(self.keepalive_deadline(c)),
                _ => {}
            }
            if c.is_ready() && !self.queue.is_empty() {
                consider(self.bucket.ready_at());
            }
        }
        if let Some(t) = self.old.as_ref().and_then(|o| o.drain_until) {
            consider(t);
        }
        if !paused && let Some(&(t, _, _)) = self.ack_deadlines.front() {
            consider(t);
        }
        if let Some(q) = self.queue.front() {
            consider(q.deadline);
        }
        if let Some(q) = self.control.front() {
            consider(q.deadline);
        }
        if let Some(t) = self.shutdown_deadline {
            consider(t);
        }
        next
    }

    fn keepalive_deadline(&self, c: &Conn) -> Instant {
        match c.ping {
            Some((_, deadline)) => deadline,
            None => c.last_rx + self.config.keepalive.idle_ping,
        }
    }

    /// Feeds one input that happened at `now`.
    pub fn handle(&mut self, input: Input, now: Instant) {
        if self.stopped {
            return;
        }
        match input {
            Input::ConnectResult(result) => self.on_connect_result(result, now),
            Input::SocketOpened { conn } => self.on_opened(conn, now),
            Input::Text { conn, text } => self.handle_text(conn, &text, now),
            Input::Event { conn, event } => self.on_event(conn, event, now),
            Input::RawEvent { conn, frame } => self.on_raw_event(conn, frame, now),
            Input::Undecodable { conn, error } => self.on_decoded(conn, Err(error), now),
            Input::Skipped { conn, frame } => {
                if self.touch(conn, now) {
                    let w = match frame {
                        SkippedFrame::Binary { len } => Warning::BinaryFrame { len },
                        SkippedFrame::InvalidUtf8 { len } => Warning::InvalidUtf8 { len },
                    };
                    self.emit(SessionEvent::Warning(w));
                }
            }
            Input::Activity { conn } => {
                self.touch(conn, now);
            }
            Input::Written { conn, id } => self.on_written(conn, id),
            Input::SocketClosed { conn, reason } => self.drop_conn(conn, reason, None, now),
            Input::Backpressure(on) => self.on_backpressure(on, now),
        }
        self.after(now);
    }

    /// Feeds one text frame (decoded here). Same as [`Input::Text`] without the allocation.
    pub fn handle_text(&mut self, conn: ConnId, text: &str, now: Instant) {
        if self.stopped {
            return;
        }
        self.on_decoded(conn, decode_event(text), now);
        self.after(now);
    }

    /// A frame's decode: the event, or a warning that it did not decode (still liveness).
    fn on_decoded(&mut self, id: ConnId, decoded: Result<Event, DecodeError>, now: Instant) {
        match decoded {
            Ok(event) => self.on_event(id, event, now),
            Err(error) => {
                if self.touch(id, now) {
                    self.emit(SessionEvent::Warning(Warning::Undecodable(error)));
                }
            }
        }
    }

    /// Acts on every deadline that has passed at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        let paused = self.paused_since.is_some();
        if let ConnectPhase::Waiting(t) = self.connect
            && t <= now
        {
            self.connect = ConnectPhase::Idle;
            self.call_connect();
        }
        let due = match &self.primary {
            Some(c) => match c.phase {
                ConnPhase::Opening(t) if t <= now => Due::Drop(c.id, Reason::OpenTimeout),
                ConnPhase::AwaitingHello(t) if t <= now && !paused => Due::Drop(c.id, Reason::HelloTimeout),
                ConnPhase::Ready(_) if !paused && self.keepalive_deadline(c) <= now => {
                    if c.ping.is_some() {
                        tracing::debug!(conn = %c.id, "no frame since the keepalive ping: connection dead");
                        Due::Drop(c.id, Reason::KeepaliveTimeout)
                    } else {
                        Due::Ping
                    }
                }
                _ => Due::Nothing,
            },
            None => Due::Nothing,
        };
        match due {
            Due::Drop(id, reason) => self.drop_conn(id, reason, Some(CLOSE_REPLACED), now),
            Due::Ping => self.send_ping(now),
            Due::Nothing => {}
        }
        if let Some(id) = self.old.as_ref().filter(|o| o.drain_until.is_some_and(|t| t <= now)).map(|o| o.id)
        {
            self.drop_conn(id, Reason::Goodbye, Some(CLOSE_NORMAL), now);
        }
        if !paused {
            self.expire_acks(now);
        }
        self.expire_queue(now);
        if self.shutdown_deadline.is_some_and(|t| t <= now) {
            self.finish(None, now);
        }
        self.after(now);
    }

    /// Submits a request. It is validated first (Slack's limits: 4000 characters, 16 KB frame,
    /// 500 `presence_query` ids), then queued; its outcome comes later as
    /// [`Output::Completed`] with the returned id (a throttled `typing` completes at once with
    /// [`Ack::Throttled`]).
    pub fn submit(&mut self, msg: ClientMessage, now: Instant) -> Result<RequestId, SubmitError> {
        if self.stopped || self.shutdown_deadline.is_some() {
            return Err(SubmitError::Stopped);
        }
        // Validate with the longest possible id, so the real frame can only be smaller.
        encode_client_message(NonZeroU64::MAX, &msg).map_err(SubmitError::Invalid)?;
        if self.outstanding >= self.config.sending.queue_capacity {
            return Err(SubmitError::QueueFull);
        }
        let request = RequestId(self.next_request);
        self.next_request += 1;
        if let ClientMessage::Typing { channel } = &msg
            && !self.typing_allowed(channel, now)
        {
            self.outputs.push_back(Output::Completed { request, result: Ok(Ack::Throttled) });
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
        if self.stopped {
            return;
        }
        let deadline = now.checked_add(grace).unwrap_or(now);
        if let Some(existing) = self.shutdown_deadline {
            if deadline < existing {
                self.shutdown_deadline = Some(deadline);
                self.after(now);
            }
            return;
        }
        self.shutdown_deadline = Some(deadline);
        self.connect = ConnectPhase::Idle;
        if let Some(c) = &self.primary
            && !c.is_ready()
        {
            let id = c.id;
            self.drop_conn(id, Reason::Shutdown, Some(CLOSE_NORMAL), now);
        }
        self.after(now);
    }

    // ----- internals -----

    fn emit(&mut self, event: SessionEvent) {
        self.outputs.push_back(Output::Event(event));
    }

    fn complete(&mut self, request: RequestId, result: Result<Ack, SendError>) {
        self.outstanding = self.outstanding.saturating_sub(1);
        self.outputs.push_back(Output::Completed { request, result });
    }

    fn serving(&self) -> bool {
        self.primary.as_ref().is_some_and(Conn::is_ready) || self.old.is_some()
    }

    fn call_connect(&mut self) {
        if self.connect == ConnectPhase::Idle && !self.stopped && self.shutdown_deadline.is_none() {
            self.connect = ConnectPhase::Calling;
            self.outputs.push_back(Output::CallConnect);
        }
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        if self.primary.as_ref().is_some_and(|c| c.id == id) {
            self.primary.as_mut()
        } else if self.old.as_ref().is_some_and(|c| c.id == id) {
            self.old.as_mut()
        } else {
            None
        }
    }

    /// Records liveness; `false` if the connection is unknown.
    fn touch(&mut self, id: ConnId, now: Instant) -> bool {
        let hello = self.config.timeouts.hello;
        match self.conn_mut(id) {
            Some(c) => {
                c.last_rx = now;
                c.ping = None;
                if let ConnPhase::Opening(_) = c.phase {
                    c.phase = ConnPhase::AwaitingHello(now + hello);
                }
                true
            }
            None => false,
        }
    }

    fn typing_allowed(&mut self, channel: &ChannelId, now: Instant) -> bool {
        let interval = self.config.send_rate.typing_interval;
        if self.typing.len() > self.config.sending.queue_capacity.max(16) {
            self.typing.retain(|_, s| {
                s.queued || s.last_sent.is_some_and(|t| now.saturating_duration_since(t) < interval)
            });
        }
        let slot = self.typing.entry(channel.clone()).or_default();
        if slot.queued || slot.last_sent.is_some_and(|t| now.saturating_duration_since(t) < interval) {
            return false;
        }
        slot.queued = true;
        true
    }

    fn typing_done(&mut self, msg: &ClientMessage, sent_at: Option<Instant>) {
        if let ClientMessage::Typing { channel } = msg
            && let Some(slot) = self.typing.get_mut(channel)
        {
            slot.queued = false;
            if sent_at.is_some() {
                slot.last_sent = sent_at;
            }
        }
    }

    fn typing_requeued(&mut self, msg: &ClientMessage) {
        if let ClientMessage::Typing { channel } = msg {
            self.typing.entry(channel.clone()).or_default().queued = true;
        }
    }

    fn on_backpressure(&mut self, on: bool, now: Instant) {
        match (on, self.paused_since) {
            (true, None) => self.paused_since = Some(now),
            (false, Some(since)) => {
                self.paused_since = None;
                let d = now.saturating_duration_since(since);
                for c in [self.primary.as_mut(), self.old.as_mut()].into_iter().flatten() {
                    c.last_rx += d;
                    if let Some((_, t)) = &mut c.ping {
                        *t += d;
                    }
                    if let ConnPhase::AwaitingHello(t) = &mut c.phase {
                        *t += d;
                    }
                    for f in c.in_flight.values_mut() {
                        f.deadline += d;
                    }
                }
                for (t, _, _) in &mut self.ack_deadlines {
                    *t += d;
                }
            }
            _ => {}
        }
    }

    fn on_connect_result(&mut self, result: Result<ConnectResponse, ConnectFailure>, now: Instant) {
        if self.connect != ConnectPhase::Calling {
            tracing::debug!("ignoring an rtm.connect result nobody waits for");
            return;
        }
        self.connect = ConnectPhase::Idle;
        let response = match result {
            Ok(r) => r,
            Err(failure) if failure.is_fatal() => {
                tracing::warn!(error = %failure.message, "rtm.connect failed permanently; stopping");
                self.finish(Some(Fatal::Connect(failure)), now);
                return;
            }
            Err(failure) => {
                let retry_after = failure.retry_after;
                self.schedule_reconnect(Reason::ConnectFailed(failure), retry_after, now);
                return;
            }
        };
        if !response.warnings.is_empty() {
            self.emit(SessionEvent::Warning(Warning::ConnectWarnings(response.warnings.clone())));
        }
        if response.is_expired(now) {
            self.schedule_reconnect(Reason::UrlExpired, None, now);
            return;
        }
        if let Some(c) = self.primary.take() {
            // Cannot happen (a connect is only started without a primary); stay consistent.
            self.primary = Some(c);
            return;
        }
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        let deadline = (now + self.config.timeouts.open).min(response.expires_at());
        let connected = response.connected;
        self.primary = Some(Conn {
            id,
            phase: ConnPhase::Opening(deadline),
            self_: connected.self_,
            team: connected.team,
            next_wire_id: 1,
            last_rx: now,
            ping: None,
            in_flight: HashMap::new(),
            drain_until: None,
        });
        tracing::debug!(conn = %id, "opening the socket");
        self.outputs.push_back(Output::OpenSocket { conn: id, url: connected.url });
    }

    fn on_opened(&mut self, id: ConnId, now: Instant) {
        let hello = self.config.timeouts.hello;
        if let Some(c) = self.primary.as_mut().filter(|c| c.id == id)
            && let ConnPhase::Opening(_) = c.phase
        {
            c.phase = ConnPhase::AwaitingHello(now + hello);
            c.last_rx = now;
        }
    }

    fn on_event(&mut self, id: ConnId, event: Event, now: Instant) {
        if !self.touch(id, now) {
            return;
        }
        let is_primary = self.primary.as_ref().is_some_and(|c| c.id == id);
        match event {
            Event::Hello(_) => {
                if is_primary {
                    self.on_hello(now);
                }
            }
            Event::Reply(r) => self.on_reply(id, r, now),
            Event::Pong(p) => self.on_pong(id, p),
            Event::Goodbye(g) => {
                self.emit(SessionEvent::Rtm(Event::Goodbye(g)));
                if is_primary {
                    self.on_goodbye(now);
                }
            }
            Event::TeamMigrationStarted(t) => {
                self.emit(SessionEvent::Rtm(Event::TeamMigrationStarted(t)));
                self.drop_conn(id, Reason::TeamMigration, Some(CLOSE_NORMAL), now);
            }
            Event::Error(e) => {
                let reason =
                    Reason::ServerError { code: e.error.code, msg: e.error.msg.clone().unwrap_or_default() };
                self.emit(SessionEvent::Rtm(Event::Error(e)));
                self.drop_conn(id, reason, Some(CLOSE_NORMAL), now);
            }
            Event::ReconnectUrl(u) => {
                if let Some(url) = &u.url {
                    self.reconnect_url = Some(url.clone());
                }
                self.emit(SessionEvent::Rtm(Event::ReconnectUrl(u)));
            }
            other => {
                if !self.dedupe.is_duplicate(&other, now) {
                    self.emit(SessionEvent::Rtm(other));
                } else {
                    tracing::trace!(conn = %id, "dropped a duplicate event");
                }
            }
        }
    }

    /// An event the caller did not decode: an ordinary one is passed through untouched, unless
    /// the dedupe window is open (then it must be decoded to be checked); a session event is
    /// decoded and handled now.
    fn on_raw_event(&mut self, id: ConnId, frame: EventFrame, now: Instant) {
        if self.dedupe.is_active(now) || is_session_event_type(frame.kind()) {
            self.on_decoded(id, decode_event_frame(&frame), now);
        } else if self.touch(id, now) {
            self.outputs.push_back(Output::RawEvent { frame });
        }
    }

    fn on_hello(&mut self, now: Instant) {
        let Some(c) = self.primary.as_mut() else { return };
        if c.is_ready() {
            return;
        }
        c.phase = ConnPhase::Ready(now);
        let (id, self_, team) = (c.id, c.self_.clone(), c.team.clone());
        tracing::info!(conn = %id, team = %team.id, "connected");
        let reconnect = self.ever_connected;
        self.emit(SessionEvent::Connected { self_, team, conn: id, reconnect });
        if let Some(from) = self.down_since.take()
            && reconnect
        {
            self.emit(SessionEvent::Gap { from, to: now });
        }
        self.ever_connected = true;
        // The replaced connection: close it once it owes no replies.
        let drain = self.config.dedupe.drain;
        if let Some(o) = self.old.as_mut() {
            if o.app_in_flight() == 0 {
                let oid = o.id;
                self.drop_conn(oid, Reason::Goodbye, Some(CLOSE_NORMAL), now);
            } else {
                o.drain_until = Some(now + drain);
            }
        }
        // Presence subscriptions do not survive a connection.
        let pending_sub = !self.control.is_empty();
        if let (Some(ids), false) = (self.presence.clone(), pending_sub)
            && !ids.is_empty()
        {
            self.send_internal(ClientMessage::PresenceSub { ids }, FlightKind::Presence, now);
        }
    }

    fn on_goodbye(&mut self, now: Instant) {
        let Some(c) = self.primary.as_ref() else { return };
        let id = c.id;
        if !c.is_ready() {
            self.drop_conn(id, Reason::Goodbye, Some(CLOSE_NORMAL), now);
            return;
        }
        // Make-before-break: keep the old socket until the new one says hello.
        if let Some(o) = self.old.as_ref() {
            let oid = o.id;
            self.drop_conn(oid, Reason::Goodbye, Some(CLOSE_NORMAL), now);
        }
        let Some(mut c) = self.primary.take() else { return };
        self.healthy_check(&c, now);
        c.ping = None;
        self.old = Some(c);
        self.dedupe.start_overlap();
        self.schedule_reconnect(Reason::Goodbye, None, now);
    }

    fn healthy_check(&mut self, c: &Conn, now: Instant) {
        if let ConnPhase::Ready(since) = c.phase
            && now.saturating_duration_since(since) >= self.backoff.policy().healthy_after
        {
            self.backoff.reset();
        }
    }

    fn schedule_reconnect(&mut self, reason: Reason, retry_after: Option<Duration>, now: Instant) {
        if self.stopped || self.shutdown_deadline.is_some() || self.connect != ConnectPhase::Idle {
            return;
        }
        if self.primary.is_some() {
            return;
        }
        if let Some(max) = self.config.reconnect.max_retries
            && self.backoff.failures() >= max
        {
            let attempts = self.backoff.failures();
            self.finish(Some(Fatal::GaveUp { attempts, last: reason }), now);
            return;
        }
        let (attempt, delay) = self.backoff.next_delay(retry_after.map(|d| d.min(MAX_RETRY_AFTER)));
        tracing::info!(attempt, ?delay, %reason, "reconnecting");
        self.emit(SessionEvent::Reconnecting { attempt, reason, delay });
        if delay.is_zero() {
            self.call_connect();
        } else {
            self.connect = ConnectPhase::Waiting(now + delay);
        }
    }

    /// Removes a connection: closes it if `close` is given, resolves what it owed, and
    /// reconnects if it was the current one.
    fn drop_conn(&mut self, id: ConnId, reason: Reason, close: Option<u16>, now: Instant) {
        let was_serving = self.serving();
        let (conn, was_primary) = if self.primary.as_ref().is_some_and(|c| c.id == id) {
            (self.primary.take(), true)
        } else if self.old.as_ref().is_some_and(|c| c.id == id) {
            (self.old.take(), false)
        } else {
            (None, false)
        };
        let Some(mut conn) = conn else { return };
        if let Some(code) = close {
            self.outputs.push_back(Output::Close { conn: id, code });
        }
        tracing::debug!(conn = %id, %reason, "connection dropped");
        if was_primary {
            self.healthy_check(&conn, now);
        } else {
            self.dedupe.end_overlap(now);
        }
        // Resolve what the connection owed, in wire order.
        let mut flights: Vec<(u64, InFlight)> = conn.in_flight.drain().collect();
        flights.sort_unstable_by_key(|(wire, _)| std::cmp::Reverse(*wire));
        for (_, f) in flights {
            if let FlightKind::App { request, msg, retries, queue_deadline } = f.kind {
                if f.written {
                    self.typing_done(&msg, None);
                    self.complete(request, Err(SendError::Unconfirmed));
                } else {
                    // Never written: send it again on the next connection, exactly once.
                    self.typing_requeued(&msg);
                    let item = Queued { request, msg, deadline: queue_deadline, retries };
                    if matches!(item.msg, ClientMessage::PresenceSub { .. }) {
                        self.control.push_front(item);
                    } else {
                        self.queue.push_front(item);
                    }
                }
            }
        }
        if was_serving && !self.serving() {
            self.down_since = Some(now);
            self.emit(SessionEvent::Disconnected { reason: reason.clone() });
        }
        if was_primary {
            self.schedule_reconnect(reason, None, now);
        }
    }

    fn on_written(&mut self, id: ConnId, wire: u64) {
        let Some(c) = self.conn_mut(id) else { return };
        let Some(f) = c.in_flight.get_mut(&wire) else { return };
        f.written = true;
        let done = match &f.kind {
            FlightKind::App { msg, .. } => !msg.expects_reply(),
            FlightKind::Presence => true,
            FlightKind::Ping => false,
        };
        if done
            && let Some(InFlight { kind: FlightKind::App { request, .. }, .. }) = c.in_flight.remove(&wire)
        {
            self.complete(request, Ok(Ack::Written));
        }
    }

    fn on_reply(&mut self, id: ConnId, reply: Reply, now: Instant) {
        let retries_max = self.config.sending.slow_down_retries;
        let Some(c) = self.conn_mut(id) else { return };
        let Some(f) = c.in_flight.remove(&reply.reply_to) else {
            self.emit(SessionEvent::Warning(Warning::UnmatchedReply(Box::new(Event::Reply(reply)))));
            return;
        };
        let FlightKind::App { request, msg, retries, queue_deadline } = f.kind else { return };
        if reply.ok {
            self.complete(request, Ok(Ack::Posted { ts: reply.ts, text: reply.text }));
        } else {
            let (code, text) = match reply.error {
                Some(e) => (e.code, e.msg.unwrap_or_default()),
                None => (0, "error reply without an error object".to_owned()),
            };
            if code == -1 {
                self.bucket.slow_down(now);
                tracing::warn!(interval = ?self.bucket.interval(), "server asked to slow down");
                if retries < retries_max {
                    self.typing_requeued(&msg);
                    self.queue.push_front(Queued {
                        request,
                        msg,
                        deadline: queue_deadline,
                        retries: retries + 1,
                    });
                } else {
                    self.complete(request, Err(SendError::Rejected { code, msg: text }));
                }
            } else {
                self.complete(request, Err(SendError::Rejected { code, msg: text }));
            }
        }
        self.maybe_finish_drain(id, now);
    }

    fn on_pong(&mut self, id: ConnId, pong: Pong) {
        let Some(c) = self.conn_mut(id) else { return };
        let Some(f) = c.in_flight.remove(&pong.reply_to) else { return };
        if let FlightKind::App { request, .. } = f.kind {
            self.complete(request, Ok(Ack::Pong { extra: pong.extra }));
        }
    }

    fn maybe_finish_drain(&mut self, id: ConnId, now: Instant) {
        if let Some(o) = self.old.as_ref().filter(|o| o.id == id)
            && o.drain_until.is_some()
            && o.app_in_flight() == 0
        {
            self.drop_conn(id, Reason::Goodbye, Some(CLOSE_NORMAL), now);
        }
    }

    fn send_ping(&mut self, now: Instant) {
        let millis = u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX);
        let deadline = now + self.config.keepalive.pong_timeout;
        let Some(c) = self.primary.as_mut() else { return };
        let wire = c.take_wire_id();
        let Ok(text) = encode_client_message(wire, &ClientMessage::Ping(Ping::with_time(millis))) else {
            return;
        };
        // Only one keepalive ping is tracked at a time.
        c.in_flight.retain(|_, f| !matches!(f.kind, FlightKind::Ping));
        c.in_flight.insert(wire.get(), InFlight { kind: FlightKind::Ping, written: false, deadline });
        c.ping = Some((wire.get(), deadline));
        let conn = c.id;
        self.outputs.push_back(Output::Send { conn, text, id: wire.get() });
    }

    fn send_internal(&mut self, msg: ClientMessage, kind: FlightKind, now: Instant) {
        let deadline = now + self.config.sending.ack_timeout;
        let Some(c) = self.primary.as_mut() else { return };
        let wire = c.take_wire_id();
        match encode_client_message(wire, &msg) {
            Ok(text) => {
                c.in_flight.insert(wire.get(), InFlight { kind, written: false, deadline });
                let conn = c.id;
                self.outputs.push_back(Output::Send { conn, text, id: wire.get() });
            }
            Err(e) => tracing::warn!(error = %e, "could not encode an internal frame"),
        }
    }

    /// Writes one queued request on the current connection.
    fn send_queued(&mut self, item: Queued, now: Instant) {
        let deadline = now + self.config.sending.ack_timeout;
        let Some(c) = self.primary.as_mut() else {
            self.queue.push_front(item);
            return;
        };
        let wire = c.take_wire_id();
        let text = match encode_client_message(wire, &item.msg) {
            Ok(t) => t,
            Err(e) => {
                self.typing_done(&item.msg, None);
                self.complete(item.request, Err(SendError::Invalid(e)));
                return;
            }
        };
        let conn = c.id;
        self.typing_done(&item.msg, Some(now));
        let c = match self.primary.as_mut() {
            Some(c) => c,
            None => return,
        };
        c.in_flight.insert(
            wire.get(),
            InFlight {
                kind: FlightKind::App {
                    request: item.request,
                    msg: item.msg,
                    retries: item.retries,
                    queue_deadline: item.deadline,
                },
                written: false,
                deadline,
            },
        );
        self.ack_deadlines.push_back((deadline, conn, wire.get()));
        self.outputs.push_back(Output::Send { conn, text, id: wire.get() });
    }

    fn flush_queue(&mut self, now: Instant) {
        if !self.primary.as_ref().is_some_and(Conn::is_ready) {
            return;
        }
        while let Some(item) = self.control.pop_front() {
            self.send_queued(item, now);
        }
        while !self.queue.is_empty() && self.bucket.try_take(now) {
            if let Some(item) = self.queue.pop_front() {
                self.send_queued(item, now);
            }
        }
    }

    fn expire_acks(&mut self, now: Instant) {
        while let Some(&(t, conn, wire)) = self.ack_deadlines.front() {
            if t > now {
                break;
            }
            self.ack_deadlines.pop_front();
            let Some(c) = self.conn_mut(conn) else { continue };
            let expired = c.in_flight.get(&wire).is_some_and(|f| f.deadline <= now);
            if !expired {
                continue;
            }
            if let Some(InFlight { kind: FlightKind::App { request, msg, .. }, .. }) =
                c.in_flight.remove(&wire)
            {
                self.typing_done(&msg, None);
                self.complete(request, Err(SendError::AckTimeout));
            }
            self.maybe_finish_drain(conn, now);
        }
        // Entries whose request finished long ago are dropped from the front above; bound the
        // rest in case fronts stay alive for long.
        let cap = self.config.sending.queue_capacity.saturating_mul(2).max(64);
        if self.ack_deadlines.len() > cap {
            let primary = self.primary.as_ref();
            let old = self.old.as_ref();
            self.ack_deadlines.retain(|(_, conn, wire)| {
                [primary, old].into_iter().flatten().any(|c| c.id == *conn && c.in_flight.contains_key(wire))
            });
        }
    }

    fn expire_queue(&mut self, now: Instant) {
        for control in [false, true] {
            loop {
                let q = if control { &mut self.control } else { &mut self.queue };
                if q.front().is_none_or(|i| i.deadline > now) {
                    break;
                }
                let Some(item) = q.pop_front() else { break };
                self.typing_done(&item.msg, None);
                self.complete(item.request, Err(SendError::QueueTimeout));
            }
        }
    }

    /// Runs after every input: writes what may be written, finishes a shutdown when done.
    fn after(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.flush_queue(now);
        if self.shutdown_deadline.is_some() {
            let idle = self.queue.is_empty()
                && self.control.is_empty()
                && [self.primary.as_ref(), self.old.as_ref()]
                    .into_iter()
                    .flatten()
                    .all(|c| c.app_in_flight() == 0);
            if idle || !self.serving() {
                self.finish(None, now);
            }
        }
    }

    /// Stops the session: closes every socket, fails what is left, emits `Stopped`.
    fn finish(&mut self, error: Option<Fatal>, now: Instant) {
        if self.stopped {
            return;
        }
        let was_serving = self.serving();
        for conn in [self.primary.take(), self.old.take()].into_iter().flatten() {
            self.outputs.push_back(Output::Close { conn: conn.id, code: CLOSE_NORMAL });
            let mut flights: Vec<(u64, InFlight)> = conn.in_flight.into_iter().collect();
            flights.sort_unstable_by_key(|(wire, _)| *wire);
            for (_, f) in flights {
                if let FlightKind::App { request, .. } = f.kind {
                    // Handed to the socket before the close: it may have been posted.
                    self.complete(request, Err(SendError::Unconfirmed));
                }
            }
        }
        let queued: Vec<Queued> = self.control.drain(..).chain(self.queue.drain(..)).collect();
        for item in queued {
            self.complete(item.request, Err(SendError::Stopped));
        }
        if was_serving {
            let reason = match &error {
                None => Reason::Shutdown,
                Some(Fatal::Connect(f)) => Reason::ConnectFailed(f.clone()),
                Some(Fatal::GaveUp { last, .. }) => last.clone(),
            };
            self.emit(SessionEvent::Disconnected { reason });
        }
        self.emit(SessionEvent::Stopped { error });
        self.stopped = true;
        self.connect = ConnectPhase::Idle;
        self.ack_deadlines = VecDeque::new();
        self.typing = HashMap::new();
        self.dedupe.end_overlap(now);
        tracing::info!("session stopped");
    }
}
