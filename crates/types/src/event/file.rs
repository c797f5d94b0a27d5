//! File events (`file_*`, `file_comment_*`).

use super::lossless::lossless;
use super::{FileComment, FileRef};
use crate::ids::{ChannelId, Ts, UserId};

lossless! {
    /// `file_created`, `file_shared`, `file_unshared`, `file_public`, `file_private`,
    /// `file_change`. `file` is usually just `{"id":"F…"}` (older payloads send the bare id); fetch
    /// the details with `files.info` if needed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileEvent {
        /// The file.
        pub file: FileRef,
        /// The file id, repeated at the top level by newer payloads.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file_id: Option<String>,
        /// Who acted on the file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_id: Option<UserId>,
        /// The conversation it was shared in or unshared from (`file_shared`, `file_unshared`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_id: Option<ChannelId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

impl FileEvent {
    /// The file id, from `file` (which is always present).
    pub fn id(&self) -> &str {
        self.file.id()
    }
}

lossless! {
    /// `file_deleted`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileDeleted {
        /// The deleted file.
        pub file_id: String,
        /// The conversations it had been shared in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_ids: Option<Vec<ChannelId>>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `file_comment_added`, `file_comment_edited`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileCommentEvent {
        /// The comment, as it now reads.
        pub comment: FileComment,
        /// The file commented on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file_id: Option<String>,
        /// The file commented on (usually just `{"id":"F…"}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file: Option<FileRef>,
        /// Who added or edited the comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_id: Option<UserId>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `file_comment_deleted`: here `comment` is only the id of the deleted comment.
    #[derive(Clone, Debug, PartialEq)]
    pub struct FileCommentDeleted {
        /// The deleted comment's id (`Fc…`).
        pub comment: String,
        /// The file it was on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file_id: Option<String>,
        /// The file it was on (usually just `{"id":"F…"}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub file: Option<FileRef>,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}
