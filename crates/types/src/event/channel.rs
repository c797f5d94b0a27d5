//! Conversation events: public channels (`channel_*`), private channels (`group_*`), direct
//! messages (`im_*`) and channel membership (`member_*_channel`).
//!
//! Events of the three families that carry the same fields share one type; the [`Event`]
//! variant tells them apart.
//!
//! [`Event`]: super::Event

use super::lossless::lossless;
use super::{ChannelInfo, ChannelRef, Flag, User};
use crate::RawJson;
use crate::ids::{ChannelId, EnterpriseId, TeamId, Ts, UserId};

lossless! {
    /// `channel_marked`, `group_marked`, `im_marked`, `mpim_marked`: the connecting user's read
    /// cursor moved.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ConversationMarked {
        /// The conversation.
        pub channel: ChannelId,
        /// The new read cursor: the timestamp of the last message read.
        pub ts: Ts,
        /// Unread messages left.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count: Option<u64>,
        /// Unread messages left that clients show.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count_display: Option<u64>,
        /// Unread mentions left.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub num_mentions: Option<u64>,
        /// Unread mentions left that clients show.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub num_mentions_display: Option<u64>,
        /// Unread mentions left (newer name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mention_count: Option<u64>,
        /// Unread mentions left that clients show (newer name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mention_count_display: Option<u64>,
        /// Unread direct messages (`im_marked`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dm_count: Option<u64>,
        /// Whether the conversation is a multi-person direct message (private channel events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_mpim: Option<bool>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_created`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelCreated {
        /// The new channel (`id`, `name`, `created`, `creator`, often more).
        pub channel: ChannelInfo,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_joined`, `group_joined`, `mpim_joined`: the connecting user joined a
    /// conversation; `channel` is usually the full conversation object, sometimes only its id
    /// (Slack's documented `group_joined` example).
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelJoined {
        /// The conversation joined.
        pub channel: ChannelRef,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_left`, `group_left`: the connecting user left a channel, or was removed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelLeft {
        /// The channel left.
        pub channel: ChannelId,
        /// Who removed the connecting user (the user themselves if they left).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actor_id: Option<UserId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_deleted`, `group_deleted`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelDeleted {
        /// The deleted channel.
        pub channel: ChannelId,
        /// Who deleted it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actor_id: Option<UserId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_rename`, `group_rename`: `channel` holds the id and the new `name`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelRename {
        /// The channel with its new name.
        pub channel: ChannelInfo,
        /// The timestamp of the rename (`group_rename`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_archive`, `channel_unarchive`, `group_archive`, `group_unarchive`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ArchiveChange {
        /// The channel.
        pub channel: ChannelId,
        /// Who archived or unarchived it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// The timestamp of the change (private channels).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_history_changed`, `group_history_changed`, `im_history_changed`,
    /// `mpim_history_changed`: many messages changed at once (e.g. after a bulk import); clients
    /// should refetch the history. Slack's documentation examples carry only timestamps, but
    /// recorded frames name the conversation in `channel`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct HistoryChanged {
        /// The conversation, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// The latest message affected.
        pub latest: Ts,
        /// When the change happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// Whether the conversation is a multi-person direct message (a boolean, or `1` in Slack's `mpim_history_changed` example).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_mpim: Option<Flag>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_shared`: a channel was shared with another workspace or organisation.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelShared {
        /// The channel.
        pub channel: ChannelId,
        /// The workspace or organisation it was shared with (`T…` or `E…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub connected_team_id: Option<String>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `channel_unshared`: a channel stopped being shared with a workspace or organisation.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelUnshared {
        /// The channel.
        pub channel: ChannelId,
        /// The workspace or organisation it is no longer shared with (`T…` or `E…`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub previously_connected_team_id: Option<String>,
        /// Whether the channel is still shared with some other organisation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_ext_shared: Option<bool>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `im_created`: a direct message was created; `channel` is the conversation object.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ImCreated {
        /// The new direct message.
        pub channel: ChannelInfo,
        /// The user on the other side.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `im_open`, `im_close`, `group_open`, `group_close`: the connecting user opened or closed a
    /// conversation in their sidebar.
    #[derive(Clone, Debug, PartialEq)]
    pub struct OpenClose {
        /// The conversation.
        pub channel: ChannelId,
        /// The connecting user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// Whether the conversation is a multi-person direct message (private channel events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_mpim: Option<bool>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `member_joined_channel`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct MemberJoinedChannel {
        /// Who joined.
        pub user: UserId,
        /// The channel.
        pub channel: ChannelId,
        /// `C` for a public channel, `G` for a private one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_type: Option<String>,
        /// The member's workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<TeamId>,
        /// Who invited them (absent if they joined on their own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inviter: Option<UserId>,
        /// The Enterprise Grid organisation, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enterprise: Option<EnterpriseId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `member_left_channel`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct MemberLeftChannel {
        /// Who left.
        pub user: UserId,
        /// The channel.
        pub channel: ChannelId,
        /// `C` for a public channel, `G` for a private one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_type: Option<String>,
        /// The member's workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<TeamId>,
        /// The Enterprise Grid organisation, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub enterprise: Option<EnterpriseId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `group_join` sent as an event of its own (recorded frames; the usual form is a `message`
    /// with that subtype): a member joined a private channel.
    #[derive(Clone, Debug, PartialEq)]
    pub struct GroupJoin {
        /// The private channel.
        pub channel: ChannelId,
        /// Who joined.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// The join's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `shared_channel_invite_received`: another organisation invited the workspace to a shared
    /// channel (Slack Connect).
    #[derive(Clone, Debug, PartialEq)]
    pub struct SharedChannelInvite {
        /// The invitation.
        pub invite: ChannelInvite,
        /// The channel offered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelInfo>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// A Slack Connect invitation.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ChannelInvite {
        /// The invitation id (`I…`).
        pub id: String,
        /// When it was sent, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_created: Option<i64>,
        /// When it expires, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_invalid: Option<i64>,
        /// The inviting workspace, raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inviting_team: Option<RawJson>,
        /// Who sent it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub inviting_user: Option<User>,
        /// Who it was sent to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub recipient_user_id: Option<UserId>,
        /// The email address it was sent to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub recipient_email: Option<String>,
    }
}
