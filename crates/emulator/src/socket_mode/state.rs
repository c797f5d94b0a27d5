//! The Socket Mode part of the shared state: app tokens, tickets, open sockets, envelopes
//! with their deliveries, acks, and the timers of ack deadlines and redeliveries.
//!
//! Every envelope goes through [`SmState::enqueue`] and [`SmState::dispatch`]: one open
//! socket is chosen (round robin or random); with none open, the envelope waits in the queue
//! until a socket says `hello`. An `events_api` delivery not acked in time is redelivered (new
//! envelope id, same event id, `retry_attempt` + 1, `retry_reason` `timeout`), possibly on
//! another socket, until the retries run out.

use super::conn::SmCmd;
use super::{AckRecord, DeliveryAttempt, EnvelopeRecord, SocketId, SocketInfo};
use crate::config::{Dispatch, SocketModeServerConfig};
use crate::faults::Rejection;
use crate::record::{ConnectCall, Ring};
use crate::workspace::{push_random_alnum, random_alnum, random_u64};
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, mpsc};

/// An app-level token the emulator issued.
#[derive(Clone, Debug)]
pub(crate) struct AppTokenRecord {
    pub active: bool,
    pub revoked: bool,
    /// Has the `connections:write` scope.
    pub connections_write: bool,
}

/// What a successful `apps.connections.open` issued.
#[derive(Clone, Debug)]
pub(crate) struct SmTicket {
    pub expires: Instant,
}

/// An open socket.
pub(crate) struct SmConn {
    pub tx: mpsc::Sender<SmCmd>,
    pub overflow: Arc<Notify>,
    /// `hello` sent and no `disconnect` yet: envelopes may go to it.
    pub accepting: bool,
}

/// A timer of the delivery engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The ack deadline of this delivery.
    AckDeadline(String),
    /// Redeliver this envelope.
    Redeliver(u64),
}

/// A timer and when it fires; ordered by that time (then by the order they were set).
#[derive(Debug)]
struct TimerAt {
    at: Instant,
    n: u64,
    timer: Timer,
}

impl PartialEq for TimerAt {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.n) == (other.at, other.n)
    }
}

impl Eq for TimerAt {}

impl PartialOrd for TimerAt {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TimerAt {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.n).cmp(&(other.at, other.n))
    }
}

/// A delivery waiting for its ack.
struct Pending {
    seq: u64,
    sent_at: Instant,
    redeliver: bool,
}

pub(crate) struct SmState {
    pub app_id: String,
    /// The app has used Socket Mode (a successful `apps.connections.open`): workspace events
    /// are made into envelopes from then on.
    pub active: bool,
    pub app_tokens: HashMap<String, AppTokenRecord>,
    pub tickets: HashMap<String, SmTicket>,
    pub conns: BTreeMap<SocketId, SmConn>,
    pub infos: Ring<SocketInfo>,
    pub next_socket: u64,
    pub envelopes: Ring<EnvelopeRecord>,
    pub acks: Ring<AckRecord>,
    pub open_calls: Ring<ConnectCall>,
    pub rejections: VecDeque<Rejection>,
    pub rate_window: VecDeque<Instant>,
    pub expired_attempts: u64,
    /// The envelope blast's per-socket reports.
    #[cfg(feature = "blast")]
    pub blast_reports: Ring<super::blast::EnvelopeBlastReport>,
    /// Set while envelopes go to a Request URL ([`crate::Emulator::set_request_url`]) instead
    /// of the sockets.
    pub http_tx: Option<mpsc::Sender<u64>>,
    queue: VecDeque<u64>,
    pending: HashMap<String, Pending>,
    /// Earliest first: finding the next deadline does not walk every timer.
    timers: BinaryHeap<Reverse<TimerAt>>,
    timers_set: u64,
    /// Deliveries after the first (redeliveries), ever.
    pub redeliveries: u64,
    rr: u64,
    next_seq: u64,
    queue_cap: usize,
    /// The last envelope frame's length: the next one's buffer starts that large (a frame is
    /// ~1 KB; grown from empty it is reallocated four times).
    frame_hint: usize,
}

/// A new envelope id, shaped like Slack's (a UUID).
fn envelope_id() -> String {
    envelope_id_of(random_u64(), random_u64())
}

