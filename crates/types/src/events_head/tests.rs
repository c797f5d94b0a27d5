//! Each edge case of the walk, checked against serde_json (the oracle: the head the codec read
//! with serde_json before the walk existed).

use super::walk::{Fields, Stop, walk};
use crate::RawJson;
use serde::Deserialize;
use std::borrow::Cow;

/// The head as the codec's serde_json pass read it (`type` borrowed, the rest owned, `event` a
/// struct of its own): the reference.
#[derive(Deserialize)]
struct JsonHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    challenge: Option<String>,
    event_id: Option<String>,
    event: Option<EventHead>,
}

#[derive(Deserialize)]
struct EventHead {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The four fields, or the error's text.
pub(super) type Answer = Result<[Option<String>; 4], String>;

/// What serde_json answers.
pub(super) fn oracle(json: &str) -> Answer {
    match RawJson::with_head::<JsonHead>(json) {
        Ok((h, raw)) => {
            assert_eq!(raw.as_str(), json);
            Ok([h.kind.map(Cow::into_owned), h.challenge, h.event_id, h.event.and_then(|e| e.kind)])
        }
        Err(e) => Err(e.to_string()),
    }
}

/// What [`RawJson::with_events_api_head`] answers.
pub(super) fn ours(json: &str) -> Answer {
    match RawJson::with_events_api_head(json) {
        Ok((h, raw)) => {
            assert_eq!(raw.as_str(), json);
            Ok([h.kind, h.challenge, h.event_id, h.event_type].map(|f| f.map(Cow::into_owned)))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn owned(f: Fields<'_>) -> [Option<String>; 4] {
    [f.kind, f.challenge, f.event_id, f.event_type].map(|v| v.map(str::to_owned))
}

/// Checks the public answer against serde_json's (accept, fields, error text), and what the
/// walk alone claims: a head only when serde_json builds the same one, `Invalid` only when
/// serde_json refuses. Returns the walk's answer.
pub(super) fn agree(json: &str) -> Result<[Option<String>; 4], Stop> {
    let expected = oracle(json);
    assert_eq!(ours(json), expected, "public answer differs for {json:?}");
    let walked = walk(json).map(owned);
    match &walked {
        Ok(fields) => assert_eq!(Ok(fields), expected.as_ref(), "walk accepted {json:?}"),
        Err(Stop::Invalid) => assert!(expected.is_err(), "walk refused valid {json:?}"),
        Err(Stop::Unsure) => {}
    }
    walked
}

fn some(v: [Option<&str>; 4]) -> [Option<String>; 4] {
    v.map(|f| f.map(str::to_owned))
}

const BENCH_BODY: &str = r#"{"token":"XXYYZZ","team_id":"T0BENCH01","api_app_id":"A0BENCH01","event":{"type":"message","channel":"C0BENCH01","user":"U0BENCH01","text":"benchmark message number 7: the quick brown fox jumps over the lazy dog","ts":"1765000000.000007","event_ts":"1765000000.000007","channel_type":"channel","client_msg_id":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","team":"T0BENCH01"},"type":"event_callback","event_id":"Ev0BENCH0000000007","event_time":1765000000,"authorizations":[{"enterprise_id":null,"team_id":"T0BENCH01","user_id":"U0BOT0001","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,"event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMEJFTkNIMDEiLCJhaWQiOiJBMEJFTkNIMDEiLCJjaWQiOiJDMEJFTkNIMDEifQ"}"#;

#[test]
fn slack_shaped_bodies_are_read_by_the_walk() {
    let cases = [
        (BENCH_BODY, [Some("event_callback"), None, Some("Ev0BENCH0000000007"), Some("message")]),
        (
            r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#,
            [
                Some("url_verification"),
                Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"),
                None,
                None,
            ],
        ),
        (
            r#"{"token":"x","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1","type":"app_rate_limited"}"#,
            [Some("app_rate_limited"), None, None, None],
        ),
        ("{}", [None; 4]),
        (r#"{"type":null,"challenge":null,"event_id":null,"event":null}"#, [None; 4]),
        (r#"{"event":{}}"#, [None; 4]),
        (r#"{"event":{"type":null,"x":{"type":"no"}}}"#, [None; 4]),
        (
            r#"{"x":{"type":"inner"},"y":[{"event":{"type":"no"}}],"type":"top"}"#,
            [Some("top"), None, None, None],
        ),
        (r#"{"type":"","event_id":""}"#, [Some(""), None, Some(""), None]),
        // Keys near the field names are other keys.
        (r#"{"Type":"a","type ":"b","types":"c","event_type":"d","event":{"Type":"e"}}"#, [None; 4]),
        // An unknown key may repeat.
        (r#"{"x":1,"x":[],"type":"t"}"#, [Some("t"), None, None, None]),
        // Multi-byte characters, in and out of the fields.
        (r#"{"type":"été 😀","text":"ü\u00fc"}"#, [Some("été 😀"), None, None, None]),
    ];
    for (json, fields) in cases {
        assert_eq!(agree(json), Ok(some(fields)), "{json}");
    }
}

#[test]
fn whitespace_is_the_four_json_characters_anywhere_between_tokens() {
    let spaced =
        " \n{ \t\"type\" \r: \"t\" , \"event\" :\n{ \"type\" : null } , \"a\" : [ 1 , { } , [ ] ] }\r\n\t ";
    assert_eq!(agree(spaced), Ok(some([Some("t"), None, None, None])));
    // Form feed, vertical tab, a no-break space: not JSON whitespace.
    for ws in ["\u{c}", "\u{b}", "\u{a0}", "\u{2028}"] {
        for json in
            [format!("{ws}{{}}"), format!("{{{ws}}}"), format!("{{}}{ws}"), format!("{{\"a\":{ws}1}}")]
        {
            assert_eq!(agree(&json), Err(Stop::Invalid), "{json:?}");
        }
    }
}

#[test]
fn nothing_but_whitespace_after_the_object() {
    for json in ["{} x", "{}{}", "{},", "{}]", "{}}", "{}\"", "{} 1", "{}\u{0}"] {
        assert_eq!(agree(json), Err(Stop::Invalid), "{json:?}");
    }
    assert_eq!(agree("{} \n"), Ok([None, None, None, None]));
}

#[test]
fn not_an_object_is_refused_and_an_array_is_left_to_serde() {
    for json in ["", "   ", "\"type\"", "1", "null", "true", "}", "x"] {
        assert_eq!(agree(json), Err(Stop::Invalid), "{json:?}");
    }
    // serde's derive reads a struct from an array of its fields, in order.
    let array = r#"["event_callback",null,"Ev1",{"type":"message"}]"#;
    assert_eq!(agree(array), Err(Stop::Unsure));
    assert_eq!(ours(array), Ok(some([Some("event_callback"), None, Some("Ev1"), Some("message")])));
    assert_eq!(agree(r#"{"event":["message"]}"#), Err(Stop::Unsure));
    assert_eq!(ours(r#"{"event":["message"]}"#), Ok(some([None, None, None, Some("message")])));
    assert_eq!(agree(r#"{"event":[]}"#), Err(Stop::Unsure));
    assert!(ours(r#"{"event":[]}"#).is_err());
}

#[test]
fn strings_escapes_and_control_characters_in_skipped_values() {
    let valid = [
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u0041\u00e9\uFFFF\uabcd""#,
        r#""\uD83D\uDE00""#,
        // A lone surrogate in a value nobody reads: serde_json does not decode it there.
        r#""\ud800""#,
        r#""\udc00x\ud800\ud800""#,
        "\"\u{7f}\"",
        r#""{}[],:""#,
        r#""""#,
    ];
    for s in valid {
        let json = format!("{{\"a\":{s},\"b\":{{{s}:1}},\"type\":\"t\"}}");
        assert_eq!(agree(&json), Ok(some([Some("t"), None, None, None])), "{json}");
    }
    let invalid = [
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        r#""\U0041""#,
        r#""\"#,
        r#""abc"#,
        "\"\u{1}\"",
        "\"\u{1f}\"",
        "\"\n\"",
        "\"\t\"",
    ];
    for s in invalid {
        for json in [format!("{{\"a\":{s}}}"), format!("{{\"a\":[{s}]}}"), format!("{{\"a\":{{{s}:1}}}}")] {
            assert_eq!(agree(&json), Err(Stop::Invalid), "{json:?}");
        }
    }
    // Cut inside an escape.
    for json in [r#"{"a":"\u12"#, r#"{"a":"\"#, r#"{"a":"\u"#] {
        assert_eq!(agree(json), Err(Stop::Invalid), "{json:?}");
    }
}

#[test]
fn escaped_keys_and_values_are_left_to_serde_which_decodes_them() {
    let cases = [
        (r#"{"ty\u0070e":"event_callback"}"#, [Some("event_callback"), None, None, None]),
        (r#"{"type":"event_\u0063allback"}"#, [Some("event_callback"), None, None, None]),
        (r#"{"challenge":"a\"b\\c"}"#, [None, Some("a\"b\\c"), None, None]),
        (r#"{"event":{"t\u0079pe":"m\u00e9"}}"#, [None, None, None, Some("mé")]),
        (r#"{"event_id":"\uD83D\uDE00"}"#, [None, None, Some("😀"), None]),
    ];
    for (json, fields) in cases {
        assert_eq!(agree(json), Err(Stop::Unsure), "{json}");
        assert_eq!(ours(json), Ok(some(fields)), "{json}");
    }
    // Decoded, a key can duplicate a field: serde_json refuses it.
    assert!(ours(r#"{"type":"a","typ\u0065":"b"}"#).is_err());
    // A lone surrogate where a key or a field is decoded: serde_json refuses it.
    for json in [r#"{"type":"\ud800"}"#, r#"{"\udc00":1}"#, r#"{"event":{"\ud800":1}}"#] {
        assert_eq!(agree(json), Err(Stop::Unsure), "{json}");
        assert!(ours(json).is_err(), "{json}");
    }
    // An escape in a key of a skipped object is only checked.
    assert_eq!(agree(r#"{"a":{"ty\u0070e":"x","\ud800":2}}"#), Ok([None, None, None, None]));
}

#[test]
fn numbers_as_serde_json_reads_them() {
    let valid = [
        "0",
        "-0",
        "1",
        "-1",
        "10",
        "1234567890123456789012345678901234567890",
        "0.5",
        "-0.0",
        "1.25",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "1.5e3",
        "0e0",
        "-0.0E-0",
        "1e400",
        "99999999999999999999e99999",
    ];
    for n in valid {
        let json = format!("{{\"a\":{n},\"b\":[{n},{n}],\"type\":\"t\"}}");
        assert_eq!(agree(&json), Ok(some([Some("t"), None, None, None])), "{json}");
    }
    let invalid = [
        "01", "-01", "00", "-", "+1", ".5", "1.", "1.e5", "1e", "1e+", "1E-", "--1", "1.5.3", "0x10", "1ee5",
        "-a",
    ];
    for n in invalid {
        for json in [format!("{{\"a\":{n}}}"), format!("{{\"a\":[{n}]}}"), format!("{{\"a\":{n} }}")] {
            assert_eq!(agree(&json), Err(Stop::Invalid), "{json:?}");
        }
    }
}

#[test]
fn literals_spelled_out() {
    for v in ["true", "false", "null"] {
        assert_eq!(agree(&format!("{{\"a\":{v}}}")), Ok([None, None, None, None]));
    }
    for v in ["tru", "True", "nul", "nulll", "fals", "falsey", "t", "n", "NaN", "Infinity", "undefined"] {
        assert_eq!(agree(&format!("{{\"a\":{v}}}")), Err(Stop::Invalid), "{v}");
        assert_eq!(agree(&format!("{{\"type\":{v}}}")), Err(Stop::Invalid), "{v}");
        assert_eq!(agree(&format!("{{\"event\":{v}}}")), Err(Stop::Invalid), "{v}");
    }
}

#[test]
fn objects_and_arrays_without_trailing_commas_or_missing_parts() {
    let invalid = [
        r#"{"a":1,}"#,
        r#"{,}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":[,1]}"#,
        r#"{"a":[1 2]}"#,
        r#"{"a" 1}"#,
        r#"{"a":}"#,
        r#"{"a"}"#,
        r#"{a:1}"#,
        r#"{"a":1 "b":2}"#,
        r#"{"a":{"b"}}"#,
        r#"{"a":{"b":1,}}"#,
        r#"{"a":[}"#,
        r#"{"a":{]}"#,
        r#"{"a":[[]}"#,
        r#"{"a":{1:2}}"#,
        r#"{"type":"t",}"#,
        r#"{"event":{"type":"t",}}"#,
        r#"{"event":{,}}"#,
        r#"{"event":{"a"}}"#,
        r#"{"#,
        r#"{"a""#,
        r#"{"a":"#,
        r#"{"a":[1"#,
    ];
    for json in invalid {
        assert_eq!(agree(json), Err(Stop::Invalid), "{json}");
    }
    assert_eq!(agree(r#"{"a":[[],{},[{}],{"b":[]}],"c":{}}"#), Ok([None, None, None, None]));
}

#[test]
fn each_field_once_and_of_its_type() {
    let duplicates = [
        r#"{"type":"a","type":"a"}"#,
        r#"{"type":null,"type":"a"}"#,
        r#"{"challenge":"a","x":1,"challenge":null}"#,
        r#"{"event_id":"a","event_id":"b"}"#,
        r#"{"event":null,"event":{"type":"m"}}"#,
        r#"{"event":{"type":"m","type":"m"}}"#,
    ];
    for json in duplicates {
        assert_eq!(agree(json), Err(Stop::Invalid), "{json}");
    }
    for v in ["1", "true", "[]", "{}", r#"["a"]"#, "-0.5"] {
        for field in ["type", "challenge", "event_id"] {
            let json = format!("{{\"{field}\":{v}}}");
            assert_eq!(agree(&json), Err(Stop::Invalid), "{json}");
        }
        let json = format!("{{\"event\":{{\"type\":{v}}}}}");
        assert_eq!(agree(&json), Err(Stop::Invalid), "{json}");
    }
    for v in ["1", "true", "\"message\"", "-2e3"] {
        let json = format!("{{\"event\":{v}}}");
        assert_eq!(agree(&json), Err(Stop::Invalid), "{json}");
    }
}

#[test]
fn nesting_in_skipped_values_has_no_limit_in_serde_json_and_the_walk_hands_over_at_128() {
    let nested = |n: usize| format!("{{\"type\":\"t\",\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
    for n in [1, 100, 127, 128] {
        assert_eq!(agree(&nested(n)), Ok(some([Some("t"), None, None, None])), "{n}");
    }
    for n in [129, 200, 5000] {
        assert_eq!(agree(&nested(n)), Err(Stop::Unsure), "{n}");
        assert_eq!(ours(&nested(n)), Ok(some([Some("t"), None, None, None])), "{n}");
    }
    // Objects nested in the `event` object's skipped value.
    let objects = |n: usize| {
        format!("{{\"event\":{{\"type\":\"m\",\"x\":{}1{}}}}}", "{\"a\":".repeat(n), "}".repeat(n))
    };
    for n in [1, 127, 128] {
        assert_eq!(agree(&objects(n)), Ok(some([None, None, None, Some("m")])), "{n}");
    }
    for n in [129, 1000] {
        assert_eq!(agree(&objects(n)), Err(Stop::Unsure), "{n}");
        assert_eq!(ours(&objects(n)), Ok(some([None, None, None, Some("m")])), "{n}");
    }
    // Unbalanced, at any depth.
    for json in
        [format!("{{\"a\":{}}}", "[".repeat(100)), format!("{{\"a\":{}1{}}}", "[".repeat(50), "]".repeat(51))]
    {
        assert_eq!(agree(&json), Err(Stop::Invalid));
    }
    let unclosed = format!("{{\"a\":{}}}", "[".repeat(300));
    assert_eq!(agree(&unclosed), Err(Stop::Unsure));
    assert!(ours(&unclosed).is_err());
    assert_eq!(agree(&format!("{{\"a\":{}}}", "[".repeat(20) + &"]".repeat(19) + "}")), Err(Stop::Invalid));
}

#[test]
fn every_cut_of_a_body_is_refused() {
    for end in 0..BENCH_BODY.len() {
        let cut = &BENCH_BODY[..end];
        assert_eq!(agree(cut), Err(Stop::Invalid), "{cut}");
    }
}
