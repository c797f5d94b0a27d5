//! Envelope blast: realistic `events_api` envelopes (a `message` event in Slack's
//! `event_callback` wrapper, about 0.9–1.3 KB) pre-encoded as complete WebSocket frames, written
//! to each Socket Mode socket after `hello`, as fast as the socket takes them or at a set rate,
//! with the ack latency of every envelope recorded (from the frame written to the ack read).
//!
//! Sending an envelope is one `memcpy` of a template and a patch of fixed-width fields in
//! place: the envelope id (`SSSSSSSS-0000-4000-8000-NNNNNNNNNNNN`: the socket id and the
//! envelope's number in hex, so an ack maps back to its send time without a lookup table),
//! the event id (`Ev` + socket + number, unique in the emulator), `ts`/`event_ts` and the tail
//! of `client_msg_id`. Blast envelopes skip the delivery engine (no redelivery, no records
//! besides the per-socket [`EnvelopeBlastReport`]): the emulator is never the bottleneck.

use super::SocketId;
use crate::blast::{ID_PLACEHOLDER, TEMPLATES, TS_PLACEHOLDER, TS_WIDTH, message_json, write_hex, write_ts};
use crate::wire::encode_frame_head;
use crate::workspace::TsClock;
use fastwebsockets::OpCode;
use std::time::Duration;
use tokio::time::Instant;

/// What one socket's blast measured, published when every envelope was acked or the socket
/// closed ([`crate::Emulator::envelope_blast_reports`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeBlastReport {
    /// The socket.
    pub socket: SocketId,
    /// Envelopes written.
    pub sent: u64,
    /// Envelopes acked.
    pub acked: u64,
    /// Median ack latency (frame written to ack read).
    pub ack_p50: Duration,
    /// 99th percentile ack latency.
    pub ack_p99: Duration,
    /// Largest ack latency.
    pub ack_max: Duration,
}

const ENVELOPE_MIDDLE: &str = "-0000-4000-8000-";
const EVENT_ID_KEY: &str = r#""event_id":"Ev"#;
/// Width of the hex socket part of the envelope id / the event id.
const SOCKET_HEX: usize = 8;
const EVENT_SOCKET_HEX: usize = 3;
const EVENT_SEQ_HEX: usize = 7;
/// Envelopes written per wake-up when unpaced.
const CHUNK: u64 = 64;
/// The most envelopes one socket's blast may send (its send times are kept).
pub(crate) const MAX_BLAST: u64 = 10_000_000;

struct Template {
    frame: Vec<u8>,
    ts_at: [usize; 2],
    /// The tail of `client_msg_id`, if the event has one.
    msg_id_at: Option<usize>,
    envelope_at: usize,
    event_id_at: usize,
}

impl Template {
    /// Encodes `payload`, finding its placeholders (the envelope id is `placeholder_id`).
    fn new(payload: &str, placeholder_id: &str) -> Self {
        let mut frame = Vec::with_capacity(payload.len() + 4);
        encode_frame_head(&mut frame, OpCode::Text, payload.len());
        let head = frame.len();
        frame.extend_from_slice(payload.as_bytes());
        let mut found = payload.match_indices(TS_PLACEHOLDER).map(|(at, _)| head + at);
        let ts0 = found.next().unwrap_or(head);
        let ts1 = found.next().unwrap_or(ts0);
        Template {
            frame,
            ts_at: [ts0, ts1],
            msg_id_at: payload.find(ID_PLACEHOLDER).map(|at| head + at),
            envelope_at: payload.find(placeholder_id).map_or(head, |at| head + at),
            event_id_at: payload.find(EVENT_ID_KEY).map_or(head, |at| head + at + EVENT_ID_KEY.len()),
        }
    }
}

/// The pre-encoded envelope templates.
pub(crate) struct EnvelopeBlast {
    templates: Vec<Template>,
}

