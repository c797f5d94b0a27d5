//! The ack of a client message, read in one pass when it is plain.
//!
//! Slack answers every client message with `{"ok":true,"reply_to":1,"ts":"…","text":"…"}` or
//! `{"ok":false,"reply_to":1,"error":{"code":2,"msg":"…"}}`. [`decode_event`](crate::decode_event)
//! reads such a frame as an [`Event::Reply`](crate::Event::Reply) after scanning it for a top-level
//! `type` (to its end, as a reply has none), checking its depth, and decoding it losslessly.
//! [`decode_plain_reply`] reads the same frame straight into a [`Reply`], and gives up on anything
//! else, so that the ordinary decode decides every frame it does not take.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use slack_rtm_types::event::{ErrorInfo, Extra, Reply};
use slack_rtm_types::{Ts, find_string_special};
use std::fmt;

/// A frame's text read as a reply, when it is a plain one: a JSON object that begins with the
/// key `ok` or `reply_to` and has only the keys [`Reply`] models (`ok` and `reply_to`, required;
/// `ts`, `text`, `error` with `code` and an optional `msg`), each once, none `null`, no key
/// escaped.
///
/// `None` for every other frame (an event, a reply with a field Slack may add one day, a
/// malformed one): decode those with [`decode_event`](crate::decode_event). For every frame
/// it accepts, the result equals the [`Reply`] `decode_event` returns (its `extra` is empty as
/// the frame has no other field), so a caller may try this first and keep the same behaviour.
pub fn decode_plain_reply(text: &str) -> Option<Reply> {
    if !(text.starts_with(r#"{"ok":"#) || text.starts_with(r#"{"reply_to":"#)) {
        return None;
    }
    if let Some(reply) = read_exact_shape(text) {
        return Some(reply);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let reply = (&mut de).deserialize_map(PlainReply).ok()?;
    de.end().ok()?;
    Some(reply)
}

/// The shape Slack writes an ack in, read by hand: no whitespace, no `error`, strings without
/// escapes or control characters, `reply_to` plain digits, nothing after the `}`. `None` when
/// unsure: the serde reading then decides (same keys, same rules, every JSON detail).
///
/// A key is matched with its quotes and colon as one literal (a key read as a plain string and
/// compared is the same bytes), so only the values are scanned.
fn read_exact_shape(text: &str) -> Option<Reply> {
    let b = text.as_bytes();
    let (mut ok, mut reply_to, mut ts, mut said) = (None, None, None, None);
    let mut i = 1; // after the `{` the caller saw
    loop {
        let rest = &b[i..];
        if rest.starts_with(br#""ok":"#) && ok.is_none() {
            i += 5;
            let (value, len) = if b[i..].starts_with(b"true") {
                (true, 4)
            } else if b[i..].starts_with(b"false") {
                (false, 5)
            } else {
                return None;
            };
            ok = Some(value);
            i += len;
        } else if rest.starts_with(br#""reply_to":"#) && reply_to.is_none() {
            i += 11;
            let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let number = &text[i..i + digits];
            // JSON has no leading zeros; an overflow is serde's to report.
            if digits == 0 || (digits > 1 && number.starts_with('0')) {
                return None;
            }
            reply_to = Some(number.parse::<u64>().ok()?);
            i += digits;
        } else if rest.starts_with(br#""ts":"#) && ts.is_none() {
            let (value, next) = simple_string(text, i + 5)?;
            ts = Some(Ts::from(value));
            i = next;
        } else if rest.starts_with(br#""text":"#) && said.is_none() {
            let (value, next) = simple_string(text, i + 7)?;
            said = Some(value.to_owned());
            i = next;
        } else {
            return None;
        }
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if i + 1 == b.len() => break,
            _ => return None,
        }
    }
    Some(Reply { ok: ok?, reply_to: reply_to?, ts, text: said, error: None, extra: Extra::new() })
}

/// The string starting at `text[at]` (its opening quote) when it has no escape and no control
/// character, and the index after its closing quote.
fn simple_string(text: &str, at: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let end = find_string_special(b, at + 1);
    // Stopped at an ASCII byte (or the end): `at + 1..end` is on character boundaries.
    (b.get(end) == Some(&b'"')).then(|| (&text[at + 1..end], end + 1))
}

/// Why a plain read gave up (never shown: the caller falls back to the ordinary decode).
fn not_plain<E: de::Error>() -> E {
    E::custom("not a plain reply")
}

/// Reads one field's value once: a second occurrence of the key gives up.
fn once<'de, A: MapAccess<'de>, T: de::Deserialize<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(not_plain());
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

struct PlainReply;

impl<'de> Visitor<'de> for PlainReply {
    type Value = Reply;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a plain reply")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply, A::Error> {
        let (mut ok, mut reply_to, mut ts, mut text, mut error) = (None, None, None, None, None);
        // Borrowed keys: an escaped key cannot be borrowed, and gives up.
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "ok" => once::<_, bool>(&mut ok, &mut map)?,
                "reply_to" => once::<_, u64>(&mut reply_to, &mut map)?,
                "ts" => once::<_, Ts>(&mut ts, &mut map)?,
                "text" => once::<_, String>(&mut text, &mut map)?,
                "error" => {
                    if error.is_some() {
                        return Err(not_plain());
                    }
                    error = Some(map.next_value_seed(PlainError)?);
                }
                _ => {
                    let _ = map.next_value::<IgnoredAny>();
                    return Err(not_plain());
                }
            }
        }
        let (Some(ok), Some(reply_to)) = (ok, reply_to) else { return Err(not_plain()) };
        Ok(Reply { ok, reply_to, ts, text, error, extra: Extra::new() })
    }
}

