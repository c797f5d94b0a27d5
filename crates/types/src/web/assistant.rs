//! The assistant thread methods: `assistant.threads.setStatus`, `setSuggestedPrompts` and
//! `setTitle`.

use crate::ids::{ChannelId, Ts};
use serde::{Deserialize, Serialize};

/// At most this many `loading_messages` (Slack's limit).
pub const MAX_LOADING_MESSAGES: usize = 10;
/// At most this many suggested prompts (Slack's limit).
pub const MAX_SUGGESTED_PROMPTS: usize = 4;

/// `assistant.threads.setStatus`: the status shown under the thread while the app works
/// ("is thinking…"); an empty status clears it. Slack clears it by itself when the app
/// replies, or after two minutes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetStatus {
    /// The conversation holding the assistant thread.
    pub channel_id: ChannelId,
    /// The thread.
    pub thread_ts: Ts,
    /// The status.
    pub status: String,
    /// Messages shown in turn while loading (at most [`MAX_LOADING_MESSAGES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loading_messages: Option<Vec<String>>,
}

impl SetStatus {
    /// Sets `status` on the thread `thread_ts` of `channel_id`.
    pub fn new(
        channel_id: impl Into<ChannelId>,
        thread_ts: impl Into<Ts>,
        status: impl Into<String>,
    ) -> Self {
        Self {
            channel_id: channel_id.into(),
            thread_ts: thread_ts.into(),
            status: status.into(),
            loading_messages: None,
        }
    }
}

/// One suggested prompt: `title` is shown, `message` is sent when the user picks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedPrompt {
    /// What the button says.
    pub title: String,
    /// What the user sends by picking it.
    pub message: String,
}

impl SuggestedPrompt {
    /// A prompt.
    pub fn new(title: impl Into<String>, message: impl Into<String>) -> Self {
        Self { title: title.into(), message: message.into() }
    }
}

/// `assistant.threads.setSuggestedPrompts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetSuggestedPrompts {
    /// The conversation holding the assistant thread.
    pub channel_id: ChannelId,
    /// The thread.
    pub thread_ts: Ts,
    /// The prompts (at most [`MAX_SUGGESTED_PROMPTS`]).
    pub prompts: Vec<SuggestedPrompt>,
    /// A heading above them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `assistant.threads.setTitle`: the thread's title in the assistant's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetTitle {
    /// The conversation holding the assistant thread.
    pub channel_id: ChannelId,
    /// The thread.
    pub thread_ts: Ts,
    /// The title.
    pub title: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn assistant_arguments_use_slacks_names() {
        let mut s = SetStatus::new("D1", "1.5", "is thinking…");
        s.loading_messages = Some(vec!["Reading".into()]);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"channel_id":"D1","thread_ts":"1.5","status":"is thinking…","loading_messages":["Reading"]})
        );
        let p = SetSuggestedPrompts {
            channel_id: "D1".into(),
            thread_ts: "1.5".into(),
            prompts: vec![SuggestedPrompt::new("Summarize", "Summarize the channel")],
            title: None,
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"channel_id":"D1","thread_ts":"1.5","prompts":[{"title":"Summarize","message":"Summarize the channel"}]})
        );
    }
}
