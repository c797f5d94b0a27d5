//! The shapes learned from what Slack really sends (recorded frames, Slack's documentation
//! examples, the official SDKs' fixtures; see `cargo xtask corpus`), each checked on a fixture
//! written for this project: the second form of a field decodes into its typed field (not only
//! into `extra`), the event types and message subtypes added are typed, and fields nobody models
//! are kept.

mod common;

use common::{decode, typed};
use slack_rtm_types::event::{ChannelRef, Flag, MessageSubtype, Numeric};
use slack_rtm_types::{ChannelId, Event, Ts, UserId};

fn ts(s: &str) -> Option<Ts> {
    Some(Ts::from(s))
}

#[test]
fn event_stays_small() {
    // Events are moved between tasks in batches: rare, large payloads are boxed.
    assert!(std::mem::size_of::<Event>() <= 128, "Event is {} bytes", std::mem::size_of::<Event>());
}

#[test]
fn a_field_sent_in_two_forms_is_typed_in_both() {
    // `channel.created` as a numeric string.
    let Event::ChannelRename(r) = typed("channel_rename.created_string") else { panic!() };
    assert_eq!(r.channel.created, Some(Numeric::Text("1678000000".into())));
    assert_eq!(r.channel.created.as_ref().and_then(Numeric::get), Some(1_678_000_000));
    let Event::ChannelRename(r) = typed("channel_rename") else { panic!() };
    assert!(matches!(r.channel.created, Some(Numeric::Number(_))));

    // `channel` as a bare id.
    let Event::GroupJoined(j) = typed("group_joined.channel_id") else { panic!() };
    assert_eq!(j.channel, ChannelRef::Id(ChannelId::new("G061PRIV8")));
    assert_eq!(j.channel.channel_id().as_str(), "G061PRIV8");
    assert!(j.channel.info().is_none());

    // `is_mpim` as a number.
    let Event::MpimHistoryChanged(h) = typed("mpim_history_changed") else { panic!() };
    assert_eq!(h.is_mpim, Some(Flag::Number(1)));
    assert_eq!(h.channel, None, "Slack's example names no conversation");
    let Event::GroupHistoryChanged(h) = typed("group_history_changed.channel") else { panic!() };
    assert_eq!(h.is_mpim, Some(Flag::Bool(false)));
}

#[test]
fn a_field_slack_omits_is_optional() {
    let Event::ReconnectUrl(r) = typed("reconnect_url.no_url") else { panic!() };
    assert_eq!(r.url, None);
    let Event::ReconnectUrl(r) = typed("reconnect_url") else { panic!() };
    assert!(r.url.is_some());
}

#[test]
fn fields_once_lost_are_typed() {
    let Event::ReactionAdded(r) = typed("reaction_added.ts") else { panic!() };
    assert_eq!(r.ts, ts("1678231400.002500"));
    let Event::GroupArchive(a) = typed("group_archive.ts") else { panic!() };
    assert_eq!(a.ts, ts("1678231300.002200"));
    let Event::GroupRename(a) = typed("group_rename.ts") else { panic!() };
    assert_eq!(a.ts, ts("1678231000.001700"));
    let Event::GroupHistoryChanged(h) = typed("group_history_changed.channel") else { panic!() };
    assert_eq!(h.channel, Some(ChannelId::new("G061PRIV8")));
    let Event::ImMarked(m) = typed("im_marked.dm_count") else { panic!() };
    assert_eq!(m.dm_count, Some(0));
    let Event::GroupMarked(m) = typed("group_marked") else { panic!() };
    assert_eq!(m.is_mpim, None);
    let Event::MpimMarked(m) = typed("mpim_marked") else { panic!() };
    assert_eq!(m.is_mpim, Some(true));
    let Event::GroupOpen(o) = typed("group_open.is_mpim") else { panic!() };
    assert_eq!(o.is_mpim, Some(true));
    let Event::FileCommentAdded(c) = typed("file_comment_added.user_id") else { panic!() };
    assert_eq!(c.user_id, Some(UserId::from("U0G9QF9C6")));
    let Event::ManualPresenceChange(p) = typed("manual_presence_change.event_ts") else { panic!() };
    assert_eq!(p.event_ts, ts("1678231700.002900"));
    let Event::TeamRename(t) = typed("team_rename.team_id") else { panic!() };
    assert_eq!(t.team_id.as_ref().map(|t| t.as_str()), Some("T061ACME01"));
    for (name, ev) in
        [("group_archive.ts", typed("group_archive.ts")), ("im_marked.dm_count", typed("im_marked.dm_count"))]
    {
        let out = serde_json::to_value(&ev).unwrap();
        assert!(out.get("ts").is_some(), "{name}: ts written back");
    }
}

