use crate::response::snippet;
use serde::Serialize;
use slack_rtm_types::client::MAX_FRAME_BYTES;
use slack_rtm_types::event::MessageView;
use slack_rtm_types::{ClientMessage, ClientMessageError, Event, EventFrame, json_depth_over};
use std::num::NonZeroU64;

/// Deepest JSON nesting accepted in a frame: the most serde_json's recursion limit (128) lets a
/// typed decode read, so everything this accepts also decodes (and re-parses from
/// [`RawJson`](slack_rtm_types::RawJson)), and a hostile frame cannot overflow the stack.
pub const MAX_JSON_DEPTH: usize = 127;

/// A text frame (RTM or Socket Mode) that is not valid JSON (or not valid UTF-8).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("undecodable frame ({len} bytes): {reason}; starts with {snippet:?}")]
pub struct DecodeError {
    /// The parser's explanation.
    pub reason: String,
    /// The start of the frame, sanitized and truncated.
    pub snippet: String,
    /// The frame's length in bytes.
    pub len: usize,
}

/// Decodes one RTM text frame. Never fails on valid JSON, whatever its shape: see
/// [`Event::from_json`]. Invalid JSON is a [`DecodeError`] carrying the start of the bad text.
pub fn decode_event(text: &str) -> Result<Event, DecodeError> {
    decode_checked(text, Event::from_json)
}

/// Decodes a frame whose type was already found (see [`EventFrame`]): the same result as
/// [`decode_event`] on its text, without scanning for the type again.
pub fn decode_event_frame(frame: &EventFrame) -> Result<Event, DecodeError> {
    decode_checked(frame.as_str(), |_| frame.decode())
}

/// The common fields of a `message` frame, borrowed ([`MessageView`], see
/// [`EventFrame::message_view`]), with the same depth limit as [`decode_event_frame`];
/// `Ok(None)` when the frame is not a `message`, or is one [`decode_event_frame`] would not
/// type as [`Event::Message`] because a field of the view has an unexpected shape (it gives
/// [`Event::Unknown`] then).
///
/// Fails when [`decode_event_frame`] fails, with the same [`DecodeError`] (on an error the frame
/// is decoded in full to report it as the decode does: a cold path), with one exception: a
/// string holding a lone UTF-16 surrogate escape (`"\ud800"`) in a field the view skips fails
/// the decode, which builds that string, but not the view, which only checks its syntax.
///
/// ```
/// use slack_rtm_codec::{EventFrame, decode_message_view};
///
/// let frame = EventFrame::new(r#"{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1"}"#.to_owned())
///     .expect("has a type");
/// let view = decode_message_view(&frame).expect("valid").expect("a message");
/// assert_eq!((view.channel(), view.user(), view.text()), (Some("C1"), Some("U1"), Some("hi")));
///
/// let broken = EventFrame::new(r#"{"type":"message","text":"hi",}"#.to_owned()).expect("has a type");
/// assert_eq!(decode_message_view(&broken).unwrap_err(), slack_rtm_codec::decode_event_frame(&broken).unwrap_err());
/// ```
pub fn decode_message_view(frame: &EventFrame) -> Result<Option<MessageView<'_>>, DecodeError> {
    // The one-pass reader answers only for a valid frame nested at most 100 levels (under the
    // depth limit), which the decode types as this message: no depth scan needed.
    if let Some(view) = frame.plain_message_view() {
        return Ok(Some(view));
    }
    let Some(viewed) = decode_checked(frame.as_str(), |_| frame.message_view().transpose()).ok() else {
        // Too deep, invalid JSON, or a view field of an unexpected shape: the decode says which.
        return decode_event_frame(frame).map(|_| None);
    };
    Ok(viewed)
}

/// The depth limit, then `decode`; errors carry the start of the bad text.
pub(crate) fn decode_checked<T>(
    text: &str,
    decode: impl FnOnce(&str) -> Result<T, serde_json::Error>,
) -> Result<T, DecodeError> {
    if let Err(depth) = check_depth(text.as_bytes()) {
        return Err(DecodeError {
            reason: format!("JSON nested deeper than {MAX_JSON_DEPTH} levels (at least {depth})"),
            snippet: snippet(text.as_bytes()),
            len: text.len(),
        });
    }
    decode(text).map_err(|e| DecodeError {
        reason: e.to_string(),
        snippet: snippet(text.as_bytes()),
        len: text.len(),
    })
}

/// Like [`decode_event`], for a frame that may not be valid UTF-8.
pub fn decode_event_bytes(bytes: &[u8]) -> Result<Event, DecodeError> {
    utf8(bytes).and_then(decode_event)
}

/// The frame as text, or the error for invalid UTF-8.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError {
        reason: format!("invalid UTF-8: {e}"),
        snippet: snippet(bytes),
        len: bytes.len(),
    })
}

