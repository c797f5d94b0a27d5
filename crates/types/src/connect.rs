//! The `rtm.connect` method: its optional arguments and its successful answer.

use crate::event::Extra;
use crate::event::lossless::lossless;
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

lossless! {
    /// The connecting user, as `rtm.connect` reports it in `self`. Fields it does not model
    /// (`prefs`, `created`, `manual_presence` in older answers) are kept in `extra` and written
    /// back, as in every event type.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct SelfInfo {
        /// The user id (`U…` or `W…`).
        pub id: UserId,
        /// The user's name.
        pub name: String,
    }
}

lossless! {
    /// The workspace, as `rtm.connect` reports it in `team`. Fields it does not model (`icon`,
    /// `plan`, `email_domain`, … in older answers) are kept in `extra` and written back.
    #[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl SelfInfo {
    /// The user `id` called `name`, with no other field.
    pub fn new(id: impl Into<UserId>, name: impl Into<String>) -> Self {
        Self { id: id.into(), name: name.into(), extra: Extra::new() }
    }
}

impl TeamInfo {
    /// The workspace `id` with its `name` and `domain`, outside any Enterprise Grid, with no
    /// other field.
    pub fn new(id: impl Into<TeamId>, name: impl Into<String>, domain: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            domain: domain.into(),
            enterprise_id: None,
            enterprise_name: None,
            extra: Extra::new(),
        }
    }
}

/// A successful `rtm.connect` answer: who we are, which workspace, and the single-use socket
/// URL (valid for 30 seconds). Top-level fields it does not model are ignored; those of `self`
/// and `team` are kept.
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
    fn self_and_team_keep_the_fields_they_do_not_model_and_give_them_back() {
        // A synthetic answer shaped like older recorded ones: preferences, icons, a plan.
        let text = r#"{"ok":true,
            "self":{"id":"U0SYNTH01","name":"synthbot","prefs":{"highlight_words":"","emoji_mode":"default",
                "muted_channels":["C1","C2"]},"created":1700000000,"manual_presence":"active"},
            "team":{"id":"T0SYNTH01","name":"Synthetic","domain":"synthetic","email_domain":"",
                "icon":{"image_34":"https://example.invalid/34.png","image_default":true},
                "plan":"std","msg_edit_window_mins":-1,"prefs":{"default_channels":["C1"]}},
            "url":"wss://example.invalid/ws"}"#;
        let c: Connected = serde_json::from_str(text).unwrap();
        assert_eq!(c.self_.id, "U0SYNTH01");
        assert_eq!(c.self_.extra.value("created"), Some(serde_json::json!(1700000000)));
        assert_eq!(c.team.extra.get("plan").map(|v| v.as_str()), Some(r#""std""#));
        let back = serde_json::to_value(&c).unwrap();
        let mut original: serde_json::Value = serde_json::from_str(text).unwrap();
        original.as_object_mut().unwrap().remove("ok"); // the envelope, not the answer
        assert_eq!(back, original);
        // And again from what was written: nothing lost on a second round.
        let again: Connected = serde_json::from_value(back.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), back);
        // Built by hand: no extra field, nothing added.
        let plain = SelfInfo::new("U1", "bot");
        assert_eq!(serde_json::to_value(&plain).unwrap(), serde_json::json!({"id":"U1","name":"bot"}));
        let t = TeamInfo::new("T1", "T", "t");
        assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::json!({"id":"T1","name":"T","domain":"t"}));
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
