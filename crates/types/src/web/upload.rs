//! The three-step file upload: `files.getUploadURLExternal`, the bytes sent to the URL it
//! returns, then `files.completeUploadExternal`.

use crate::event::FileInfo;
use crate::ids::{ChannelId, Ts};
use serde::{Deserialize, Serialize};

/// `files.getUploadURLExternal`: reserve a file and get the URL its bytes go to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GetUploadUrl {
    /// The file name.
    pub filename: String,
    /// The size in bytes (the bytes sent must match).
    pub length: u64,
    /// A description for screen readers (images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_txt: Option<String>,
    /// A syntax type for a snippet (e.g. `python`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet_type: Option<String>,
}

/// `files.getUploadURLExternal`'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadUrl {
    /// Where the bytes go (a `POST`; no token is sent there).
    pub upload_url: String,
    /// The reserved file's id.
    pub file_id: String,
}

/// One file of a `files.completeUploadExternal` call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// The file id from `files.getUploadURLExternal`.
    pub id: String,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// `files.completeUploadExternal`: finish the uploads and share the files (in one message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompleteUpload {
    /// The files (sent as a JSON array).
    pub files: Vec<UploadedFile>,
    /// Share them in this conversation (else they stay private to the uploader).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// In this thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// The message shared with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_comment: Option<String>,
}

/// `files.completeUploadExternal`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompleteUploadResponse {
    /// The files.
    #[serde(default)]
    pub files: Vec<FileInfo>,
}
