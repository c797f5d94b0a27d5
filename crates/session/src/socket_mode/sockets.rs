//! The sockets: opening (one `apps.connections.open` at a time, staggered, backed off),
//! `hello`, `disconnect` (make-before-break, `too_many_websockets`, `link_disabled`), losing
//! a socket, liveness.

use super::SocketModeSession;
use super::types::{SocketModeEvent, SocketModeIncoming, SocketModeOutput, StopReason};
use crate::common::{ConnId, ConnectFailure, Reason, SkippedFrame, Warning};
use slack_rtm_codec::types::socket_mode::{DisconnectReason, SocketFrame};
use slack_rtm_codec::{OpenResponse, decode_socket_frame};
use std::time::{Duration, Instant};

use crate::common::MAX_RETRY_AFTER;

/// After `too_many_websockets`, the least time before the next `apps.connections.open` (the
/// jittered wait is in `[1, 1.5)` times this): Slack answered about capacity, and asking again
/// at once only gets the same answer.
pub(super) const TOO_MANY_MIN_WAIT: Duration = Duration::from_secs(5);
pub(super) use crate::common::{CLOSE_NORMAL, CLOSE_REPLACED};

/// Where a socket is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Being opened; must be open by then.
    Opening(Instant),
    /// Open; `hello` must arrive by then.
    AwaitingHello(Instant),
    /// Serving.
    Ready,
}

/// One socket.
#[derive(Debug)]
pub(super) struct Sock {
    pub(super) id: ConnId,
    pub(super) phase: Phase,
    /// Last time anything arrived.
    pub(super) last_rx: Instant,
    /// A ping is out: the pong deadline.
    pub(super) ping: Option<Instant>,
    /// Slack announced its end: a replacement is (being) opened; it still serves meanwhile.
    pub(super) retiring: bool,
    /// Its replacement said hello: it is closed at this time.
    pub(super) drain_until: Option<Instant>,
    /// When it said hello.
    pub(super) ready_since: Option<Instant>,
}

impl Sock {
    pub(super) fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }
}

impl SocketModeSession {
    /// Sockets that count towards the target: every one not being replaced.
    pub(super) fn counted(&self) -> usize {
        self.socks.iter().filter(|s| !s.retiring).count()
    }

    /// Calls `apps.connections.open` if a socket is missing and the call may start now (the
    /// timer table calls again once `next_open` has passed).
    pub(super) fn top_up(&mut self, now: Instant) {
        if self.stopped || self.shutdown_deadline.is_some() || self.calling {
            return;
        }
        if self.cap.is_some_and(|(_, until)| now >= until) {
            self.cap = None;
        }
        if self.counted() >= self.target() {
            return;
        }
        if self.next_open.is_some_and(|t| now < t) {
            return;
        }
        self.next_open = None;
        self.calling = true;
        self.outputs.push_back(SocketModeOutput::CallOpen);
    }

    /// Whether a call is wanted but waits for `next_open`.
    pub(super) fn open_wanted(&self) -> bool {
        !self.calling && self.shutdown_deadline.is_none() && self.counted() < self.config.connections
    }

    pub(super) fn on_open_result(&mut self, result: Result<OpenResponse, ConnectFailure>, now: Instant) {
        if !self.calling {
            return; // shutting down meanwhile
        }
        self.calling = false;
        match result {
            Ok(answer) => {
                if !answer.warnings.is_empty() {
                    tracing::debug!(warnings = ?answer.warnings, "apps.connections.open warnings");
                }
                let conn = self.new_conn();
                self.socks.push(Sock {
                    id: conn,
                    phase: Phase::Opening(now + self.config.timeouts.open),
                    last_rx: now,
                    ping: None,
                    retiring: false,
                    drain_until: None,
                    ready_since: None,
                });
                self.outputs.push_back(SocketModeOutput::OpenSocket { conn, url: answer.url });
                // The next socket (if one is missing) opens a little later, so they do not
                // recycle together; a replacement for a retiring socket does not wait.
                if !self.socks.iter().any(|s| s.retiring && s.drain_until.is_none()) {
                    self.next_open = Some(now + self.config.stagger);
                }
            }
            Err(failure) if failure.is_fatal() => self.finish(StopReason::from_failure(failure), now),
            Err(failure) => {
                let retry_after = failure.retry_after.map(|d| d.min(MAX_RETRY_AFTER));
                self.schedule_retry(Reason::OpenFailed(failure.message.clone()), retry_after, now);
            }
        }
    }

