use super::lossless::lossless;
use crate::RawJson;
use crate::ids::{BotId, ChannelId, TeamId, Ts, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! subtypes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, )*) => {
        /// A `message` event's `subtype`.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum MessageSubtype {
            $( $(#[$doc])* $variant, )*
            /// Any other subtype, kept verbatim.
            Other(String),
        }

        impl MessageSubtype {
            /// Every known subtype.
            pub const ALL: &'static [MessageSubtype] = &[$(MessageSubtype::$variant,)*];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( MessageSubtype::$variant => $wire, )*
                    MessageSubtype::Other(s) => s,
                }
            }

            /// Maps a wire string to its variant.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => MessageSubtype::$variant, )*
                    other => MessageSubtype::Other(other.to_owned()),
                }
            }
        }
    };
}

subtypes! {
    /// An edit: `message` holds the new version, `previous_message` the old one.
    MessageChanged = "message_changed",
    /// A deletion: `deleted_ts` names the deleted message.
    MessageDeleted = "message_deleted",
    /// Posted by a bot (`bot_id`, `username`).
    BotMessage = "bot_message",
    /// A `/me` message.
    MeMessage = "me_message",
    /// A member joined the channel.
    ChannelJoin = "channel_join",
    /// A member left the channel.
    ChannelLeave = "channel_leave",
    /// The topic changed (`topic`).
    ChannelTopic = "channel_topic",
    /// The purpose changed (`purpose`).
    ChannelPurpose = "channel_purpose",
    /// The channel was renamed (`old_name`, `name`).
    ChannelName = "channel_name",
    /// The channel was archived.
    ChannelArchive = "channel_archive",
    /// The channel was unarchived.
    ChannelUnarchive = "channel_unarchive",
    /// A file was shared (`files`).
    FileShare = "file_share",
    /// A thread reply also posted to the channel.
    ThreadBroadcast = "thread_broadcast",
    /// A thread got a reply (the parent's metadata changed).
    MessageReplied = "message_replied",
    /// An item was pinned.
    PinnedItem = "pinned_item",
    /// An item was unpinned.
    UnpinnedItem = "unpinned_item",
    /// A member joined a private channel.
    GroupJoin = "group_join",
    /// A member left a private channel.
    GroupLeave = "group_leave",
    /// A reminder was added.
    ReminderAdd = "reminder_add",
    /// A message from Slackbot about an Enterprise Grid change.
    EkmAccessDenied = "ekm_access_denied",
    /// A channel was converted to private.
    ChannelConvertToPrivate = "channel_convert_to_private",
    /// An assistant app thread.
    AssistantAppThread = "assistant_app_thread",
    /// A private channel was renamed (`old_name`, `name`; legacy "group" form).
    GroupName = "group_name",
    /// A private channel's topic changed (`topic`; legacy "group" form).
    GroupTopic = "group_topic",
    /// A private channel's purpose changed (`purpose`; legacy "group" form).
    GroupPurpose = "group_purpose",
    /// A private channel was archived (`members`; legacy "group" form).
    GroupArchive = "group_archive",
    /// A private channel was unarchived (legacy "group" form).
    GroupUnarchive = "group_unarchive",
    /// A comment on a file (`file`, `comment`; legacy, before file threads).
    FileComment = "file_comment",
    /// An integration was added to the channel (`bot_id`).
    BotAdd = "bot_add",
    /// An integration was disabled in the channel (`bot_id`).
    BotDisable = "bot_disable",
}

impl Serialize for MessageSubtype {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MessageSubtype {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self::from_wire(&s))
    }
}