impl EnvelopeBlast {
    /// Templates of messages by `user` in `channel` of `team`, delivered to app `app_id`
    /// installed as `bot`; with `slack_shapes`, the Slack-shaped envelopes instead
    /// ([`super::blast_slack`]).
    pub fn new(team: &str, channel: &str, user: &str, app_id: &str, bot: &str, slack_shapes: bool) -> Self {
        let placeholder_id = format!("{}{ENVELOPE_MIDDLE}{}", "e".repeat(SOCKET_HEX), "e".repeat(12));
        let event_id = "E".repeat(EVENT_SOCKET_HEX + EVENT_SEQ_HEX);
        #[cfg(feature = "blast")]
        if slack_shapes {
            let envelopes =
                super::blast_slack::envelopes((&placeholder_id, &event_id), team, channel, user, app_id, bot);
            return Self { templates: envelopes.iter().map(|e| Template::new(e, &placeholder_id)).collect() };
        }
        #[cfg(not(feature = "blast"))]
        let _ = slack_shapes;
        let mut templates = Vec::with_capacity(TEMPLATES);
        for i in 0..TEMPLATES {
            let event = message_json(i, team, channel, user, false);
            let payload = format!(
                concat!(
                    r#"{{"envelope_id":"{placeholder_id}","payload":{{"token":"emulatorverificationtoken","#,
                    r#""team_id":"{team}","api_app_id":"{app_id}","event":{event},"type":"event_callback","#,
                    r#""event_id":"Ev{event_id}","event_time":1700000000,"authorizations":[{{"enterprise_id":null,"#,
                    r#""team_id":"{team}","user_id":"{bot}","is_bot":true,"is_enterprise_install":false}}],"#,
                    r#""is_ext_shared_channel":false,"event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMEVNVTAwMDAxIn0"}},"#,
                    r#""type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":""}}"#
                ),
                placeholder_id = placeholder_id,
                team = team,
                app_id = app_id,
                event = event,
                event_id = event_id,
                bot = bot,
            );
            templates.push(Template::new(&payload, &placeholder_id));
        }
        Self { templates }
    }

    /// Appends envelopes number `first..first + n` of `socket`'s blast to `out`.
    fn write(&self, out: &mut Vec<u8>, clock: &TsClock, socket: SocketId, first: u64, n: u64) {
        if n == 0 {
            return;
        }
        let first_ts = clock.reserve(n);
        for k in 0..n {
            let seq = first + k;
            let t = &self.templates[(seq % self.templates.len() as u64) as usize];
            let start = out.len();
            out.extend_from_slice(&t.frame);
            let f = &mut out[start..];
            for at in t.ts_at {
                write_ts(&mut f[at..at + TS_WIDTH], first_ts + k);
            }
            if let Some(at) = t.msg_id_at {
                write_hex(&mut f[at..at + ID_PLACEHOLDER.len()], seq);
            }
            let e = t.envelope_at;
            write_hex(&mut f[e..e + SOCKET_HEX], socket.0);
            let seq_at = e + SOCKET_HEX + ENVELOPE_MIDDLE.len();
            write_hex(&mut f[seq_at..seq_at + 12], seq);
            let v = t.event_id_at;
            write_hex(&mut f[v..v + EVENT_SOCKET_HEX], socket.0);
            write_hex(&mut f[v + EVENT_SOCKET_HEX..v + EVENT_SOCKET_HEX + EVENT_SEQ_HEX], seq);
            f[v..v + EVENT_SOCKET_HEX + EVENT_SEQ_HEX].make_ascii_uppercase();
        }
    }
}

/// The envelope number of a blast envelope id of `socket`, if it is one.
fn blast_seq(socket: SocketId, envelope_id: &str) -> Option<u64> {
    let b = envelope_id.as_bytes();
    if b.len() != SOCKET_HEX + ENVELOPE_MIDDLE.len() + 12
        || &envelope_id[SOCKET_HEX..SOCKET_HEX + ENVELOPE_MIDDLE.len()] != ENVELOPE_MIDDLE
        || u64::from_str_radix(&envelope_id[..SOCKET_HEX], 16).ok()? != socket.0
    {
        return None;
    }
    u64::from_str_radix(&envelope_id[SOCKET_HEX + ENVELOPE_MIDDLE.len()..], 16).ok()
}

/// One socket's blast: what is left to send, when each envelope was written, the latencies.
pub(crate) struct BlastRun {
    total: u64,
    /// Envelopes per second; `None`: as fast as the socket takes them.
    rate: Option<u64>,
    started: Option<Instant>,
    written: u64,
    /// `sent_at[i]`: when envelope `i` was written (stamped after the flush).
    sent_at: Vec<Instant>,
    latencies_us: Vec<u32>,
    acked: Vec<bool>,
    reported: bool,
    /// One envelope per write (and per wake-up of the socket's task), as a real server.
    one_per_write: bool,
}

impl BlastRun {
    /// A blast of `total` envelopes (at most [`MAX_BLAST`]) at `rate` per second.
    pub fn new(total: u64, rate: Option<u64>) -> Self {
        Self {
            total: total.min(MAX_BLAST),
            rate: rate.filter(|r| *r > 0),
            started: None,
            written: 0,
            sent_at: Vec::new(),
            latencies_us: Vec::new(),
            acked: Vec::new(),
            reported: false,
            one_per_write: false,
        }
    }

    /// Writes one envelope per write and per wake-up (the Slack-shaped blast) instead of up
    /// to [`CHUNK`].
    pub fn one_per_write(mut self, on: bool) -> Self {
        self.one_per_write = on;
        self
    }

