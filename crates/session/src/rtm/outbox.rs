//! The outbox: writing queued requests under the send rate, matching replies and pongs,
//! reply and queue deadlines, the typing throttle.

use super::conn::{Conn, FlightKind, InFlight, Queued};
use super::{
    CLOSE_NORMAL, ConnId, Reason, RequestId, RtmAck, RtmOutput, SendError, Session, SessionEvent, Warning,
};
use slack_rtm_codec::encode_client_message;
use slack_rtm_codec::types::event::{ErrorInfo, Pong, Reply};
use slack_rtm_codec::types::{ChannelId, ClientMessage, Event};
use std::time::Instant;

impl Session {
    pub(super) fn complete(&mut self, request: RequestId, result: Result<RtmAck, SendError>) {
        self.outstanding = self.outstanding.saturating_sub(1);
        self.outputs.push_back(RtmOutput::Completed { request, result });
    }

    pub(super) fn on_written(&mut self, id: ConnId, wire: u64) {
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
            self.complete(request, Ok(RtmAck::Written));
        }
    }

    pub(super) fn on_reply(&mut self, id: ConnId, reply: Reply, now: Instant) {
        let Some(c) = self.conn_mut(id) else { return };
        let Some(f) = c.in_flight.remove(&reply.reply_to) else {
            self.unmatched_reply(reply);
            return;
        };
        let FlightKind::App { request, msg, retries, queue_deadline } = f.kind else { return };
        if reply.ok {
            self.complete(request, Ok(RtmAck::Posted { ts: reply.ts, text: reply.text }));
        } else {
            let queued = Queued { request, msg, deadline: queue_deadline, retries };
            self.on_error_reply(queued, reply.error, now);
        }
        self.maybe_finish_drain(id, now);
    }

    /// A reply to nothing in flight. Out of line, as [`on_error_reply`](Self::on_error_reply):
    /// an ack runs through fewer cache lines of [`on_reply`](Self::on_reply) (docs/perf/rtt7.md).
    #[cold]
    fn unmatched_reply(&mut self, reply: Reply) {
        self.emit(SessionEvent::Warning(Warning::UnmatchedReply(Box::new(Event::Reply(reply)))));
    }

    /// An error reply to `item` (its request as it was in flight, `retries` those done): a
    /// `slow down` (code -1) puts it back at the head of the queue while retries are left; any
    /// other error fails it.
    #[cold]
    fn on_error_reply(&mut self, item: Queued, error: Option<ErrorInfo>, now: Instant) {
        let retries_max = self.config.sending.slow_down_retries;
        let (code, text) = match error {
            Some(e) => (e.code, e.msg.unwrap_or_default()),
            None => (0, "error reply without an error object".to_owned()),
        };
        if code == -1 {
            self.bucket.slow_down(now);
            tracing::warn!(interval = ?self.bucket.interval(), "server asked to slow down");
            if item.retries < retries_max {
                self.typing_requeued(&item.msg);
                self.queue.push_front(Queued { retries: item.retries + 1, ..item });
                return;
            }
        }
        self.complete(item.request, Err(SendError::Rejected { code, msg: text }));
    }

    pub(super) fn on_pong(&mut self, id: ConnId, pong: Pong) {
        let Some(c) = self.conn_mut(id) else { return };
        let Some(f) = c.in_flight.remove(&pong.reply_to) else { return };
        if let FlightKind::App { request, .. } = f.kind {
            self.complete(request, Ok(RtmAck::Pong { extra: pong.extra }));
        }
    }

    pub(super) fn maybe_finish_drain(&mut self, id: ConnId, now: Instant) {
        if let Some(o) = self.old.as_ref().filter(|o| o.id == id)
            && o.drain_until.is_some()
            && o.app_in_flight() == 0
        {
            self.drop_conn(id, Reason::Goodbye, Some(CLOSE_NORMAL), now);
        }
    }

    pub(super) fn send_internal(&mut self, msg: ClientMessage, kind: FlightKind, now: Instant) {
        let deadline = now + self.config.sending.ack_timeout;
        let Some(c) = self.primary.as_mut() else { return };
        let wire = c.take_wire_id();
        match encode_client_message(wire, &msg) {
            Ok(text) => {
                c.in_flight.insert(wire.get(), InFlight { kind, written: false, deadline });
                let conn = c.id;
                self.outputs.push_back(RtmOutput::Send { conn, text, id: wire.get() });
            }
            Err(e) => tracing::warn!(error = %e, "could not encode an internal frame"),
        }
    }

    /// Writes one queued request on the current connection.
    pub(super) fn send_queued(&mut self, item: Queued, now: Instant) {
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
        self.push_ack_deadline(deadline, conn, wire.get());
        self.outputs.push_back(RtmOutput::Send { conn, text, id: wire.get() });
    }

    pub(super) fn flush_queue(&mut self, now: Instant) {
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

    pub(super) fn expire_acks(&mut self, now: Instant) {
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
    }

    pub(super) fn expire_queue(&mut self, now: Instant) {
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

    pub(super) fn typing_allowed(&mut self, channel: &ChannelId, now: Instant) -> bool {
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

    pub(super) fn typing_done(&mut self, msg: &ClientMessage, sent_at: Option<Instant>) {
        if let ClientMessage::Typing { channel } = msg
            && let Some(slot) = self.typing.get_mut(channel)
        {
            slot.queued = false;
            if sent_at.is_some() {
                slot.last_sent = sent_at;
            }
        }
    }

    pub(super) fn typing_requeued(&mut self, msg: &ClientMessage) {
        if let ClientMessage::Typing { channel } = msg {
            self.typing.entry(channel.clone()).or_default().queued = true;
        }
    }

    /// Records a reply deadline. Entries whose request finished are skipped when they reach the
    /// front; the rest is bounded here, in case a long-lived entry keeps the front alive.
    fn push_ack_deadline(&mut self, deadline: Instant, conn: ConnId, wire: u64) {
        let cap = self.config.sending.queue_capacity.saturating_mul(2).max(64);
        if self.ack_deadlines.len() >= cap {
            let primary = self.primary.as_ref();
            let old = self.old.as_ref();
            self.ack_deadlines.retain(|(_, conn, wire)| {
                [primary, old].into_iter().flatten().any(|c| c.id == *conn && c.in_flight.contains_key(wire))
            });
        }
        self.ack_deadlines.push_back((deadline, conn, wire));
    }
}