    /// A failure: the next call waits the backoff's delay (or stops after `max_retries`).
    fn schedule_retry(&mut self, reason: Reason, retry_after: Option<Duration>, now: Instant) {
        let healthy = self.backoff.policy().healthy_after;
        if self
            .socks
            .iter()
            .any(|s| s.ready_since.is_some_and(|t| now.saturating_duration_since(t) >= healthy))
        {
            self.backoff.reset();
        }
        let (attempt, delay) = self.backoff.next_delay(retry_after);
        if let Some(max) = self.backoff.policy().max_retries
            && attempt > max
        {
            self.finish(StopReason::GaveUp { attempts: attempt - 1, last: reason }, now);
            return;
        }
        let at = now + delay;
        self.next_open = Some(at);
        self.emit(SocketModeEvent::Reconnecting { attempt, reason, delay });
    }

    pub(super) fn on_opened(&mut self, conn: ConnId, now: Instant) {
        let hello = self.config.timeouts.hello;
        match self.socks.iter_mut().find(|s| s.id == conn) {
            Some(s) if matches!(s.phase, Phase::Opening(_)) => {
                s.phase = Phase::AwaitingHello(now + hello);
                s.last_rx = now;
            }
            Some(_) => {}
            // Given up meanwhile: close it.
            None => self.outputs.push_back(SocketModeOutput::Close { conn, code: CLOSE_NORMAL }),
        }
    }

    pub(super) fn on_frame(&mut self, conn: ConnId, frame: SocketModeIncoming, now: Instant) {
        let Some(sock) = self.socks.iter_mut().find(|s| s.id == conn) else {
            return; // a socket already forgotten
        };
        sock.last_rx = now;
        sock.ping = None;
        match frame {
            SocketModeIncoming::Activity => {}
            SocketModeIncoming::Envelope(frame) => self.on_envelope(conn, frame, now),
            SocketModeIncoming::Skipped(SkippedFrame::Binary { len }) => {
                self.emit(SocketModeEvent::Warning(Warning::BinaryFrame { len }));
            }
            SocketModeIncoming::Skipped(SkippedFrame::InvalidUtf8 { len }) => {
                self.emit(SocketModeEvent::Warning(Warning::InvalidUtf8 { len }));
            }
            SocketModeIncoming::Text(text) => match decode_socket_frame(&text) {
                Ok(SocketFrame::Hello(hello)) => {
                    if let Some(app) = hello.connection_info.and_then(|i| i.app_id) {
                        self.app_id = Some(app);
                    }
                    self.on_hello(conn, now);
                }
                Ok(SocketFrame::Disconnect(d)) => self.on_disconnect(conn, d.reason, now),
                // An envelope whose id or type the light scan cannot read (escapes): acked from
                // the decoded id so Slack does not redeliver it forever, and handed over raw.
                Ok(SocketFrame::Envelope(envelope)) => {
                    if self.shutdown_deadline.is_none() {
                        self.send_ack(conn, &envelope.envelope_id);
                        self.emit(SocketModeEvent::Unknown { raw: text });
                    }
                }
                Ok(_) => self.emit(SocketModeEvent::Unknown { raw: text }),
                Err(e) => self.emit(SocketModeEvent::Warning(Warning::Undecodable(e))),
            },
        }
    }

    fn on_hello(&mut self, conn: ConnId, now: Instant) {
        let Some(sock) = self.socks.iter_mut().find(|s| s.id == conn) else { return };
        if sock.is_ready() {
            return;
        }
        sock.phase = Phase::Ready;
        sock.ready_since = Some(now);
        self.ever_connected = true;
        // Make-before-break: the oldest socket waiting for a replacement may now go.
        let drain = now + self.config.drain;
        if let Some(old) = self.socks.iter_mut().find(|s| s.retiring && s.drain_until.is_none()) {
            old.drain_until = Some(drain);
        }
        if let Some(from) = self.down_since.take() {
            self.emit(SocketModeEvent::Gap { from, to: now });
        }
        let sockets = self.serving();
        self.emit(SocketModeEvent::Connected { conn, sockets });
    }