    /// Whether envelopes go out one per write.
    pub fn is_one_per_write(&self) -> bool {
        self.one_per_write
    }

    /// Whether there is anything to send at all.
    pub fn active(&self) -> bool {
        self.total > 0
    }

    /// How many envelopes may be written at `now` (0 when done or ahead of the rate).
    pub fn due(&self, now: Instant) -> u64 {
        let left = self.total - self.written;
        let allowed = match (self.rate, self.started) {
            (None, _) => CHUNK,
            (Some(_), None) => 1,
            (Some(r), Some(t0)) => {
                let by_now = (now.duration_since(t0).as_secs_f64() * r as f64) as u64 + 1;
                by_now.saturating_sub(self.written)
            }
        };
        let per_write = if self.one_per_write { 1 } else { u64::MAX };
        left.min(allowed).min(per_write)
    }

    /// When the next envelope is due, if the blast is paced and not done.
    pub fn next_at(&self) -> Option<Instant> {
        let (r, t0) = (self.rate?, self.started?);
        (self.written < self.total).then(|| t0 + Duration::from_secs_f64(self.written as f64 / r as f64))
    }

    /// Writes the envelopes due at `now` to `out`.
    pub fn write(
        &mut self,
        blast: &EnvelopeBlast,
        out: &mut Vec<u8>,
        clock: &TsClock,
        socket: SocketId,
        now: Instant,
    ) {
        let n = self.due(now);
        self.started.get_or_insert(now);
        blast.write(out, clock, socket, self.written, n);
        self.written += n;
    }

    /// Stamps the envelopes written since the last call with `now` (call after a flush).
    pub fn stamp(&mut self, now: Instant) {
        let n = self.written as usize - self.sent_at.len();
        self.sent_at.extend(std::iter::repeat_n(now, n));
        self.acked.resize(self.sent_at.len(), false);
    }

    /// Takes an ack: `true` if it was for one of this blast's envelopes (then recorded).
    pub fn on_ack(&mut self, socket: SocketId, envelope_id: &str, now: Instant) -> bool {
        let Some(seq) = blast_seq(socket, envelope_id) else { return false };
        let i = seq as usize;
        if let (Some(at), Some(seen)) = (self.sent_at.get(i), self.acked.get_mut(i))
            && !*seen
        {
            *seen = true;
            let us = now.duration_since(*at).as_micros().min(u32::MAX as u128) as u32;
            self.latencies_us.push(us);
        }
        true
    }

