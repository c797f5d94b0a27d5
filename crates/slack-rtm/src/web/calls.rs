//! Typed helpers over [`WebClient::call`].

use super::{ApiCallError, Pages, WebClient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use slack_rtm_types::blocks::Blocks;
use slack_rtm_types::web::{
    AuthTestResponse, ConversationInfoResponse, DeleteMessage, DeleteMessageResponse, HistoryQuery,
    PostEphemeral, PostEphemeralResponse, PostMessage, PostMessageResponse, Reaction, RepliesQuery,
    UpdateMessage, UpdateMessageResponse, UserInfoResponse, ViewInfoResponse, ViewsOpen, ViewsUpdate,
};
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::future::{Future, IntoFuture};
use std::pin::Pin;

impl WebClient {
    pub(crate) async fn typed<T: DeserializeOwned>(
        &self,
        method: &str,
        args: impl Serialize,
    ) -> Result<T, ApiCallError> {
        self.call(method, args).await?.parse()
    }

    /// `chat.postMessage`: posts `text`; chain `.blocks(…)`, `.in_thread(ts)`,
    /// `.broadcast(true)`, `.unfurl_links(false)`, … then `.await` it.
    ///
    /// Never sent twice: if the connection fails after the request may have reached Slack,
    /// the result is [`ApiFailure::OutcomeUnknown`](crate::web::ApiFailure::OutcomeUnknown).
    pub fn post_message(&self, channel: impl Into<ChannelId>, text: impl Into<String>) -> PostMessageCall {
        PostMessageCall { web: self.clone(), args: PostMessage::new(channel, text) }
    }

    /// `chat.postMessage` with arguments built by hand (blocks checked first).
    pub async fn post(&self, message: &PostMessage) -> Result<PostMessageResponse, ApiCallError> {
        super::methods::check_message_blocks(message.blocks.as_ref())?;
        self.typed("chat.postMessage", message).await
    }

    /// `chat.update` (new blocks checked first).
    pub async fn update_message(
        &self,
        update: &UpdateMessage,
    ) -> Result<UpdateMessageResponse, ApiCallError> {
        super::methods::check_message_blocks(update.blocks.as_ref())?;
        self.typed("chat.update", update).await
    }

    /// `chat.delete`.
    pub async fn delete_message(
        &self,
        channel: impl Into<ChannelId>,
        ts: impl Into<Ts>,
    ) -> Result<DeleteMessageResponse, ApiCallError> {
        self.typed("chat.delete", DeleteMessage { channel: channel.into(), ts: ts.into() }).await
    }

    /// `chat.postEphemeral`: a message only `user` sees (blocks checked first).
    pub async fn post_ephemeral(
        &self,
        message: &PostEphemeral,
    ) -> Result<PostEphemeralResponse, ApiCallError> {
        super::methods::check_message_blocks(message.blocks.as_ref())?;
        self.typed("chat.postEphemeral", message).await
    }

    /// `reactions.add`: reacts with the emoji `name` (no colons) to the message `ts`.
    pub async fn add_reaction(
        &self,
        channel: impl Into<ChannelId>,
        ts: impl Into<Ts>,
        name: impl Into<String>,
    ) -> Result<(), ApiCallError> {
        let r = Reaction { channel: channel.into(), timestamp: ts.into(), name: name.into() };
        self.call("reactions.add", r).await.map(|_| ())
    }

    /// `reactions.remove`.
    pub async fn remove_reaction(
        &self,
        channel: impl Into<ChannelId>,
        ts: impl Into<Ts>,
        name: impl Into<String>,
    ) -> Result<(), ApiCallError> {
        let r = Reaction { channel: channel.into(), timestamp: ts.into(), name: name.into() };
        self.call("reactions.remove", r).await.map(|_| ())
    }

    /// `conversations.history`: the pages of a conversation's messages, newest first. Iterate
    /// with `while let Some(page) = pages.next().await`; each page is a typed list.
    pub fn history(&self, query: HistoryQuery) -> Pages {
        Pages::new(self.clone(), "conversations.history", &query)
    }

    /// `conversations.replies`: the pages of a thread, parent first.
    pub fn replies(&self, query: RepliesQuery) -> Pages {
        Pages::new(self.clone(), "conversations.replies", &query)
    }

    /// `conversations.info`.
    pub async fn conversation_info(
        &self,
        channel: impl Into<ChannelId>,
    ) -> Result<ConversationInfoResponse, ApiCallError> {
        self.typed("conversations.info", serde_json::json!({ "channel": channel.into() })).await
    }

    /// `users.info`.
    pub async fn user_info(&self, user: impl Into<UserId>) -> Result<UserInfoResponse, ApiCallError> {
        self.typed("users.info", serde_json::json!({ "user": user.into() })).await
    }

    /// `auth.test`: who the token is.
    pub async fn auth_test(&self) -> Result<AuthTestResponse, ApiCallError> {
        self.typed("auth.test", serde_json::json!({})).await
    }

    /// `views.open`: opens a modal for an interaction's `trigger_id` (valid 3 s, once).
    pub async fn open_view(
        &self,
        trigger_id: impl Into<String>,
        view: Value,
    ) -> Result<ViewInfoResponse, ApiCallError> {
        super::methods::check_view(&view, slack_rtm_types::blocks::Surface::Modal)?;
        self.typed("views.open", ViewsOpen { trigger_id: trigger_id.into(), view }).await
    }

    /// `views.update`: replaces an open view (its blocks checked first, against the Home
    /// tab's limits for a `home` view, else a modal's).
    pub async fn update_view(&self, update: &ViewsUpdate) -> Result<ViewInfoResponse, ApiCallError> {
        use slack_rtm_types::blocks::Surface;
        let home = update.view.get("type").and_then(Value::as_str) == Some("home");
        super::methods::check_view(&update.view, if home { Surface::Home } else { Surface::Modal })?;
        self.typed("views.update", update).await
    }
}

/// A `chat.postMessage` being prepared: `.await` it for the [`PostMessageResponse`]. Made by
/// [`WebClient::post_message`].
#[must_use = "a message is posted only when awaited"]
#[derive(Debug)]
pub struct PostMessageCall {
    web: WebClient,
    args: PostMessage,
}

impl PostMessageCall {
    /// Block Kit blocks, typed (`Vec<Block>`) or raw JSON (a `serde_json::Value` array); the
    /// text becomes the notification fallback. Checked against Slack's limits for a message
    /// when awaited, before any call ([`ApiFailure::InvalidRequest`](crate::web::ApiFailure::InvalidRequest)).
    pub fn blocks(mut self, blocks: impl Into<Blocks>) -> Self {
        self.args.blocks = Some(blocks.into().to_value());
        self
    }

    /// Reply in the thread of the message with this `ts`.
    pub fn in_thread(mut self, parent: impl Into<Ts>) -> Self {
        self.args.thread_ts = Some(parent.into());
        self
    }

    /// With [`PostMessageCall::in_thread`]: also show the reply in the channel.
    pub fn broadcast(mut self, on: bool) -> Self {
        self.args.reply_broadcast = Some(on);
        self
    }

    /// Unfurl links to text content (Slack's default depends on the token).
    pub fn unfurl_links(mut self, on: bool) -> Self {
        self.args.unfurl_links = Some(on);
        self
    }

    /// Unfurl links to media.
    pub fn unfurl_media(mut self, on: bool) -> Self {
        self.args.unfurl_media = Some(on);
        self
    }

    /// Parse the text as mrkdwn (Slack's default: yes).
    pub fn mrkdwn(mut self, on: bool) -> Self {
        self.args.mrkdwn = Some(on);
        self
    }

    /// The arguments as they will be sent.
    pub fn args(&self) -> &PostMessage {
        &self.args
    }
}

impl IntoFuture for PostMessageCall {
    type Output = Result<PostMessageResponse, ApiCallError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.web.post(&self.args).await })
    }
}