/// The envelope id made of the random numbers `a` and `b`.
fn envelope_id_of(a: u64, b: u64) -> String {
    // `{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}` of these, written digit by digit (`format!`'s
    // machinery cost ~1,000 instructions per envelope, docs/perf/fleet6.md).
    let mut id = String::with_capacity(36);
    push_hex(&mut id, a >> 32, 8);
    id.push('-');
    push_hex(&mut id, (a >> 16) & 0xffff, 4);
    id.push_str("-4");
    push_hex(&mut id, a & 0xfff, 3);
    id.push('-');
    push_hex(&mut id, 0x8000 | (b >> 48) & 0x3fff, 4);
    id.push('-');
    push_hex(&mut id, b & 0xffff_ffff_ffff, 12);
    id
}

/// The low `digits` hex digits of `v`, lower case, zero-padded, at the end of `out`.
fn push_hex(out: &mut String, v: u64, digits: u32) {
    for i in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((v >> (4 * i)) & 0xf) as usize] as char);
    }
}

impl SmState {
    pub fn new(app_id: String, record_limit: usize) -> Self {
        Self {
            app_id,
            active: false,
            app_tokens: HashMap::new(),
            tickets: HashMap::new(),
            conns: BTreeMap::new(),
            infos: Ring::new(record_limit),
            next_socket: 0,
            envelopes: Ring::new(record_limit),
            acks: Ring::new(record_limit),
            open_calls: Ring::new(record_limit),
            rejections: VecDeque::new(),
            rate_window: VecDeque::new(),
            expired_attempts: 0,
            #[cfg(feature = "blast")]
            blast_reports: Ring::new(record_limit),
            http_tx: None,
            queue: VecDeque::new(),
            pending: HashMap::new(),
            timers: BinaryHeap::new(),
            timers_set: 0,
            redeliveries: 0,
            rr: 0,
            next_seq: 0,
            queue_cap: record_limit,
            frame_hint: 0,
        }
    }

    /// Issues an app-level token (`xapp-1-<app id>-…`).
    pub fn issue_app_token(&mut self, connections_write: bool) -> String {
        let token = format!(
            "xapp-1-{}-{:013}-{}",
            self.app_id,
            random_u64() % 10_000_000_000_000,
            random_alnum(64).to_ascii_lowercase()
        );
        self.app_tokens
            .insert(token.clone(), AppTokenRecord { active: true, revoked: false, connections_write });
        token
    }

    /// The record of envelope `seq`, if still kept. Envelope numbers are consecutive, so it is
    /// found by its place, not by a walk over the records.
    pub fn record(&self, seq: u64) -> Option<&EnvelopeRecord> {
        let first = self.envelopes.iter().next()?.seq;
        self.envelopes.get(usize::try_from(seq.checked_sub(first)?).ok()?).filter(|r| r.seq == seq)
    }

    /// [`SmState::record`], to change.
    pub fn record_mut(&mut self, seq: u64) -> Option<&mut EnvelopeRecord> {
        let first = self.envelopes.iter().next()?.seq;
        self.envelopes.get_mut(usize::try_from(seq.checked_sub(first)?).ok()?).filter(|r| r.seq == seq)
    }

    fn set_timer(&mut self, at: Instant, timer: Timer) {
        self.timers_set += 1;
        self.timers.push(Reverse(TimerAt { at, n: self.timers_set, timer }));
    }

    /// How many sockets are open (refused ones never count).
    pub fn open_count(&self) -> usize {
        self.conns.len()
    }

    /// Makes an envelope and delivers it (or queues it). Returns its number.
    pub fn enqueue(
        &mut self,
        config: &SocketModeServerConfig,
        envelope_type: &str,
        payload: serde_json::Value,
        event_id: Option<String>,
    ) -> u64 {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.envelopes.push(EnvelopeRecord {
            seq,
            envelope_type: envelope_type.to_owned(),
            event_id,
            payload,
            created_at: Instant::now(),
            attempts: Vec::new(),
            acked: false,
            gave_up: false,
        });
        if let Some(tx) = &self.http_tx {
            if tx.try_send(seq).is_err() {
                tracing::warn!(seq, "Request URL delivery queue full: envelope given up");
                if let Some(r) = self.envelopes.iter_mut().next_back() {
                    r.gave_up = true;
                }
            }
            return seq;
        }
        self.dispatch(config, seq);
        seq
    }

