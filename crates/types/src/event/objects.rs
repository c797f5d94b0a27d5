//! Objects nested in events: channels, users, bots, files, file comments, user groups.
//!
//! These objects are large and Slack adds fields to them often, so each one types the fields
//! applications commonly read and keeps every other field in `extra`, as it came, like every
//! event struct. Serializing one writes back all of its fields.

use super::lossless::lossless;
use super::{Count, Extra, UnixTime};
use crate::RawJson;
use crate::ids::{BotId, ChannelId, TeamId, Ts, UserId};

lossless! {
    /// A conversation object (public or private channel, direct message, multi-person direct
    /// message), as found in `channel_created`, `channel_joined`, `group_joined`, `im_created` and
    /// the rename events. Only `id` is always present.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelInfo {
        /// The conversation id.
        pub id: ChannelId,
        /// The name, without `#` (absent for direct messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The name as Slack normalizes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name_normalized: Option<String>,
        /// When it was created, in Unix seconds (Slack has sent both a number and a numeric
        /// string).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created: Option<UnixTime>,
        /// Who created it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub creator: Option<UserId>,
        /// The other member of a direct message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// Whether it is a public channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_channel: Option<bool>,
        /// Whether it is a private channel (legacy "group").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_group: Option<bool>,
        /// Whether it is a direct message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_im: Option<bool>,
        /// Whether it is a multi-person direct message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_mpim: Option<bool>,
        /// Whether it is private.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_private: Option<bool>,
        /// Whether it is archived.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_archived: Option<bool>,
        /// Whether it is the workspace's general channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_general: Option<bool>,
        /// Whether it is shared with another workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_shared: Option<bool>,
        /// Whether it is shared with another organisation (Slack Connect).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_ext_shared: Option<bool>,
        /// Whether it is shared across an Enterprise Grid organisation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_org_shared: Option<bool>,
        /// Whether the connecting user is a member.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_member: Option<bool>,
        /// Whether the conversation is open in the connecting user's sidebar (direct messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_open: Option<bool>,
        /// The topic.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub topic: Option<TopicInfo>,
        /// The purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub purpose: Option<TopicInfo>,
        /// The members (when listed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub members: Option<Vec<UserId>>,
        /// The connecting user's read cursor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_read: Option<Ts>,
        /// The latest message, raw (an object, or `null`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub latest: Option<RawJson>,
        /// Unread messages for the connecting user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count: Option<u64>,
        /// Unread messages that the client should show as unread.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count_display: Option<u64>,
        /// The workspace the conversation belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub context_team_id: Option<TeamId>,
    }
}

impl ChannelInfo {
    /// A conversation object with only its id.
    pub fn new(id: ChannelId) -> Self {
        ChannelInfo {
            id,
            name: None,
            name_normalized: None,
            created: None,
            creator: None,
            user: None,
            is_channel: None,
            is_group: None,
            is_im: None,
            is_mpim: None,
            is_private: None,
            is_archived: None,
            is_general: None,
            is_shared: None,
            is_ext_shared: None,
            is_org_shared: None,
            is_member: None,
            is_open: None,
            topic: None,
            purpose: None,
            members: None,
            last_read: None,
            latest: None,
            unread_count: None,
            unread_count_display: None,
            context_team_id: None,
            extra: Extra::new(),
        }
    }
}

lossless! {
    /// A conversation's topic or purpose.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct TopicInfo {
        /// The text (empty when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub value: Option<String>,
        /// Who set it (may be an empty string when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub creator: Option<UserId>,
        /// When it was set, in Unix seconds (`0` when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_set: Option<i64>,
    }
}

lossless! {
    /// A workspace member, as found in `team_join`, `user_change` and the other user events.
    #[derive(Clone, Debug, PartialEq)]
    pub struct User {
        /// The user id.
        pub id: UserId,
        /// The member's home workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// The username.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Whether the account is deactivated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted: Option<bool>,
        /// The colour clients use for the name, as hex without `#`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub color: Option<String>,
        /// The full name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub real_name: Option<String>,
        /// The time zone, e.g. `America/Los_Angeles`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tz: Option<String>,
        /// The time zone's label, e.g. `Pacific Standard Time`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tz_label: Option<String>,
        /// The time zone's offset from UTC, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub tz_offset: Option<i64>,
        /// The profile.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub profile: Option<UserProfile>,
        /// Whether the member is a workspace admin.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_admin: Option<bool>,
        /// Whether the member is a workspace owner.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_owner: Option<bool>,
        /// Whether the member is the primary owner.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_primary_owner: Option<bool>,
        /// Whether the member is a multi-channel guest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_restricted: Option<bool>,
        /// Whether the member is a single-channel guest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_ultra_restricted: Option<bool>,
        /// Whether the member is a bot user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_bot: Option<bool>,
        /// Whether the member is an app user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_app_user: Option<bool>,
        /// Whether the member confirmed their email address.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_email_confirmed: Option<bool>,
        /// When the member was last updated, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub updated: Option<i64>,
        /// Enterprise Grid details, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enterprise_user: Option<RawJson>,
    }
}

