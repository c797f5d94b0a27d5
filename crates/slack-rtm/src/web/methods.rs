//! Typed helpers for the conversation, user, pin, file, team, bot, App Home and scheduling
//! methods.

use super::{ApiCallError, Pager, WebClient};
use serde_json::{Value, json};
use slack_rtm_types::blocks::{Blocks, Surface};
use slack_rtm_types::web::{
    BotInfoResponse, ConversationResponse, ConversationsPage, ConversationsQuery, CreateConversation,
    FileInfoResponse, MembersPage, MembersQuery, OpenConversation, PermalinkResponse, PinItem,
    ScheduleMessage, ScheduledMessageResponse, TeamInfoResponse, UserResponse, UsersPage, UsersQuery,
    ViewInfoResponse, ViewsPublish, ViewsPush,
};
use slack_rtm_types::{BotId, ChannelId, Ts, UserId};

/// Checks the blocks of a view (if any) for `surface`, before any call.
pub(crate) fn check_view(view: &Value, surface: Surface) -> Result<(), ApiCallError> {
    match view.get("blocks") {
        Some(blocks) => Ok(Blocks::Raw(blocks.clone()).validate(surface)?),
        None => Ok(()),
    }
}

/// Checks message blocks (if any), before any call.
pub(crate) fn check_message_blocks(blocks: Option<&Value>) -> Result<(), ApiCallError> {
    match blocks {
        Some(blocks) => Ok(Blocks::Raw(blocks.clone()).validate(Surface::Message)?),
        None => Ok(()),
    }
}

impl WebClient {
    /// `views.publish`: sets `user`'s App Home tab (`view` of `type: "home"`; its blocks are
    /// checked against the Home tab's limits first).
    pub async fn publish_view(&self, publish: &ViewsPublish) -> Result<ViewInfoResponse, ApiCallError> {
        check_view(&publish.view, Surface::Home)?;
        self.typed("views.publish", publish).await
    }

    /// `views.push`: a modal on top of the open one, for an interaction's `trigger_id`.
    pub async fn push_view(
        &self,
        trigger_id: impl Into<String>,
        view: Value,
    ) -> Result<ViewInfoResponse, ApiCallError> {
        check_view(&view, Surface::Modal)?;
        self.typed("views.push", ViewsPush { trigger_id: trigger_id.into(), view }).await
    }

    /// `chat.scheduleMessage`: posts later (blocks checked first). A write: not sent twice.
    pub async fn schedule_message(
        &self,
        message: &ScheduleMessage,
    ) -> Result<ScheduledMessageResponse, ApiCallError> {
        check_message_blocks(message.message.blocks.as_ref())?;
        self.typed("chat.scheduleMessage", message).await
    }

    /// `chat.getPermalink`: a message's permanent URL.
    pub async fn permalink(
        &self,
        channel: impl Into<ChannelId>,
        message_ts: impl Into<Ts>,
    ) -> Result<PermalinkResponse, ApiCallError> {
        let args = json!({"channel": channel.into(), "message_ts": message_ts.into()});
        self.typed("chat.getPermalink", args).await
    }

    /// `conversations.list`: the workspace's conversations, page by page.
    pub fn conversations(&self, query: &ConversationsQuery) -> Pager<ConversationsPage> {
        let mut query = query.clone();
        query.user = None;
        Pager::of(self, "conversations.list", &query)
    }

    /// `conversations.members`: a conversation's members, page by page.
    pub fn members(&self, query: &MembersQuery) -> Pager<MembersPage> {
        Pager::of(self, "conversations.members", query)
    }

    /// `conversations.open`: a DM or group DM (opened if needed).
    pub async fn open_conversation(
        &self,
        open: &OpenConversation,
    ) -> Result<ConversationResponse, ApiCallError> {
        self.typed("conversations.open", open).await
    }

    /// `conversations.join`: the token's user joins a public channel (Slack answers `ok` with
    /// the warning `already_in_channel` if it was a member).
    pub async fn join(&self, channel: impl Into<ChannelId>) -> Result<ConversationResponse, ApiCallError> {
        self.typed("conversations.join", json!({"channel": channel.into()})).await
    }

    /// `conversations.create`.
    pub async fn create_conversation(
        &self,
        create: &CreateConversation,
    ) -> Result<ConversationResponse, ApiCallError> {
        self.typed("conversations.create", create).await
    }

    /// `conversations.invite`: adds users (at most 1000) to a channel.
    pub async fn invite<I: IntoIterator<Item = U>, U: Into<UserId>>(
        &self,
        channel: impl Into<ChannelId>,
        users: I,
    ) -> Result<ConversationResponse, ApiCallError> {
        let users: Vec<String> = users.into_iter().map(|u| u.into().as_str().to_owned()).collect();
        self.typed("conversations.invite", json!({"channel": channel.into(), "users": users.join(",")})).await
    }

    /// `users.list`: the workspace's members, page by page.
    pub fn users(&self, query: &UsersQuery) -> Pager<UsersPage> {
        Pager::of(self, "users.list", query)
    }

    /// `users.lookupByEmail`.
    pub async fn user_by_email(&self, email: &str) -> Result<UserResponse, ApiCallError> {
        self.typed("users.lookupByEmail", json!({"email": email})).await
    }

    /// `users.conversations`: the conversations a user is a member of, page by page.
    pub fn user_conversations(&self, query: &ConversationsQuery) -> Pager<ConversationsPage> {
        Pager::of(self, "users.conversations", query)
    }

    /// `pins.add`: pins a message.
    pub async fn pin(&self, channel: impl Into<ChannelId>, ts: impl Into<Ts>) -> Result<(), ApiCallError> {
        let pin = PinItem { channel: channel.into(), timestamp: ts.into() };
        self.call("pins.add", pin).await.map(|_| ())
    }

    /// `files.info`.
    pub async fn file_info(&self, file: &str) -> Result<FileInfoResponse, ApiCallError> {
        self.typed("files.info", json!({"file": file})).await
    }

    /// `team.info`: the token's workspace.
    pub async fn team_info(&self) -> Result<TeamInfoResponse, ApiCallError> {
        self.typed("team.info", json!({})).await
    }

    /// `bots.info`.
    pub async fn bot_info(&self, bot: impl Into<BotId>) -> Result<BotInfoResponse, ApiCallError> {
        self.typed("bots.info", json!({"bot": bot.into()})).await
    }
}