    /// Delivers an envelope to one accepting socket, or queues it when there is none.
    pub fn dispatch(&mut self, config: &SocketModeServerConfig, seq: u64) {
        let open = self.conns.values().filter(|c| c.accepting).count();
        if open == 0 {
            if self.queue.len() >= self.queue_cap {
                self.queue.pop_front();
            }
            self.queue.push_back(seq);
            return;
        }
        let pick = match config.dispatch {
            Dispatch::RoundRobin => {
                self.rr = self.rr.wrapping_add(1);
                (self.rr as usize) % open
            }
            Dispatch::Random => (random_u64() as usize) % open,
        };
        // The pick-th accepting socket, in id order.
        let Some(socket) = self.conns.iter().filter(|(_, c)| c.accepting).map(|(id, _)| *id).nth(pick) else {
            return;
        };
        let frame_hint = self.frame_hint;
        let Some(record) = self.record_mut(seq) else { return };
        let retry_attempt = record.attempts.len() as u32;
        let id = envelope_id();
        // Written from the record (the payload is not copied first), keys in the same order
        // as a `json!` object's.
        let frame = Frame {
            accepts_response_payload: record.envelope_type != "events_api",
            envelope_id: &id,
            payload: &record.payload,
            retry_attempt,
            retry_reason: if retry_attempt == 0 { "" } else { "timeout" },
            envelope_type: &record.envelope_type,
        };
        let mut buf = Vec::with_capacity(frame_hint);
        if serde_json::to_writer(&mut buf, &frame).is_err() {
            buf.clear();
        }
        let frame = buf;
        let now = Instant::now();
        record.attempts.push(DeliveryAttempt {
            envelope_id: id.clone(),
            retry_attempt,
            socket,
            sent_at: now,
            acked_at: None,
        });
        let redeliver = record.envelope_type == "events_api";
        self.frame_hint = frame.len();
        if retry_attempt > 0 {
            self.redeliveries += 1;
        }
        if let Some(conn) = self.conns.get(&socket) {
            match conn.tx.try_send(SmCmd::Deliver(Bytes::from(frame))) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => conn.overflow.notify_one(),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.pending.insert(id.clone(), Pending { seq, sent_at: now, redeliver });
        self.set_timer(now + config.ack_timeout, Timer::AckDeadline(id));
    }

    /// A socket said `hello`: it accepts envelopes; the queued ones go out.
    pub fn accept(&mut self, config: &SocketModeServerConfig, socket: SocketId) {
        if let Some(c) = self.conns.get_mut(&socket) {
            c.accepting = true;
        }
        while let Some(seq) = self.queue.pop_front() {
            self.dispatch(config, seq);
        }
    }

    /// Records an ack. Returns the envelope's number when this is its first ack, with
    /// whether that ack came after the deadline.
    pub fn on_ack(
        &mut self,
        config: &SocketModeServerConfig,
        socket: SocketId,
        envelope_id: &str,
        payload: Option<serde_json::Value>,
    ) -> Option<(u64, bool)> {
        let now = Instant::now();
        // An ack that comes after the deadline is late even if the deadline's timer has not
        // run yet (a busy machine): like Slack, the retry it owed is made first.
        if self.pending.get(envelope_id).is_some_and(|p| now.duration_since(p.sent_at) > config.ack_timeout) {
            self.on_deadline(config, envelope_id, now);
        }
        let pending = self.pending.remove(envelope_id);
        let late = pending.is_none();
        let seq = pending.as_ref().map(|p| p.seq);
        let mut delay = pending.map(|p| now.duration_since(p.sent_at));
        let found = match seq {
            Some(seq) => self.record_mut(seq),
            None => self
                .envelopes
                .iter_mut()
                .rev()
                .find(|r| r.attempts.iter().any(|a| a.envelope_id == envelope_id)),
        };
        let mut first = None;
        if let Some(record) = found {
            if !record.acked {
                first = Some(record.seq);
            }
            record.acked = true;
            if let Some(a) = record.attempts.iter_mut().find(|a| a.envelope_id == envelope_id) {
                a.acked_at.get_or_insert(now);
                delay.get_or_insert(now.duration_since(a.sent_at));
            }
        }
        let late = late && delay.is_some();
        self.acks.push(AckRecord {
            envelope_id: envelope_id.to_owned(),
            socket,
            at: now,
            delay,
            late,
            payload,
        });
        first.map(|seq| (seq, late))
    }

    /// `id`'s ack deadline passed without an ack: its retry is scheduled (or Slack gives up).
    fn on_deadline(&mut self, config: &SocketModeServerConfig, id: &str, now: Instant) {
        let Some(p) = self.pending.remove(id) else { return };
        if !p.redeliver {
            return;
        }
        let Some(record) = self.record_mut(p.seq) else { return };
        let retries_done = record.attempts.len().saturating_sub(1);
        match config.retry_delays.get(retries_done) {
            Some(delay) if !record.acked => {
                let at = now + *delay;
                self.set_timer(at, Timer::Redeliver(p.seq));
            }
            Some(_) => {}
            None => record.gave_up = !record.acked,
        }
    }

    /// The earliest timer, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|t| t.0.at)
    }