#[test]
fn message_fields_once_lost_are_typed() {
    let Event::Message(m) = typed("message.plain.ai_app") else { panic!() };
    assert_eq!(m.action_token.as_deref(), Some("10647138185092.960436384805.afce3599"));
    let thread = m.assistant_thread.as_ref().expect("assistant_thread").to_value();
    assert_eq!(thread["context"]["channel_id"], "C061EG9SL");
    assert_eq!(m.metadata.as_ref().expect("metadata").to_value()["event_type"], "task_created");

    let Event::Message(m) = typed("message.plain.thread_parent_legacy") else { panic!() };
    let replies = m.replies.as_ref().expect("replies").to_value();
    assert_eq!(replies.as_array().map(Vec::len), Some(2));
    // Fields nobody models yet are kept, and written back.
    assert_eq!(m.extra.value("subscribed"), Some(serde_json::Value::Bool(true)));
    assert_eq!(serde_json::to_value(Event::Message(m)).unwrap()["last_read"], "1678232720.004200");

    let Event::Message(m) = typed("message.group_archive") else { panic!() };
    assert_eq!(m.members.as_ref().map(Vec::len), Some(2));

    let Event::Message(m) = typed("message.group_purpose") else { panic!() };
    assert_eq!(m.user_profile.as_ref().expect("user_profile").to_value()["real_name"], "Ana Ruiz");

    let Event::Message(m) = typed("message.file_comment") else { panic!() };
    assert_eq!(m.file.as_ref().expect("file").to_value()["id"], "F04QX7ZK2MB");
    assert_eq!(m.comment.as_ref().expect("comment").to_value()["comment"], "Looks good to me");
    assert_eq!(m.is_intro, Some(false));

    // The nested messages of an edit keep their own `type` and their legacy `file`.
    let Event::Message(m) = typed("message.message_changed.file") else { panic!() };
    let new = m.message.as_ref().expect("message");
    assert_eq!(new.extra.get("type").map(|r| r.as_str()), Some("\"message\""));
    assert_eq!(new.is_intro, Some(true));
    assert_eq!(new.file.as_ref().unwrap().to_value()["comments_count"], 1);
    let old = m.previous_message.as_ref().expect("previous_message");
    assert_eq!(old.file.as_ref().unwrap().to_value()["comments_count"], 0);
    // The frame's own `type` is the variant, not kept twice.
    assert!(!m.extra.contains_key("type"));
    let text = serde_json::to_string(&Event::Message(m)).unwrap();
    assert_eq!(text.matches("\"type\":\"message\"").count(), 3, "{text}");
}

#[test]
fn the_added_subtypes_are_typed() {
    for (name, want) in [
        ("message.group_name", MessageSubtype::GroupName),
        ("message.group_topic", MessageSubtype::GroupTopic),
        ("message.group_purpose", MessageSubtype::GroupPurpose),
        ("message.group_archive", MessageSubtype::GroupArchive),
        ("message.group_unarchive", MessageSubtype::GroupUnarchive),
        ("message.file_comment", MessageSubtype::FileComment),
        ("message.bot_add", MessageSubtype::BotAdd),
        ("message.bot_disable", MessageSubtype::BotDisable),
    ] {
        let Event::Message(m) = typed(name) else { panic!("{name}") };
        assert_eq!(m.subtype, Some(want), "{name}");
    }
    let Event::Message(m) = typed("message.group_topic") else { panic!() };
    assert_eq!(m.topic.as_deref(), Some("Ship on Friday"));
    let Event::Message(m) = typed("message.bot_add") else { panic!() };
    assert_eq!(m.bot_id.as_ref().map(|b| b.as_str()), Some("B07DEPLOY1"));
}

