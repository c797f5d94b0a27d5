//! Events the server sends on the RTM socket.
//!
//! [`Event::from_json`] decodes one text frame. It never fails on valid JSON: a frame whose
//! `type` is unknown, or a known type whose shape is unexpected, becomes [`Event::Unknown`],
//! which keeps the whole frame verbatim. Only invalid JSON is an error.
//!
//! Decoding is a light byte scan that finds the top-level `type` (or, for a reply, notes
//! `reply_to`) and stops there, then a single typed serde pass over the one struct the frame
//! needs ([`EventFrame`] keeps what the scan found, so the two can happen at different times).
//! Rarely read parts (a message's `blocks`, `attachments`, `files`) stay [`RawJson`] until
//! asked for.
//!
//! # Lossless by construction
//!
//! Every typed event, and every object nested in one, keeps the fields it does not model in its
//! `extra` field ([`Extra`]: each field's raw JSON, in the order it came), and writes them back
//! when serialized: re-encoding a decoded event gives back the JSON it came from (a `null` may
//! be dropped; `cargo xtask corpus` checks this on recorded Slack payloads). A nested message's
//! own `"type":"message"` is such a field; a frame's top-level `type` is not (the [`Event`]
//! variant writes it back).
//!
//! The mechanism is chosen for the hot path: serde's derived code runs unchanged over a
//! deserializer wrapper that keeps what the derived code ignores (see the `lossless` module's
//! source), so a frame whose fields are all modelled allocates nothing more and costs a few
//! instructions per field. `#[serde(flatten)]` into a map, the usual way, buffers every field
//! of the struct before matching any: on small events it costs two to five times the wrapper's
//! overhead (figures in `docs/perf/history-2026-12-01.md`).
//!
//! # Tolerant fields
//!
//! Where Slack has sent a field in two forms, its type accepts both and writes back the one
//! that came: [`Numeric`] (a number or a numeric string, e.g. a channel's `created`), [`Flag`]
//! (a boolean or a number, e.g. `is_mpim: 1`), [`FileRef`] and [`ChannelRef`] (a bare id or the
//! whole object). Fields Slack omits in some payloads are `Option`s.
//!
//! Events that carry the same fields share one payload type: `channel_archive` and
//! `group_unarchive` both hold an [`ArchiveChange`], `team_join` and `user_change` a
//! [`UserChange`]; the [`Event`] variant tells them apart.

/// Defines a string enum with known variants and an `Other` fallback that keeps any other
/// value verbatim, with its wire (de)serialization.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $wire:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// Any other value, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(s) => s,
                }
            }

            /// Maps a wire string to its variant.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

mod channel;
mod file;
mod huddle;
mod item;
pub(crate) mod lossless;
mod message;
mod message_fast;
mod notification;
mod objects;
mod scan;
mod team;
mod types;
mod user;
mod view;
mod wire;

pub use channel::*;
pub use file::*;
pub use huddle::*;
pub use item::*;
pub use lossless::Extra;
pub use message::{Message, MessageSubtype};
pub use notification::*;
pub use objects::*;
pub use team::*;
pub use types::*;
pub use user::*;
pub use view::MessageView;
pub use wire::*;

use crate::RawJson;
use scan::{TopLevel, scan_top_level};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

