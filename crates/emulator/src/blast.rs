//! Blast mode: realistic `message` events pre-encoded as complete WebSocket frames.
//!
//! A small set of templates (300–600 bytes each, with `blocks`, `client_msg_id`, `team`,
//! `event_ts`) is encoded once at start, WebSocket header included. Keys come in the order
//! Slack sends them (`client_msg_id`, `type`, `text`, `user`, `ts`, `blocks`, `team`, `channel`,
//! `event_ts`), or, with [`crate::EmulatorConfig::blast_type_last`], sorted (`type` after `blocks`
//! and `text`: the worst case for a client that looks for `type` before decoding). Sending an event is one
//! `memcpy` of a template into the output buffer and a patch of fixed-width digits in place: the
//! `ts`/`event_ts` (from the workspace clock, so every event is unique and increasing) and the
//! tail of `client_msg_id`. The emulator is never the bottleneck of a benchmark.
//!
//! With [`crate::EmulatorConfig::blast_slack_shapes`], the templates are instead the shapes of
//! real Slack messages (files, attachments, edits, thread replies, bot messages; see
//! `blast_shapes.rs`).

use crate::wire::encode_frame_head;
use crate::workspace::TsClock;
use fastwebsockets::OpCode;
use serde::Serialize;

/// A blast event with its keys in Slack's order (a `serde_json::Value` map sorts them).
#[derive(Serialize)]
struct SlackOrder<'a> {
    client_msg_id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    text: &'a str,
    user: &'a str,
    ts: &'a str,
    blocks: &'a serde_json::Value,
    team: &'a str,
    channel: &'a str,
    event_ts: &'a str,
}

/// Width of a patched timestamp `"SSSSSSSSSS.FFFFFF"`.
pub(crate) const TS_WIDTH: usize = 17;
pub(crate) const TS_PLACEHOLDER: &str = "9999999999.999999";
pub(crate) const ID_PLACEHOLDER: &str = "ffffffffffff";
pub(crate) const TEMPLATES: usize = 16;

struct Template {
    /// Header + payload.
    frame: Vec<u8>,
    /// Offsets (in `frame`) of the two timestamps and the id tail, if any.
    ts_at: [usize; 2],
    id_at: Option<usize>,
}

impl Template {
    /// Encodes a payload whose `ts` and `event_ts` are [`TS_PLACEHOLDER`]s.
    fn new(payload: &str) -> Self {
        let mut frame = Vec::with_capacity(payload.len() + 4);
        encode_frame_head(&mut frame, OpCode::Text, payload.len());
        let head = frame.len();
        frame.extend_from_slice(payload.as_bytes());
        let mut ts_at = [0usize; 2];
        let mut found = payload.match_indices(TS_PLACEHOLDER).map(|(at, _)| head + at);
        ts_at[0] = found.next().unwrap_or(head);
        ts_at[1] = found.next().unwrap_or(ts_at[0]);
        let id_at = payload.find(ID_PLACEHOLDER).map(|at| head + at);
        Template { frame, ts_at, id_at }
    }
}

/// Which frames a blast sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlastShape {
    /// The plain template, keys in Slack's order.
    Template,
    /// The plain template, keys sorted (`type` late).
    TypeLast,
    /// The shapes of real Slack messages.
    SlackShapes,
}

impl BlastShape {
    /// The shape a configuration asks for.
    pub(crate) fn of(config: &crate::EmulatorConfig) -> Self {
        if config.blast_slack_shapes {
            BlastShape::SlackShapes
        } else if config.blast_type_last {
            BlastShape::TypeLast
        } else {
            BlastShape::Template
        }
    }
}

/// The pre-encoded templates.
pub(crate) struct Blast {
    templates: Vec<Template>,
}

const WORDS: &[&str] = &[
    "deploy", "finished", "on", "staging", "please", "review", "the", "pull", "request", "before", "lunch",
    "metrics", "look", "good", "latency", "is", "down", "after", "the", "cache", "change", "thanks",
];

impl Blast {
    /// Builds the templates for messages by `user` in `channel` of `team`, in `shape`.
    pub fn new(team: &str, channel: &str, user: &str, shape: BlastShape) -> Self {
        if shape == BlastShape::SlackShapes {
            let templates =
                crate::blast_shapes::payloads(team, channel, user).iter().map(|p| Template::new(p)).collect();
            return Self { templates };
        }
        let type_last = shape == BlastShape::TypeLast;
        let mut templates = Vec::with_capacity(TEMPLATES);
        for i in 0..TEMPLATES {
            let payload = message_json(i, team, channel, user, type_last);
            templates.push(Template::new(&payload));
        }
        Self { templates }
    }

    /// Sizes of the encoded payloads (for tests and docs).
    #[cfg(test)]
    pub fn payload_sizes(&self) -> Vec<usize> {
        self.templates.iter().map(|t| t.frame.len() - if t.frame.len() > 127 { 4 } else { 2 }).collect()
    }

    /// Appends events number `first_seq..first_seq + n` (their order in this blast) to `out`,
    /// taking their timestamps from `clock`.
    pub fn write(&self, out: &mut Vec<u8>, clock: &TsClock, first_seq: u64, n: u64) {
        if n == 0 || self.templates.is_empty() {
            return;
        }
        let first_ts = clock.reserve(n);
        for k in 0..n {
            let seq = first_seq + k;
            let t = &self.templates[(seq % self.templates.len() as u64) as usize];
            let start = out.len();
            out.extend_from_slice(&t.frame);
            let frame = &mut out[start..];
            let ts = first_ts + k;
            for at in t.ts_at {
                write_ts(&mut frame[at..at + TS_WIDTH], ts);
            }
            if let Some(at) = t.id_at {
                write_hex(&mut frame[at..at + ID_PLACEHOLDER.len()], seq);
            }
        }
    }
}

