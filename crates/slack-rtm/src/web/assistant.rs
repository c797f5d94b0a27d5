//! The assistant thread helpers: `assistant.threads.setStatus`, `setSuggestedPrompts`,
//! `setTitle`.

use super::{ApiCallError, WebClient};
use slack_rtm_types::web::{SetStatus, SetSuggestedPrompts, SetTitle, SuggestedPrompt};
use slack_rtm_types::{ChannelId, Ts};

impl WebClient {
    /// `assistant.threads.setStatus`: shows `status` ("is thinking…") under the thread, with
    /// `loading_messages` shown in turn (at most 10). An empty status clears it; Slack clears it
    /// by itself when the app replies, or after two minutes.
    pub async fn set_status(
        &self,
        channel: impl Into<ChannelId>,
        thread_ts: impl Into<Ts>,
        status: impl Into<String>,
        loading_messages: &[&str],
    ) -> Result<(), ApiCallError> {
        let mut args = SetStatus::new(channel, thread_ts, status);
        if !loading_messages.is_empty() {
            args.loading_messages = Some(loading_messages.iter().map(|m| (*m).to_owned()).collect());
        }
        self.call("assistant.threads.setStatus", &args).await.map(|_| ())
    }

    /// `assistant.threads.setSuggestedPrompts`: up to four prompts the user can pick, with an
    /// optional heading.
    pub async fn set_suggested_prompts(
        &self,
        channel: impl Into<ChannelId>,
        thread_ts: impl Into<Ts>,
        prompts: Vec<SuggestedPrompt>,
        title: Option<String>,
    ) -> Result<(), ApiCallError> {
        let args =
            SetSuggestedPrompts { channel_id: channel.into(), thread_ts: thread_ts.into(), prompts, title };
        self.call("assistant.threads.setSuggestedPrompts", &args).await.map(|_| ())
    }

    /// `assistant.threads.setTitle`: the thread's title in the assistant's history.
    pub async fn set_title(
        &self,
        channel: impl Into<ChannelId>,
        thread_ts: impl Into<Ts>,
        title: impl Into<String>,
    ) -> Result<(), ApiCallError> {
        let args = SetTitle { channel_id: channel.into(), thread_ts: thread_ts.into(), title: title.into() };
        self.call("assistant.threads.setTitle", &args).await.map(|_| ())
    }
}
