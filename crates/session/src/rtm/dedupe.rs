//! Duplicate suppression across two overlapping connections.

use crate::common::{SeenWindow, fingerprint};
use slack_rtm_codec::types::event::Message;
use slack_rtm_codec::types::{Event, Ts};
use std::time::{Duration, Instant};

fn message_key(m: &Message) -> Option<u64> {
    let subtype = m.subtype.as_ref().map(|s| s.as_str()).unwrap_or("");
    if let (Some(channel), Some(ts)) = (&m.channel, &m.ts) {
        return Some(fingerprint(&["m", channel.as_str(), ts.as_str(), subtype]));
    }
    if let Some(id) = &m.client_msg_id {
        return Some(fingerprint(&["c", id, subtype]));
    }
    m.event_ts.as_ref().map(|ts| fingerprint(&["e", "message", ts.as_str(), subtype]))
}

fn event_ts(event: &Event) -> Option<&Ts> {
    macro_rules! with_event_ts {
        ($($variant:ident),* $(,)?) => {
            match event {
                $( Event::$variant(e) => e.event_ts.as_ref(), )*
                _ => None,
            }
        };
    }
    with_event_ts!(
        ReactionAdded,
        ReactionRemoved,
        PinAdded,
        PinRemoved,
        StarAdded,
        StarRemoved,
        MemberJoinedChannel,
        MemberLeftChannel,
        ChannelCreated,
        ChannelJoined,
        ChannelLeft,
        ChannelDeleted,
        ChannelRename,
        ChannelArchive,
        ChannelUnarchive,
        ChannelMarked,
        ChannelHistoryChanged,
        ChannelShared,
        ChannelUnshared,
        ImCreated,
        ImOpen,
        ImClose,
        ImMarked,
        ImHistoryChanged,
        MpimOpen,
        MpimClose,
        MpimJoined,
        MpimMarked,
        MpimHistoryChanged,
        GroupMarked,
        GroupOpen,
        GroupJoined,
        GroupLeft,
        GroupClose,
        GroupRename,
        GroupArchive,
        GroupUnarchive,
        GroupHistoryChanged,
        GroupDeleted,
        GroupJoin,
        SharedChannelInviteReceived,
        UpdateThreadState,
        HuddleRoomJoin,
        HuddleRoomLeave,
        HuddleRoomUpdate,
        FileCreated,
        FileShared,
        FileUnshared,
        FilePublic,
        FilePrivate,
        FileChange,
        FileDeleted,
        FileCommentAdded,
        FileCommentEdited,
        FileCommentDeleted,
        PrefChange,
        TeamJoin,
        TeamRename,
        TeamPrefChange,
        TeamDomainChange,
        TeamPlanChange,
        TeamProfileChange,
        TeamProfileDelete,
        TeamProfileReorder,
        EmailDomainChanged,
        AccountsChanged,
        CommandsChanged,
        EmojiChanged,
        BotAdded,
        BotChanged,
        ExternalOrgMigrationStarted,
        ExternalOrgMigrationFinished,
        UserChange,
        UserStatusChanged,
        UserProfileChanged,
        UserHuddleChanged,
        DndUpdated,
        DndUpdatedUser,
        SubteamCreated,
        SubteamUpdated,
        SubteamMembersChanged,
        SubteamSelfAdded,
        SubteamSelfRemoved,
        DesktopNotification,
        MobileInAppNotification,
        ManualPresenceChange,
    )
}

/// The deduplication key of an event, if it has one.
pub(crate) fn key(event: &Event) -> Option<u64> {
    match event {
        Event::Message(m) => message_key(m),
        Event::Unknown { raw, .. } => Some(fingerprint(&["u", raw.as_str()])),
        other => event_ts(other).map(|ts| fingerprint(&["e", other.event_type(), ts.as_str()])),
    }
}

/// RTM's duplicate suppression: a [`SeenWindow`] switched on while two connections overlap
/// and for a window after.
#[derive(Debug)]
pub(crate) struct Dedupe {
    seen: SeenWindow,
    window: Duration,
    /// Deduplication is on while this is in the future (or `None` = off).
    active_until: Option<Instant>,
    /// On without an end (two connections are open).
    overlapping: bool,
}