/// The JSON of blast `message` number `i` (of [`TEMPLATES`] shapes) with the placeholders
/// [`TS_PLACEHOLDER`] (`ts`, `event_ts`) and [`ID_PLACEHOLDER`] (the tail of `client_msg_id`);
/// keys in Slack's order, or sorted (`type` late) if `type_last`. Shared with the envelope
/// blast of Socket Mode.
pub(crate) fn message_json(i: usize, team: &str, channel: &str, user: &str, type_last: bool) -> String {
    // Text of about 10..=125 characters: frames land between ~300 and ~600 bytes.
    let target = 10 + i * 7;
    let mut text = String::with_capacity(target + 16);
    let mut w = i;
    while text.len() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(WORDS[w % WORDS.len()]);
        w += 7;
    }
    let client_msg_id = format!("5c0ffee0-{:04x}-4000-8000-{ID_PLACEHOLDER}", i);
    let blocks = serde_json::json!([{
        "type": "rich_text",
        "block_id": format!("b{i:03}"),
        "elements": [{
            "type": "rich_text_section",
            "elements": [{"type": "text", "text": text}]
        }]
    }]);
    let event = SlackOrder {
        client_msg_id: &client_msg_id,
        kind: "message",
        text: &text,
        user,
        ts: TS_PLACEHOLDER,
        blocks: &blocks,
        team,
        channel,
        event_ts: TS_PLACEHOLDER,
    };
    if type_last {
        // Through a Value: its map sorts the keys.
        serde_json::to_value(&event).map(|v| v.to_string())
    } else {
        serde_json::to_string(&event)
    }
    .unwrap_or_default()
}

/// Writes `"SSSSSSSSSS.FFFFFF"` (exactly 17 bytes) for a clock value.
pub(crate) fn write_ts(dst: &mut [u8], v: u64) {
    let mut secs = v / 1_000_000;
    let mut frac = v % 1_000_000;
    for i in (11..17).rev() {
        dst[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    dst[10] = b'.';
    for i in (0..10).rev() {
        dst[i] = b'0' + (secs % 10) as u8;
        secs /= 10;
    }
}

pub(crate) fn write_hex(dst: &mut [u8], mut v: u64) {
    const HEX: &[u8] = b"0123456789abcdef";
    for b in dst.iter_mut().rev() {
        *b = HEX[(v & 0xf) as usize];
        v >>= 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_slack_order_or_type_last() {
        for (type_last, first_keys) in [(false, r#"{"client_msg_id":"5c0ffee0-"#), (true, r#"{"blocks":[{"#)]
        {
            let shape = if type_last { BlastShape::TypeLast } else { BlastShape::Template };
            let b = Blast::new("T0EMU00001", "C0EMU00001", "U0EMU00004", shape);
            for t in &b.templates {
                let head = if t.frame[1] == 126 { 4 } else { 2 };
                let payload = std::str::from_utf8(&t.frame[head..]).unwrap();
                assert!(payload.starts_with(first_keys), "{payload}");
                let type_at = payload.find(r#""type":"message""#).unwrap();
                let text_at = payload.find(r#","text":""#).unwrap();
                assert_eq!(type_at > text_at, type_last, "{payload}");
            }
        }
    }

    #[test]
    fn templates_are_realistic_and_patched() {
        for shape in [BlastShape::Template, BlastShape::TypeLast] {
            let b = Blast::new("T0EMU00001", "C0EMU00001", "U0EMU00004", shape);
            for size in b.payload_sizes() {
                assert!((300..=600).contains(&size), "{size} in {:?}", b.payload_sizes());
            }
            check_templates(b, true);
        }
        // The Slack shapes: from ~450 bytes to ~2 KB; bot messages have no `client_msg_id`.
        check_templates(Blast::new("T0EMU00001", "C0EMU00001", "U0EMU00004", BlastShape::SlackShapes), false);
    }

    fn check_templates(b: Blast, every_one_has_an_id: bool) {
        let clock = TsClock::default();
        let mut out = Vec::new();
        b.write(&mut out, &clock, 0, 20);
        // Parse the frames back.
        let mut rest = &out[..];
        let mut seen = Vec::new();
        while !rest.is_empty() {
            assert_eq!(rest[0], 0x81);
            let (len, head) = match rest[1] {
                126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
                n => (n as usize, 2),
            };
            let v: serde_json::Value = serde_json::from_slice(&rest[head..head + len]).unwrap();
            assert_eq!(v["ts"], v["event_ts"]);
            assert_eq!(v["type"], "message");
            if every_one_has_an_id {
                assert!(v["blocks"].is_array());
            }
            let id = v["client_msg_id"].as_str().map(str::to_owned);
            assert!(id.is_some() || !every_one_has_an_id);
            seen.push((
                v["ts"].as_str().unwrap().to_owned(),
                id.unwrap_or_else(|| format!("none{}", seen.len())),
            ));
            rest = &rest[head + len..];
        }
        assert_eq!(seen.len(), 20);
        for w in seen.windows(2) {
            assert!(w[0].0 < w[1].0, "{w:?}");
            assert_ne!(w[0].1, w[1].1);
        }
    }
}