    /// The report, once: when every envelope was acked, or (`closing`) whatever was done.
    pub fn report(&mut self, socket: SocketId, closing: bool) -> Option<EnvelopeBlastReport> {
        let done = self.latencies_us.len() as u64 == self.total;
        if self.reported || self.total == 0 || !(done || closing && self.written > 0) {
            return None;
        }
        self.reported = true;
        let mut l = std::mem::take(&mut self.latencies_us);
        l.sort_unstable();
        let pick = |q: f64| -> Duration {
            if l.is_empty() {
                return Duration::ZERO;
            }
            let at = ((l.len() as f64 * q).ceil() as usize).clamp(1, l.len()) - 1;
            Duration::from_micros(u64::from(l[at]))
        };
        Some(EnvelopeBlastReport {
            socket,
            sent: self.written,
            acked: l.len() as u64,
            ack_p50: pick(0.50),
            ack_p99: pick(0.99),
            ack_max: pick(1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(out: &[u8]) -> Vec<serde_json::Value> {
        let mut rest = out;
        let mut v = Vec::new();
        while !rest.is_empty() {
            let (len, head) = match rest[1] {
                126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
                n => (n as usize, 2),
            };
            v.push(serde_json::from_slice(&rest[head..head + len]).unwrap());
            rest = &rest[head + len..];
        }
        v
    }

    #[test]
    fn envelopes_are_realistic_unique_and_map_back_to_their_number() {
        let b =
            EnvelopeBlast::new("T0EMU00001", "C0EMU00001", "U0EMU00004", "A0EMU00001", "U0EMU00002", false);
        let mut out = Vec::new();
        let clock = TsClock::default();
        b.write(&mut out, &clock, SocketId(7), 0, 40);
        b.write(&mut out, &clock, SocketId(8), 0, 2);
        let all = frames(&out);
        assert_eq!(all.len(), 42);
        let mut ids = std::collections::HashSet::new();
        let mut events = std::collections::HashSet::new();
        for (i, env) in all.iter().enumerate() {
            let size = env.to_string().len();
            assert!((850..=1400).contains(&size), "{size}");
            assert_eq!(env["type"], "events_api");
            assert_eq!(env["payload"]["type"], "event_callback");
            assert_eq!(env["payload"]["event"]["type"], "message");
            assert_eq!(env["payload"]["event"]["ts"], env["payload"]["event"]["event_ts"]);
            let id = env["envelope_id"].as_str().unwrap();
            let socket = if i < 40 { SocketId(7) } else { SocketId(8) };
            assert_eq!(blast_seq(socket, id), Some(i as u64 % 40));
            assert_eq!(blast_seq(SocketId(9), id), None);
            let ev = env["payload"]["event_id"].as_str().unwrap();
            assert!(
                ev.starts_with("Ev") && ev.len() == 12 && ev[2..].chars().all(|c| c.is_ascii_alphanumeric())
            );
            assert!(ids.insert(id.to_owned()));
            assert!(events.insert(ev.to_owned()));
        }
        assert_eq!(blast_seq(SocketId(7), "not-an-envelope"), None);
    }

    #[test]
    fn a_run_paces_stamps_and_reports_percentiles() {
        let t0 = Instant::now();
        let mut run = BlastRun::new(100, Some(1000));
        assert_eq!(run.due(t0), 1);
        let b = EnvelopeBlast::new("T", "C", "U", "A", "B", false);
        let clock = TsClock::default();
        let mut out = Vec::new();
        run.write(&b, &mut out, &clock, SocketId(1), t0);
        assert_eq!(run.next_at(), Some(t0 + Duration::from_millis(1)));
        // 10 ms later, 10 more are due (1 per ms).
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(run.due(t1), 10);
        run.write(&b, &mut out, &clock, SocketId(1), t1);
        run.stamp(t1);
        assert_eq!(frames(&out).len(), 11);
        let mut unpaced = BlastRun::new(1000, None);
        assert_eq!(unpaced.due(t0), CHUNK);
        unpaced.write(&b, &mut Vec::new(), &clock, SocketId(1), t0);
        assert_eq!(unpaced.written, CHUNK);
        // Acks: envelope i acked (i + 1) ms after it was stamped.
        for v in frames(&out) {
            let id = v["envelope_id"].as_str().unwrap();
            let seq = blast_seq(SocketId(1), id).unwrap();
            assert!(run.on_ack(SocketId(1), id, t1 + Duration::from_millis(seq + 1)));
            // A second ack of the same envelope is not counted twice.
            assert!(run.on_ack(SocketId(1), id, t1 + Duration::from_secs(9)));
        }
        assert!(!run.on_ack(SocketId(1), "00000002-0000-4000-8000-000000000001", t1));
        assert_eq!(run.report(SocketId(1), false), None, "not done yet");
        let r = run.report(SocketId(1), true).unwrap();
        assert_eq!((r.sent, r.acked), (11, 11));
        assert_eq!(r.ack_p50, Duration::from_millis(6));
        assert_eq!(r.ack_p99, Duration::from_millis(11));
        assert_eq!(r.ack_max, Duration::from_millis(11));
        assert_eq!(run.report(SocketId(1), true), None, "reported once");
    }

    #[cfg(feature = "blast")]
    #[test]
    fn slack_shaped_envelopes_are_patched_unique_and_go_one_per_write() {
        let b =
            EnvelopeBlast::new("T0EMU00001", "C0EMU00001", "U0EMU00004", "A0EMU00001", "U0EMU00002", true);
        assert_eq!(b.templates.len(), 14);
        let mut out = Vec::new();
        let clock = TsClock::default();
        b.write(&mut out, &clock, SocketId(3), 0, 30);
        let all = frames(&out);
        assert_eq!(all.len(), 30);
        let (mut ids, mut events, mut ts) = (Vec::new(), Vec::new(), Vec::new());
        for (i, env) in all.iter().enumerate() {
            assert_eq!(env["type"], "events_api");
            let id = env["envelope_id"].as_str().unwrap();
            assert_eq!(blast_seq(SocketId(3), id), Some(i as u64));
            ids.push(id.to_owned());
            events.push(env["payload"]["event_id"].as_str().unwrap().to_owned());
            let event = &env["payload"]["event"];
            assert_eq!(event["ts"], event["event_ts"]);
            ts.push(event["ts"].as_str().unwrap().to_owned());
        }
        for v in [&mut ids, &mut events, &mut ts] {
            v.sort();
            v.dedup();
            assert_eq!(v.len(), 30);
        }
        let t0 = Instant::now();
        let run = BlastRun::new(1000, None).one_per_write(true);
        assert_eq!(run.due(t0), 1);
        let paced = BlastRun::new(1000, Some(1_000_000)).one_per_write(true);
        assert_eq!(paced.due(t0), 1);
    }
}
