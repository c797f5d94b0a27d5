//! The borrowed message view (`decode_message_view`) against the full decode
//! (`decode_event_frame`) on generated `message` frames: the same fields whenever the decode
//! gives a `Message`, the same error whenever it fails, never a panic.

use proptest::prelude::*;
use slack_rtm_codec::types::event::MessageView;
use slack_rtm_codec::{DecodeError, Event, EventFrame, decode_event_frame, decode_message_view};

/// A string value as JSON text: plain, with escapes, unicode escapes, odd characters.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z0-9.]{0,12}".prop_map(|s| format!("\"{s}\"")),
        ".{0,16}".prop_map(|s| serde_json::Value::from(s).to_string()),
        Just(r#""line\nbreak \"quoted\" \\ back""#.to_owned()),
        Just(r#""\u00e9t\u00e9 \ud83d\ude00""#.to_owned()),
        Just(r#""\ud800""#.to_owned()),
        Just(r#""<@U1> \/ \t""#.to_owned()),
    ]
}

/// Any JSON value as text, a few levels deep.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("1.5e3".to_owned()),
        string(),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((string(), inner), 0..4).prop_map(|kv| {
                let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// The fields a message has: the view's own, the ones `Message` types, and any other.
const KEYS: &[&str] = &[
    "subtype",
    "channel",
    "user",
    "text",
    "ts",
    "thread_ts",
    "event_ts",
    "team",
    "bot_id",
    "client_msg_id",
    "blocks",
    "attachments",
    "files",
    "reply_count",
    "hidden",
    "message",
    "previous_message",
    "edited",
    "username",
    "unmodelled",
];

/// A field: usually a string where the view expects one, sometimes anything.
fn field() -> impl Strategy<Value = (String, String)> {
    let key = prop::sample::select(KEYS).prop_map(str::to_owned);
    let val = prop_oneof![4 => string(), 2 => value(), 1 => Just(r#""bot_message""#.to_owned())];
    (key, val)
}

/// A `message` frame (its `type` somewhere among the fields), sometimes damaged.
fn frame() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(field(), 0..10),
        any::<prop::sample::Index>(),
        0u8..8,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(fields, at, damage, cut)| {
            let mut parts: Vec<String> = fields.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let i = at.index(parts.len() + 1);
            parts.insert(i, r#""type":"message""#.to_owned());
            let mut text = format!("{{{}}}", parts.join(","));
            let mut at = cut.index(text.len()).max(16);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match damage {
                0 => text.truncate(at),
                1 => text.insert(at, ','),
                2 => text.push_str(" x"),
                _ => {}
            }
            text
        })
}

fn lone_surrogate(reason: &str) -> bool {
    ["surrogate", "hex escape", "unicode code point"].iter().any(|m| reason.contains(m))
}

/// The contract between the two, for one frame.
fn agree(frame: &EventFrame) -> Result<(), TestCaseError> {
    let full: Result<Event, DecodeError> = decode_event_frame(frame);
    let view = decode_message_view(frame);
    match &full {
        // The one difference: a lone surrogate escape (`"\ud800"`) in a field only the decode
        // reads fails the decode (serde_json refuses it in a string it builds), not the view.
        Err(e) if view.is_ok() => prop_assert!(lone_surrogate(&e.reason), "{e}"),
        Err(e) => prop_assert_eq!(view, Err(e.clone())),
        Ok(Event::Message(m)) => prop_assert_eq!(view, Ok(Some(MessageView::of(m)))),
        // Another event (an unexpected shape): no error; a view only from lenient reading.
        Ok(other) => {
            prop_assert!(view.is_ok(), "{other:?}");
            prop_assert!(matches!(other, Event::Unknown { .. }), "a message frame decodes as {other:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn view_agrees_with_the_decode(text in frame()) {
        // A frame whose `type` the scan cannot find is not an `EventFrame` (never delivered lazily).
        if let Ok(frame) = EventFrame::new(text) {
            agree(&frame)?;
        }
    }

    #[test]
    fn other_types_have_no_view(kind in "[a-z_]{1,12}", text in ".{0,8}") {
        let frame = EventFrame::new(format!(r#"{{"type":"{kind}","text":{}}}"#, serde_json::Value::from(text))).unwrap();
        if kind != "message" {
            prop_assert_eq!(decode_message_view(&frame), Ok(None));
        }
    }
}

#[test]
fn fixed_frames_agree() {
    let deep = format!(r#"{{"type":"message","text":"x","blocks":{}1{}}}"#, "[".repeat(200), "]".repeat(200));
    let cases = [
        r#"{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1.1"}"#.to_owned(),
        r#"{"type":"message","subtype":"message_changed","message":{"type":"message","text":"new"},"channel":"C1","hidden":true}"#.to_owned(),
        r#"{"type":"message","text":null,"user":null}"#.to_owned(),
        r#"{"type":"message","text":1}"#.to_owned(),
        r#"{"type":"message","reply_count":"many","text":"ok"}"#.to_owned(),
        r#"{"type":"message","text":"a","text":"b"}"#.to_owned(),
        r#"{"type":"message","text":"hi",}"#.to_owned(),
        r#"{"type":"message","text":"\ud800"}"#.to_owned(),
        r#"{"type":"message"} {}"#.to_owned(),
        deep,
    ];
    for text in cases {
        let frame = EventFrame::new(text.clone()).unwrap();
        agree(&frame).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    // The depth limit is the decode's: a too-deep frame is the decode's error, not a view.
    let deep =
        EventFrame::new(format!(r#"{{"type":"message","blocks":{}{}}}"#, "[".repeat(200), "]".repeat(200)))
            .unwrap();
    assert!(decode_message_view(&deep).unwrap_err().reason.contains("nested deeper"));
    // A `text` of the wrong shape: the decode keeps the frame as `Unknown`, the view is `None`.
    let odd = EventFrame::new(r#"{"type":"message","text":1}"#.to_owned()).unwrap();
    assert_eq!(decode_message_view(&odd), Ok(None));
    assert!(matches!(decode_event_frame(&odd), Ok(Event::Unknown { .. })));
    // Only the view's fields are read: an odd `reply_count` still has a view.
    let lenient =
        EventFrame::new(r#"{"type":"message","reply_count":"many","text":"ok"}"#.to_owned()).unwrap();
    assert_eq!(decode_message_view(&lenient).unwrap().unwrap().text(), Some("ok"));
}
