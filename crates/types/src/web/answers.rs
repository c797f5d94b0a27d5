//! The method-specific part of Web API answers. Unknown fields are ignored; fields Slack may
//! omit are optional.

use crate::event::{ChannelInfo, Message, User};
use crate::ids::{BotId, ChannelId, EnterpriseId, TeamId, Ts, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `response_metadata` of a paginated answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMetadata {
    /// The cursor of the next page; empty or absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `chat.postMessage`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PostMessageResponse {
    /// The conversation it was posted in (an id, even if a name was given).
    pub channel: ChannelId,
    /// The new message's timestamp: its id in the conversation.
    pub ts: Ts,
    /// The message as Slack stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// `chat.update`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateMessageResponse {
    /// The conversation.
    pub channel: ChannelId,
    /// The changed message.
    pub ts: Ts,
    /// The new text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The message as Slack stored it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// `chat.delete`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMessageResponse {
    /// The conversation.
    pub channel: ChannelId,
    /// The deleted message.
    pub ts: Ts,
}

/// `chat.postEphemeral`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostEphemeralResponse {
    /// The ephemeral message's timestamp.
    pub message_ts: Ts,
}

/// `reactions.add` / `reactions.remove` answer nothing but `ok`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionResponse {}

/// One page of `conversations.history` (newest first) or `conversations.replies` (parent
/// first, then replies oldest first).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// The messages of this page.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Whether there are more messages in the range.
    #[serde(default)]
    pub has_more: bool,
    /// The pagination cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl HistoryPage {
    /// The cursor of the next page, if there is one (Slack sends `""` on the last page).
    pub fn next_cursor(&self) -> Option<&str> {
        self.response_metadata.as_ref()?.next_cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// `conversations.info`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationInfoResponse {
    /// The conversation.
    pub channel: ChannelInfo,
}

/// `users.info`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfoResponse {
    /// The user.
    pub user: User,
}

/// `auth.test`'s answer: who the token is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthTestResponse {
    /// The workspace's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The workspace's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// The user (the bot user, for a bot token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The bot, for a bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<BotId>,
    /// The Enterprise Grid organisation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<EnterpriseId>,
    /// Whether the app is installed organisation-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enterprise_install: Option<bool>,
}

/// A view (modal or Home tab) as Slack returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewInfo {
    /// The view's id, for `views.update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `modal` or `home`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub view_type: Option<String>,
    /// The version, for `views.update`'s `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The app's own identifier for the view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// The developer-set unique id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The root of a view stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_view_id: Option<String>,
    /// Every other field (`title`, `blocks`, `state`, …), as it came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `views.open` / `views.update` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewInfoResponse {
    /// The view as opened or updated.
    pub view: ViewInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like Slack's documented answers, written for this project.
    #[test]
    fn realistic_answers_decode_and_extra_fields_are_ignored() {
        let posted: PostMessageResponse = serde_json::from_str(
            r#"{"ok":true,"channel":"C0A1B2C3D","ts":"1712345678.000200","new_field":1,
                "message":{"type":"message","subtype":"bot_message","text":"deploy done","bot_id":"B0ABC",
                           "ts":"1712345678.000200","blocks":[{"type":"section"}]}}"#,
        )
        .unwrap();
        assert_eq!(posted.ts, "1712345678.000200");
        let msg = posted.message.unwrap();
        assert_eq!(msg.text.as_deref(), Some("deploy done"));
        assert!(msg.blocks.is_some());

        let page: HistoryPage = serde_json::from_str(
            r#"{"ok":true,"messages":[{"type":"message","user":"U1","text":"b","ts":"2.000000"},
                {"type":"message","user":"U2","text":"a","ts":"1.000000","thread_ts":"1.000000","reply_count":2}],
                "has_more":false,"pin_count":0,"response_metadata":{"next_cursor":""}}"#,
        )
        .unwrap();
        assert_eq!(page.messages.len(), 2);
        assert_eq!(page.messages[1].reply_count, Some(2));
        assert_eq!(page.next_cursor(), None, "an empty cursor is the last page");
        let bare: HistoryPage = serde_json::from_str(r#"{"ok":true}"#).unwrap();
        assert!(bare.messages.is_empty() && !bare.has_more);

        let me: AuthTestResponse = serde_json::from_str(
            r#"{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"bot","team_id":"T1",
                "user_id":"U9","bot_id":"B9","is_enterprise_install":false}"#,
        )
        .unwrap();
        assert_eq!(me.user_id.as_ref().map(|u| u.as_str()), Some("U9"));

        let view: ViewInfoResponse = serde_json::from_str(
            r#"{"ok":true,"view":{"id":"V1","type":"modal","hash":"17.3","title":{"type":"plain_text","text":"T"}}}"#,
        )
        .unwrap();
        assert_eq!(view.view.hash.as_deref(), Some("17.3"));
        assert!(view.view.extra.contains_key("title"));

        let info: ConversationInfoResponse =
            serde_json::from_str(r#"{"ok":true,"channel":{"id":"C1","name":"general","is_channel":true}}"#)
                .unwrap();
        assert_eq!(info.channel.name.as_deref(), Some("general"));
        let user: UserInfoResponse =
            serde_json::from_str(r#"{"ok":true,"user":{"id":"U1","name":"ada","tz":"Europe/London"}}"#)
                .unwrap();
        assert_eq!(user.user.name.as_deref(), Some("ada"));
        let eph: PostEphemeralResponse = serde_json::from_str(r#"{"ok":true,"message_ts":"5.5"}"#).unwrap();
        assert_eq!(eph.message_ts, "5.5");
    }

    #[test]
    fn a_missing_required_field_is_an_error() {
        assert!(serde_json::from_str::<PostMessageResponse>(r#"{"ok":true,"channel":"C1"}"#).is_err());
        assert!(serde_json::from_str::<ViewInfoResponse>(r#"{"ok":true}"#).is_err());
    }
}