/// The `error` object of a plain reply: `code`, and `msg` if given, nothing else.
struct PlainError;

impl<'de> DeserializeSeed<'de> for PlainError {
    type Value = ErrorInfo;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ErrorInfo, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PlainError {
    type Value = ErrorInfo;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a plain error object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorInfo, A::Error> {
        let (mut code, mut msg) = (None, None);
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "code" => once::<_, i64>(&mut code, &mut map)?,
                "msg" => once::<_, String>(&mut msg, &mut map)?,
                _ => return Err(not_plain()),
            }
        }
        let Some(code) = code else { return Err(not_plain()) };
        Ok(ErrorInfo { code, msg, extra: Extra::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::decode_plain_reply;
    use crate::{Event, decode_event};

    /// Every frame the fast path takes decodes to the same reply the ordinary way.
    fn agrees(text: &str) -> bool {
        match decode_plain_reply(text) {
            Some(reply) => {
                assert_eq!(decode_event(text).ok(), Some(Event::Reply(reply)), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn plain_replies_are_read_as_the_ordinary_decode_reads_them() {
        for text in [
            r#"{"ok":true,"reply_to":1,"ts":"1355517523.000005","text":"hi"}"#,
            r#"{"ok":true,"reply_to":18446744073709551615}"#,
            r#"{"reply_to":7,"ok":true,"text":"caf\u00e9 \"q\" \\ \n é","ts":"1.2"}"#,
            r#"{"ok":false,"reply_to":2,"error":{"code":2,"msg":"message text is missing"}}"#,
            r#"{"ok":false,"reply_to":3,"error":{"msg":"slow down","code":-1}}"#,
            r#"{"ok":false,"reply_to":4,"error":{"code":0}}"#,
            r#"{"ok":false,"reply_to":5}"#,
            r#"{"ok":true,"reply_to":6,"ts":"1.2","text":"a"}  "#,
            r#"{"ok":true , "reply_to" : 8 }"#,
            r#"{"ok":true,"reply_to":9,"text":"esc\"aped","ts":"1.2"}"#,
            r#"{"ok":false,"reply_to":10,"ts":"","text":""}"#,
            r#"{"ok":true,"reply_to":0}"#,
        ] {
            assert!(agrees(text), "not taken: {text}");
        }
    }

    /// The hand reading of Slack's exact shape and the serde reading agree wherever the first
    /// answers.
    #[test]
    fn the_exact_shape_is_read_as_serde_reads_it() {
        let serde = |text: &str| {
            let mut de = serde_json::Deserializer::from_str(text);
            let r = serde::Deserializer::deserialize_map(&mut de, super::PlainReply).ok()?;
            de.end().ok().map(|()| r)
        };
        let mut taken = 0;
        for ok in ["true", "false", "tru", "null"] {
            for id in ["0", "7", "01", "-1", "1.0", "18446744073709551615", "18446744073709551616"] {
                for ts in ["", r#","ts":"1.2""#, r#","ts":"""#, r#","ts":"a\"b""#, r#","ts":null"#] {
                    for text in ["", r#","text":"héllo""#, r#","text":"x\\y""#, ",\"text\":\"a\u{1}\""] {
                        for end in ["}", "} ", "}}", ",}"] {
                            let frame = format!(r#"{{"ok":{ok},"reply_to":{id}{ts}{text}{end}"#);
                            let frame_rev = format!(r#"{{"reply_to":{id},"ok":{ok}{text}{ts}{end}"#);
                            for f in [frame, frame_rev] {
                                if let Some(fast) = super::read_exact_shape(&f) {
                                    assert_eq!(Some(fast), serde(&f), "{f}");
                                    taken += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(taken >= 30, "{taken}");
    }

    #[test]
    fn anything_else_is_left_to_the_ordinary_decode() {
        for text in [
            // Not starting with `ok` or `reply_to`.
            r#" {"ok":true,"reply_to":1}"#,
            r#"{"ok" :true,"reply_to":1}"#,
            r#"{"type":"message","ok":true,"reply_to":1}"#,
            r#"{"text":"x","ok":true,"reply_to":1}"#,
            // An event or a pong that happens to start with `ok`.
            r#"{"ok":true,"type":"pong","reply_to":1}"#,
            r#"{"reply_to":1,"type":"pong","time":5}"#,
            // A field Slack may add, at the top or in `error`: kept by the lossless decode.
            r#"{"ok":true,"reply_to":1,"ts":"1.2","warning":"superfluous_charset"}"#,
            r#"{"ok":false,"reply_to":1,"error":{"code":2,"msg":"m","detail":"d"}}"#,
            // `null`, wrong types, missing or repeated fields.
            r#"{"ok":true,"reply_to":1,"ts":null}"#,
            r#"{"ok":true,"reply_to":1,"text":null}"#,
            r#"{"ok":false,"reply_to":1,"error":null}"#,
            r#"{"ok":false,"reply_to":1,"error":{"code":null}}"#,
            r#"{"ok":false,"reply_to":1,"error":{"msg":"no code"}}"#,
            r#"{"ok":"yes","reply_to":1}"#,
            r#"{"ok":true,"reply_to":-1}"#,
            r#"{"ok":true,"reply_to":1.5}"#,
            r#"{"ok":true,"reply_to":"1"}"#,
            r#"{"ok":true}"#,
            r#"{"reply_to":1}"#,
            r#"{"ok":true,"reply_to":1,"reply_to":2}"#,
            r#"{"ok":true,"ok":false,"reply_to":1}"#,
            r#"{"ok":true,"reply_to":1,"ts":"1","ts":"2"}"#,
            // An escaped key.
            r#"{"ok":true,"reply_\u0074o":1}"#,
            r#"{"ok":true,"reply_to":01}"#,
            r#"{"ok":true,"reply_to":1e3}"#,
            r#"{"ok":true,"reply_to":18446744073709551616}"#,
            r#"{"ok":truex,"reply_to":1}"#,
            r#"{"ok":tru,"reply_to":1}"#,
            "{\"ok\":true,\"reply_to\":1,\"text\":\"raw\u{1}control\"}",
            r#"{"ok":true,"reply_to":1,"text":"unterminated}"#,
            // Malformed.
            r#"{"ok":true,"reply_to":1"#,
            r#"{"ok":true,"reply_to":1}x"#,
            r#"{"ok":true,"reply_to":1}{}"#,
        ] {
            assert!(!agrees(text), "taken: {text}");
        }
    }
}
