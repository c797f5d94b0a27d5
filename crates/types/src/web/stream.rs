//! Streamed messages: `chat.startStream`, `chat.appendStream`, `chat.stopStream`, and the typed
//! chunks they carry (markdown text, task updates, plan updates; any other chunk kept as its
//! JSON).
//!
//! A streamed message is started in a conversation (usually as a reply in a thread, for a
//! recipient), grown by appends of markdown text while the app produces it, then stopped, at
//! which point it becomes an ordinary message (with optional blocks at its end).
//!
//! ```
//! use slack_rtm_types::web::{AppendStream, Chunk, TaskStatus};
//!
//! let append = AppendStream::text("C1", "1.000001", "Hello, ");
//! assert_eq!(serde_json::to_value(&append).unwrap()["markdown_text"], "Hello, ");
//!
//! let chunk: Chunk = serde_json::from_str(
//!     r#"{"type":"task_update","id":"t1","title":"Search","status":"in_progress"}"#,
//! ).unwrap();
//! assert!(matches!(chunk, Chunk::TaskUpdate(ref t) if t.status == TaskStatus::InProgress));
//! let other: Chunk = serde_json::from_str(r#"{"type":"sparkles","n":3}"#).unwrap();
//! assert!(matches!(other, Chunk::Other(_)));
//! ```

use crate::ids::{ChannelId, TeamId, Ts, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The most characters one call's `markdown_text` may carry (Slack's documented limit for
/// `chat.startStream`, `chat.appendStream` and `chat.stopStream`).
pub const MAX_STREAM_CALL_CHARS: usize = 12_000;

/// A task's state in a `task_update` chunk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Not started.
    Pending,
    /// Running.
    InProgress,
    /// Done.
    Complete,
    /// Failed.
    Error,
    /// A state this version does not know, kept as Slack spelled it.
    Other(String),
}

impl TaskStatus {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Complete => "complete",
            TaskStatus::Error => "error",
            TaskStatus::Other(s) => s,
        }
    }

    /// From the wire spelling.
    pub fn parse(s: &str) -> TaskStatus {
        match s {
            "pending" => TaskStatus::Pending,
            "in_progress" => TaskStatus::InProgress,
            "complete" => TaskStatus::Complete,
            "error" => TaskStatus::Error,
            other => TaskStatus::Other(other.to_owned()),
        }
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TaskStatus::parse(&String::deserialize(d)?))
    }
}

/// A source a task cites (`{"type":"url","url":…,"text":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSource {
    /// `url`.
    #[serde(rename = "type", default = "url_kind")]
    pub kind: String,
    /// The address.
    pub url: String,
    /// The label shown.
    #[serde(default)]
    pub text: String,
    /// An icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
}

fn url_kind() -> String {
    "url".to_owned()
}

/// A `task_update` chunk: one step of the app's work (a tool call, a search), shown as a task
/// card (or in a plan, with `task_display_mode: plan`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskUpdate {
    /// The task's id: later updates with the same id change the same card.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its state.
    pub status: TaskStatus,
    /// What it is doing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// What it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// What it cited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<TaskSource>>,
}

impl TaskUpdate {
    /// A task with this id, title and state.
    pub fn new(id: impl Into<String>, title: impl Into<String>, status: TaskStatus) -> Self {
        Self { id: id.into(), title: title.into(), status, details: None, output: None, sources: None }
    }
}

/// One chunk of a streamed message.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Chunk {
    /// `markdown_text`: text appended to the message.
    MarkdownText {
        /// The markdown.
        text: String,
    },
    /// `task_update`: a task card's new state.
    TaskUpdate(TaskUpdate),
    /// `plan_update`: the plan's new title.
    PlanUpdate {
        /// The title.
        title: String,
    },
    /// A chunk of another type (e.g. `blocks`), or of a known type in a shape this version
    /// does not read, kept verbatim.
    Other(Value),
}

impl Chunk {
    /// A `markdown_text` chunk.
    pub fn markdown(text: impl Into<String>) -> Self {
        Chunk::MarkdownText { text: text.into() }
    }

    /// The chunk's `type`.
    pub fn kind(&self) -> &str {
        match self {
            Chunk::MarkdownText { .. } => "markdown_text",
            Chunk::TaskUpdate(_) => "task_update",
            Chunk::PlanUpdate { .. } => "plan_update",
            Chunk::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The characters of text it adds to the message (only `markdown_text` adds any).
    pub fn text_chars(&self) -> usize {
        match self {
            Chunk::MarkdownText { text } => text.chars().count(),
            _ => 0,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownChunk {
    MarkdownText { text: String },
    TaskUpdate(TaskUpdate),
    PlanUpdate { title: String },
}

impl Serialize for Chunk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Chunk::MarkdownText { text } => KnownChunk::MarkdownText { text: text.clone() }.serialize(s),
            Chunk::TaskUpdate(t) => KnownChunk::TaskUpdate(t.clone()).serialize(s),
            Chunk::PlanUpdate { title } => KnownChunk::PlanUpdate { title: title.clone() }.serialize(s),
            Chunk::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(match KnownChunk::deserialize(&value) {
            Ok(KnownChunk::MarkdownText { text }) => Chunk::MarkdownText { text },
            Ok(KnownChunk::TaskUpdate(t)) => Chunk::TaskUpdate(t),
            Ok(KnownChunk::PlanUpdate { title }) => Chunk::PlanUpdate { title },
            Err(_) => Chunk::Other(value),
        })
    }
}

/// How task updates are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskDisplayMode {
    /// Each task as its own card, between the text (Slack's default).
    Timeline,
    /// All tasks together in one plan block.
    Plan,
}

/// `chat.startStream`: start a streamed message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StartStream {
    /// The conversation.
    pub channel: ChannelId,
    /// The thread to reply in (streamed messages should answer a user's message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// The user the reply is for: required outside a direct message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<UserId>,
    /// That user's workspace: required outside a direct message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_team_id: Option<TeamId>,
    /// The first text (at most [`MAX_STREAM_CALL_CHARS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown_text: Option<String>,
    /// The first chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<Chunk>>,
    /// How task updates are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_display_mode: Option<TaskDisplayMode>,
}

impl StartStream {
    /// A streamed message in `channel`, with no text yet.
    pub fn new(channel: impl Into<ChannelId>) -> Self {
        Self {
            channel: channel.into(),
            thread_ts: None,
            recipient_user_id: None,
            recipient_team_id: None,
            markdown_text: None,
            chunks: None,
            task_display_mode: None,
        }
    }
}

/// `chat.appendStream`: add to a streamed message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppendStream {
    /// The conversation.
    pub channel: ChannelId,
    /// The streamed message.
    pub ts: Ts,
    /// The text to add (at most [`MAX_STREAM_CALL_CHARS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown_text: Option<String>,
    /// Chunks to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<Chunk>>,
}