    /// Fires the timers due at `now`: missed ack deadlines schedule redeliveries; due
    /// redeliveries are dispatched.
    pub fn fire_timers(&mut self, config: &SocketModeServerConfig, now: Instant) {
        let mut due = Vec::new();
        while self.timers.peek().is_some_and(|t| t.0.at <= now) {
            if let Some(Reverse(t)) = self.timers.pop() {
                due.push(t.timer);
            }
        }
        for timer in due {
            match timer {
                Timer::AckDeadline(id) => self.on_deadline(config, &id, now),
                Timer::Redeliver(seq) => self.dispatch(config, seq),
            }
        }
    }
}

/// An envelope as sent: the same keys, in the same order, as the `json!` object it was.
#[derive(serde::Serialize)]
struct Frame<'a> {
    accepts_response_payload: bool,
    envelope_id: &'a str,
    payload: &'a serde_json::Value,
    retry_attempt: u32,
    retry_reason: &'a str,
    #[serde(rename = "type")]
    envelope_type: &'a str,
}

/// `Some(event_id)`: a new Events API event id (`Ev…`).
pub(crate) fn event_id() -> String {
    let mut id = String::with_capacity(12);
    id.push_str("Ev");
    push_random_alnum(&mut id, 10, true);
    id
}

/// The `event_callback` wrapper of an `events_api` payload.
///
/// Built field by field, moving `event` in: `json!` would copy the event (and every string)
/// through `serde_json::to_value` first (a deep copy per event, then dropped).
pub(crate) fn event_callback(
    team_id: &str,
    app_id: &str,
    bot_user: &str,
    event_id: &str,
    event: serde_json::Value,
) -> serde_json::Value {
    use serde_json::{Map, Value};
    let event_time =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let s = |v: &str| Value::String(v.to_owned());
    let mut authorization = Map::new();
    authorization.insert("enterprise_id".into(), Value::Null);
    authorization.insert("team_id".into(), s(team_id));
    authorization.insert("user_id".into(), s(bot_user));
    authorization.insert("is_bot".into(), Value::Bool(true));
    authorization.insert("is_enterprise_install".into(), Value::Bool(false));
    let mut payload = Map::new();
    payload.insert("token".into(), s("emulatorverificationtoken"));
    payload.insert("team_id".into(), s(team_id));
    payload.insert("api_app_id".into(), s(app_id));
    payload.insert("event".into(), event);
    payload.insert("type".into(), s("event_callback"));
    payload.insert("event_id".into(), s(event_id));
    payload.insert("event_time".into(), Value::from(event_time));
    payload.insert("authorizations".into(), Value::Array(vec![Value::Object(authorization)]));
    payload.insert("is_ext_shared_channel".into(), Value::Bool(false));
    let mut context = String::with_capacity(42);
    context.push_str("4-");
    push_random_alnum(&mut context, 40, false);
    payload.insert("event_context".into(), Value::String(context));
    Value::Object(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn an_ack_after_the_deadline_is_late_even_before_the_deadline_timer_ran() {
        let config = SocketModeServerConfig::default().ack_timeout(Duration::from_micros(1));
        let mut sm = SmState::new("A1".into(), 100);
        let (tx, _rx) = mpsc::channel(8);
        sm.conns.insert(SocketId(1), SmConn { tx, overflow: Arc::new(Notify::new()), accepting: true });
        sm.enqueue(&config, "events_api", json!({"event_id": "Ev1"}), Some("Ev1".into()));
        let id = sm.envelopes.iter().next().unwrap().attempts[0].envelope_id.clone();
        std::thread::sleep(Duration::from_millis(2));
        // The ack is read before the deadline's timer ran: the retry is still owed.
        sm.on_ack(&config, SocketId(1), &id, None);
        assert!(sm.timers.iter().any(|t| matches!(t.0.timer, Timer::Redeliver(1))), "{:?}", sm.timers);
        assert!(sm.acks.iter().next().unwrap().delay.unwrap() > config.ack_timeout);
    }

    #[test]
    fn records_are_found_by_number_after_old_ones_were_dropped_and_redeliveries_are_counted() {
        let config = SocketModeServerConfig::default()
            .ack_timeout(Duration::from_millis(10))
            .retry_delays(vec![Duration::ZERO]);
        let mut sm = SmState::new("A1".into(), 3);
        let (tx, mut rx) = mpsc::channel(64);
        sm.conns.insert(SocketId(1), SmConn { tx, overflow: Arc::new(Notify::new()), accepting: true });
        for i in 1..=5u64 {
            let seq = sm.enqueue(&config, "events_api", json!({"event_id": format!("Ev{i}")}), None);
            assert_eq!(seq, i);
        }
        // The ring keeps the last 3: 3, 4, 5.
        assert!(sm.record(1).is_none() && sm.record(2).is_none() && sm.record(6).is_none());
        assert_eq!((sm.record(3).unwrap().seq, sm.record_mut(5).unwrap().seq), (3, 5));
        // The frame as it went out: every key, the payload as it was made.
        let Some(SmCmd::Deliver(frame)) = rx.try_recv().ok() else { panic!("no frame") };
        let frame: serde_json::Value = serde_json::from_slice(&frame).unwrap();
        assert_eq!(frame["payload"]["event_id"], "Ev1");
        assert_eq!((frame["type"].as_str(), frame["retry_attempt"].as_u64()), (Some("events_api"), Some(0)));
        assert_eq!(
            (frame["retry_reason"].as_str(), frame["accepts_response_payload"].as_bool()),
            (Some(""), Some(false))
        );
        // Ack 4; the deadlines of 3 and 5 pass, their redeliveries (due at once) go out.
        let id4 = sm.record(4).unwrap().attempts[0].envelope_id.clone();
        assert_eq!(sm.on_ack(&config, SocketId(1), &id4, None), Some((4, false)));
        let t = Instant::now() + Duration::from_millis(20);
        sm.fire_timers(&config, t);
        assert_eq!(sm.redeliveries, 0, "a deadline schedules the redelivery, it does not send it");
        sm.fire_timers(&config, t);
        assert_eq!(sm.redeliveries, 2);
        assert_eq!(sm.record(3).unwrap().attempts.len(), 2);
        assert_eq!(sm.record(4).unwrap().attempts.len(), 1);
    }

    #[test]
    fn the_event_callback_has_every_field_of_slacks_wrapper() {
        let event = json!({"type": "message", "text": "hi", "channel": "C1"});
        let p = event_callback("T1", "A1", "U1", "Ev1", event.clone());
        let context = p["event_context"].as_str().unwrap().to_owned();
        let time = p["event_time"].as_u64().unwrap();
        assert!(context.starts_with("4-") && context.len() == 42, "{context}");
        let expected = json!({
            "token": "emulatorverificationtoken", "team_id": "T1", "api_app_id": "A1", "event": event,
            "type": "event_callback", "event_id": "Ev1", "event_time": time,
            "authorizations": [{"enterprise_id": null, "team_id": "T1", "user_id": "U1", "is_bot": true,
                                "is_enterprise_install": false}],
            "is_ext_shared_channel": false, "event_context": context,
        });
        assert_eq!(p, expected);
        assert!(context[2..].bytes().all(|b| b.is_ascii_alphanumeric()), "{context}");
    }

    #[test]
    fn ids_have_slacks_shapes() {
        // The envelope id: a version-4 UUID's text, as `format!` writes it.
        for (a, b) in [(0, 0), (u64::MAX, u64::MAX), (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)]
            .into_iter()
            .chain((0..100).map(|_| (random_u64(), random_u64())))
        {
            let expected = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                0x8000 | (b >> 48) & 0x3fff,
                b & 0xffff_ffff_ffff
            );
            assert_eq!(envelope_id_of(a, b), expected);
        }
        // The event id: `Ev` and ten upper-case letters or digits, a new one each time.
        let id = event_id();
        assert!(id.len() == 12 && id.starts_with("Ev"), "{id}");
        assert!(id[2..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{id}");
        assert_ne!(event_id(), id);
    }

    #[test]
    fn the_next_deadline_is_the_earliest_and_only_due_timers_fire() {
        let config = SocketModeServerConfig::default().retry_delays(vec![Duration::ZERO]);
        let mut sm = SmState::new("A1".into(), 10);
        assert_eq!(sm.next_deadline(), None);
        let t0 = Instant::now();
        for ms in [30u64, 10, 20] {
            sm.set_timer(t0 + Duration::from_millis(ms), Timer::Redeliver(ms));
        }
        assert_eq!(sm.next_deadline(), Some(t0 + Duration::from_millis(10)));
        sm.fire_timers(&config, t0 + Duration::from_millis(15));
        assert_eq!(sm.next_deadline(), Some(t0 + Duration::from_millis(20)));
        sm.fire_timers(&config, t0 + Duration::from_millis(30));
        assert_eq!(sm.next_deadline(), None);
    }
}
