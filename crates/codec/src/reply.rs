//! The ack of a client message, read in one pass when it is plain.
//!
//! Slack answers every client message with `{"ok":true,"reply_to":1,"ts":"…","text":"…"}` or
//! `{"ok":false,"reply_to":1,"error":{"code":2,"msg":"…"}}`. [`decode_event`](crate::decode_event)
//! reads such a frame as an [`Event::Reply`](crate::Event::Reply) after scanning it for a top-level
//! `type` (to its end, as a reply has none), checking its depth, and decoding it losslessly.
//! [`decode_plain_reply`] reads the same frame straight into a [`Reply`], and gives up on anything
//! else, so that the ordinary decode decides every frame it does not take.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use slack_rtm_types::Ts;
use slack_rtm_types::event::{ErrorInfo, Extra, Reply};
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
    let mut de = serde_json::Deserializer::from_str(text);
    let reply = (&mut de).deserialize_map(PlainReply).ok()?;
    de.end().ok()?;
    Some(reply)
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
        ] {
            assert!(agrees(text), "not taken: {text}");
        }
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
            // Malformed.
            r#"{"ok":true,"reply_to":1"#,
            r#"{"ok":true,"reply_to":1}x"#,
            r#"{"ok":true,"reply_to":1}{}"#,
        ] {
            assert!(!agrees(text), "taken: {text}");
        }
    }
}
