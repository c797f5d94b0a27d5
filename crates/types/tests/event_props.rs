//! Property tests of the event model: any JSON decodes without panicking, and every typed
//! event re-encodes to the JSON it came from (but for `null`s).

use proptest::prelude::*;
use serde_json::{Map, Value};
use slack_rtm_types::Event;
use slack_rtm_types::event::KNOWN_TYPES;

mod common;

use common::fixtures;

/// Field names that the event structs read, so generated objects often hit typed fields.
const FIELD_NAMES: &[&str] = &[
    "type",
    "subtype",
    "user",
    "users",
    "channel",
    "ts",
    "event_ts",
    "thread_ts",
    "item",
    "reaction",
    "item_user",
    "presence",
    "text",
    "id",
    "name",
    "file",
    "file_id",
    "comment",
    "subteam",
    "bot",
    "team",
    "profile",
    "dnd_status",
    "latest",
    "message",
    "previous_message",
    "value",
    "reply_to",
    "ok",
    "error",
    "code",
    "msg",
    "url",
    "plan",
    "fields",
    "domain",
    "email_domain",
    "subteam_id",
    "user_id",
    "channel_id",
    "created",
    "members",
    "topic",
    "ordering",
    "is_migrating",
    "user_count",
    "added_users_count",
    "blocks",
    "edited",
    "extra",
];

fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Short decimals: they parse back to the very same f64.
        (-1_000_000_000i64..1_000_000_000).prop_map(|n| Value::from(n as f64 / 1000.0)),
        "[0-9]{10}\\.[0-9]{6}".prop_map(Value::from),
        "[UWCGDTBSEF][A-Z0-9]{8}".prop_map(Value::from),
        prop::sample::select(KNOWN_TYPES).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object whose `type` is a known type, with random fields.
fn event_object() -> impl Strategy<Value = Value> {
    (prop::sample::select(KNOWN_TYPES), prop::collection::vec((json_key(), json_value()), 0..10)).prop_map(
        |(kind, fields)| {
            let mut obj: Map<String, Value> = fields.into_iter().collect();
            obj.insert("type".into(), Value::from(kind));
            Value::Object(obj)
        },
    )
}

/// A fixture with some of its fields removed or replaced by random values.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    let all: Vec<Value> =
        fixtures().into_iter().map(|(_, text)| serde_json::from_str(&text).unwrap()).collect();
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), json_value()), 0..4);
    (prop::sample::select(all), edits).prop_map(|(mut value, edits)| {
        for (index, remove, replacement) in edits {
            let Value::Object(obj) = &mut value else { break };
            let keys: Vec<String> = obj.keys().filter(|k| *k != "type").cloned().collect();
            if keys.is_empty() {
                break;
            }
            let key = &keys[index.index(keys.len())];
            if remove {
                obj.remove(key);
            } else {
                obj.insert(key.clone(), replacement);
            }
        }
        value
    })
}

/// `value` without its object fields that are `null`, recursively.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The properties every decoded JSON text must have.
fn check_decoded(text: &str) -> Result<(), TestCaseError> {
    let ev = Event::from_json(text);
    prop_assert!(ev.is_ok(), "valid JSON must decode: {:?}", ev);
    let ev = ev.unwrap();
    let declared = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned));
    match &ev {
        Event::Unknown { raw, event_type, .. } => {
            prop_assert_eq!(raw.as_str(), text);
            prop_assert_eq!(event_type, &declared);
        }
        Event::Reply(_) => prop_assert_eq!(declared, None),
        typed => {
            prop_assert_eq!(Some(typed.event_type()), declared.as_deref());
            // Serializing and decoding again gives the same event.
            let out = serde_json::to_string(typed).expect("serialize");
            let again = Event::from_json(&out).expect("serialized event is JSON");
            prop_assert_eq!(&again, typed, "re-decoding {} changed it", out);
            // Lossless: the serialized event is the JSON it came from, but for `null`s.
            let original = without_nulls(serde_json::from_str(text).expect("valid JSON"));
            let back = without_nulls(serde_json::from_str(&out).expect("valid JSON"));
            prop_assert_eq!(back, original, "{} came back as {}", text, out);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_strings(text in any::<String>()) {
        let result = Event::from_json(&text);
        if serde_json::from_str::<Value>(&text).is_ok() {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn never_panics_on_json_like_strings(text in "[\\[\\]{}\",:0-9a-z_ .\\\\-]{0,40}") {
        let result = Event::from_json(&text);
        if serde_json::from_str::<Value>(&text).is_ok() {
            prop_assert!(result.is_ok(), "{:?}", result);
        }
    }

    #[test]
    fn any_json_value_decodes(value in json_value()) {
        check_decoded(&value.to_string())?;
    }

    #[test]
    fn objects_of_known_types_decode(value in event_object()) {
        check_decoded(&value.to_string())?;
    }

    #[test]
    fn mutated_fixtures_decode(value in mutated_fixture()) {
        check_decoded(&value.to_string())?;
        check_decoded(&serde_json::to_string_pretty(&value).unwrap())?;
    }
}
