//! Reactions, pins and stars: events about an item (a message, file, file comment or
//! conversation).

use super::lossless::lossless;
use super::{FileComment, FileRef, ItemType, Message};
use crate::RawJson;
use crate::ids::{ChannelId, Ts, UserId};

lossless! {
    /// What a reaction applies to: `{"type":"message","channel":"C…","ts":"…"}`,
    /// `{"type":"file","file":"F…"}` or `{"type":"file_comment","file_comment":"Fc…","file":"F…"}`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ReactionItem {
        /// The kind of item.
        #[serde(rename = "type")]
        pub kind: ItemType,
        /// The message's conversation (messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// The message's timestamp (messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// The file id (files, file comments).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file: Option<String>,
        /// The file comment id (file comments).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file_comment: Option<String>,
    }
}

lossless! {
    /// `reaction_added`, `reaction_removed`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ReactionChange {
        /// Who reacted.
        pub user: UserId,
        /// The emoji name, without colons (may carry a skin tone, e.g. `thumbsup::skin-tone-2`).
        pub reaction: String,
        /// What was reacted to.
        pub item: ReactionItem,
        /// The author of the item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_user: Option<UserId>,
        /// The reaction's own timestamp (recorded frames).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// The item of a pin or star event. Unlike a [`ReactionItem`], it carries the item itself:
    /// `message`, `file` (and `comment`), or only `channel` for a starred conversation.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Item {
        /// The kind of item.
        #[serde(rename = "type")]
        pub kind: ItemType,
        /// The conversation (messages, starred conversations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// The message (messages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Box<Message>>,
        /// The file (files, file comments).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file: Option<FileRef>,
        /// The file comment (file comments).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub comment: Option<FileComment>,
        /// When it was pinned, in Unix seconds (pins).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created: Option<i64>,
        /// Who pinned it (pins).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_by: Option<UserId>,
        /// When it was starred, in Unix seconds (stars).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_create: Option<i64>,
    }
}

lossless! {
    /// `pin_added`, `pin_removed`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct PinChange {
        /// Who pinned or unpinned the item.
        pub user: UserId,
        /// The item.
        pub item: Item,
        /// The conversation it is pinned in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_id: Option<ChannelId>,
        /// The author of the item.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub item_user: Option<UserId>,
        /// How many items the conversation now has pinned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pin_count: Option<u64>,
        /// Whether the conversation still has pins (`pin_removed`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub has_pins: Option<bool>,
        /// Who pinned it and when (`{"channel","pinned_by","pinned_ts"}`), raw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub pinned_info: Option<RawJson>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `star_added`, `star_removed` (only for the connecting user's own stars).
    #[derive(Clone, Debug, PartialEq)]
    pub struct StarChange {
        /// Who starred or unstarred the item (the connecting user).
        pub user: UserId,
        /// The item.
        pub item: Item,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}