impl AppendStream {
    /// Appends `text` to the message `ts`.
    pub fn text(channel: impl Into<ChannelId>, ts: impl Into<Ts>, text: impl Into<String>) -> Self {
        Self { channel: channel.into(), ts: ts.into(), markdown_text: Some(text.into()), chunks: None }
    }
}

/// `chat.stopStream`: finish a streamed message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StopStream {
    /// The conversation.
    pub channel: ChannelId,
    /// The streamed message.
    pub ts: Ts,
    /// Last text to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown_text: Option<String>,
    /// Last chunks to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<Chunk>>,
    /// Blocks shown at the end of the finished message (e.g. feedback buttons; at most 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Value>,
    /// Message metadata (`event_type`, `event_payload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

impl StopStream {
    /// Stops the message `ts` with nothing more.
    pub fn new(channel: impl Into<ChannelId>, ts: impl Into<Ts>) -> Self {
        Self {
            channel: channel.into(),
            ts: ts.into(),
            markdown_text: None,
            chunks: None,
            blocks: None,
            metadata: None,
        }
    }
}

/// The answer of `chat.startStream`, `chat.appendStream` and `chat.stopStream`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamResponse {
    /// The conversation.
    pub channel: ChannelId,
    /// The streamed message's `ts`.
    pub ts: Ts,
    /// The message as Slack stored it (`chat.stopStream`), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chunks_round_trip_and_unknown_ones_are_kept() {
        let task = Chunk::TaskUpdate(TaskUpdate {
            sources: Some(vec![TaskSource {
                kind: "url".into(),
                url: "https://example.com".into(),
                text: "ex".into(),
                icon_url: None,
            }]),
            ..TaskUpdate::new("t1", "Search", TaskStatus::Complete)
        });
        let v = serde_json::to_value(&task).unwrap();
        assert_eq!(v["type"], "task_update");
        assert_eq!(v["status"], "complete");
        assert_eq!(v["sources"][0]["url"], "https://example.com");
        assert_eq!(serde_json::from_value::<Chunk>(v).unwrap(), task);
        let plan: Chunk = serde_json::from_value(json!({"type":"plan_update","title":"Plan"})).unwrap();
        assert_eq!(plan, Chunk::PlanUpdate { title: "Plan".into() });
        let md = serde_json::to_value(Chunk::markdown("**hi**")).unwrap();
        assert_eq!(md, json!({"type":"markdown_text","text":"**hi**"}));
        let odd = json!({"type":"blocks","blocks":[]});
        let kept: Chunk = serde_json::from_value(odd.clone()).unwrap();
        assert_eq!(kept.kind(), "blocks");
        assert_eq!(serde_json::to_value(&kept).unwrap(), odd);
        let future: Chunk =
            serde_json::from_value(json!({"type":"task_update","id":"x","title":"y","status":"paused"}))
                .unwrap();
        assert!(matches!(future, Chunk::TaskUpdate(t) if t.status == TaskStatus::Other("paused".into())));
    }

    #[test]
    fn stream_arguments_carry_slacks_names_and_leave_out_absent_ones() {
        let mut start = StartStream::new("C1");
        start.thread_ts = Some("1.000001".into());
        start.recipient_user_id = Some("U1".into());
        start.recipient_team_id = Some("T1".into());
        start.task_display_mode = Some(TaskDisplayMode::Plan);
        assert_eq!(
            serde_json::to_value(&start).unwrap(),
            json!({"channel":"C1","thread_ts":"1.000001","recipient_user_id":"U1",
                   "recipient_team_id":"T1","task_display_mode":"plan"})
        );
        let stop = StopStream { blocks: Some(json!([{"type":"divider"}])), ..StopStream::new("C1", "2.5") };
        assert_eq!(
            serde_json::to_value(&stop).unwrap(),
            json!({"channel":"C1","ts":"2.5","blocks":[{"type":"divider"}]})
        );
        let answer: StreamResponse =
            serde_json::from_str(r#"{"ok":true,"channel":"C1","ts":"2.5"}"#).unwrap();
        assert_eq!(answer.ts, "2.5");
    }
}
