//! The walk against serde_json on generated text: Slack-shaped bodies, any JSON, the same
//! mutated, cut and deeply nested, and garbage. Every case goes through `agree` (the public
//! answer equals serde_json's, fields and error text; the walk's head only when serde_json
//! builds the same, its refusal only when serde_json refuses).

use super::tests::{agree, oracle};
use super::walk::Stop;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Whitespace between tokens (mostly none, as Slack sends it).
fn ws() -> impl Strategy<Value = &'static str> {
    select(vec!["", "", "", "", " ", "\n", "\t", "\r\n  "])
}

/// A JSON string literal with any escape serde_json takes in a skipped value (a lone surrogate
/// included), multi-byte characters and JSON punctuation inside.
fn string_lit() -> impl Strategy<Value = String> {
    let parts = vec![
        "a",
        "Z",
        "0",
        " ",
        "é",
        "😀",
        "{",
        "]",
        ",",
        ":",
        "\\\"",
        "\\\\",
        "\\/",
        "\\b",
        "\\f",
        "\\n",
        "\\r",
        "\\t",
        "\\u00e9",
        "\\uD83D\\uDE00",
        "\\udc00",
        "\\u0000",
        "type",
        "event",
    ];
    prop::collection::vec(select(parts), 0..8).prop_map(|p| format!("\"{}\"", p.concat()))
}

/// A plain string (no escape): what Slack puts in the routing fields.
fn plain_lit() -> impl Strategy<Value = String> {
    select(vec![
        "event_callback",
        "url_verification",
        "app_rate_limited",
        "message",
        "Ev0A1B2C3",
        "",
        "x y",
        "é😀",
    ])
    .prop_map(|s| format!("\"{s}\""))
}

fn number_lit() -> impl Strategy<Value = String> {
    let int = select(vec!["0", "1", "9", "10", "1765000000", "123456789012345678901234567890"]);
    let frac = prop::option::of(select(vec!["0", "5", "000", "123"]));
    let exp =
        prop::option::of((select(vec!["e", "E"]), select(vec!["", "+", "-"]), select(vec!["0", "7", "308"])));
    (any::<bool>(), int, frac, exp).prop_map(|(neg, int, frac, exp)| {
        let mut n = String::new();
        if neg {
            n.push('-');
        }
        n.push_str(int);
        if let Some(f) = frac {
            n.push('.');
            n.push_str(f);
        }
        if let Some((e, sign, digits)) = exp {
            n.push_str(e);
            n.push_str(sign);
            n.push_str(digits);
        }
        n
    })
}