macro_rules! events {
    ($( $(#[$doc:meta])* $wire:literal => $variant:ident($ty:ty), )*) => {
        /// One event from the RTM socket.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($ty), )*
            /// The answer to a client message that had an `id`: an ack (`ok: true`, with the
            /// message's `ts` and echoed text) or an error reply.
            Reply(Reply),
            /// A frame this version cannot type: an unknown `type`, a known `type` whose shape
            /// was unexpected, or valid JSON that is not an event at all. Nothing is lost: `raw`
            /// is the whole frame, verbatim.
            Unknown {
                /// The frame's `type`, if it had one.
                event_type: Option<String>,
                /// The whole frame.
                raw: RawJson,
                /// Why a known type could not be decoded, if that is what happened.
                shape_error: Option<String>,
            },
        }

        /// Every `type` this version decodes into a typed variant.
        pub const KNOWN_TYPES: &[&str] = &[$($wire,)*];

        impl Event {
            /// The wire `type` (`"reply"` for replies, the frame's own type or `"unknown"` for
            /// [`Event::Unknown`]).
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $wire, )*
                    Event::Reply(_) => "reply",
                    Event::Unknown { event_type, .. } => event_type.as_deref().unwrap_or("unknown"),
                }
            }

            fn decode_typed(kind: &str, text: &str) -> Option<Result<Event, serde_json::Error>> {
                Some(match kind {
                    $( $wire => <$ty as lossless::Payload>::from_frame(text).map(Event::$variant), )*
                    _ => return None,
                })
            }
        }

        impl Serialize for Event {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Event::$variant(inner) => Tagged { kind: $wire, inner }.serialize(s), )*
                    Event::Reply(r) => r.serialize(s),
                    Event::Unknown { raw, .. } => raw.serialize(s),
                }
            }
        }
    };
}

/// A typed event written back with its `type` first (RTM events and Events API events).
#[derive(Serialize)]
pub(crate) struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(flatten)]
    pub(crate) inner: &'a T,
}

/// A text frame whose top-level `type` has already been found, kept with the type's position.
///
/// A pipeline that routes frames by type before decoding them (the session driver decodes
/// control frames at once and hands ordinary events to the application undecoded) scans each
/// frame once: [`EventFrame::decode`] uses the position found here instead of scanning again,
/// so the decode can happen later, on another thread, at the cost of a single serde pass. It
/// decodes exactly as [`Event::from_json`] would.
///
/// An `EventFrame` can only be built by the scan, so its [`kind`](EventFrame::kind) always is
/// the frame's own top-level `type`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EventFrame {
    text: String,
    kind_start: usize,
    kind_end: usize,
}

impl EventFrame {
    /// Scans `text` for its top-level `type`; `Err(text)` (given back untouched) when it has
    /// none that the light scan can read — a reply, a frame with an escaped or non-string
    /// `type`, anything that is not an object. Such frames decode with [`Event::from_json`].
    /// Never a validity check: the JSON is only fully read by [`EventFrame::decode`].
    pub fn new(text: String) -> Result<EventFrame, String> {
        match Self::kind_span(&text) {
            Some((kind_start, kind_end)) => Ok(EventFrame { text, kind_start, kind_end }),
            None => Err(text),
        }
    }

    /// Like [`EventFrame::new`], copying `text` only when it has a readable `type`.
    pub fn copy_from(text: &str) -> Option<EventFrame> {
        let (kind_start, kind_end) = Self::kind_span(text)?;
        Some(EventFrame { text: text.to_owned(), kind_start, kind_end })
    }

    fn kind_span(text: &str) -> Option<(usize, usize)> {
        match scan_top_level(text.as_bytes()) {
            TopLevel::Type(kind) => {
                // `kind` is a slice of `text`: its offset is the distance between the two.
                let start = kind.as_ptr() as usize - text.as_ptr() as usize;
                Some((start, start + kind.len()))
            }
            _ => None,
        }
    }

    /// The frame's top-level `type`, e.g. `"message"`.
    pub fn kind(&self) -> &str {
        &self.text[self.kind_start..self.kind_end]
    }

    /// The frame, verbatim.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The frame, verbatim.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Decodes the frame: the same result as [`Event::from_json`] on the same text, without
    /// scanning for the type again.
    pub fn decode(&self) -> Result<Event, serde_json::Error> {
        Event::decode_kind(self.kind(), &self.text)
    }
}

impl std::fmt::Debug for EventFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFrame").field("kind", &self.kind()).field("text", &self.text).finish()
    }
}

/// The fields read by the slow-path peek, without allocating.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    reply_to: Option<IgnoredAny>,
}

