//! The light scan of a Socket Mode envelope, all of it in one walk: besides the top-level
//! `type` and `envelope_id` (what [`crate::scan::top_level_strings`] finds), the span of the
//! `payload` object, `retry_attempt`, `retry_reason`, `accepts_response_payload`, and inside
//! the payload the `event_id` and the inner event's `type`.
//!
//! Like the top-level scan it tracks nesting and strings only and is never trusted for
//! validity. Whatever it cannot read exactly as serde would (an escape in a value or in a key
//! it tracks, a value of an unexpected kind, a key seen twice) makes the parts unsure: the
//! caller then reads them with serde, as before.

use crate::scan::{find_quote_or_backslash, string_end};

/// A span of the frame's text: `start..end`.
pub(crate) type Span = (usize, usize);

/// What the walk read besides `type` and `envelope_id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Parts {
    pub payload: Option<Span>,
    pub retry_attempt: u32,
    pub retry_reason: Option<Span>,
    pub accepts_response_payload: bool,
    pub event_id: Option<Span>,
    pub event_type: Option<Span>,
}

/// The result of the walk.
pub(crate) struct EnvelopeScan {
    pub kind: Option<Span>,
    pub id: Option<Span>,
    /// `None`: not read exactly (ask serde).
    pub parts: Option<Parts>,
}

/// Where a tracked object sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Payload,
    Event,
    Other,
}

/// Keys seen, one bit each (a second sighting makes the parts unsure, as serde refuses it).
const K_TYPE: u16 = 1;
const K_ID: u16 = 1 << 1;
const K_PAYLOAD: u16 = 1 << 2;
const K_ATTEMPT: u16 = 1 << 3;
const K_REASON: u16 = 1 << 4;
const K_ACCEPTS: u16 = 1 << 5;
const K_EVENT_ID: u16 = 1 << 6;
const K_EVENT: u16 = 1 << 7;
const K_EVENT_TYPE: u16 = 1 << 8;

