//! Tests of the RTM event model against the fixtures in `tests/fixtures/events/`.
//!
//! Fixture names: `<type>.json`, or `<type>.<variant>.json` for a second form of the same type
//! (`presence_change.batched.json`, `group_joined.channel_id.json`); messages are
//! `message.<subtype>[.<variant>].json`, or `message.plain.<variant>.json` without a subtype;
//! `reply.*.json` are replies (they have no `type`) and `unknown.json` has a made-up type.
//! Every fixture is written for this project; the shapes of the second forms were learned from
//! recorded Slack payloads (`cargo xtask corpus`).
//!
//! What does not fit the model is in `event_fallbacks.rs`, the property tests in `event_props.rs`.

use serde_json::Value;
use slack_rtm_types::event::{
    Count, EmojiChangeKind, FileRef, ItemType, KNOWN_TYPES, MessageSubtype, Presence,
};
use slack_rtm_types::{Event, Ts, UserId};
use std::collections::BTreeSet;

mod common;

use common::{decode, fixture, fixtures, fixtures_dir, typed};

/// Checks that every field of `fixture` is in `out` with the same value, recursively. A `null`
/// in the fixture may be absent from the output (an `Option` that is `None` is not written).
fn check_preserved(path: &str, fixture: &Value, out: Option<&Value>, problems: &mut Vec<String>) {
    let Some(out) = out else {
        if !fixture.is_null() {
            problems.push(format!("{path}: missing from the serialized event"));
        }
        return;
    };
    match (fixture, out) {
        (Value::Object(f), Value::Object(o)) => {
            for (key, value) in f {
                let sub = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                check_preserved(&sub, value, o.get(key), problems);
            }
        }
        (Value::Array(f), Value::Array(o)) if f.len() == o.len() => {
            for (i, (fv, ov)) in f.iter().zip(o).enumerate() {
                check_preserved(&format!("{path}[{i}]"), fv, Some(ov), problems);
            }
        }
        (f, o) if f == o => {}
        (f, o) => problems.push(format!("{path}: fixture has {f}, serialized has {o}")),
    }
}