/// Refuses nesting deeper than [`MAX_JSON_DEPTH`] without recursing (see
/// [`json_depth_over`]).
fn check_depth(bytes: &[u8]) -> Result<(), usize> {
    json_depth_over(bytes, MAX_JSON_DEPTH).map_or(Ok(()), Err)
}

/// The event types a session must see decoded: they change its state (`hello`, `goodbye`,
/// `team_migration_started`, `error`, `reconnect_url`) or answer a request (`pong`; replies
/// have no `type`).
pub const SESSION_EVENT_TYPES: &[&str] =
    &["hello", "goodbye", "team_migration_started", "error", "reconnect_url", "pong"];

/// Whether `kind` (a frame's top-level `type`, e.g. [`EventFrame::kind`]) is one of
/// [`SESSION_EVENT_TYPES`].
pub fn is_session_event_type(kind: &str) -> bool {
    SESSION_EVENT_TYPES.contains(&kind)
}

/// Whether a text frame must be decoded before the session machine sees it: `false` only for
/// frames whose top-level `type` is plainly an ordinary event (everything but
/// [`SESSION_EVENT_TYPES`]); replies, frames without a readable `type` and invalid JSON all
/// answer `true`. A cheap scan, no parsing.
pub fn needs_machine(text: &str) -> bool {
    match Event::peek_type(text) {
        Some(kind) => is_session_event_type(kind),
        None => true,
    }
}

#[derive(Serialize)]
struct WithId<'a> {
    id: u64,
    #[serde(flatten)]
    message: &'a ClientMessage,
}

