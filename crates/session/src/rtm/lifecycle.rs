//! The connection lifecycle: `rtm.connect` answers, opening, `hello`, `goodbye`
//! (make-before-break), reconnect scheduling with backoff, and dropping a connection.

use super::conn::{Conn, ConnPhase, ConnectPhase, FlightKind, InFlight, Queued};
use super::{
    CLOSE_NORMAL, ConnId, ConnectFailure, MAX_RETRY_AFTER, Reason, RtmIncoming, RtmOutput, SendError,
    Session, SessionEvent, SkippedFrame, StopReason, Warning,
};
use slack_rtm_codec::types::{ClientMessage, Event};
use slack_rtm_codec::{
    ConnectResponse, DecodeError, EventFrame, decode_event, decode_event_frame, is_session_event_type,
};
use std::time::{Duration, Instant};

impl Session {
    pub(super) fn call_connect(&mut self) {
        if self.connect == ConnectPhase::Idle && !self.stopped && self.shutdown_deadline.is_none() {
            self.connect = ConnectPhase::Calling;
            self.outputs.push_back(RtmOutput::CallConnect);
        }
    }

    pub(super) fn conn_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        if self.primary.as_ref().is_some_and(|c| c.id == id) {
            self.primary.as_mut()
        } else if self.old.as_ref().is_some_and(|c| c.id == id) {
            self.old.as_mut()
        } else {
            None
        }
    }

    // Once per connection: kept out of `Session::handle`, whose round-trip inputs (a reply, a
    // write done) then run through fewer cache lines (docs/perf/rtt7.md). The same for the
    // other `#[cold]` handlers of the machine.
    #[cold]
    pub(super) fn on_connect_result(
        &mut self,
        result: Result<ConnectResponse, ConnectFailure>,
        now: Instant,
    ) {
        if self.connect != ConnectPhase::Calling {
            tracing::debug!("ignoring an rtm.connect result nobody waits for");
            return;
        }
        self.connect = ConnectPhase::Idle;
        let response = match result {
            Ok(r) => r,
            Err(failure) if failure.is_fatal() => {
                // Not a warning: the application gets this failure as the session's result.
                tracing::info!(error = %failure.message, "rtm.connect failed permanently; stopping");
                self.finish(StopReason::from_failure(failure), now);
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
        self.primary = Some(Conn::new(id, deadline, connected.self_, connected.team, now));
        tracing::debug!(conn = %id, "opening the socket");
        self.outputs.push_back(RtmOutput::OpenSocket { conn: id, url: connected.url });
    }

    #[cold]
    pub(super) fn on_opened(&mut self, id: ConnId, now: Instant) {
        let hello = self.config.timeouts.hello;
        if let Some(c) = self.primary.as_mut().filter(|c| c.id == id)
            && let ConnPhase::Opening(_) = c.phase
        {
            c.phase = ConnPhase::AwaitingHello(now + hello);
            c.last_rx = now;
        }
    }

    /// A frame's decode: the event, or a warning that it did not decode (still liveness).
    pub(super) fn on_decoded(&mut self, id: ConnId, decoded: Result<Event, DecodeError>, now: Instant) {
        match decoded {
            Ok(event) => self.on_event(id, event, now),
            Err(error) => {
                if self.touch(id, now) {
                    self.emit(SessionEvent::Warning(Warning::Undecodable(error)));
                }
            }
        }
    }

    pub(super) fn on_event(&mut self, id: ConnId, event: Event, now: Instant) {
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

    /// Something read from a socket.
    pub(super) fn on_frame(&mut self, id: ConnId, frame: RtmIncoming, now: Instant) {
        match frame {
            RtmIncoming::Event(frame) => self.on_raw_event(id, frame, now),
            // As `on_event` handles an `Event::Reply`.
            RtmIncoming::Reply(reply) => {
                if self.touch(id, now) {
                    self.on_reply(id, *reply, now);
                }
            }
            RtmIncoming::Text(text) => self.on_decoded(id, decode_event(&text), now),
            RtmIncoming::Skipped(frame) => {
                if self.touch(id, now) {
                    let w = match frame {
                        SkippedFrame::Binary { len } => Warning::BinaryFrame { len },
                        SkippedFrame::InvalidUtf8 { len } => Warning::InvalidUtf8 { len },
                    };
                    self.emit(SessionEvent::Warning(w));
                }
            }
            RtmIncoming::Activity => {
                self.touch(id, now);
            }
        }
    }

    /// An event the caller did not decode: an ordinary one is passed through untouched, unless
    /// the dedupe window is open (then it must be decoded to be checked); a session event is
    /// decoded and handled now.
    pub(super) fn on_raw_event(&mut self, id: ConnId, frame: EventFrame, now: Instant) {
        if self.on_keepalive_pong(id, &frame, now) {
            return;
        }
        if self.dedupe.is_active(now) || is_session_event_type(frame.kind()) {
            self.on_decoded(id, decode_event_frame(&frame), now);
        } else if self.touch(id, now) {
            self.outputs.push_back(RtmOutput::RawEvent { frame });
        }
    }

    pub(super) fn on_hello(&mut self, now: Instant) {
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

    pub(super) fn on_goodbye(&mut self, now: Instant) {
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

    pub(super) fn healthy_check(&mut self, c: &Conn, now: Instant) {
        if let ConnPhase::Ready(since) = c.phase
            && now.saturating_duration_since(since) >= self.backoff.policy().healthy_after
        {
            self.backoff.reset();
        }
    }

    pub(super) fn schedule_reconnect(&mut self, reason: Reason, retry_after: Option<Duration>, now: Instant) {
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
            self.finish(StopReason::GaveUp { attempts, last: reason }, now);
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
    #[cold]
    pub(super) fn drop_conn(&mut self, id: ConnId, reason: Reason, close: Option<u16>, now: Instant) {
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
            self.outputs.push_back(RtmOutput::Close { conn: id, code });
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
}