    fn on_disconnect(&mut self, conn: ConnId, reason: DisconnectReason, now: Instant) {
        match reason {
            DisconnectReason::LinkDisabled => self.finish(StopReason::LinkDisabled, now),
            DisconnectReason::TooManyWebsockets => {
                // A capacity answer, not a transient fault: aim for no more sockets than Slack
                // accepted (those that said `hello`, without this one; at least one) for a
                // while, and wait at least TOO_MANY_MIN_WAIT (jittered) before the next call.
                let accepted =
                    self.socks.iter().filter(|s| s.id != conn && !s.retiring && s.is_ready()).count();
                let target = accepted.clamp(1, self.config.connections);
                let until = now + self.config.too_many_cooldown;
                self.cap = Some((target, until));
                self.emit(SocketModeEvent::TooManyWebsockets { target, until });
                let wait = self.backoff.jittered(TOO_MANY_MIN_WAIT);
                self.drop_sock_waiting(
                    conn,
                    Reason::Closed { code: None, reason: "too_many_websockets".into() },
                    Some(CLOSE_NORMAL),
                    Some(wait),
                    now,
                );
            }
            _ => {
                let Some(sock) = self.socks.iter_mut().find(|s| s.id == conn) else { return };
                if sock.retiring {
                    return;
                }
                sock.retiring = true;
                // The replacement does not wait for the stagger (a backoff still applies).
                if self.backoff.failures() == 0 {
                    self.next_open = None;
                }
                self.emit(SocketModeEvent::Replacing { conn, reason });
            }
        }
    }

    /// Forgets a socket (closing it with `close` if given), reports it, and schedules a
    /// replacement unless a socket is already on its way.
    pub(super) fn drop_sock(&mut self, conn: ConnId, reason: Reason, close: Option<u16>, now: Instant) {
        self.drop_sock_waiting(conn, reason, close, None, now);
    }

    /// [`drop_sock`](Self::drop_sock), the next call waiting at least `wait` (a capacity
    /// answer) even after a socket that served well.
    fn drop_sock_waiting(
        &mut self,
        conn: ConnId,
        reason: Reason,
        close: Option<u16>,
        wait: Option<Duration>,
        now: Instant,
    ) {
        let Some(i) = self.socks.iter().position(|s| s.id == conn) else { return };
        let sock = self.socks.remove(i);
        if let Some(code) = close {
            self.outputs.push_back(SocketModeOutput::Close { conn, code });
        }
        self.on_socket_gone(conn, now);
        let sockets = self.serving();
        if sock.is_ready() && sockets == 0 && self.down_since.is_none() {
            self.down_since = Some(now);
        }
        // A socket Slack announced the end of is routine: its replacement is on its way.
        let routine = sock.retiring;
        self.emit(SocketModeEvent::Disconnected { conn, reason: reason.clone(), sockets });
        if self.shutdown_deadline.is_some() || routine {
            return;
        }
        // A socket that served well is replaced without backoff; anything else backs off.
        let healthy = sock
            .ready_since
            .is_some_and(|t| now.saturating_duration_since(t) >= self.backoff.policy().healthy_after);
        if healthy {
            self.backoff.reset();
        }
        if healthy && wait.is_none() {
            self.next_open = None;
        } else {
            self.schedule_retry(reason, wait, now);
        }
    }

    /// Liveness: sends a ping on idle sockets, replaces those whose ping went unanswered.
    pub(super) fn check_liveness(&mut self, now: Instant) {
        let idle = self.config.keepalive.idle_ping;
        let pong = self.config.keepalive.pong_timeout;
        let mut dead = Vec::new();
        for s in self.socks.iter_mut().filter(|s| s.is_ready()) {
            match s.ping {
                Some(deadline) if deadline <= now => dead.push(s.id),
                Some(_) => {}
                None if s.last_rx + idle <= now => {
                    s.ping = Some(now + pong);
                    self.outputs.push_back(SocketModeOutput::Ping { conn: s.id });
                }
                None => {}
            }
        }
        for id in dead {
            tracing::debug!(conn = %id, "no frame since the ping: socket dead");
            self.drop_sock(id, Reason::KeepaliveTimeout, Some(CLOSE_REPLACED), now);
        }
    }

    /// Sockets not open, or without `hello`, by their deadline are replaced.
    pub(super) fn check_opening(&mut self, now: Instant) {
        let late: Vec<(ConnId, Reason)> = self
            .socks
            .iter()
            .filter_map(|s| match s.phase {
                Phase::Opening(t) if t <= now => Some((s.id, Reason::OpenTimeout)),
                Phase::AwaitingHello(t) if t <= now => Some((s.id, Reason::HelloTimeout)),
                _ => None,
            })
            .collect();
        for (id, reason) in late {
            self.drop_sock(id, reason, Some(CLOSE_REPLACED), now);
        }
    }

    /// Replaced sockets whose drain time is over are closed.
    pub(super) fn check_drained(&mut self, now: Instant) {
        let done: Vec<ConnId> =
            self.socks.iter().filter(|s| s.drain_until.is_some_and(|t| t <= now)).map(|s| s.id).collect();
        for id in done {
            self.drop_sock(id, Reason::Replaced, Some(CLOSE_NORMAL), now);
        }
    }
}
