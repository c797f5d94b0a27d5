//! Member events: user changes, Do Not Disturb, and user groups (`subteam_*`).

use super::lossless::lossless;
use super::{Count, Subteam, User};
use crate::ids::{TeamId, Ts, UserId};

lossless! {
    /// `team_join`, `user_change`, `user_status_changed`, `user_profile_changed`,
    /// `user_huddle_changed`: each carries the member's whole, updated user object.
    #[derive(Clone, Debug, PartialEq)]
    pub struct UserChange {
        /// The member as they now are.
        pub user: User,
        /// The version of the client cache this event updates, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cache_ts: Option<i64>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `dnd_updated` (the connecting user, with snooze details) and `dnd_updated_user` (another
    /// member, without them).
    #[derive(Clone, Debug, PartialEq)]
    pub struct DndUpdated {
        /// The member.
        pub user: UserId,
        /// Their Do Not Disturb settings.
        pub dnd_status: DndStatus,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// Do Not Disturb settings. Times are Unix seconds (numbers, not timestamps).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct DndStatus {
        /// Whether scheduled Do Not Disturb is on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dnd_enabled: Option<bool>,
        /// When the next scheduled period starts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next_dnd_start_ts: Option<i64>,
        /// When the next scheduled period ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub next_dnd_end_ts: Option<i64>,
        /// Whether notifications are snoozed (`dnd_updated` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub snooze_enabled: Option<bool>,
        /// When the snooze ends (`dnd_updated` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub snooze_endtime: Option<i64>,
        /// Seconds of snooze left (`dnd_updated` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub snooze_remaining: Option<i64>,
        /// Whether the snooze has no end (`dnd_updated` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub snooze_is_indefinite: Option<bool>,
    }
}

lossless! {
    /// `subteam_created`, `subteam_updated`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct SubteamChange {
        /// The user group as it now is.
        pub subteam: Subteam,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `subteam_members_changed`: only the difference is sent.
    #[derive(Clone, Debug, PartialEq)]
    pub struct SubteamMembersChanged {
        /// The user group (`S…`).
        pub subteam_id: String,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
        /// When the group was updated before this change, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_previous_update: Option<i64>,
        /// When this change happened, in Unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub date_update: Option<i64>,
        /// Members added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub added_users: Option<Vec<UserId>>,
        /// How many members were added (Slack sends this as a string).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub added_users_count: Option<Count>,
        /// Members removed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub removed_users: Option<Vec<UserId>>,
        /// How many members were removed (Slack sends this as a string).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub removed_users_count: Option<Count>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `subteam_self_added`, `subteam_self_removed`: the connecting user joined or left a user
    /// group.
    #[derive(Clone, Debug, PartialEq)]
    pub struct SubteamSelf {
        /// The user group (`S…`).
        pub subteam_id: String,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}
