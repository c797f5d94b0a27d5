//! Huddle events (`sh_room_join`, `sh_room_leave`, `sh_room_update`): a huddle ("shared room")
//! started, changed, or a member joined or left it. Slack does not document them for RTM; the
//! fields are the ones seen in real traffic.

use super::lossless::lossless;
use crate::ids::{ChannelId, Ts, UserId};

lossless! {
    /// `sh_room_join`, `sh_room_leave`, `sh_room_update`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct HuddleRoomChange {
        /// The huddle, as it is after the change.
        pub room: HuddleRoom,
        /// Who joined or left (absent from some updates).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<UserId>,
        /// The change's timestamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// A huddle ("room"). Only `id` is always present.
    #[derive(Clone, Debug, PartialEq)]
    pub struct HuddleRoom {
        /// The huddle id (`R…`).
        pub id: String,
        /// Its name or topic (`null` when unset).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Who started it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_by: Option<UserId>,
        /// When it started, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_start: Option<i64>,
        /// When it ended, in Unix seconds (`0` while it runs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_end: Option<i64>,
        /// Who is in it now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub participants: Option<Vec<UserId>>,
        /// Everyone who has been in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub participant_history: Option<Vec<UserId>>,
        /// The conversations it belongs to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channels: Option<Vec<ChannelId>>,
        /// Whether it is a call in a direct message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_dm_call: Option<bool>,
        /// Whether it has ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub has_ended: Option<bool>,
        /// The thread that holds the huddle's messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread_root_ts: Option<Ts>,
    }
}
