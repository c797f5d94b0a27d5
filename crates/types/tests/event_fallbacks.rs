//! Events that do not fit the typed model: a known type with the wrong shape, unknown types,
//! odd or duplicated JSON, and text that is not JSON at all.

use serde_json::Value;
use slack_rtm_types::Event;

mod common;

use common::decode;

#[track_caller]
fn assert_unknown(text: &str, event_type: Option<&str>, shape_error: bool) {
    match Event::from_json(text) {
        Ok(Event::Unknown { event_type: t, raw, shape_error: e }) => {
            assert_eq!(t.as_deref(), event_type, "event_type of {text}");
            assert_eq!(e.is_some(), shape_error, "shape_error of {text}: {e:?}");
            assert_eq!(raw.as_str(), text, "raw of {text}");
        }
        other => panic!("{text}: expected Unknown, got {other:?}"),
    }
}

#[test]
fn known_type_with_wrong_shape_falls_back_to_unknown() {
    let text = r#"{"type":"reaction_added","user":5}"#;
    assert_unknown(text, Some("reaction_added"), true);
    assert_eq!(decode(text).event_type(), "reaction_added");
    // Serializing the fallback writes the frame back unchanged.
    assert_eq!(serde_json::to_string(&decode(text)).unwrap(), text);

    for text in [
        r#"{"type":"reaction_added","user":"U1","reaction":"eyes"}"#,
        r#"{"type":"reaction_added","user":"U1","reaction":"eyes","item":{"channel":"C1"}}"#,
        r#"{"type":"channel_joined","channel":5}"#,
        r#"{"type":"channel_rename","channel":{"id":"C1","created":true}}"#,
        r#"{"type":"mpim_history_changed","latest":"1.2","is_mpim":"yes"}"#,
        r#"{"type":"presence_change","presence":"away"}"#,
        r#"{"type":"presence_change","user":"U1"}"#,
        r#"{"type":"user_typing","channel":"C1"}"#,
        r#"{"type":"pong"}"#,
        r#"{"type":"error","error":"boom"}"#,
        r#"{"type":"team_join","user":{"name":"no id"}}"#,
        r#"{"type":"file_shared","file":42}"#,
        r#"{"type":"subteam_members_changed","subteam_id":"S1","added_users_count":-1}"#,
        r#"{"type":"message","user":["U1"]}"#,
    ] {
        let kind = serde_json::from_str::<Value>(text).unwrap()["type"].as_str().unwrap().to_owned();
        assert_unknown(text, Some(&kind), true);
    }
}

#[test]
fn unknown_and_odd_json_gives_unknown() {
    assert_unknown(r#"{"type":"brand_new_event","x":1}"#, Some("brand_new_event"), false);
    for text in
        ["[1,2]", r#""x""#, "3", "null", "true", "{}", " {\"a\":1} ", r#"{"type":5}"#, r#"{"type":null}"#]
    {
        assert_unknown(text, None, false);
    }
    assert_eq!(decode(r#"{"type":5}"#).event_type(), "unknown");
    // An array is not read as an event whose fields come in order.
    for text in [
        r#"["hello"]"#,
        r#" ["user_typing","C1","U1"]"#,
        r#"["reaction_added","U1","eyes",{"type":"message","channel":"C1","ts":"1.2"}]"#,
        r#"[true,1]"#,
    ] {
        assert_unknown(text, None, false);
    }
}

#[test]
fn duplicate_keys_give_unknown() {
    // A repeated top-level `type`: the first one names the event (documented on from_json).
    assert!(matches!(Event::from_json(r#"{"type":"hello","type":"goodbye"}"#), Ok(Event::Hello(_))));
    assert_unknown(r#"{"ok":true,"reply_to":1,"reply_to":2}"#, None, true);
    assert_unknown(
        r#"{"type":"user_typing","channel":"C1","channel":"C2","user":"U1"}"#,
        Some("user_typing"),
        true,
    );
    assert_unknown(
        r#"{"type":"reaction_added","user":"U1","user":"U2","reaction":"x","item":{"type":"message"}}"#,
        Some("reaction_added"),
        true,
    );
}

#[test]
fn invalid_json_is_an_error() {
    for text in [
        "",
        " ",
        r#"{"type":"#,
        r#"{"type":"hello""#,
        r#"{"type":"hello",}"#,
        "{'type':1}",
        r#"{"type":"hello"} x"#,
        "[1,",
    ] {
        assert!(Event::from_json(text).is_err(), "{text:?} should be an error");
    }
}