lossless! {
    /// A member's profile.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct UserProfile {
        /// The full name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub real_name: Option<String>,
        /// The full name as Slack normalizes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub real_name_normalized: Option<String>,
        /// The display name (may be empty: clients then show `real_name`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub display_name: Option<String>,
        /// The display name as Slack normalizes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub display_name_normalized: Option<String>,
        /// The first name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub first_name: Option<String>,
        /// The last name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_name: Option<String>,
        /// The job title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// The phone number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub phone: Option<String>,
        /// The email address (needs the `users:read.email` scope).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub email: Option<String>,
        /// The status text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status_text: Option<String>,
        /// The status emoji, e.g. `:train:`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status_emoji: Option<String>,
        /// When the status expires, in Unix seconds (`0`: never).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status_expiration: Option<i64>,
        /// The huddle state, e.g. `in_a_huddle` or `default_unset`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub huddle_state: Option<String>,
        /// When the huddle state expires, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub huddle_state_expiration_ts: Option<i64>,
        /// The hash of the avatar image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub avatar_hash: Option<String>,
        /// The 48×48 avatar URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_48: Option<String>,
        /// The 72×72 avatar URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_72: Option<String>,
        /// The 192×192 avatar URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_192: Option<String>,
        /// The 512×512 avatar URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_512: Option<String>,
        /// The workspace the profile belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<TeamId>,
        /// The bot behind a bot user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bot_id: Option<BotId>,
        /// Custom profile fields, raw (an object keyed by field id, or `null`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fields: Option<RawJson>,
    }
}

lossless! {
    /// A bot, as found in `bot_added` and `bot_changed`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct BotInfo {
        /// The bot id.
        pub id: BotId,
        /// The app the bot belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub app_id: Option<String>,
        /// The bot's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Whether the bot was removed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted: Option<bool>,
        /// When the bot was last updated, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub updated: Option<i64>,
        /// The bot's user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_id: Option<UserId>,
        /// The bot's workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// Icon URLs by size, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub icons: Option<RawJson>,
    }
}

lossless! {
    /// A user group ("subteam"), as found in `subteam_created` and `subteam_updated`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Subteam {
        /// The user group id (`S…`).
        pub id: String,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// Whether this is a user group (as opposed to another kind of subteam).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_usergroup: Option<bool>,
        /// Whether this is a subteam.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_subteam: Option<bool>,
        /// The name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The description.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<String>,
        /// The handle used to mention it, without `@`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub handle: Option<String>,
        /// Whether it is managed outside Slack.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_external: Option<bool>,
        /// When it was created, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_create: Option<i64>,
        /// When it was last updated, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_update: Option<i64>,
        /// When it was disabled, in Unix seconds (`0` if enabled).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_delete: Option<i64>,
        /// `admin` or `owner` for the built-in groups; absent or `null` otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auto_type: Option<String>,
        /// Who created it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_by: Option<UserId>,
        /// Who last updated it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub updated_by: Option<UserId>,
        /// Who disabled it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted_by: Option<UserId>,
        /// Default channels and groups, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub prefs: Option<RawJson>,
        /// The members (when listed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub users: Option<Vec<UserId>>,
        /// How many members it has.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_count: Option<Count>,
    }
}

lossless! {
    /// A file object. In RTM file events it is often only `{"id":"F…"}`; the other fields appear in
    /// pins, stars and richer payloads.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileInfo {
        /// The file id (`F…`).
        pub id: String,
        /// When it was created, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created: Option<i64>,
        /// When it was uploaded, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp: Option<i64>,
        /// The file name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// The title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// The MIME type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mimetype: Option<String>,
        /// Slack's file type, e.g. `png`, `pdf`, `text`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filetype: Option<String>,
        /// A human-readable file type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pretty_type: Option<String>,
        /// Who uploaded it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// `hosted`, `external`, `snippet`, `post`, or `tombstone` when deleted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mode: Option<String>,
        /// Whether it is stored outside Slack.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_external: Option<bool>,
        /// Whether it is shared in a public channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_public: Option<bool>,
        /// Whether a public link was created.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub public_url_shared: Option<bool>,
        /// The size in bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub size: Option<u64>,
        /// The URL to fetch it (with the token in an `Authorization` header).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url_private: Option<String>,
        /// The URL to download it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url_private_download: Option<String>,
        /// The page showing it in Slack.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub permalink: Option<String>,
        /// The public page, if a public link was created.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub permalink_public: Option<String>,
        /// Public channels it is shared in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channels: Option<Vec<ChannelId>>,
        /// Private channels it is shared in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub groups: Option<Vec<ChannelId>>,
        /// Direct messages it is shared in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ims: Option<Vec<ChannelId>>,
        /// How many comments it has.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub comments_count: Option<u64>,
    }
}

impl FileInfo {
    /// A file object with only its id.
    pub fn new(id: impl Into<String>) -> Self {
        FileInfo {
            id: id.into(),
            created: None,
            timestamp: None,
            name: None,
            title: None,
            mimetype: None,
            filetype: None,
            pretty_type: None,
            user: None,
            mode: None,
            is_external: None,
            is_public: None,
            public_url_shared: None,
            size: None,
            url_private: None,
            url_private_download: None,
            permalink: None,
            permalink_public: None,
            channels: None,
            groups: None,
            ims: None,
            comments_count: None,
            extra: Extra::new(),
        }
    }
}

lossless! {
    /// A comment on a file, as found in `file_comment_added` and `file_comment_edited`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileComment {
        /// The comment id (`Fc…`).
        pub id: String,
        /// When it was written, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created: Option<i64>,
        /// When it was last changed, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp: Option<i64>,
        /// The author.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// The text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub comment: Option<String>,
        /// Whether it is the comment made when the file was shared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_intro: Option<bool>,
    }
}

wire_enum! {
    /// The kind of item a reaction, pin or star applies to (the item's `type`).
    pub enum ItemType {
        /// A message (`channel`, `ts` or `message`).
        Message = "message",
        /// A file (`file`).
        File = "file",
        /// A comment on a file (`file_comment` or `comment`, and `file`).
        FileComment = "file_comment",
        /// A public channel (stars).
        Channel = "channel",
        /// A direct message (stars).
        Im = "im",
        /// A private channel (stars).
        Group = "group",
    }
}
