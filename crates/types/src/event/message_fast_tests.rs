//! The hand-written reader against the serde decode it stands in for.

use super::{message_frame, message_view};
use crate::event::{Message, MessageView};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::borrow::Cow;

/// `message_frame` may give up; when it does not, it must give exactly the serde decode.
/// Returns whether it read the frame. The view reader is checked too ([`agree_view`]).
fn agree(text: &str) -> bool {
    let serde = Message::from_frame_serde(text);
    let read = match message_frame(text) {
        None => false,
        Some(fast) => {
            let serde =
                serde.unwrap_or_else(|e| panic!("the reader took a frame serde refuses ({e}): {text}"));
            assert_eq!(*fast, serde, "{text}");
            let (a, b) = (serde_json::to_string(&fast).unwrap(), serde_json::to_string(&serde).unwrap());
            assert_eq!(a, b, "{text}");
            true
        }
    };
    assert_eq!(agree_view(text), read, "the view reader answers exactly where the reader does: {text}");
    read
}

/// `message_view` may give up; when it does not, its fields are serde's view's and the serde
/// decode's (`MessageView::of`), and a field without escapes is borrowed from the frame.
/// Returns whether it read the frame.
fn agree_view(text: &str) -> bool {
    let Some(view) = message_view(text) else { return false };
    let serde: MessageView<'_> = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the view reader took a frame serde's view refuses ({e}): {text}"));
    assert_eq!(view, serde, "{text}");
    let decoded = Message::from_frame_serde(text)
        .unwrap_or_else(|e| panic!("the view reader took a frame the decode refuses ({e}): {text}"));
    assert_eq!(view, MessageView::of(&decoded), "{text}");
    let fields = [
        &view.subtype,
        &view.channel,
        &view.user,
        &view.text,
        &view.ts,
        &view.thread_ts,
        &view.event_ts,
        &view.team,
        &view.bot_id,
    ];
    for field in fields.into_iter().flatten() {
        match &field.0 {
            Cow::Borrowed(s) => {
                let inside = text.as_bytes().as_ptr_range();
                assert!(
                    inside.contains(&s.as_ptr()) || s.is_empty(),
                    "{s:?} borrowed from the frame: {text}"
                );
            }
            Cow::Owned(_) => assert!(text.contains('\\'), "copied only when escaped: {text}"),
        }
    }
    true
}

