//! The light byte scan that finds a frame's top-level `type` without parsing it: a thin
//! reading of the crate's shared scanner ([`crate::scan`], also used for Socket Mode envelopes).

/// What a light scan of the top-level object found.
pub(super) enum TopLevel<'a> {
    /// The top-level `type`, a plain string without escapes.
    Type(&'a str),
    /// The object has no top-level `type`; whether it has a top-level `reply_to`.
    NoType { reply_to: bool },
    /// Anything else (escapes in `type`, a non-string `type`, malformed text): use serde.
    Unsure,
}

/// Finds the top-level `type` of a JSON object without parsing it (see [`crate::scan`]); stops
/// as soon as it is found (Slack usually sends it early). Never trusted for validity: serde
/// still parses the whole frame afterwards.
pub(super) fn scan_top_level(bytes: &[u8]) -> TopLevel<'_> {
    match crate::scan::top_level_strings(bytes, [b"type"], b"reply_to") {
        crate::scan::Scan::Found { values: [Some(kind)], .. } => TopLevel::Type(kind),
        crate::scan::Scan::Found { values: [None], flag } => TopLevel::NoType { reply_to: flag },
        crate::scan::Scan::Unsure => TopLevel::Unsure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventFrame, Peek};
    use proptest::prelude::*;

    fn slow_kind(text: &str) -> Option<Option<String>> {
        serde_json::from_str::<Peek<'_>>(text).ok().map(|p| p.kind.map(|k| k.into_owned()))
    }

    #[test]
    fn finds_the_top_level_type_only() {
        let cases = [
            (r#"{"type":"message","text":"x"}"#, Some("message")),
            (r#" { "client_msg_id" : "a", "type" : "message" }"#, Some("message")),
            (
                r#"{"item":{"type":"message"},"x":["type",{"type":"y"}],"type":"pin_added"}"#,
                Some("pin_added"),
            ),
            (r#"{"text":"\"type\":\"evil\"","type":"message"}"#, Some("message")),
            (r#"{"a":"type","type":"hello"}"#, Some("hello")),
        ];
        for (text, want) in cases {
            match scan_top_level(text.as_bytes()) {
                TopLevel::Type(k) => assert_eq!(Some(k), want, "{text}"),
                _ => panic!("{text}: not found"),
            }
        }
        assert!(matches!(
            scan_top_level(br#"{"ok":true,"reply_to":3}"#),
            TopLevel::NoType { reply_to: true }
        ));
        assert!(matches!(scan_top_level(br#"{"x":{"reply_to":3}}"#), TopLevel::NoType { reply_to: false }));
        assert!(matches!(scan_top_level(br#"{"type":"mes\u0073age"}"#), TopLevel::Unsure));
        assert!(matches!(scan_top_level(br#"{"type":5}"#), TopLevel::Unsure));
        assert!(matches!(scan_top_level(br#"{"type":"unterminated"#), TopLevel::Unsure));
        assert!(matches!(scan_top_level(b"[1]"), TopLevel::Unsure));
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i32>().prop_map(serde_json::Value::from),
            prop_oneof![
                Just("type".to_owned()),
                Just("message".to_owned()),
                "[a-z\"\\\\{}\\[\\] ]{0,6}".prop_map(|s| s)
            ]
            .prop_map(serde_json::Value::from),
        ];
        let key = prop_oneof![Just("type".to_owned()), Just("reply_to".to_owned()), "[a-z\"\\\\]{1,5}"];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::from),
                prop::collection::btree_map(key.clone(), inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The eight-bytes-at-a-time search finds what a byte-by-byte search finds.
        #[test]
        fn quote_search_matches_naive(bytes in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b'a'), any::<u8>()], 0..64), from in 0usize..70) {
            let from = from.min(bytes.len());
            let naive = bytes[from..].iter().position(|&b| b == b'"' || b == b'\\').map_or(bytes.len(), |p| from + p);
            prop_assert_eq!(crate::scan::find_quote_or_backslash(&bytes, from), naive);
        }

        /// The fast scan agrees with serde's own reading of the top-level `type` whenever it
        /// claims an answer.
        #[test]
        fn scan_agrees_with_serde(v in json(), pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { serde_json::to_string(&v).unwrap() };
            match scan_top_level(text.as_bytes()) {
                TopLevel::Type(k) => prop_assert_eq!(slow_kind(&text), Some(Some(k.to_owned())), "{}", text),
                TopLevel::NoType { reply_to } => {
                    prop_assert_eq!(slow_kind(&text), Some(None), "{}", text);
                    prop_assert_eq!(reply_to, v.get("reply_to").is_some(), "{}", text);
                }
                TopLevel::Unsure => {}
            }
        }

        /// An `EventFrame` exists exactly when the scan reads a type, names that type, and
        /// decodes to what `Event::from_json` gives for the same text.
        #[test]
        fn event_frame_decodes_like_from_json(v in json()) {
            let text = serde_json::to_string(&v).unwrap();
            match EventFrame::new(text.clone()) {
                Ok(frame) => {
                    prop_assert_eq!(Some(frame.kind()), Event::peek_type(&text));
                    prop_assert_eq!(frame.as_str(), text.as_str());
                    prop_assert_eq!(frame.decode().ok(), Event::from_json(&text).ok());
                    prop_assert_eq!(EventFrame::copy_from(&text), Some(frame));
                }
                Err(back) => {
                    prop_assert_eq!(&back, &text);
                    prop_assert_eq!(Event::peek_type(&text), None);
                    prop_assert_eq!(EventFrame::copy_from(&text), None);
                }
            }
        }
    }

    #[test]
    fn event_frame_kind_and_decode() {
        let text = r#"{"blocks":[{"type":"rich_text"}],"channel":"C1","type":"message","text":"hi"}"#;
        let frame = EventFrame::copy_from(text).unwrap();
        assert_eq!(frame.kind(), "message");
        assert_eq!(frame.decode().unwrap(), Event::from_json(text).unwrap());
        assert!(matches!(frame.decode().unwrap(), Event::Message(m) if m.text.as_deref() == Some("hi")));
        // Invalid JSON after a readable type: the decode still fails, as from_json does.
        let broken = EventFrame::copy_from(r#"{"type":"message","text":}"#).unwrap();
        assert!(broken.decode().is_err());
        // No readable type: the text comes back.
        for t in [r#"{"ok":true,"reply_to":1}"#, r#"{"type":"mes\u0073age"}"#, "[1]", "nope"] {
            assert_eq!(EventFrame::new(t.to_owned()), Err(t.to_owned()));
        }
        assert!(format!("{frame:?}").contains("kind: \"message\""));
    }
}
