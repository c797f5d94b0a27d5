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
    match flat_reply_to(text.as_bytes()) {
        Flat::Found(id) => Some(id),
        Flat::Absent => None,
        Flat::Unsure => serde_json::from_str::<ReplyTo>(text).ok().map(|r| r.reply_to),
    }
}

/// Whether `v` is a JSON number or literal (`true`, `false`, `null`).
fn is_scalar(v: &[u8]) -> bool {
    if matches!(v, b"true" | b"false" | b"null") {
        return true;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while v.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    let mut i = usize::from(v.first() == Some(&b'-'));
    if v.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return false;
    }
    if v.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(v.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(v.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == v.len()
}

/// What the flat scan found.
#[derive(Debug, PartialEq)]
enum Flat {
    Found(u64),
    Absent,
    /// Not a flat object of plain keys and scalars, or a second `reply_to`: serde decides.
    Unsure,
}

/// Reads a pong as Slack and the emulator write it — one object of unescaped keys and scalar
/// values (the echoed `time`) — without serde; anything else is [`Flat::Unsure`].
fn flat_reply_to(b: &[u8]) -> Flat {
    let ws = |i: &mut usize| {
        while b.get(*i).is_some_and(|c| c.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    let mut i = 0;
    ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return Flat::Unsure;
    }
    i += 1;
    let mut found = None;
    loop {
        ws(&mut i);
        if b.get(i) != Some(&b'"') {
            return Flat::Unsure;
        }
        let key_start = i + 1;
        let Some(len) = b[key_start..].iter().position(|&c| c == b'"' || c == b'\\') else {
            return Flat::Unsure;
        };
        if b[key_start + len] != b'"' {
            return Flat::Unsure;
        }
        let key = &b[key_start..key_start + len];
        i = key_start + len + 1;
        ws(&mut i);
        if b.get(i) != Some(&b':') {
            return Flat::Unsure;
        }
        i += 1;
        ws(&mut i);
        let value_start = i;
        match b.get(i) {
            Some(b'"') => {
                // Plain strings only: an escape or a control character is serde's to judge.
                let Some(len) = b[i + 1..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20) else {
                    return Flat::Unsure;
                };
                if b[i + 1 + len] != b'"' {
                    return Flat::Unsure;
                }
                i += len + 2;
            }
            Some(_) => {
                while b.get(i).is_some_and(|&c| c != b',' && c != b'}' && !c.is_ascii_whitespace()) {
                    i += 1;
                }
                if !is_scalar(&b[value_start..i]) {
                    return Flat::Unsure;
                }
            }
            None => return Flat::Unsure,
        }
        if key == b"reply_to" {
            let digits = &b[value_start..i];
            let id = std::str::from_utf8(digits).ok().filter(|d| d.bytes().all(|c| c.is_ascii_digit()));
            match (found, id.and_then(|d| d.parse::<u64>().ok())) {
                (None, Some(id)) if !digits.is_empty() && (digits.len() == 1 || digits[0] != b'0') => {
                    found = Some(id)
                }
                _ => return Flat::Unsure,
            }
        }
        ws(&mut i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {
                i += 1;
                ws(&mut i);
                return match (i == b.len(), found) {
                    (true, Some(id)) => Flat::Found(id),
                    (true, None) => Flat::Absent,
                    (false, _) => Flat::Unsure,
                };
            }
            _ => return Flat::Unsure,
        }
    }
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
    fn the_flat_scan_agrees_with_serde_or_leaves_it_to_serde() {
        use super::{Flat, flat_reply_to};
        #[derive(serde::Deserialize)]
        struct ReplyTo {
            reply_to: u64,
        }
        let cases = [
            r#"{"type":"pong","reply_to":7,"time":1733}"#,
            r#"{"reply_to":12,"time":5,"type":"pong"}"#,
            r#" { "reply_to" : 3 , "type" : "pong" } "#,
            r#"{"type":"pong","time":"a \"quoted\" , } string","reply_to":4}"#,
            r#"{"type":"pong","time":1}"#,
            r#"{"type":"pong","reply_to":"7"}"#,
            r#"{"type":"pong","reply_to":-1}"#,
            r#"{"type":"pong","reply_to":1.5}"#,
            r#"{"type":"pong","reply_to":07}"#,
            r#"{"type":"pong","reply_to":18446744073709551616}"#,
            r#"{"type":"pong","reply_to":1,"reply_to":2}"#,
            r#"{"type":"pong","time":{"reply_to":9},"reply_to":1}"#,
            r#"{"type":"pong","reply_to":1}trailing"#,
            r#"{"type":"pong","reply_to":1"#,
            r#"{"ty\u0070e":"pong","reply_to":1}"#,
            r#"{"type":"pong","time":tru,"reply_to":1}"#,
            r#"{"type":"pong","time":1-2,"reply_to":1}"#,
            r#"{"type":"pong","time":-0.5e+3,"ok":true,"x":null,"reply_to":1}"#,
            r#"{"type":"pong","time":01,"reply_to":1}"#,
            r#"{"type":"pong","time":1.,"reply_to":1}"#,
            "{\"type\":\"po\tng\",\"reply_to\":1}",
            r#"[1]"#,
            "",
        ];
        for text in cases {
            let serde = serde_json::from_str::<ReplyTo>(text).ok().map(|r| r.reply_to);
            match flat_reply_to(text.as_bytes()) {
                Flat::Found(id) => assert_eq!(Some(id), serde, "{text}"),
                Flat::Absent => assert_eq!(None, serde, "{text}"),
                Flat::Unsure => {}
            }
            assert_eq!(reply_to(text), serde, "{text}");
        }
        assert_eq!(flat_reply_to(br#"{"reply_to":12,"time":5,"type":"pong"}"#), Flat::Found(12));
        assert_eq!(flat_reply_to(br#"{"type":"pong","reply_to":7,"time":1733}"#), Flat::Found(7));
    }

    proptest::proptest! {
        /// Objects of random members (keys, scalars, nested values, broken pieces), sometimes
        /// cut short: whatever the flat scan answers, serde agrees.
        #[test]
        fn the_flat_scan_never_contradicts_serde(
            members in proptest::collection::vec((0usize..5, 0usize..16, proptest::bool::ANY), 0..5),
            cut in proptest::option::of(0usize..64),
        ) {
            use super::{Flat, flat_reply_to};
            const KEYS: [&str; 5] = ["\"reply_to\"", "\"type\"", "\"time\"", "\"a\\\"b\"", "\"\""];
            const VALUES: [&str; 16] = [
                "7", "0", "12", "-3", "1.5", "2e3", "07", "1-2", "18446744073709551616", "\"pong\"",
                "\"a\\\"b\"", "true", "nul", "{\"reply_to\":9}", "[1]", "\"",
            ];
            let body: Vec<String> = members
                .iter()
                .map(|&(k, v, space)| {
                    let sp = if space { " " } else { "" };
                    format!("{sp}{}{sp}:{sp}{}{sp}", KEYS[k], VALUES[v])
                })
                .collect();
            let mut text = format!("{{{}}}", body.join(","));
            if let Some(at) = cut.filter(|&at| at < text.len()) {
                text.truncate(at);
            }
            let serde = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(o)) => Some(o.get("reply_to").and_then(serde_json::Value::as_u64)),
                _ => None,
            };
            match flat_reply_to(text.as_bytes()) {
                Flat::Found(id) => proptest::prop_assert_eq!(serde, Some(Some(id)), "{}", text),
                Flat::Absent => proptest::prop_assert_eq!(serde, Some(None), "{}", text),
                Flat::Unsure => {}
            }
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