const STRINGS: &[&str] = &[
    r#""U024BE7LH""#,
    r#""""#,
    r#""héllo wörld""#,
    r#""a\nb""#,
    r#""\u00e9""#,
    r#""\/x""#,
    r#""\ud83d\ude00 \ud800""#,
    r#""\ud83d\ude00\"\\""#,
    r#""\uDBFF\uDFFFz""#,
    "\"a\tb\"",
    r#""1355517523.000005""#,
    r#""message_changed""#,
    r#""bot_message""#,
    "null",
];
const BOOLS: &[&str] = &["true", "false", "null", "tru", "1"];
const COUNTS: &[&str] = &[
    "0",
    "12",
    "007",
    "-1",
    "1.5",
    "1e3",
    "1E+2",
    "18446744073709551615",
    "9999999999999999999",
    "99999999999999999999",
    "null",
    "\"3\"",
];
const RAWS: &[&str] = &[
    r#"[{"type":"rich_text","block_id":"b1","elements":[{"type":"text","text":"hi \"there\""}]}]"#,
    r#"{"a":[1,-2.5e-3,0,true,false,null,{}],"b":"\ud83d\ude00"}"#,
    "[]",
    "{}",
    "null",
    "-0",
    "3.0E+2",
    r#""\ud800""#,
    r#"[1,]"#,
    r#"{"a":1 "b":2}"#,
    r#"{"a":1,}"#,
    r#""\u12""#,
    "-",
    "1.",
    "01",
    ".5",
    "tru",
    "[1 2]",
    r#"{1:2}"#,
    r#""\x""#,
    "\"a\u{1}b\"",
    r#"[[[[[[[[[[]]]]]]]]]]"#,
    "1e",
    "[\"a\",\n \"b\" ]",
];
const LISTS: &[&str] =
    &[r#"["U1","U2"]"#, "[]", r#"["U1",]"#, "[1]", r#"[ "U1" , "W2" ]"#, r#"["a\"b"]"#, "null"];
const FIELDS: &[(&str, &[&str])] = &[
    ("subtype", STRINGS),
    ("channel", STRINGS),
    ("user", STRINGS),
    ("text", STRINGS),
    ("ts", STRINGS),
    ("thread_ts", STRINGS),
    ("event_ts", STRINGS),
    ("team", STRINGS),
    ("client_msg_id", STRINGS),
    ("bot_id", STRINGS),
    ("username", STRINGS),
    ("hidden", BOOLS),
    ("deleted_ts", STRINGS),
    ("reply_count", COUNTS),
    ("reply_users", LISTS),
    ("reply_broadcast", BOOLS),
    ("pinned_to", LISTS),
    ("blocks", RAWS),
    ("attachments", RAWS),
    ("files", RAWS),
    ("edited", RAWS),
    ("icons", RAWS),
    ("members", LISTS),
    ("action_token", STRINGS),
    ("is_intro", BOOLS),
    // Not modelled: kept in `extra` (a frame's `type` is not).
    ("type", STRINGS),
    ("x_unknown", RAWS),
    ("e\\u0301", STRINGS),
    ("\\u0000slack_rtm_extra", RAWS),
];
const SPACES: &[&str] = &["", "", "", " ", "\n  ", "\t"];

/// One `key: value` member; `nested` (a message inside) when given.
fn member(nested: Option<String>) -> impl Strategy<Value = String> {
    let field = (0..FIELDS.len(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0..8usize);
    (field, prop::sample::select(SPACES), prop::sample::select(SPACES)).prop_map(
        move |((f, v, w, odd), s1, s2)| {
            let (key, values) = FIELDS[f];
            // Mostly a value of the field's own kind; sometimes any kind.
            let value = if odd == 0 {
                let all: Vec<&str> = [STRINGS, BOOLS, COUNTS, RAWS, LISTS].concat();
                all[w.index(all.len())].to_owned()
            } else if odd == 1 && nested.is_some() {
                return format!(
                    "{s1}\"{}\"{s2}:{s1}{}",
                    ["message", "previous_message"][w.index(2)],
                    nested.clone().unwrap_or_default()
                );
            } else {
                values[v.index(values.len())].to_owned()
            };
            format!("{s1}\"{key}\"{s2}:{s1}{value}{s2}")
        },
    )
}

fn object(members: Vec<String>, first_type: bool) -> String {
    let mut out = String::from("{");
    if first_type {
        out.push_str(r#""type":"message""#);
        if !members.is_empty() {
            out.push(',');
        }
    }
    out.push_str(&members.join(","));
    out.push('}');
    out
}

fn frame() -> impl Strategy<Value = String> {
    let nested = prop::collection::vec(member(None), 0..6).prop_map(|m| object(m, false));
    (nested, any::<bool>()).prop_flat_map(|(nested, with_type)| {
        (
            prop::collection::vec(member(Some(nested)), 0..14),
            Just(with_type),
            0..10usize,
            any::<prop::sample::Index>(),
            any::<u8>(),
        )
            .prop_map(|(members, with_type, damage, at, byte)| {
                let mut text = object(members, with_type);
                let mut at = at.index(text.len());
                while !text.is_char_boundary(at) || !text.is_char_boundary(at + 1) {
                    at -= 1;
                }
                match damage {
                    // Cut short, trailing text, one byte changed (kept ASCII, so still a `str`).
                    0 => text.truncate(at),
                    1 => text.push_str(["x", " ", "}", ",{}", "\n"][usize::from(byte) % 5]),
                    2 => text.replace_range(at..at + 1, &char::from(byte % 0x80).to_string()),
                    _ => {}
                }
                text
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn fast_message_agrees_with_serde(text in frame()) {
        agree(&text);
    }

    #[test]
    fn fast_view_agrees_with_serde(text in frame()) {
        agree_view(&text);
    }
}

#[test]
fn the_generated_frames_are_read_often_enough_to_test_the_reader() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = frame();
    let (mut read, mut total) = (0, 0);
    for _ in 0..2000 {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        total += 1;
        read += usize::from(agree(&text));
    }
    assert!(read * 10 > total, "the reader took {read} of {total} frames");
}

/// The emulator's plain blast frame (keys in Slack's order).
const BLAST: &str = r#"{"client_msg_id":"5c0ffee0-0003-4000-8000-000000000003","type":"message","text":"staging the cache deploy","user":"U0000000001","ts":"1765000000.000003","blocks":[{"block_id":"b003","elements":[{"elements":[{"text":"staging the cache deploy","type":"text"}],"type":"rich_text_section"}],"type":"rich_text"}],"team":"T0000000001","channel":"C0000000001","event_ts":"1765000000.000003"}"#;

#[test]
fn reads_plain_frames_and_keeps_what_it_does_not_model() {
    assert!(agree(BLAST), "the blast's frame is read by the reader");
    let m = *message_frame(BLAST).unwrap();
    assert_eq!(m.text.as_deref(), Some("staging the cache deploy"));
    assert_eq!(m.channel.as_ref().map(|c| c.as_str()), Some("C0000000001"));
    assert!(m.blocks.as_ref().unwrap().as_str().starts_with(r#"[{"block_id":"b003""#));
    assert!(m.extra.is_empty(), "the frame's own `type` is not kept");
    let v = message_view(BLAST).unwrap();
    assert_eq!(
        (v.channel(), v.user(), v.text(), v.ts(), v.subtype()),
        (
            Some("C0000000001"),
            Some("U0000000001"),
            Some("staging the cache deploy"),
            Some("1765000000.000003"),
            None
        )
    );
    assert!(
        [&v.channel, &v.user, &v.text, &v.ts, &v.team, &v.event_ts]
            .iter()
            .all(|f| matches!(f, Some(crate::event::view::Str(Cow::Borrowed(_))))),
        "the view of a frame without escapes is all borrowed"
    );

    let edit = r#"{"type":"message","subtype":"message_changed","hidden":true,"message":{"type":"message","text":"new","user":"U1","ts":"1.1","edited":{"user":"U1","ts":"2.2"},"z":[1]},"previous_message":{"type":"message","text":"old","user":"U1","ts":"1.1"},"channel":"C1","ts":"2.2","event_ts":"2.2","reply_count":3,"reply_users":["U1","W2"],"is_starred":false,"x":{"y":null}}"#;
    assert!(agree(edit));
    let m = *message_frame(edit).unwrap();
    let inner = m.message.as_ref().unwrap();
    assert_eq!(
        inner.extra.get("type").unwrap().as_str(),
        r#""message""#,
        "a nested message keeps its `type`"
    );
    assert_eq!(inner.extra.get("z").unwrap().as_str(), "[1]");
    assert_eq!(m.extra.get("x").unwrap().as_str(), r#"{"y":null}"#);
    assert_eq!(m.reply_count, Some(3));
    assert_eq!(
        serde_json::to_value(crate::Event::Message(Box::new(m))).unwrap(),
        serde_json::from_str::<serde_json::Value>(edit).unwrap()
    );

    let escaped = r#"{"type":"message","text":"a\nb \"q\" \u00e9\ud83d\ude00 http:\/\/x \\ \t","user":"U\u0031","subtype":"bot\u005fmessage"}"#;
    assert!(agree(escaped), "escapes in typed strings are decoded by the reader");
    let m = *message_frame(escaped).unwrap();
    assert_eq!(m.text.as_deref(), Some("a\nb \"q\" \u{e9}\u{1f600} http://x \\ \t"));
    assert_eq!(m.user.as_ref().map(|u| u.as_str()), Some("U1"));
    assert_eq!(m.subtype, Some(crate::event::MessageSubtype::BotMessage));

    let spaced =
        " {\n \"type\" : \"message\" ,\t\"text\" : null , \"blocks\" : [ 1 , { } ] , \"k\" : -0.5e+3 }\n";
    assert!(agree(spaced));
    let m = *message_frame(spaced).unwrap();
    assert_eq!(m.text, None, "null leaves a field unset, as serde's Option does");
    assert_eq!(m.blocks.unwrap().as_str(), "[ 1 , { } ]");
    assert_eq!(m.extra.get("k").unwrap().as_str(), "-0.5e+3");
}

#[test]
fn gives_up_where_serde_decides() {
    for text in [
        r#"{"type":"message","text":"a\ud800b"}"#, // a lone surrogate in a typed string
        r#"{"type":"message","text":"\udc00"}"#,
        r#"{"type":"message","text":"\ud83dx"}"#,
        r#"{"type":"message","text":"a\qb"}"#,
        r#"{"type":"message","t\u0065xt":"a"}"#, // an escape in a key
        r#"{"type":"message","text":"a","text":"b"}"#, // serde: duplicate field
        r#"{"type":"message","text":null,"text":"b"}"#,
        r#"{"type":"message","text":5}"#, // another shape
        r#"{"type":"message","reply_count":1.0}"#,
        r#"{"type":"message","reply_count":01}"#,
        r#"{"type":"message","reply_count":-1}"#,
        r#"{"type":"message","reply_count":99999999999999999999}"#,
        r#"{"type":"message","blocks":[1,]}"#, // invalid JSON where kept raw
        r#"{"type":"message","x":"\q"}"#,
        r#"{"type":"message","x":"\u12x4"}"#,
        "{\"type\":\"message\",\"x\":\"a\u{1f}\"}",
        r#"{"type":"message","x":1}x"#, // trailing text
        r#"{"type":"message","x":1,}"#,
        r#"["message"]"#,
        r#"{"type":"message","message":[]}"#,
    ] {
        assert!(message_frame(text).is_none(), "{text}");
        assert!(message_view(text).is_none(), "the view reader gives up too: {text}");
        // And the decode is still the serde decode's (typed, unknown or an error).
        let event = crate::Event::from_json(text);
        assert_eq!(
            format!("{event:?}"),
            format!(
                "{:?}",
                Message::from_frame_serde(text)
                    .map(Box::new)
                    .map(crate::Event::Message)
                    .or_else(|_| crate::Event::from_json(text))
            ),
            "{text}"
        );
    }
    let deep = format!(r#"{{"type":"message","x":{}{}}}"#, "[".repeat(120), "]".repeat(120));
    assert!(message_frame(&deep).is_none(), "deeper than the reader goes: serde decides");
    assert!(message_view(&deep).is_none());
}

/// Every `message` frame of the fixtures (and of the recorded corpus, when
/// `SLACK_CORPUS` names its directory: it is not in the repository), compact and as written.
#[test]
fn fixtures_and_the_corpus_agree() {
    let mut dirs =
        vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/events"))];
    if let Ok(corpus) = std::env::var("SLACK_CORPUS") {
        dirs.push(std::path::Path::new(&corpus).join("events"));
    }
    let (mut read, mut messages) = (0, 0);
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            if value.get("type").and_then(|t| t.as_str()) != Some("message") {
                continue;
            }
            messages += 1;
            read += usize::from(agree(&serde_json::to_string(&value).unwrap()));
            agree(&text);
        }
    }
    assert!(messages >= 20 && read * 2 > messages, "read {read} of {messages} message frames");
}