#[test]
fn the_added_event_types_are_typed() {
    let Event::MpimOpen(o) = typed("mpim_open") else { panic!() };
    assert_eq!(o.channel, "G07MPDM42");
    assert!(matches!(typed("mpim_close"), Event::MpimClose(_)));
    let Event::MpimJoined(j) = typed("mpim_joined") else { panic!() };
    let info = j.channel.info().expect("object");
    assert_eq!(info.is_mpim, Some(true));
    assert_eq!(info.members.as_ref().map(Vec::len), Some(3));
    let Event::GroupDeleted(d) = typed("group_deleted") else { panic!() };
    assert_eq!(d.channel, "G061PRIV8");
    let Event::GroupJoin(j) = typed("group_join") else { panic!() };
    assert_eq!(
        (j.user.as_ref().map(|u| u.as_str()), j.ts.clone()),
        (Some("U07CLEO11"), ts("1678230300.000800"))
    );
    let Event::UpdateThreadState(t) = typed("update_thread_state") else { panic!() };
    assert_eq!((t.has_unreads, t.mention_count), (Some(true), Some(1)));
    assert_eq!(t.timestamp, ts("1678230400.000900"));

    let Event::HuddleRoomJoin(h) = typed("sh_room_join") else { panic!() };
    assert_eq!(h.room.id, "R07HUDDLE1");
    assert_eq!(h.room.name, None, "a null name");
    assert_eq!(h.room.participants.as_ref().map(Vec::len), Some(2));
    assert_eq!(h.room.extra.value("media_backend_type"), Some("example_backend".into()));
    let Event::HuddleRoomLeave(h) = typed("sh_room_leave") else { panic!() };
    assert_eq!(h.user, Some(UserId::from("U0G9QF9C6")));
    let Event::HuddleRoomUpdate(h) = typed("sh_room_update") else { panic!() };
    assert_eq!(h.room.name.as_deref(), Some("Sprint planning"));
    assert_eq!(h.room.thread_root_ts, ts("1678230500.001300"));
    assert_eq!(h.user, None);

    let Event::SharedChannelInviteReceived(i) = typed("shared_channel_invite_received") else { panic!() };
    assert_eq!(i.invite.id, "I07INVITE9");
    let from = i.invite.inviting_user.as_ref().expect("inviting_user");
    assert_eq!(from.profile.as_ref().and_then(|p| p.real_name.as_deref()), Some("Dana Lee"));
    assert_eq!(i.channel.as_ref().and_then(|c| c.name.as_deref()), Some("partner-launch"));
    assert_eq!(i.invite.inviting_team.as_ref().unwrap().to_value()["domain"], "partnerco");
}

#[test]
fn unknown_fields_anywhere_come_back() {
    // A field nobody models, at the top level and nested three objects deep.
    let text = r#"{"type":"star_added","user":"U1","new_top":{"a":[1,2]},"item":{"type":"file","new_item":true,"file":{"id":"F1","new_file":"x","shares":{"public":{}}}},"event_ts":"1.2"}"#;
    let Event::StarAdded(s) = decode(text) else { panic!() };
    assert_eq!(s.extra.get("new_top").map(|r| r.as_str()), Some(r#"{"a":[1,2]}"#));
    assert_eq!(s.item.extra.get("new_item").map(|r| r.as_str()), Some("true"));
    let file = s.item.file.as_ref().and_then(|f| f.info()).expect("file object");
    assert_eq!(file.extra.len(), 2);
    let back = serde_json::to_value(Event::StarAdded(s)).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
}

#[test]
fn presence_change_with_both_forms_loses_neither() {
    let text = r#"{"type":"presence_change","user":"U1","users":["U2","U3"],"presence":"away"}"#;
    let Event::PresenceChange(p) = decode(text) else { panic!() };
    assert!(p.batched);
    assert_eq!(p.users, [UserId::from("U2"), UserId::from("U3")]);
    let back = serde_json::to_value(Event::PresenceChange(p)).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
}
