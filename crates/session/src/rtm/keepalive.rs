//! Keepalive: any frame is liveness; an application-level `ping` after
//! [`KeepaliveConfig::idle_ping`](super::KeepaliveConfig::idle_ping) of silence (when it is due
//! is in the timer table, `timer.rs`).
//!
//! Thousands of idle sessions in one process each send a ping and read its `pong` every
//! interval, so both ends are kept cheap: the ping's text is written directly (the same frame
//! [`encode_client_message`](slack_rtm_codec::encode_client_message) makes, checked by a test),
//! and the keepalive's own `pong` is matched by its `reply_to` alone, without building the
//! echoed fields an application's ping needs.

use super::conn::{ConnPhase, FlightKind, InFlight};
use super::{ConnId, RtmOutput, Session};
use slack_rtm_codec::EventFrame;
use std::time::Instant;

impl Session {
    /// Records liveness; `false` if the connection is unknown.
    pub(super) fn touch(&mut self, id: ConnId, now: Instant) -> bool {
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

    pub(super) fn send_ping(&mut self, now: Instant) {
        let millis = u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX);
        let deadline = now + self.config.keepalive.pong_timeout;
        let Some(c) = self.primary.as_mut() else { return };
        let wire = c.take_wire_id();
        let text = ping_frame(wire.get(), millis);
        // Only one keepalive ping is tracked at a time.
        c.in_flight.retain(|_, f| !matches!(f.kind, FlightKind::Ping));
        c.in_flight.insert(wire.get(), InFlight { kind: FlightKind::Ping, written: false, deadline });
        c.ping = Some((wire.get(), deadline));
        let conn = c.id;
        self.outputs.push_back(RtmOutput::Send { conn, text, id: wire.get() });
    }

    /// Handles `frame` if it is the `pong` answering a keepalive ping of connection `id`: proof
    /// of life and the ping answered, as when it is decoded, but without decoding its echoed
    /// fields. `false` if it is anything else (decode it as usual: an application's ping wants
    /// its echoed fields, and a pong answering nothing is still liveness).
    pub(super) fn on_keepalive_pong(&mut self, id: ConnId, frame: &EventFrame, now: Instant) -> bool {
        if frame.kind() != "pong" {
            return false;
        }
        let Some(reply_to) = reply_to(frame.as_str()) else { return false };
        let Some(c) = self.conn_mut(id) else { return false };
        if !c.in_flight.get(&reply_to).is_some_and(|f| matches!(f.kind, FlightKind::Ping)) {
            return false;
        }
        c.in_flight.remove(&reply_to);
        self.touch(id, now)
    }
}

/// The keepalive ping: `{"id":…,"type":"ping","time":…}` (`time` in milliseconds since the
/// session started, echoed by the server), as
/// `encode_client_message(id, &ClientMessage::Ping(Ping::with_time(millis)))` makes it.
fn ping_frame(id: u64, millis: u64) -> String {
    format!(r#"{{"id":{id},"type":"ping","time":{millis}}}"#)
}

/// The top-level `reply_to` of a frame, if it is an unsigned integer (other fields are skipped,
/// not built).
fn reply_to(text: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct ReplyTo {
        reply_to: u64,
    }
    serde_json::from_str::<ReplyTo>(text).ok().map(|r| r.reply_to)
}

#[cfg(test)]
mod tests {
    use super::{ping_frame, reply_to};
    use slack_rtm_codec::encode_client_message;
    use slack_rtm_codec::types::ClientMessage;
    use slack_rtm_codec::types::client::Ping;
    use std::num::NonZeroU64;

    #[test]
    fn the_direct_ping_frame_is_the_encoded_ping() {
        for (id, millis) in [(1, 0), (42, 5_000), (u64::MAX, u64::MAX)] {
            let wire = NonZeroU64::new(id).unwrap();
            let encoded = encode_client_message(wire, &ClientMessage::Ping(Ping::with_time(millis))).unwrap();
            let direct = ping_frame(id, millis);
            let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
            assert_eq!(parse(&direct), parse(&encoded), "{direct} vs {encoded}");
        }
    }

    #[test]
    fn reply_to_is_read_whatever_the_other_fields() {
        assert_eq!(reply_to(r#"{"type":"pong","reply_to":7,"time":1}"#), Some(7));
        assert_eq!(reply_to(r#"{"time":{"a":[1,2]},"reply_to":8,"type":"pong"}"#), Some(8));
        assert_eq!(reply_to(r#"{"type":"pong","time":1}"#), None);
        assert_eq!(reply_to(r#"{"type":"pong","reply_to":"7"}"#), None);
        assert_eq!(reply_to(r#"{"type":"pong","reply_to":-1}"#), None);
        assert_eq!(reply_to("{nope"), None);
    }
}