/// The fixture's wire type (`reply` for replies, which have none).
fn wire_type(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

// ---------------------------------------------------------------------------------------------
// Every fixture
// ---------------------------------------------------------------------------------------------

#[test]
fn every_fixture_decodes_to_its_typed_variant() {
    for (name, text) in fixtures() {
        let ev = decode(&text);
        match (wire_type(&name), &ev) {
            ("reply", Event::Reply(_)) => {}
            ("reply", other) => panic!("{name}: expected Reply, got {other:?}"),
            ("unknown", Event::Unknown { event_type, shape_error, raw }) => {
                assert_eq!(event_type.as_deref(), Some("quantum_entanglement_observed"));
                assert_eq!(*shape_error, None, "an unknown type is not a shape error");
                assert_eq!(raw.as_str(), text, "Unknown keeps the frame verbatim");
                assert_eq!(ev.event_type(), "quantum_entanglement_observed");
            }
            (_, Event::Unknown { shape_error, .. }) => {
                panic!("{name}: fell back to Unknown: {shape_error:?}")
            }
            (ty, ev) => {
                assert!(KNOWN_TYPES.contains(&ty), "{name}: `{ty}` is not in KNOWN_TYPES");
                assert_eq!(ev.event_type(), ty, "{name}: event_type()");
            }
        }
        if let (Some(rest), Event::Message(m)) = (name.strip_prefix("message."), &ev) {
            let sub = rest.split('.').next().unwrap_or(rest);
            if sub == "plain" {
                assert_eq!(m.subtype, None, "{name}: subtype");
                continue;
            }
            let expected = MessageSubtype::from_wire(sub);
            assert!(!matches!(expected, MessageSubtype::Other(_)), "{name}: unknown subtype");
            assert_eq!(m.subtype.as_ref(), Some(&expected), "{name}: subtype");
        }
    }
}

#[test]
fn every_fixture_round_trips() {
    for (name, text) in fixtures() {
        let fixture_value: Value = serde_json::from_str(&text).expect("fixture is JSON");
        // Raw parts compare as text, so start from the compact form that serialization writes.
        let compact = serde_json::to_string(&fixture_value).unwrap();
        let ev = decode(&compact);

        let out = serde_json::to_value(&ev).unwrap_or_else(|e| panic!("{name}: serialize: {e}"));
        let again = decode(&out.to_string());
        assert_eq!(again, ev, "{name}: re-decoding the serialized event changed it");

        // Pretty and compact input give the same event.
        let from_pretty = serde_json::to_value(decode(&text)).unwrap();
        assert_eq!(from_pretty, out, "{name}: formatting of the input changed the event");

        // Nothing the fixture holds is lost (lossless by construction), and nothing is added.
        let mut problems = Vec::new();
        check_preserved("", &fixture_value, Some(&out), &mut problems);
        check_preserved("", &out, Some(&fixture_value), &mut problems);
        assert!(problems.is_empty(), "{name}: fields lost, changed or added:\n{}", problems.join("\n"));

        // Written as text (where a repeated key would show), it decodes to the same event.
        let text_out = serde_json::to_string(&ev).unwrap();
        assert_eq!(decode(&text_out), ev, "{name}: {text_out}");
    }
}

#[test]
fn every_known_type_has_a_fixture() {
    let missing: Vec<_> =
        KNOWN_TYPES.iter().filter(|t| !fixtures_dir().join(format!("{t}.json")).is_file()).collect();
    assert!(missing.is_empty(), "types without a fixture: {missing:?}");
}

#[test]
fn known_types_are_unique_and_complete_enough() {
    let set: BTreeSet<_> = KNOWN_TYPES.iter().collect();
    assert_eq!(set.len(), KNOWN_TYPES.len(), "duplicate entries in KNOWN_TYPES");
    assert!(KNOWN_TYPES.len() >= 65, "only {} typed event types", KNOWN_TYPES.len());
    for t in ["hello", "message", "reaction_added", "channel_joined", "team_join", "pong"] {
        assert!(KNOWN_TYPES.contains(&t), "{t}");
    }
}

// ---------------------------------------------------------------------------------------------
// Specific events
// ---------------------------------------------------------------------------------------------

#[test]
fn presence_change_both_forms() {
    let Event::PresenceChange(single) = typed("presence_change") else { panic!() };
    assert_eq!(single.users, vec![UserId::from("U061F7AUR")]);
    assert_eq!(single.presence, Presence::Away);
    assert!(!single.batched);

    let Event::PresenceChange(batched) = typed("presence_change.batched") else { panic!() };
    assert_eq!(batched.users, ["U061F7AUR", "U0G9QF9C6", "W0AB1CD2E"].map(UserId::from));
    assert_eq!(batched.presence, Presence::Active);
    assert!(batched.batched);

    // A batch of one is still batched, and each form is written back as it came.
    let one = decode(r#"{"type":"presence_change","users":["U1"],"presence":"away"}"#);
    let Event::PresenceChange(p) = &one else { panic!("{one:?}") };
    assert!(p.batched);
    let v = serde_json::to_value(&one).unwrap();
    assert_eq!(v["users"], serde_json::json!(["U1"]));
    assert!(v.get("user").is_none());
    let v = serde_json::to_value(Event::PresenceChange(single)).unwrap();
    assert_eq!(v["user"], "U061F7AUR");
    assert!(v.get("users").is_none());
}

#[test]
fn reaction_added_fields() {
    let Event::ReactionAdded(r) = typed("reaction_added") else { panic!() };
    assert_eq!(r.user, "U0G9QF9C6");
    assert_eq!(r.reaction, "thumbsup::skin-tone-3");
    assert_eq!(r.item.kind, ItemType::Message);
    assert_eq!(r.item.channel.as_ref().map(|c| c.as_str()), Some("C061EG9SL"));
    assert_eq!(r.item.ts, Some(Ts::from("1360782400.498405")));
    assert_eq!(r.item_user, Some(UserId::from("U061F7AUR")));

    let Event::ReactionRemoved(r) = typed("reaction_removed") else { panic!() };
    assert_eq!(r.item.kind, ItemType::File);
    assert_eq!(r.item.file.as_deref(), Some("F04QX7ZK2MB"));
}

#[test]
fn conversation_events_fields() {
    let Event::ChannelJoined(j) = typed("channel_joined") else { panic!() };
    assert_eq!(j.channel.id(), "C061EG9SL");
    let c = j.channel.info().expect("the object form");
    assert_eq!(c.name.as_deref(), Some("design-reviews"));
    assert_eq!(c.topic.as_ref().and_then(|t| t.value.as_deref()), Some("Weekly design crit, Thursdays 3pm"));
    assert_eq!(c.members.as_ref().map(Vec::len), Some(2));
    // Fields the struct does not name are kept.
    assert_eq!(c.extra.value("priority"), Some(Value::from(0)));
    assert_eq!(c.extra.value("parent_conversation"), Some(Value::Null));

    let Event::GroupJoined(g) = typed("group_joined") else { panic!() };
    assert_eq!(g.channel.info().and_then(|c| c.is_private), Some(true));

    let Event::ImCreated(im) = typed("im_created") else { panic!() };
    assert_eq!(im.channel.is_im, Some(true));
    assert_eq!(im.channel.user, Some(UserId::from("U0G9QF9C6")));

    let Event::ChannelMarked(m) = typed("channel_marked") else { panic!() };
    assert_eq!(m.ts, Ts::from("1678229664.000100"));
    assert_eq!(m.unread_count_display, Some(2));

    let Event::MemberJoinedChannel(m) = typed("member_joined_channel") else { panic!() };
    assert_eq!(m.user, "U0G9QF9C6");
    assert_eq!(m.inviter, Some(UserId::from("U061F7AUR")));
    assert_eq!(m.channel_type.as_deref(), Some("C"));

    assert!(matches!(typed("im_close"), Event::ImClose(_)));
    assert!(matches!(typed("group_unarchive"), Event::GroupUnarchive(_)));
    let Event::ImHistoryChanged(h) = typed("im_history_changed") else { panic!() };
    assert_eq!(h.latest, Ts::from("1358877455.000010"));
}

#[test]
fn file_events_accept_both_file_forms() {
    let Event::FileShared(f) = typed("file_shared") else { panic!() };
    assert!(matches!(f.file, FileRef::Info(_)));
    assert_eq!(f.id(), "F04QX7ZK2MB");
    assert_eq!(f.channel_id.as_ref().map(|c| c.as_str()), Some("C061EG9SL"));

    let Event::FilePrivate(f) = typed("file_private") else { panic!() };
    assert_eq!(f.file, FileRef::Id("F04QX7ZK2MB".into()));
    assert_eq!(serde_json::to_value(&f).unwrap()["file"], "F04QX7ZK2MB");

    let Event::StarAdded(s) = typed("star_added") else { panic!() };
    let info = s.item.file.as_ref().and_then(FileRef::info).expect("file object");
    assert_eq!(info.mimetype.as_deref(), Some("image/png"));
    assert_eq!(info.size, Some(184233));
    assert_eq!(info.extra.value("original_w"), Some(Value::from(1440)));

    let Event::FileCommentDeleted(c) = typed("file_comment_deleted") else { panic!() };
    assert_eq!(c.comment, "Fc04R1A2B3C4");
    let Event::FileCommentEdited(c) = typed("file_comment_edited") else { panic!() };
    assert_eq!(c.comment.comment.as_deref(), Some("Can we try a darker header and bigger CTA?"));
}

#[test]
fn workspace_and_user_events_fields() {
    let Event::TeamJoin(j) = typed("team_join") else { panic!() };
    assert_eq!(j.user.id, "U05NEWHIRE");
    assert_eq!(j.user.profile.as_ref().and_then(|p| p.email.as_deref()), Some("joao@example.com"));
    assert_eq!(j.cache_ts, Some(1678232900));

    let Event::UserHuddleChanged(h) = typed("user_huddle_changed") else { panic!() };
    let profile = h.user.profile.expect("profile");
    assert_eq!(profile.huddle_state.as_deref(), Some("in_a_huddle"));
    assert_eq!(profile.extra.value("huddle_state_call_id"), Some(Value::from("R04HUDDLE99")));

    let Event::PrefChange(p) = typed("pref_change") else { panic!() };
    assert_eq!(p.value.parse::<String>().unwrap(), "hide_read_channels_unless_starred");
    let Event::TeamPrefChange(p) = typed("team_pref_change") else { panic!() };
    assert_eq!(p.value.parse::<u32>().unwrap(), 60);

    let Event::EmojiChanged(e) = typed("emoji_changed") else { panic!() };
    assert_eq!(e.subtype, Some(EmojiChangeKind::Add));

    let Event::SubteamCreated(s) = typed("subteam_created") else { panic!() };
    assert_eq!(s.subteam.user_count, Some(Count::Text("0".into())));
    assert_eq!(s.subteam.user_count.as_ref().and_then(Count::get), Some(0));
    let Event::SubteamUpdated(s) = typed("subteam_updated") else { panic!() };
    assert_eq!(s.subteam.user_count, Some(Count::Number(2)));
    let Event::SubteamMembersChanged(m) = typed("subteam_members_changed") else { panic!() };
    assert_eq!(m.added_users_count.as_ref().and_then(Count::get), Some(2));

    let Event::TeamProfileDelete(d) = typed("team_profile_delete") else { panic!() };
    assert_eq!(d.profile.fields, Some(vec!["Xf06054AAA".to_owned()]));
    let Event::TeamProfileReorder(r) = typed("team_profile_reorder") else { panic!() };
    assert_eq!(r.profile.fields.as_ref().map(|f| f[0].ordering), Some(Some(0)));

    let Event::DndUpdatedUser(d) = typed("dnd_updated_user") else { panic!() };
    assert_eq!(d.dnd_status.snooze_enabled, None);
    assert_eq!(d.dnd_status.next_dnd_end_ts, Some(1678294800));

    let Event::ExternalOrgMigrationFinished(m) = typed("external_org_migration_finished") else { panic!() };
    assert_eq!(m.team.is_migrating, Some(false));
    assert_eq!(m.date_finished, Some(1551409200));

    let Event::BotAdded(b) = typed("bot_added") else { panic!() };
    assert_eq!(b.bot.id, "B0CIBOT42");
}

#[test]
fn message_subtype_fields() {
    let Event::Message(m) = typed("message.message_changed") else { panic!() };
    let new = m.message.as_ref().expect("new version");
    assert_eq!(new.text.as_deref(), Some("Can someone review PR 43?"));
    assert!(new.edited.is_some());
    assert_eq!(
        m.previous_message.as_ref().and_then(|p| p.text.as_deref()),
        Some("Can someone review PR 42?")
    );
    assert_eq!(m.hidden, Some(true));

    let Event::Message(m) = typed("message.message_deleted") else { panic!() };
    assert_eq!(m.deleted_ts, Some(Ts::from("1355517523.000005")));

    let Event::Message(m) = typed("message.bot_message") else { panic!() };
    assert_eq!(m.bot_id.as_ref().map(|b| b.as_str()), Some("B0CIBOT42"));
    assert_eq!(m.user, None);

    let Event::Message(m) = typed("message.thread_broadcast") else { panic!() };
    assert_eq!(m.thread_ts, Some(Ts::from("1678229664.000100")));
    assert!(m.root.is_some());

    let Event::Message(m) = typed("message") else { panic!() };
    assert!(m.is_plain());
    assert!(m.blocks.is_some());
    assert_eq!(m.client_msg_id.as_deref(), Some("5f3b2a91-0c7e-4d18-9a6b-2e41c8d07f55"));
}

#[test]
fn timestamps_are_kept_as_exact_strings() {
    let Event::Message(m) = typed("message") else { panic!() };
    assert_eq!(m.ts.as_ref().map(Ts::as_str), Some("1355517523.000005"));
    assert_eq!(m.ts.as_ref().and_then(Ts::seconds), Some(1355517523));

    let text =
        r#"{"type":"message","channel":"C1","ts":"1355517523.000050","thread_ts":"1355517523.000000"}"#;
    let ev = decode(text);
    let Event::Message(m) = &ev else { panic!("{ev:?}") };
    assert_eq!(m.ts.as_ref().map(Ts::as_str), Some("1355517523.000050"));
    assert_eq!(m.thread_ts.as_ref().map(Ts::as_str), Some("1355517523.000000"));
    let out = serde_json::to_string(&ev).unwrap();
    assert!(out.contains(r#""ts":"1355517523.000050""#), "{out}");
    assert!(out.contains(r#""thread_ts":"1355517523.000000""#), "{out}");

    // A float `ts` is not silently rounded: the frame is kept whole instead.
    let float = r#"{"type":"message","channel":"C1","ts":1355517523.000005}"#;
    assert!(matches!(decode(float), Event::Unknown { shape_error: Some(_), .. }));
}

#[test]
fn replies_decode_as_reply() {
    let Event::Reply(ok) = decode(&fixture("reply.ok")) else { panic!() };
    assert!(ok.ok);
    assert_eq!(ok.reply_to, 3);
    assert_eq!(ok.ts, Some(Ts::from("1678229664.000200")));
    assert_eq!(ok.text.as_deref(), Some("deploy finished :white_check_mark:"));
    assert_eq!(ok.error, None);

    let Event::Reply(err) = decode(&fixture("reply.error")) else { panic!() };
    assert!(!err.ok);
    assert_eq!(err.reply_to, 4);
    let error = err.error.expect("error");
    assert_eq!(error.code, 2);
    assert_eq!(error.msg.as_deref(), Some("message text is missing"));
    assert_eq!(Event::Reply(ok).event_type(), "reply");
}

#[test]
fn error_event_keeps_code_and_source() {
    let Event::Error(e) = typed("error") else { panic!() };
    assert_eq!(e.error.code, 1);
    assert_eq!(e.error.msg.as_deref(), Some("Socket URL has expired"));
    assert_eq!(e.source.as_deref(), Some("gs-sin-1s8n"));
}

#[test]
fn pong_echoes_extra_fields() {
    let ev = typed("pong");
    let Event::Pong(p) = &ev else { panic!() };
    assert_eq!(p.reply_to, 7);
    assert_eq!(p.extra.get("time"), Some(&Value::from(1678229664302u64)));
    assert_eq!(p.extra.get("nonce"), Some(&Value::from("a81f")));
    assert!(!p.extra.contains_key("type"), "`type` is not an echoed field");
    let out = serde_json::to_string(&ev).unwrap();
    assert_eq!(out.matches(r#""type""#).count(), 1, "{out}");
    assert_eq!(decode(&out), ev);
}