impl Dedupe {
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self { seen: SeenWindow::new(window, capacity), window, active_until: None, overlapping: false }
    }

    /// Two connections are open from now on.
    pub(crate) fn start_overlap(&mut self) {
        self.overlapping = true;
    }

    /// The old connection closed at `now`: keep checking for `window`.
    pub(crate) fn end_overlap(&mut self, now: Instant) {
        if self.overlapping {
            self.overlapping = false;
            self.active_until = Some(now + self.window);
        }
    }

    /// Whether events must be checked now (two connections overlap, or did recently).
    pub(crate) fn is_active(&mut self, now: Instant) -> bool {
        self.active(now)
    }

    fn active(&mut self, now: Instant) -> bool {
        if self.overlapping {
            return true;
        }
        match self.active_until {
            Some(t) if now < t => true,
            Some(_) => {
                self.active_until = None;
                self.seen.clear();
                false
            }
            None => false,
        }
    }

    /// Whether `event` is a duplicate of one already delivered; records it otherwise.
    pub(crate) fn is_duplicate(&mut self, event: &Event, now: Instant) -> bool {
        if !self.active(now) {
            return false;
        }
        let Some(k) = key(event) else { return false };
        self.seen.check_and_insert(k, now)
    }

    /// Keys currently remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(json: &str) -> Event {
        Event::from_json(json).unwrap()
    }

    #[test]
    fn keys() {
        let a = ev(r#"{"type":"message","channel":"C1","ts":"1.1","text":"a"}"#);
        let a2 = ev(r#"{"type":"message","channel":"C1","ts":"1.1","text":"different text"}"#);
        let b = ev(r#"{"type":"message","channel":"C2","ts":"1.1","text":"a"}"#);
        let edit = ev(r#"{"type":"message","subtype":"message_changed","channel":"C1","ts":"1.1"}"#);
        assert_eq!(key(&a), key(&a2));
        assert_ne!(key(&a), key(&b));
        assert_ne!(key(&a), key(&edit));
        let c1 = ev(r#"{"type":"message","client_msg_id":"x-1","text":"a"}"#);
        let c2 = ev(r#"{"type":"message","client_msg_id":"x-2","text":"a"}"#);
        assert!(key(&c1).is_some());
        assert_ne!(key(&c1), key(&c2));
        let r1 = ev(
            r#"{"type":"reaction_added","user":"U1","reaction":"x","item":{"type":"message","channel":"C1","ts":"1.1"},"event_ts":"5.5"}"#,
        );
        assert!(matches!(r1, Event::ReactionAdded(_)), "{r1:?}");
        assert!(key(&r1).is_some());
        assert_eq!(key(&ev(r#"{"type":"user_typing","channel":"C1","user":"U1"}"#)), None);
        assert!(key(&ev(r#"{"type":"brand_new","x":1}"#)).is_some());
    }

    /// An event of unknown type is keyed on its whole frame (docs/delivery.md): the same frame
    /// again is a duplicate; one differing anywhere, even only in its text, is not.
    #[test]
    fn an_unknown_event_is_keyed_on_its_whole_frame() {
        let frame = r#"{"type":"brand_new","user":"U1","text":"hello","event_ts":"5.5"}"#;
        let same = ev(frame);
        assert_eq!(key(&ev(frame)), key(&same));
        let other_text = ev(r#"{"type":"brand_new","user":"U1","text":"hellp","event_ts":"5.5"}"#);
        assert_ne!(key(&same), key(&other_text));
        let t0 = Instant::now();
        let mut d = Dedupe::new(Duration::from_secs(10), 100);
        d.start_overlap();
        assert!(!d.is_duplicate(&same, t0));
        assert!(d.is_duplicate(&ev(frame), t0));
        assert!(!d.is_duplicate(&other_text, t0));
    }

    /// Every typed event that carries an `event_ts` can be recognised as a duplicate (checked on
    /// the types crate's fixtures, so a newly typed event cannot be forgotten here).
    #[test]
    fn every_event_with_an_event_ts_has_a_key() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../types/tests/fixtures/events");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let event = ev(&text);
            if value.get("event_ts").is_none() || matches!(event, Event::Unknown { .. }) {
                continue;
            }
            assert!(key(&event).is_some(), "{}: no dedupe key", event.event_type());
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn only_active_during_overlap_and_window() {
        let t0 = Instant::now();
        let mut d = Dedupe::new(Duration::from_secs(10), 100);
        let a = ev(r#"{"type":"message","channel":"C1","ts":"1.1","text":"a"}"#);
        assert!(!d.is_duplicate(&a, t0));
        assert!(!d.is_duplicate(&a, t0), "off: nothing is recorded");
        d.start_overlap();
        assert!(!d.is_duplicate(&a, t0));
        assert!(d.is_duplicate(&a, t0));
        d.end_overlap(t0 + Duration::from_secs(1));
        assert!(d.is_duplicate(&a, t0 + Duration::from_secs(5)));
        assert!(!d.is_duplicate(&a, t0 + Duration::from_secs(11)), "window over: off and cleared");
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn bounded_by_capacity_and_time() {
        let t0 = Instant::now();
        let mut d = Dedupe::new(Duration::from_secs(10), 50);
        d.start_overlap();
        for i in 0..1000 {
            let m = ev(&format!(r#"{{"type":"message","channel":"C1","ts":"{i}.0"}}"#));
            assert!(!d.is_duplicate(&m, t0));
            assert!(d.len() <= 50);
        }
        let m = ev(r#"{"type":"message","channel":"C1","ts":"999.0"}"#);
        assert!(d.is_duplicate(&m, t0));
        let later = ev(r#"{"type":"message","channel":"C1","ts":"x"}"#);
        d.is_duplicate(&later, t0 + Duration::from_secs(20));
        assert_eq!(d.len(), 1, "expired keys are dropped");
    }
}
