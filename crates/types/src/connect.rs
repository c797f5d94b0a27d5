//! The `rtm.connect` method: its optional arguments and its successful answer.

use crate::ids::{EnterpriseId, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// The optional arguments of `rtm.connect`, sent on every (re)connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConnectOptions {
    /// Batch presence deliveries: `presence_change` events then carry `users: [...]` instead
    /// of a single `user`. Default `false`.
    pub batch_presence_aware: bool,
    /// Deliver presence events only for users subscribed with `presence_sub`. Default `true`.
    pub presence_sub: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { batch_presence_aware: false, presence_sub: true }
    }
}

/// The connecting user, as `rtm.connect` reports it in `self`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfInfo {
    /// The user id (`U…` or `W…`).
    pub id: UserId,
    /// The user's name.
    pub name: String,
}

/// The workspace, as `rtm.connect` reports it in `team`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamInfo {
    /// The workspace id.
    pub id: TeamId,
    /// The workspace's display name.
    pub name: String,
    /// The workspace's domain (`<domain>.slack.com`).
    pub domain: String,
    /// The Enterprise Grid organisation, if the workspace belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<EnterpriseId>,
    /// The Enterprise Grid organisation's name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_name: Option<String>,
}

/// A successful `rtm.connect` answer: who we are, which workspace, and the single-use socket
/// URL (valid for 30 seconds). Unknown fields are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    /// The connecting user.
    #[serde(rename = "self")]
    pub self_: SelfInfo,
    /// The workspace.
    pub team: TeamInfo,
    /// The WebSocket Message Server URL (`wss://…`). Single use, valid for 30 seconds.
    pub url: String,
}

impl Connected {
    /// How long the socket URL stays valid after `rtm.connect` answered.
    pub const URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_ones() {
        let o = ConnectOptions::default();
        assert!(!o.batch_presence_aware);
        assert!(o.presence_sub);
    }

    #[test]
    fn parses_seed_success_with_unknown_fields() {
        let c: Connected = serde_json::from_str(
            r#"{"ok":true,"self":{"id":"U4X318ZMZ","name":"robotoverlord","extra":1},
                "team":{"domain":"slackdemo","id":"T2U81E2FP","name":"SlackDemo","x":[1]},
                "url":"wss:\/\/example.invalid\/ws","something_new":{"a":1}}"#,
        )
        .unwrap();
        assert_eq!(c.self_.id, "U4X318ZMZ");
        assert_eq!(c.team.domain, "slackdemo");
        assert_eq!(c.url, "wss://example.invalid/ws");
        assert_eq!(c.team.enterprise_id, None);
    }

    #[test]
    fn parses_enterprise_fields() {
        let c: Connected = serde_json::from_str(
            r#"{"self":{"id":"W1","name":"n"},"team":{"domain":"d","id":"T1","name":"N",
                "enterprise_id":"E123","enterprise_name":"Acme Corp"},"url":"wss://x"}"#,
        )
        .unwrap();
        assert_eq!(c.team.enterprise_id.as_ref().map(|e| e.as_str()), Some("E123"));
        assert_eq!(c.team.enterprise_name.as_deref(), Some("Acme Corp"));
    }
}
