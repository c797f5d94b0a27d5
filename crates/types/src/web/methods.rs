//! Arguments and answers of the conversation, user, pin, file, team, bot, view and scheduling
//! methods. Arguments leave absent options out (Slack's defaults apply); answers ignore unknown
//! fields, and their objects ([`ChannelInfo`], [`User`], [`FileInfo`], [`BotInfo`]) keep them.

use super::answers::{HistoryPage, ResponseMetadata};
use super::args::PostMessage;
use crate::event::{BotInfo, ChannelInfo, FileInfo, Message, User};
use crate::ids::{ChannelId, TeamId, Ts, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An answer that is one page of a cursor-paginated method.
pub trait CursorPage {
    /// The next page's cursor; `None` on the last page (Slack sends `""` there).
    fn next_cursor(&self) -> Option<&str>;
}

fn cursor(meta: &Option<ResponseMetadata>) -> Option<&str> {
    meta.as_ref()?.next_cursor.as_deref().filter(|c| !c.is_empty())
}

impl CursorPage for HistoryPage {
    fn next_cursor(&self) -> Option<&str> {
        cursor(&self.response_metadata)
    }
}

/// `conversations.list` / `users.conversations`: which conversations, a page at a time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConversationsQuery {
    /// `users.conversations` only: whose conversations (default: the token's user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// Comma-separated: `public_channel` (the default), `private_channel`, `mpim`, `im`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<String>,
    /// Leave archived conversations out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_archived: Option<bool>,
    /// Page size (Slack: at most 1000, fewer recommended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Enterprise Grid: the workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
}

impl ConversationsQuery {
    /// Conversations of these `types` (e.g. `"public_channel,private_channel"`).
    pub fn of_types(types: impl Into<String>) -> Self {
        Self { types: Some(types.into()), ..Self::default() }
    }
}

/// One page of `conversations.list` or `users.conversations`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationsPage {
    /// The conversations.
    #[serde(default)]
    pub channels: Vec<ChannelInfo>,
    /// The cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl CursorPage for ConversationsPage {
    fn next_cursor(&self) -> Option<&str> {
        cursor(&self.response_metadata)
    }
}

/// `conversations.members`: the members of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MembersQuery {
    /// The conversation.
    pub channel: ChannelId,
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One page of `conversations.members`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MembersPage {
    /// The members' ids.
    #[serde(default)]
    pub members: Vec<UserId>,
    /// The cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl CursorPage for MembersPage {
    fn next_cursor(&self) -> Option<&str> {
        cursor(&self.response_metadata)
    }
}

/// `users.list`: the workspace's members, a page at a time.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UsersQuery {
    /// Page size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Include each user's locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_locale: Option<bool>,
    /// Enterprise Grid: the workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
}

/// One page of `users.list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsersPage {
    /// The users.
    #[serde(default)]
    pub members: Vec<User>,
    /// The cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_metadata: Option<ResponseMetadata>,
}

impl CursorPage for UsersPage {
    fn next_cursor(&self) -> Option<&str> {
        cursor(&self.response_metadata)
    }
}

/// The answer of `conversations.open`, `.join`, `.create`, `.invite`: the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationResponse {
    /// The conversation.
    pub channel: ChannelInfo,
    /// `conversations.open`: the conversation already existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_open: Option<bool>,
    /// `conversations.open`: nothing was changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_op: Option<bool>,
}

/// `conversations.open`: a direct message with one user, or a group DM with several.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OpenConversation {
    /// Comma-separated user ids (1 for a DM, up to 8 for a group DM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<String>,
    /// Resume this conversation instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// Return the whole conversation object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_im: Option<bool>,
}

impl OpenConversation {
    /// With these users.
    pub fn with<I: IntoIterator<Item = U>, U: Into<UserId>>(users: I) -> Self {
        let ids: Vec<String> = users.into_iter().map(|u| u.into().as_str().to_owned()).collect();
        Self { users: Some(ids.join(",")), ..Self::default() }
    }
}

/// `conversations.create`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateConversation {
    /// The name: lowercase letters, digits, `-` and `_`, at most 80 characters.
    pub name: String,
    /// A private channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    /// Enterprise Grid: the workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
}

/// `chat.scheduleMessage`: a message posted later (at most 120 days ahead), with the same
/// arguments as `chat.postMessage`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleMessage {
    /// When to post, in Unix seconds.
    pub post_at: i64,
    /// The message.
    #[serde(flatten)]
    pub message: PostMessage,
}

impl ScheduleMessage {
    /// `text` in `channel` at `post_at` (Unix seconds).
    pub fn new(channel: impl Into<ChannelId>, post_at: i64, text: impl Into<String>) -> Self {
        Self { post_at, message: PostMessage::new(channel, text) }
    }
}

/// `chat.scheduleMessage`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduledMessageResponse {
    /// The conversation.
    pub channel: ChannelId,
    /// The scheduled message's id (`Q…`), to delete it before it is posted.
    pub scheduled_message_id: String,
    /// When it will be posted.
    pub post_at: i64,
    /// The message as it will be posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// `chat.getPermalink`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermalinkResponse {
    /// The conversation.
    pub channel: ChannelId,
    /// The message's permanent URL.
    pub permalink: String,
}

/// `users.lookupByEmail`'s answer (and `users.info`'s shape).
pub type UserResponse = super::UserInfoResponse;

/// `files.info`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileInfoResponse {
    /// The file.
    pub file: FileInfo,
}

/// `team.info`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamInfoResponse {
    /// The workspace.
    pub team: TeamDetails,
}

/// A workspace as `team.info` describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamDetails {
    /// The workspace id.
    pub id: TeamId,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its domain (`<domain>.slack.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Its email domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    /// Its icon URLs, raw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Value>,
    /// The Enterprise Grid organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
}

/// `bots.info`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotInfoResponse {
    /// The bot.
    pub bot: BotInfo,
}

/// `views.publish`: an App Home tab for one user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewsPublish {
    /// The user whose Home tab it is.
    pub user_id: UserId,
    /// The view (`type: "home"`).
    pub view: Value,
    /// The hash of the view being replaced (refused if it changed meanwhile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// `views.push`: a modal on top of the open one, for an interaction's `trigger_id`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ViewsPush {
    /// The interaction's trigger (valid 3 s, once).
    pub trigger_id: String,
    /// The view (`type: "modal"`).
    pub view: Value,
}

/// `pins.add`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PinItem {
    /// The conversation.
    pub channel: ChannelId,
    /// The message.
    pub timestamp: Ts,
}