/// Tracked nesting: the top object, the payload, the event (deeper levels are only counted).
const TRACKED: usize = 4;

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Walks the envelope in `b`. `None` if it is not an object or is cut short.
pub(crate) fn scan_envelope(b: &[u8]) -> Option<EnvelopeScan> {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut out = EnvelopeScan { kind: None, id: None, parts: None };
    let mut parts = Parts::default();
    let mut sure = true;
    let mut seen: u16 = 0;
    // Per tracked depth: its context, whether it is an object, whether a key comes next.
    let mut ctx = [Ctx::Other; TRACKED + 1];
    let mut object = [false; TRACKED + 1];
    let mut expect_key = [false; TRACKED + 1];
    (ctx[1], object[1], expect_key[1]) = (Ctx::Top, true, true);
    // The context the next `{` opens (set by a `payload` or `event` key).
    let mut opens = Ctx::Other;
    let mut payload_start = 0;
    let mut depth = 1usize;
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let (j, escaped) = string_end(b, start)?;
                i = j + 1;
                if depth > TRACKED || !expect_key[depth] {
                    continue;
                }
                expect_key[depth] = false;
                let here = ctx[depth];
                if here == Ctx::Other {
                    continue;
                }
                if escaped {
                    // A tracked key spelled with escapes: serde would unescape it.
                    sure = false;
                    continue;
                }
                let key = &b[start..j];
                let bit = match (here, key) {
                    (Ctx::Top, b"type") => K_TYPE,
                    (Ctx::Top, b"envelope_id") => K_ID,
                    (Ctx::Top, b"payload") => K_PAYLOAD,
                    (Ctx::Top, b"retry_attempt") => K_ATTEMPT,
                    (Ctx::Top, b"retry_reason") => K_REASON,
                    (Ctx::Top, b"accepts_response_payload") => K_ACCEPTS,
                    (Ctx::Payload, b"event_id") => K_EVENT_ID,
                    (Ctx::Payload, b"event") => K_EVENT,
                    (Ctx::Event, b"type") => K_EVENT_TYPE,
                    _ => continue,
                };
                if seen & bit != 0 {
                    // Serde refuses a field twice; the first `type`/`envelope_id` still stands.
                    sure = false;
                    continue;
                }
                seen |= bit;
                // The value, after `:`.
                let v = skip_ws(b, i);
                if b.get(v) != Some(&b':') {
                    return None;
                }
                let v = skip_ws(b, v + 1);
                let first = *b.get(v)?;
                match bit {
                    K_TYPE | K_ID | K_REASON | K_EVENT_ID | K_EVENT_TYPE => {
                        if first == b'"' {
                            let s = v + 1;
                            let e = find_quote_or_backslash(b, s);
                            if b.get(e) != Some(&b'"') {
                                // An escaped value: the top-level pair makes the frame unsure.
                                if bit == K_TYPE || bit == K_ID {
                                    return None;
                                }
                                sure = false;
                                continue;
                            }
                            let span = Some((s, e));
                            match bit {
                                K_TYPE => out.kind = span,
                                K_ID => out.id = span,
                                K_REASON => parts.retry_reason = span,
                                K_EVENT_ID => parts.event_id = span,
                                _ => parts.event_type = span,
                            }
                            i = e + 1;
                        } else if b[v..].starts_with(b"null") && bit != K_TYPE && bit != K_ID {
                            i = v + 4;
                        } else if bit == K_TYPE || bit == K_ID {
                            return None;
                        } else {
                            sure = false;
                        }
                    }
                    K_PAYLOAD | K_EVENT => {
                        if first == b'{' {
                            opens = if bit == K_PAYLOAD { Ctx::Payload } else { Ctx::Event };
                            if bit == K_PAYLOAD {
                                payload_start = v;
                            }
                            i = v;
                        } else if b[v..].starts_with(b"null") {
                            i = v + 4;
                        } else {
                            sure = false;
                        }
                    }
                    K_ATTEMPT => {
                        let digits = b[v..].iter().take_while(|c| c.is_ascii_digit()).count();
                        let text = std::str::from_utf8(&b[v..v + digits]).ok();
                        match text.and_then(|t| t.parse::<u32>().ok()) {
                            Some(n) if !matches!(b.get(v + digits), Some(b'.' | b'e' | b'E')) => {
                                parts.retry_attempt = n;
                                i = v + digits;
                            }
                            // Serde's `u32` takes neither `null` nor a sign nor a fraction.
                            _ => sure = false,
                        }
                    }
                    _ => {
                        if b[v..].starts_with(b"true") {
                            parts.accepts_response_payload = true;
                            i = v + 4;
                        } else if b[v..].starts_with(b"false") {
                            i = v + 5;
                        } else {
                            sure = false;
                        }
                    }
                }
                continue;
            }
            c @ (b'{' | b'[') => {
                depth += 1;
                if depth <= TRACKED {
                    let is_object = c == b'{';
                    let parent = ctx[depth - 1];
                    ctx[depth] = if is_object && opens != Ctx::Other && parent != Ctx::Other {
                        std::mem::replace(&mut opens, Ctx::Other)
                    } else {
                        Ctx::Other
                    };
                    object[depth] = is_object;
                    expect_key[depth] = is_object;
                }
                opens = Ctx::Other;
            }
            b'}' | b']' => {
                if depth <= TRACKED && ctx[depth] == Ctx::Payload {
                    parts.payload = Some((payload_start, i + 1));
                }
                depth -= 1;
                if depth == 0 {
                    out.parts = sure.then_some(parts);
                    return Some(out);
                }
            }
            b',' if depth <= TRACKED && object[depth] => expect_key[depth] = true,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str, s: Option<Span>) -> Option<&str> {
        s.map(|(a, b)| &t[a..b])
    }

    #[test]
    fn reads_every_part_in_one_walk() {
        let t = r#"{"type":"events_api","envelope_id":"e1","payload":{"token":"x","event":{"blocks":[{"type":"rich_text"}],"type":"message","text":"a,b"},"type":"event_callback","event_id":"Ev1"},"accepts_response_payload":false,"retry_attempt":2,"retry_reason":"timeout"}"#;
        let s = scan_envelope(t.as_bytes()).unwrap();
        assert_eq!((text(t, s.kind), text(t, s.id)), (Some("events_api"), Some("e1")));
        let p = s.parts.unwrap();
        assert_eq!(
            text(t, p.payload),
            Some(&t[t.find(r#"{"token""#).unwrap()..t.find(r#","accepts"#).unwrap()])
        );
        assert_eq!(text(t, p.event_id), Some("Ev1"));
        assert_eq!(text(t, p.event_type), Some("message"));
        assert_eq!(text(t, p.retry_reason), Some("timeout"));
        assert_eq!((p.retry_attempt, p.accepts_response_payload), (2, false));
    }

    #[test]
    fn unsure_where_serde_would_read_otherwise() {
        for odd in [
            r#"{"type":"events_api","envelope_id":"e","retry_attempt":1.5}"#,
            r#"{"type":"events_api","envelope_id":"e","retry_attempt":-1}"#,
            r#"{"type":"events_api","envelope_id":"e","payload":{"event_id":"E\u0031"}}"#,
            r#"{"type":"events_api","envelope_id":"e","payload":{"event_id":"a","event_id":"b"}}"#,
            r#"{"type":"events_api","envelope_id":"e","payload":{"event":"x"}}"#,
            r#"{"type":"events_api","envelope_id":"e","payload":{"ev\u0065nt_id":"a"}}"#,
            r#"{"type":"events_api","envelope_id":"e","accepts_response_payload":1}"#,
        ] {
            let s = scan_envelope(odd.as_bytes()).unwrap();
            assert!(s.parts.is_none(), "{odd}");
        }
        assert!(scan_envelope(br#"{"type":"events_api","envelope_id":"e","payload":{"#).is_none());
        assert!(scan_envelope(br#"{"type":"a\"b","envelope_id":"e"}"#).is_none());
    }
}
