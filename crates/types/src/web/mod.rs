//! Web API arguments and answers: the calls a real-time bot makes next to its socket.
//!
//! Arguments ([`PostMessage`], [`HistoryQuery`], …) serialize to the JSON object the method
//! takes; answers ([`PostMessageResponse`], [`HistoryPage`], …) are tolerant: unknown fields
//! are ignored and every field Slack may omit is optional. Messages in answers are the RTM
//! [`Message`](crate::event::Message) type, so a message read from history and one received on
//! the socket are the same Rust value.
//!
//! The envelope (`ok`, `error`, `warning`, `response_metadata`) is handled by the codec; these
//! types describe only the method-specific part.
//!
//! ```
//! use slack_rtm_types::web::{HistoryPage, PostMessage};
//!
//! let args = PostMessage::new("C024BE91L", "hello").in_thread("1700000000.000100");
//! let json = serde_json::to_value(&args).unwrap();
//! assert_eq!(json["thread_ts"], "1700000000.000100");
//!
//! let page: HistoryPage = serde_json::from_str(
//!     r#"{"ok":true,"messages":[{"type":"message","user":"U1","text":"hi","ts":"1.000002"}],
//!         "has_more":true,"response_metadata":{"next_cursor":"bmV4dA=="}}"#,
//! ).unwrap();
//! assert_eq!(page.messages.len(), 1);
//! assert_eq!(page.next_cursor(), Some("bmV4dA=="));
//! ```

mod answers;
mod args;
mod assistant;
mod methods;
mod stream;
mod upload;

pub use answers::{
    AuthTestResponse, ConversationInfoResponse, DeleteMessageResponse, HistoryPage, PostEphemeralResponse,
    PostMessageResponse, ReactionResponse, ResponseMetadata, UpdateMessageResponse, UserInfoResponse,
    ViewInfo, ViewInfoResponse,
};
pub use args::{
    DeleteMessage, HistoryQuery, PostEphemeral, PostMessage, Reaction, RepliesQuery, UpdateMessage,
    ViewsOpen, ViewsUpdate,
};
pub use assistant::{
    MAX_LOADING_MESSAGES, MAX_SUGGESTED_PROMPTS, SetStatus, SetSuggestedPrompts, SetTitle, SuggestedPrompt,
};
pub use methods::{
    BotInfoResponse, ConversationResponse, ConversationsPage, ConversationsQuery, CreateConversation,
    CursorPage, FileInfoResponse, MembersPage, MembersQuery, OpenConversation, PermalinkResponse, PinItem,
    ScheduleMessage, ScheduledMessageResponse, TeamDetails, TeamInfoResponse, UserResponse, UsersPage,
    UsersQuery, ViewsPublish, ViewsPush,
};
pub use stream::{
    AppendStream, Chunk, MAX_STREAM_CALL_CHARS, StartStream, StopStream, StreamResponse, TaskDisplayMode,
    TaskSource, TaskStatus, TaskUpdate,
};
pub use upload::{CompleteUpload, CompleteUploadResponse, GetUploadUrl, UploadUrl, UploadedFile};