lossless! {
    fast_frame: super::message_fast::message_frame;
    /// A `message` event, of any subtype.
    ///
    /// One struct serves every subtype: plain messages use `channel`, `user`, `text`, `ts`; the
    /// subtype-specific fields are set only for their subtypes. Rarely read parts (`blocks`,
    /// `attachments`, `files`, `edited`, `reactions`) stay raw JSON until parsed with
    /// [`RawJson::parse`]. The same struct is used for the nested `message` and `previous_message`
    /// of a `message_changed`, where `channel` is usually absent (and whose own
    /// `"type":"message"` is kept in `extra`).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Message {
        /// The subtype; `None` for a plain user message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub subtype: Option<MessageSubtype>,
        /// The conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// The author (absent for some bot messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// The text (absent for some subtypes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<String>,
        /// The message's timestamp: its id within the channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// The thread's parent timestamp, for thread replies and parents.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread_ts: Option<Ts>,
        /// When the event happened (differs from `ts` for edits and deletions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
        /// The author's workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<TeamId>,
        /// The workspace the message was posted from (shared channels).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source_team: Option<TeamId>,
        /// The author's workspace (shared channels).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_team: Option<TeamId>,
        /// The id the author's client gave the message (for deduplication).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub client_msg_id: Option<String>,
        /// The channel type (`channel`, `group`, `im`, `mpim`) when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_type: Option<String>,
        /// The bot that posted it (`bot_message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bot_id: Option<BotId>,
        /// The display name a bot used (`bot_message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub username: Option<String>,
        /// The app behind a bot message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub app_id: Option<String>,
        /// The icon a bot used (`bot_message`), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub icons: Option<RawJson>,
        /// Whether clients hide this event from the channel (edits, deletions).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hidden: Option<bool>,
        /// The deleted message's timestamp (`message_deleted`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted_ts: Option<Ts>,
        /// The new version (`message_changed`, `message_replied`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Box<Message>>,
        /// The old version (`message_changed`, `message_deleted`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub previous_message: Option<Box<Message>>,
        /// Who invited the member (`channel_join`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inviter: Option<UserId>,
        /// The new topic (`channel_topic`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub topic: Option<String>,
        /// The new purpose (`channel_purpose`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub purpose: Option<String>,
        /// The new name (`channel_name`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The old name (`channel_name`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub old_name: Option<String>,
        /// The parent's author, for thread replies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parent_user_id: Option<UserId>,
        /// Replies in the thread (thread parents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reply_count: Option<u64>,
        /// Distinct repliers in the thread (thread parents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reply_users_count: Option<u64>,
        /// Up to a few of the thread's repliers (thread parents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reply_users: Option<Vec<UserId>>,
        /// The latest reply's timestamp (thread parents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub latest_reply: Option<Ts>,
        /// Whether the thread reply was also posted to the channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reply_broadcast: Option<bool>,
        /// The thread's parent message (`thread_broadcast`), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub root: Option<RawJson>,
        /// Whether the files were uploaded with this message (`file_share`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub upload: Option<bool>,
        /// Whether the message is shown as posted by a bot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub display_as_bot: Option<bool>,
        /// Whether the message should not notify.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub suppress_notification: Option<bool>,
        /// The conversations where the message is pinned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pinned_to: Option<Vec<ChannelId>>,
        /// Whether the message is starred by the connecting user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_starred: Option<bool>,
        /// The edit marker `{"user","ts"}`, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub edited: Option<RawJson>,
        /// Block Kit content, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub blocks: Option<RawJson>,
        /// Legacy attachments, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub attachments: Option<RawJson>,
        /// Shared files, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub files: Option<RawJson>,
        /// Reactions, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reactions: Option<RawJson>,
        /// The bot's profile, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bot_profile: Option<RawJson>,
        /// The author's profile as shown with the message (`channel_join`, `file_share`, ...), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_profile: Option<RawJson>,
        /// The file of a legacy file message (`file_comment`, older `file_share`), raw: a file object, sometimes empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file: Option<RawJson>,
        /// The comment of a `file_comment` message, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub comment: Option<RawJson>,
        /// Whether the comment is the one made when the file was shared (legacy file messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_intro: Option<bool>,
        /// The members at the time (`channel_archive`, `group_archive`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub members: Option<Vec<UserId>>,
        /// The thread's replies as `{user, ts}` pairs (legacy thread parents), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub replies: Option<RawJson>,
        /// Message metadata set by an app (`event_type`, `event_payload`), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub metadata: Option<RawJson>,
        /// The assistant thread's context (AI apps), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub assistant_thread: Option<RawJson>,
        /// A token that lets an app act on this message (AI apps).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_token: Option<String>,
    }
}

impl Message {
    /// Whether this is a plain message (no subtype).
    pub fn is_plain(&self) -> bool {
        self.subtype.is_none()
    }
}
