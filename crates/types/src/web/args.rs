//! The arguments of the typed Web API calls. Each serializes to the JSON object the method
//! takes (absent options are left out, so Slack's defaults apply).

use crate::ids::{ChannelId, Ts, UserId};
use serde::Serialize;
use serde_json::Value;

/// `chat.postMessage`: post a message (text, Block Kit blocks, in a thread or not).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostMessage {
    /// The conversation.
    pub channel: ChannelId,
    /// The text; with `blocks`, the fallback shown in notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Block Kit blocks (a JSON array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Value>,
    /// Reply in the thread of this message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// With `thread_ts`: also show the reply in the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_broadcast: Option<bool>,
    /// Unfurl links to text-based content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfurl_links: Option<bool>,
    /// Unfurl links to media.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfurl_media: Option<bool>,
    /// Parse `text` as mrkdwn (Slack's default: true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrkdwn: Option<bool>,
}

impl PostMessage {
    /// A plain-text message.
    pub fn new(channel: impl Into<ChannelId>, text: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            text: Some(text.into()),
            blocks: None,
            thread_ts: None,
            reply_broadcast: None,
            unfurl_links: None,
            unfurl_media: None,
            mrkdwn: None,
        }
    }

    /// A message made of blocks, with `fallback` as the notification text.
    pub fn blocks(channel: impl Into<ChannelId>, blocks: Value, fallback: impl Into<String>) -> Self {
        Self { blocks: Some(blocks), ..Self::new(channel, fallback) }
    }

    /// Reply in the thread of the message with this `ts`.
    pub fn in_thread(mut self, parent: impl Into<Ts>) -> Self {
        self.thread_ts = Some(parent.into());
        self
    }
}

/// `chat.update`: replace a message's text or blocks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UpdateMessage {
    /// The conversation.
    pub channel: ChannelId,
    /// The message to change.
    pub ts: Ts,
    /// The new text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The new blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Value>,
}

/// `chat.delete`: delete a message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeleteMessage {
    /// The conversation.
    pub channel: ChannelId,
    /// The message to delete.
    pub ts: Ts,
}

/// `chat.postEphemeral`: a message only `user` sees.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostEphemeral {
    /// The conversation.
    pub channel: ChannelId,
    /// The only user who sees it (must be in the conversation).
    pub user: UserId,
    /// The text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Block Kit blocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Value>,
    /// Show it in this thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
}

/// `reactions.add` / `reactions.remove`: an emoji reaction on a message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reaction {
    /// The conversation.
    pub channel: ChannelId,
    /// The message (`ts`); Slack calls this argument `timestamp`.
    pub timestamp: Ts,
    /// The emoji's name, without colons (`thumbsup`).
    pub name: String,
}

/// `conversations.history`: one page of a conversation's messages, newest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryQuery {
    /// The conversation.
    pub channel: ChannelId,
    /// The page to fetch (`response_metadata.next_cursor` of the previous one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Messages per page (Slack: at most 999, 100 recommended; default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only messages after this `ts` (and at it, with `inclusive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest: Option<Ts>,
    /// Only messages before this `ts` (and at it, with `inclusive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<Ts>,
    /// Include messages exactly at `oldest` / `latest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusive: Option<bool>,
}

impl HistoryQuery {
    /// The newest messages of a conversation.
    pub fn new(channel: impl Into<ChannelId>) -> Self {
        Self {
            channel: channel.into(),
            cursor: None,
            limit: None,
            oldest: None,
            latest: None,
            inclusive: None,
        }
    }
}

/// `conversations.replies`: one page of a thread (its parent first, then replies, oldest first).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepliesQuery {
    /// The conversation.
    pub channel: ChannelId,
    /// The thread's parent message.
    pub ts: Ts,
    /// The page to fetch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Messages per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Only replies after this `ts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest: Option<Ts>,
    /// Only replies before this `ts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<Ts>,
    /// Include messages exactly at `oldest` / `latest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusive: Option<bool>,
}

impl RepliesQuery {
    /// The thread whose parent is `ts`.
    pub fn new(channel: impl Into<ChannelId>, ts: impl Into<Ts>) -> Self {
        Self {
            channel: channel.into(),
            ts: ts.into(),
            cursor: None,
            limit: None,
            oldest: None,
            latest: None,
            inclusive: None,
        }
    }
}

/// `views.open`: open a modal in answer to an interaction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewsOpen {
    /// The `trigger_id` of the interaction (a slash command, a button); valid for 3 s, once.
    pub trigger_id: String,
    /// The view: `{"type":"modal","title":…,"blocks":[…]}`.
    pub view: Value,
}

/// `views.update`: replace an open view.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewsUpdate {
    /// The view's id (from `views.open` or a `view_submission`); or give `external_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_id: Option<String>,
    /// The developer-set id of the view, instead of `view_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The new view.
    pub view: Value,
    /// The view's `hash` as last seen: Slack refuses the update (`hash_conflict`) if the view
    /// changed since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_options_are_left_out() {
        let v = serde_json::to_value(PostMessage::new("C1", "hi")).unwrap();
        assert_eq!(v, json!({"channel":"C1","text":"hi"}));
        let v = serde_json::to_value(HistoryQuery::new("C1")).unwrap();
        assert_eq!(v, json!({"channel":"C1"}));
    }

    #[test]
    fn every_post_message_option_has_slacks_name() {
        let mut m = PostMessage::blocks("C1", json!([{"type":"divider"}]), "fallback").in_thread("1.000001");
        m.reply_broadcast = Some(true);
        m.unfurl_links = Some(false);
        m.unfurl_media = Some(false);
        m.mrkdwn = Some(false);
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"channel":"C1","text":"fallback","blocks":[{"type":"divider"}],"thread_ts":"1.000001",
                   "reply_broadcast":true,"unfurl_links":false,"unfurl_media":false,"mrkdwn":false})
        );
    }

    #[test]
    fn reactions_use_timestamp() {
        let r = Reaction { channel: "C1".into(), timestamp: "1.5".into(), name: "eyes".into() };
        assert_eq!(serde_json::to_value(r).unwrap(), json!({"channel":"C1","timestamp":"1.5","name":"eyes"}));
    }
}
