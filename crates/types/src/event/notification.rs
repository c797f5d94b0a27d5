//! Notification events sent to user tokens. Slack does not document them; the fields are the
//! ones seen in real traffic, all optional.

use super::lossless::lossless;
use crate::ids::{ChannelId, Ts, UserId};

lossless! {
    /// `desktop_notification`: what the desktop client would show as a notification.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct DesktopNotification {
        /// The title (usually the workspace name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// The subtitle (usually the conversation, e.g. `#general`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub subtitle: Option<String>,
        /// The notifying message's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub msg: Option<Ts>,
        /// The notifying message's timestamp (newer payloads).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// The body text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub content: Option<String>,
        /// The conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// A `slack://` link that opens the message.
        #[serde(rename = "launchUri", default, skip_serializing_if = "Option::is_none")]
        pub launch_uri: Option<String>,
        /// The sender's avatar URL.
        #[serde(rename = "avatarImage", default, skip_serializing_if = "Option::is_none")]
        pub avatar_image: Option<String>,
        /// The sound to play.
        #[serde(rename = "ssbFilename", default, skip_serializing_if = "Option::is_none")]
        pub ssb_filename: Option<String>,
        /// An image to show.
        #[serde(rename = "imageUri", default, skip_serializing_if = "Option::is_none")]
        pub image_uri: Option<String>,
        /// Whether the conversation is shared with another workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_shared: Option<bool>,
        /// Whether the notification is an invitation to a channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_channel_invite: Option<bool>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `mobile_in_app_notification`: what the mobile client would show as a notification.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct MobileInAppNotification {
        /// The title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<String>,
        /// The subtitle (usually the text).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub subtitle: Option<String>,
        /// The notifying message's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// The notifying message's timestamp, repeated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub msg: Option<Ts>,
        /// The conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<ChannelId>,
        /// The conversation's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_name: Option<String>,
        /// The sender.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub author_id: Option<UserId>,
        /// The sender's display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub author_display_name: Option<String>,
        /// The sender's avatar URL.
        #[serde(rename = "avatarImage", default, skip_serializing_if = "Option::is_none")]
        pub avatar_image: Option<String>,
        /// Whether the conversation is shared with another workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_shared: Option<bool>,
        /// The push notification's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub push_id: Option<String>,
        /// The notification's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub notif_id: Option<String>,
        /// A `slack://` link that opens the message.
        #[serde(rename = "mobileLaunchUri", default, skip_serializing_if = "Option::is_none")]
        pub mobile_launch_uri: Option<String>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `update_thread_state`: the connecting user's unread state of threads changed (user
    /// tokens).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct UpdateThreadState {
        /// Whether some thread has unread replies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub has_unreads: Option<bool>,
        /// Unread mentions in threads.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mention_count: Option<u64>,
        /// When the state changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timestamp: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}