/// Encodes a client message with its per-connection `id`, refusing (before anything is sent)
/// a message over Slack's limits: text over 4000 characters, an empty channel, more than 500
/// `presence_query` ids, or a frame over 16 KB.
pub fn encode_client_message(id: NonZeroU64, message: &ClientMessage) -> Result<String, ClientMessageError> {
    message.validate()?;
    let frame = match message {
        ClientMessage::Message(m) => crate::encode::message_frame(id.get(), m),
        _ => serde_json::to_string(&WithId { id: id.get(), message })
            .expect("client messages always serialize: string keys, no maps with non-string keys"),
    };
    if frame.len() > MAX_FRAME_BYTES {
        return Err(ClientMessageError::FrameTooLarge { bytes: frame.len() });
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_rtm_types::UserId;
    use slack_rtm_types::client::{OutgoingMessage, Ping};

    fn id(n: u64) -> NonZeroU64 {
        NonZeroU64::new(n).unwrap()
    }

    #[test]
    fn encodes_with_id() {
        let f = encode_client_message(id(1), &ClientMessage::message("C024BE91L", "Hello world")).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&f).unwrap(),
            serde_json::json!({"id":1,"type":"message","channel":"C024BE91L","text":"Hello world"})
        );
        let f = encode_client_message(id(3), &ClientMessage::Ping(Ping::with_time(1403299273342))).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&f).unwrap(),
            serde_json::json!({"id":3,"type":"ping","time":1403299273342u64})
        );
        let m = ClientMessage::Message(OutgoingMessage::new("C1", "r").in_thread("1.5"));
        let f = encode_client_message(id(9), &m).unwrap();
        assert!(f.contains(r#""thread_ts":"1.5""#));
    }

    #[test]
    fn refuses_over_limits() {
        assert_eq!(
            encode_client_message(id(1), &ClientMessage::message("C1", "x".repeat(4001))),
            Err(ClientMessageError::TextTooLong { chars: 4001 })
        );
        assert_eq!(
            encode_client_message(id(1), &ClientMessage::message("", "x")),
            Err(ClientMessageError::EmptyChannel)
        );
        // 4000 four-byte characters are 16000 bytes: under both limits.
        assert!(encode_client_message(id(1), &ClientMessage::message("C1", "😀".repeat(4000))).is_ok());
        // Control characters are escaped six bytes each: 4000 of them are over 16 KB too.
        let esc = "\u{1}".repeat(4000);
        assert!(matches!(
            encode_client_message(id(1), &ClientMessage::message("C1", esc)),
            Err(ClientMessageError::FrameTooLarge { bytes }) if bytes > MAX_FRAME_BYTES
        ));
        let ids: Vec<UserId> = (0..501).map(|i| UserId::new(format!("U{i}"))).collect();
        assert!(encode_client_message(id(1), &ClientMessage::PresenceQuery { ids }).is_err());
        // A big presence_sub is allowed by count but not past 16 KB.
        let ids: Vec<UserId> = (0..2000).map(|i| UserId::new(format!("U{i:010}"))).collect();
        assert!(matches!(
            encode_client_message(id(1), &ClientMessage::PresenceSub { ids }),
            Err(ClientMessageError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn frame_just_under_and_over_16k() {
        // The envelope around the text, for id 1 and channel C1.
        let envelope = encode_client_message(id(1), &ClientMessage::message("C1", "a")).unwrap().len() - 1;
        // Control characters encode as six bytes (\u0001): reach exactly 16 KB within 4000 chars.
        let room = MAX_FRAME_BYTES - envelope;
        let escaped = room / 6 - 1;
        let plain = room - escaped * 6;
        let text = format!("{}{}", "\u{1}".repeat(escaped), "a".repeat(plain));
        assert!(text.chars().count() <= 4000);
        let frame = encode_client_message(id(1), &ClientMessage::message("C1", text.clone())).unwrap();
        assert_eq!(frame.len(), MAX_FRAME_BYTES);
        assert_eq!(
            encode_client_message(id(1), &ClientMessage::message("C1", format!("{text}a"))),
            Err(ClientMessageError::FrameTooLarge { bytes: MAX_FRAME_BYTES + 1 })
        );
    }

    #[test]
    fn only_ordinary_events_skip_the_machine() {
        for t in SESSION_EVENT_TYPES {
            assert!(needs_machine(&format!(r#"{{"type":"{t}"}}"#)), "{t}");
        }
        assert!(needs_machine(r#"{"ok":true,"reply_to":1,"ts":"1.2"}"#));
        assert!(needs_machine(r#"{"type":"mes\u0073age"}"#));
        assert!(needs_machine("not json"));
        assert!(!needs_machine(r#"{"type":"message","text":"hi"}"#));
        assert!(!needs_machine(r#"{"client_msg_id":"x","type":"user_typing"}"#));
    }

    #[test]
    fn decode_errors_are_typed_and_truncated() {
        let bad = format!("{{\"type\":\"message\",\"text\":\"{}", "y".repeat(5000));
        let e = decode_event(&bad).unwrap_err();
        assert_eq!(e.len, bad.len());
        assert!(e.snippet.starts_with("{\"type\":\"message\""));
        assert!(e.snippet.len() < 1000);
        assert!(decode_event("").is_err());
        let e = decode_event_bytes(b"{\"type\":\"hello\xff\"}").unwrap_err();
        assert!(e.reason.contains("UTF-8"));
        assert!(matches!(decode_event_bytes(br#"{"type":"hello"}"#), Ok(Event::Hello(_))));
    }

    #[test]
    fn nesting_depth_is_limited() {
        // The outer object is one level: MAX_JSON_DEPTH - 1 arrays inside it is exactly the limit.
        let at_limit = |n: usize| format!("{{\"type\":\"x\",\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(decode_event(&at_limit(MAX_JSON_DEPTH - 1)).is_ok());
        let e = decode_event(&at_limit(MAX_JSON_DEPTH)).unwrap_err();
        assert!(e.reason.contains("nested deeper"), "{}", e.reason);
        // Brackets inside strings do not count.
        let in_string = format!("{{\"type\":\"x\",\"a\":\"{}\\\"{}\"}}", "[".repeat(500), "{".repeat(500));
        assert!(matches!(decode_event(&in_string), Ok(Event::Unknown { .. })), "{in_string}");
        let very_deep = "[".repeat(1_000_000);
        assert!(decode_event(&very_deep).is_err());
        // At the limit, types that serde decodes recursively (a pong's `extra`, a message's
        // fields) still decode: the limit is serde_json's own.
        let pong = |n: usize| {
            format!("{{\"type\":\"pong\",\"reply_to\":1,\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n))
        };
        assert!(matches!(decode_event(&pong(MAX_JSON_DEPTH - 1)), Ok(Event::Pong(_))));
        assert!(decode_event(&pong(MAX_JSON_DEPTH)).unwrap_err().reason.contains("nested deeper"));
        // A pre-scanned frame gets the same limit.
        let frame = EventFrame::new(at_limit(MAX_JSON_DEPTH)).unwrap();
        assert!(decode_event_frame(&frame).unwrap_err().reason.contains("nested deeper"));
        assert!(decode_event_frame(&EventFrame::new(at_limit(MAX_JSON_DEPTH - 1)).unwrap()).is_ok());
    }

    #[test]
    fn pre_scanned_frames_decode_like_text() {
        let texts = [
            r#"{"type":"message","channel":"C1","text":"hi","ts":"1.2"}"#,
            r#"{"text":"late type","type":"user_typing","channel":"C1","user":"U1"}"#,
            r#"{"type":"message","channel":5}"#,
            r#"{"type":"brand_new_event","x":1}"#,
            r#"{"type":"message","text":"unterminated"#,
        ];
        for t in texts {
            let frame = EventFrame::copy_from(t).unwrap();
            match (decode_event(t), decode_event_frame(&frame)) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{t}"),
                (Err(a), Err(b)) => assert_eq!(a, b, "{t}"),
                other => panic!("{t}: {other:?}"),
            }
        }
    }
}