/// Any JSON value, with whitespace.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number_lit(),
        string_lit(),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec((ws(), inner.clone(), ws()), 0..5).prop_map(|items| format!(
                "[{}]",
                items.iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect::<Vec<_>>().join(",")
            )),
            prop::collection::vec((ws(), string_lit(), ws(), ws(), inner, ws()), 0..5).prop_map(|members| {
                let members: Vec<String> =
                    members.iter().map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// An object of `members` (key literal, value), with whitespace.
fn object(members: Vec<(String, String)>, spaces: Vec<&str>) -> String {
    let sp = |i: usize| spaces.get(i % spaces.len().max(1)).copied().unwrap_or("");
    let parts: Vec<String> = members
        .iter()
        .enumerate()
        .map(|(i, (k, v))| format!("{}{k}{}:{}{v}{}", sp(4 * i), sp(4 * i + 1), sp(4 * i + 2), sp(4 * i + 3)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// Keys other than the four fields, close to them or like Slack's.
fn other_key() -> impl Strategy<Value = String> {
    select(vec![
        "token",
        "team_id",
        "api_app_id",
        "event_time",
        "authorizations",
        "Type",
        "types",
        "event ",
        "event_type",
        "x",
    ])
    .prop_map(|k| format!("\"{k}\""))
}

/// A Slack-shaped body the walk must read itself: each field at most once, plain, of its type.
fn plain_body() -> impl Strategy<Value = String> {
    let string_or_null = || prop_oneof![4 => plain_lit(), 1 => Just("null".to_owned())];
    let event = (
        prop::option::of(string_or_null()),
        prop::collection::vec((other_key(), value()), 0..5),
        prop::collection::vec(ws(), 1..8),
    )
        .prop_flat_map(|(kind, mut members, spaces)| {
            if let Some(kind) = kind {
                members.push(("\"type\"".to_owned(), kind));
            }
            (Just(members).prop_shuffle(), Just(spaces)).prop_map(|(m, s)| object(m, s))
        });
    let fields = (
        prop::option::of(string_or_null()),
        prop::option::of(string_or_null()),
        prop::option::of(string_or_null()),
        prop::option::of(prop_oneof![4 => event, 1 => Just("null".to_owned())]),
    );
    (
        fields,
        prop::collection::vec((other_key(), value()), 0..6),
        prop::collection::vec(ws(), 1..8),
        ws(),
        ws(),
    )
        .prop_flat_map(|((kind, challenge, event_id, event), mut members, spaces, lead, trail)| {
            for (name, v) in
                [("type", kind), ("challenge", challenge), ("event_id", event_id), ("event", event)]
            {
                if let Some(v) = v {
                    members.push((format!("\"{name}\""), v));
                }
            }
            (Just(members).prop_shuffle(), Just(spaces))
                .prop_map(move |(m, s)| format!("{lead}{}{trail}", object(m, s)))
        })
}

/// A body of any shape: fields repeated, escaped keys, values of any type, arrays.
fn any_body() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        3 => select(vec!["type", "challenge", "event_id", "event"]).prop_map(|k| format!("\"{k}\"")),
        2 => other_key(),
        1 => select(vec!["ty\\u0070e", "\\u0065vent", "event\\u005fid", "\\ud800"]).prop_map(|k| format!("\"{k}\"")),
    ];
    let event = prop::collection::vec(
        (prop_oneof![Just("\"type\"".to_owned()), other_key(), string_lit()], value()),
        0..4,
    )
    .prop_map(|m| object(m, vec![""]));
    let member_value = prop_oneof![3 => plain_lit(), 2 => value(), 2 => event, 1 => string_lit()];
    prop_oneof![
        5 => (prop::collection::vec((key, member_value), 0..7), prop::collection::vec(ws(), 1..6)).prop_map(|(m, s)| object(m, s)),
        1 => value(),
    ]
}

/// `text` with `edits` applied: a byte removed, inserted or replaced, or the text cut.
fn mutate(text: &str, edits: &[(Index, u8, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (at, op, byte) in edits {
        let i = at.index(bytes.len() + 1);
        match op % 4 {
            0 if i < bytes.len() => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, *byte),
            2 if i < bytes.len() => bytes[i] = *byte,
            _ => bytes.truncate(i),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Bytes that matter to JSON, and a few that do not.
fn significant() -> impl Strategy<Value = u8> {
    select(b"{}[]\",:\\ \n\t\x0c\x01-+.0123456789eEtrufalsn/xu".to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Slack-shaped bodies: serde_json builds them, and the walk reads them itself (no hand-over).
    #[test]
    fn slack_shaped_bodies_are_read_by_the_walk_as_serde_reads_them(body in plain_body()) {
        prop_assert!(oracle(&body).is_ok(), "{}", body);
        prop_assert!(agree(&body).is_ok(), "{}", body);
    }

    /// Bodies of any shape.
    #[test]
    fn any_body_agrees(body in any_body()) {
        agree(&body).ok();
    }

    /// Slack-shaped bodies with bytes removed, inserted, replaced, or cut short.
    #[test]
    fn mutated_bodies_agree(body in plain_body(), edits in prop::collection::vec((any::<Index>(), any::<u8>(), significant()), 1..4)) {
        agree(&mutate(&body, &edits)).ok();
    }

    /// Any body cut at any byte.
    #[test]
    fn cut_bodies_agree(body in any_body(), at in any::<Index>()) {
        let bytes = body.as_bytes();
        let cut = String::from_utf8_lossy(&bytes[..at.index(bytes.len() + 1)]).into_owned();
        agree(&cut).ok();
    }

    /// Garbage made of JSON's own bytes.
    #[test]
    fn garbage_agrees(bytes in prop::collection::vec(significant(), 0..64), lead in prop::bool::ANY) {
        let mut text = if lead { "{".to_owned() } else { String::new() };
        text.push_str(&String::from_utf8_lossy(&bytes));
        agree(&text).ok();
    }

    /// Deep nesting, balanced or not, in a skipped value or in the `event` object, around 128.
    #[test]
    fn deep_nesting_agrees(
        open in 100usize..300,
        close in 100usize..300,
        objects in prop::bool::ANY,
        in_event in prop::bool::ANY,
    ) {
        let (o, c) = if objects { ("{\"a\":", "}") } else { ("[", "]") };
        let inner = format!("{}1{}", o.repeat(open), c.repeat(close));
        let body = if in_event {
            format!("{{\"type\":\"event_callback\",\"event\":{{\"type\":\"m\",\"x\":{inner}}}}}")
        } else {
            format!("{{\"type\":\"event_callback\",\"x\":{inner},\"event_id\":\"E\"}}")
        };
        let walked = agree(&body);
        if open == close && open <= 128 {
            prop_assert!(walked.is_ok());
        }
        if open != close {
            prop_assert!(oracle(&body).is_err());
            if open <= 128 {
                prop_assert_eq!(walked, Err(Stop::Invalid));
            }
        }
    }
}