impl Event {
    /// Decodes one text frame.
    ///
    /// Errors only if `text` is not valid JSON; any valid JSON decodes, falling back to
    /// [`Event::Unknown`] with the frame kept verbatim. If an object repeats its top-level
    /// `type`, the first one names the event.
    pub fn from_json(text: &str) -> Result<Event, serde_json::Error> {
        // Only an object can be an event. (A derived struct would also accept an array, reading
        // its elements as the fields in order.)
        if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
            serde_json::from_str::<IgnoredAny>(text)?;
            return Ok(Event::unknown(None, text, None));
        }
        // Fast path: find the top-level `type` with a light byte scan (usually a few bytes in),
        // then decode the one struct it names in a single serde pass.
        match scan_top_level(text.as_bytes()) {
            TopLevel::Type(kind) => return Event::decode_kind(kind, text),
            TopLevel::NoType { reply_to: true } => return Event::decode_reply(text),
            TopLevel::NoType { reply_to: false } => {
                serde_json::from_str::<IgnoredAny>(text)?;
                return Ok(Event::unknown(None, text, None));
            }
            TopLevel::Unsure => {}
        }
        // Slow path (escaped or non-string `type`, malformed text): let serde peek.
        let peek = match serde_json::from_str::<Peek<'_>>(text) {
            Ok(p) => p,
            Err(e) => {
                // An object whose `type` is not a string: still valid JSON?
                serde_json::from_str::<IgnoredAny>(text).map_err(|_| e)?;
                return Ok(Event::unknown(None, text, None));
            }
        };
        match peek.kind {
            Some(kind) => Event::decode_kind(&kind, text),
            None if peek.reply_to.is_some() => Event::decode_reply(text),
            None => Ok(Event::unknown(None, text, None)),
        }
    }

    /// The frame's top-level `type`, found by a light scan that stops as soon as it sees it
    /// (no parsing, no allocation), when it is a plain string; `None` when the frame has no
    /// top-level `type` (a reply), or the scan cannot tell cheaply (escapes, malformed text).
    ///
    /// Lets a pipeline route frames (e.g. decode control frames at once, ordinary events later
    /// on the consumer's thread) without decoding them. Never a validity check.
    pub fn peek_type(text: &str) -> Option<&str> {
        match scan_top_level(text.as_bytes()) {
            TopLevel::Type(kind) => Some(kind),
            _ => None,
        }
    }

    fn decode_kind(kind: &str, text: &str) -> Result<Event, serde_json::Error> {
        match Event::decode_typed(kind, text) {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Event::shape_fallback(Some(kind), text, e),
            None => {
                serde_json::from_str::<IgnoredAny>(text)?;
                Ok(Event::unknown(Some(kind.to_owned()), text, None))
            }
        }
    }

    fn decode_reply(text: &str) -> Result<Event, serde_json::Error> {
        match <Reply as lossless::Payload>::from_frame(text) {
            Ok(r) => Ok(Event::Reply(r)),
            Err(e) => Event::shape_fallback(None, text, e),
        }
    }

    /// A typed decode failed: invalid JSON is an error; valid JSON of an unexpected shape is
    /// kept verbatim as [`Event::Unknown`].
    fn shape_fallback(
        kind: Option<&str>,
        text: &str,
        e: serde_json::Error,
    ) -> Result<Event, serde_json::Error> {
        if !e.is_data() {
            return Err(e);
        }
        // A data error can hide a later syntax error (serde stops at the first problem).
        serde_json::from_str::<IgnoredAny>(text)?;
        Ok(Event::unknown(kind.map(str::to_owned), text, Some(e.to_string())))
    }

    fn unknown(event_type: Option<String>, text: &str, shape_error: Option<String>) -> Event {
        Event::Unknown { event_type, raw: RawJson::from_trusted(text), shape_error }
    }
}

events! {
    /// `hello`: the first frame of a good connection.
    "hello" => Hello(Hello),
    /// `goodbye`: the server is about to close this connection; reconnect.
    "goodbye" => Goodbye(Goodbye),
    /// `reconnect_url`: an alternative URL. Unsupported by Slack: record it, never use it.
    "reconnect_url" => ReconnectUrl(ReconnectUrl),
    /// `team_migration_started`: the socket closes right after; reconnect with backoff.
    "team_migration_started" => TeamMigrationStarted(TeamMigrationStarted),
    /// `error`: e.g. code 1, "Socket URL has expired".
    "error" => Error(ErrorEvent),
    /// `pong`: the answer to an application-level `ping`.
    "pong" => Pong(Pong),
    /// `message`, with any subtype.
    "message" => Message(Box<Message>),
    /// `presence_change`, in either the single (`user`) or batched (`users`) form.
    "presence_change" => PresenceChange(PresenceChange),
    /// `manual_presence_change`: the connecting user changed their own presence.
    "manual_presence_change" => ManualPresenceChange(ManualPresenceChange),
    /// `user_typing`: someone is typing in a channel.
    "user_typing" => UserTyping(UserTyping),

    // Public channels.
    /// `channel_marked`: the connecting user's read cursor moved in a public channel.
    "channel_marked" => ChannelMarked(Box<ConversationMarked>),
    /// `channel_created`: a public channel was created.
    "channel_created" => ChannelCreated(Box<ChannelCreated>),
    /// `channel_joined`: the connecting user joined a public channel.
    "channel_joined" => ChannelJoined(Box<ChannelJoined>),
    /// `channel_left`: the connecting user left (or was removed from) a public channel.
    "channel_left" => ChannelLeft(ChannelLeft),
    /// `channel_deleted`: a public channel was deleted.
    "channel_deleted" => ChannelDeleted(ChannelDeleted),
    /// `channel_rename`: a public channel was renamed.
    "channel_rename" => ChannelRename(Box<ChannelRename>),
    /// `channel_archive`: a public channel was archived.
    "channel_archive" => ChannelArchive(ArchiveChange),
    /// `channel_unarchive`: a public channel was unarchived.
    "channel_unarchive" => ChannelUnarchive(ArchiveChange),
    /// `channel_history_changed`: many messages of a public channel changed at once; refetch.
    "channel_history_changed" => ChannelHistoryChanged(Box<HistoryChanged>),
    /// `channel_shared`: a channel was shared with another organisation.
    "channel_shared" => ChannelShared(ChannelShared),
    /// `channel_unshared`: a channel stopped being shared with an organisation.
    "channel_unshared" => ChannelUnshared(ChannelUnshared),
    /// `shared_channel_invite_received`: another organisation invited the workspace to a shared
    /// channel.
    "shared_channel_invite_received" => SharedChannelInviteReceived(Box<SharedChannelInvite>),

    // Direct messages.
    /// `im_created`: a direct-message conversation was created.
    "im_created" => ImCreated(Box<ImCreated>),
    /// `im_open`: the connecting user opened a direct message.
    "im_open" => ImOpen(OpenClose),
    /// `im_close`: the connecting user closed a direct message.
    "im_close" => ImClose(OpenClose),
    /// `im_marked`: the connecting user's read cursor moved in a direct message.
    "im_marked" => ImMarked(Box<ConversationMarked>),
    /// `im_history_changed`: many messages of a direct message changed at once; refetch.
    "im_history_changed" => ImHistoryChanged(Box<HistoryChanged>),

    // Multi-person direct messages.
    /// `mpim_open`: the connecting user opened a multi-person direct message.
    "mpim_open" => MpimOpen(OpenClose),
    /// `mpim_close`: the connecting user closed a multi-person direct message.
    "mpim_close" => MpimClose(OpenClose),
    /// `mpim_joined`: the connecting user joined a multi-person direct message.
    "mpim_joined" => MpimJoined(Box<ChannelJoined>),
    /// `mpim_marked`: the connecting user's read cursor moved in a multi-person direct message.
    "mpim_marked" => MpimMarked(Box<ConversationMarked>),
    /// `mpim_history_changed`: many messages of a multi-person direct message changed at once;
    /// refetch.
    "mpim_history_changed" => MpimHistoryChanged(Box<HistoryChanged>),

    // Private channels (historically "groups").
    /// `group_marked`: the connecting user's read cursor moved in a private channel.
    "group_marked" => GroupMarked(Box<ConversationMarked>),
    /// `group_open`: the connecting user opened a private channel.
    "group_open" => GroupOpen(OpenClose),
    /// `group_joined`: the connecting user joined a private channel.
    "group_joined" => GroupJoined(Box<ChannelJoined>),
    /// `group_left`: the connecting user left (or was removed from) a private channel.
    "group_left" => GroupLeft(ChannelLeft),
    /// `group_close`: the connecting user closed a private channel.
    "group_close" => GroupClose(OpenClose),
    /// `group_rename`: a private channel was renamed.
    "group_rename" => GroupRename(Box<ChannelRename>),
    /// `group_archive`: a private channel was archived.
    "group_archive" => GroupArchive(ArchiveChange),
    /// `group_unarchive`: a private channel was unarchived.
    "group_unarchive" => GroupUnarchive(ArchiveChange),
    /// `group_history_changed`: many messages of a private channel changed at once; refetch.
    "group_history_changed" => GroupHistoryChanged(Box<HistoryChanged>),
    /// `group_deleted`: a private channel was deleted.
    "group_deleted" => GroupDeleted(ChannelDeleted),
    /// `group_join`: a member joined a private channel (recorded frames; usually a `message`
    /// with that subtype instead).
    "group_join" => GroupJoin(Box<GroupJoin>),

    // Channel membership.
    /// `member_joined_channel`: a user joined a channel.
    "member_joined_channel" => MemberJoinedChannel(Box<MemberJoinedChannel>),
    /// `member_left_channel`: a user left a channel.
    "member_left_channel" => MemberLeftChannel(Box<MemberLeftChannel>),

    // Files.
    /// `file_created`: a file was created.
    "file_created" => FileCreated(Box<FileEvent>),
    /// `file_shared`: a file was shared.
    "file_shared" => FileShared(Box<FileEvent>),
    /// `file_unshared`: a file was unshared.
    "file_unshared" => FileUnshared(Box<FileEvent>),
    /// `file_public`: a file was made public.
    "file_public" => FilePublic(Box<FileEvent>),
    /// `file_private`: a public file was made private.
    "file_private" => FilePrivate(Box<FileEvent>),
    /// `file_change`: a file changed.
    "file_change" => FileChange(Box<FileEvent>),
    /// `file_deleted`: a file was deleted.
    "file_deleted" => FileDeleted(FileDeleted),
    /// `file_comment_added`: a comment was added to a file.
    "file_comment_added" => FileCommentAdded(Box<FileCommentEvent>),
    /// `file_comment_edited`: a file comment was edited.
    "file_comment_edited" => FileCommentEdited(Box<FileCommentEvent>),
    /// `file_comment_deleted`: a file comment was deleted.
    "file_comment_deleted" => FileCommentDeleted(FileCommentDeleted),

    // Pins, stars, reactions.
    /// `pin_added`: an item was pinned to a channel.
    "pin_added" => PinAdded(Box<PinChange>),
    /// `pin_removed`: an item was unpinned from a channel.
    "pin_removed" => PinRemoved(Box<PinChange>),
    /// `star_added`: the connecting user starred an item.
    "star_added" => StarAdded(Box<StarChange>),
    /// `star_removed`: the connecting user unstarred an item.
    "star_removed" => StarRemoved(Box<StarChange>),
    /// `reaction_added`: a user reacted to an item.
    "reaction_added" => ReactionAdded(Box<ReactionChange>),
    /// `reaction_removed`: a user removed a reaction.
    "reaction_removed" => ReactionRemoved(Box<ReactionChange>),

    // Preferences and the workspace.
    /// `pref_change`: one of the connecting user's preferences changed.
    "pref_change" => PrefChange(PrefChange),
    /// `team_join`: a new member joined the workspace.
    "team_join" => TeamJoin(Box<UserChange>),
    /// `team_rename`: the workspace was renamed.
    "team_rename" => TeamRename(TeamRename),
    /// `team_pref_change`: a workspace preference changed.
    "team_pref_change" => TeamPrefChange(PrefChange),
    /// `team_domain_change`: the workspace's domain changed.
    "team_domain_change" => TeamDomainChange(TeamDomainChange),
    /// `team_plan_change`: the workspace's billing plan changed.
    "team_plan_change" => TeamPlanChange(TeamPlanChange),
    /// `team_profile_change`: the workspace's profile fields were updated.
    "team_profile_change" => TeamProfileChange(TeamProfileChange),
    /// `team_profile_delete`: workspace profile fields were deleted.
    "team_profile_delete" => TeamProfileDelete(TeamProfileDelete),
    /// `team_profile_reorder`: the workspace's profile fields were reordered.
    "team_profile_reorder" => TeamProfileReorder(TeamProfileChange),
    /// `email_domain_changed`: the workspace's allowed email domain changed.
    "email_domain_changed" => EmailDomainChanged(EmailDomainChanged),
    /// `accounts_changed`: the list of accounts signed in on this client changed.
    "accounts_changed" => AccountsChanged(AccountsChanged),
    /// `external_org_migration_started`: the workspace is being migrated to another
    /// organisation.
    "external_org_migration_started" => ExternalOrgMigrationStarted(ExternalOrgMigration),
    /// `external_org_migration_finished`: the migration to another organisation finished.
    "external_org_migration_finished" => ExternalOrgMigrationFinished(ExternalOrgMigration),

    // Users.
    /// `user_change`: a member's data changed.
    "user_change" => UserChange(Box<UserChange>),
    /// `user_status_changed`: a member's status changed.
    "user_status_changed" => UserStatusChanged(Box<UserChange>),
    /// `user_profile_changed`: a member's profile changed.
    "user_profile_changed" => UserProfileChanged(Box<UserChange>),
    /// `user_huddle_changed`: a member joined or left a huddle.
    "user_huddle_changed" => UserHuddleChanged(Box<UserChange>),
    /// `dnd_updated`: the connecting user's Do Not Disturb settings changed.
    "dnd_updated" => DndUpdated(Box<DndUpdated>),
    /// `dnd_updated_user`: another member's Do Not Disturb settings changed.
    "dnd_updated_user" => DndUpdatedUser(Box<DndUpdated>),

    // Emoji, commands, bots.
    /// `emoji_changed`: a custom emoji was added, removed or renamed.
    "emoji_changed" => EmojiChanged(Box<EmojiChanged>),
    /// `commands_changed`: a slash command was added or changed.
    "commands_changed" => CommandsChanged(CommandsChanged),
    /// `bot_added`: a bot was added to the workspace.
    "bot_added" => BotAdded(Box<BotChange>),
    /// `bot_changed`: a bot was changed.
    "bot_changed" => BotChanged(Box<BotChange>),

    // User groups.
    /// `subteam_created`: a user group was created.
    "subteam_created" => SubteamCreated(Box<SubteamChange>),
    /// `subteam_updated`: a user group was updated.
    "subteam_updated" => SubteamUpdated(Box<SubteamChange>),
    /// `subteam_members_changed`: members were added to or removed from a user group.
    "subteam_members_changed" => SubteamMembersChanged(Box<SubteamMembersChanged>),
    /// `subteam_self_added`: the connecting user was added to a user group.
    "subteam_self_added" => SubteamSelfAdded(SubteamSelf),
    /// `subteam_self_removed`: the connecting user was removed from a user group.
    "subteam_self_removed" => SubteamSelfRemoved(SubteamSelf),

    // Notifications (user tokens; undocumented by Slack).
    /// `desktop_notification`: what the desktop client would show as a notification.
    "desktop_notification" => DesktopNotification(Box<DesktopNotification>),
    /// `mobile_in_app_notification`: what the mobile client would show as a notification.
    "mobile_in_app_notification" => MobileInAppNotification(Box<MobileInAppNotification>),
    /// `update_thread_state`: the connecting user's unread state of threads changed.
    "update_thread_state" => UpdateThreadState(Box<UpdateThreadState>),

    // Huddles (undocumented by Slack for RTM).
    /// `sh_room_join`: a member joined a huddle (or started one).
    "sh_room_join" => HuddleRoomJoin(Box<HuddleRoomChange>),
    /// `sh_room_leave`: a member left a huddle.
    "sh_room_leave" => HuddleRoomLeave(Box<HuddleRoomChange>),
    /// `sh_room_update`: a huddle changed.
    "sh_room_update" => HuddleRoomUpdate(Box<HuddleRoomChange>),
}
