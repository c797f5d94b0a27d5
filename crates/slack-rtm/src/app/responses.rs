//! What a listener can put in its ack or `respond` with: a message, a view's
//! `response_action`, an options list.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// Who sees a message posted through an ack or a `response_url`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResponseType {
    /// Only the user who acted (Slack's default).
    Ephemeral,
    /// Everyone in the channel.
    InChannel,
}

/// A message in an ack (slash commands) or posted to a `response_url`
/// ([`Context::respond`](super::Context::respond)). Only the fields set are sent.
///
/// ```
/// use slack_rtm::app::MessageResponse;
/// let m = MessageResponse::replace_original("Approved");
/// assert_eq!(serde_json::to_value(&m).unwrap(), serde_json::json!({"replace_original": true, "text": "Approved"}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MessageResponse {
    /// `ephemeral` or `in_channel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<ResponseType>,
    /// Replace the message the interaction came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_original: Option<bool>,
    /// Delete the message the interaction came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_original: Option<bool>,
    /// The text (the notification fallback when `blocks` are given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Block Kit blocks, a JSON array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<Value>,
    /// Post in this thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<String>,
}

impl MessageResponse {
    /// A message with this text (ephemeral, Slack's default).
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::default() }
    }

    /// A message only the user sees.
    pub fn ephemeral(text: impl Into<String>) -> Self {
        Self { response_type: Some(ResponseType::Ephemeral), ..Self::text(text) }
    }

    /// A message everyone in the channel sees.
    pub fn in_channel(text: impl Into<String>) -> Self {
        Self { response_type: Some(ResponseType::InChannel), ..Self::text(text) }
    }

    /// Replaces the message the interaction came from (`respond` only).
    pub fn replace_original(text: impl Into<String>) -> Self {
        Self { replace_original: Some(true), ..Self::text(text) }
    }

    /// Deletes the message the interaction came from (`respond` only).
    pub fn delete_original() -> Self {
        Self { delete_original: Some(true), ..Self::default() }
    }

    /// With Block Kit blocks (a JSON array).
    pub fn blocks(mut self, blocks: Value) -> Self {
        self.blocks = Some(blocks);
        self
    }

    /// With this response type.
    pub fn response_type(mut self, kind: ResponseType) -> Self {
        self.response_type = Some(kind);
        self
    }

    /// In this thread.
    pub fn in_thread(mut self, ts: impl Into<String>) -> Self {
        self.thread_ts = Some(ts.into());
        self
    }
}

impl From<&str> for MessageResponse {
    fn from(text: &str) -> Self {
        MessageResponse::text(text)
    }
}

impl From<String> for MessageResponse {
    fn from(text: String) -> Self {
        MessageResponse::text(text)
    }
}

/// A view submission's answer in its ack: `response_action`.
///
/// ```
/// use slack_rtm::app::ViewResponse;
/// let r = ViewResponse::errors([("name", "Please enter a name")]);
/// assert_eq!(serde_json::to_value(&r).unwrap(),
///     serde_json::json!({"response_action": "errors", "errors": {"name": "Please enter a name"}}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ViewResponse {
    /// Keep the modal open and show these messages under the input blocks (by `block_id`).
    Errors(BTreeMap<String, String>),
    /// Replace the modal with this view.
    Update(Value),
    /// Push this view on top of the modal.
    Push(Value),
    /// Close every view of the stack.
    Clear,
}

impl ViewResponse {
    /// `errors`, from `(block_id, message)` pairs.
    pub fn errors<K: Into<String>, V: Into<String>>(errors: impl IntoIterator<Item = (K, V)>) -> Self {
        ViewResponse::Errors(errors.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl Serialize for ViewResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match self {
            ViewResponse::Errors(errors) => {
                m.serialize_entry("response_action", "errors")?;
                m.serialize_entry("errors", errors)?;
            }
            ViewResponse::Update(view) => {
                m.serialize_entry("response_action", "update")?;
                m.serialize_entry("view", view)?;
            }
            ViewResponse::Push(view) => {
                m.serialize_entry("response_action", "push")?;
                m.serialize_entry("view", view)?;
            }
            ViewResponse::Clear => m.serialize_entry("response_action", "clear")?,
        }
        m.end()
    }
}

/// A `plain_text` text object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlainText {
    #[serde(rename = "type")]
    kind: &'static str,
    /// The text.
    pub text: String,
}

impl PlainText {
    /// A `plain_text` object.
    pub fn new(text: impl Into<String>) -> Self {
        PlainText { kind: "plain_text", text: text.into() }
    }
}

/// One option of a select menu.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SelectOption {
    /// What the user sees.
    pub text: PlainText,
    /// What the app gets back.
    pub value: String,
}

impl SelectOption {
    /// An option showing `text` with `value`.
    pub fn new(text: impl Into<String>, value: impl Into<String>) -> Self {
        SelectOption { text: PlainText::new(text), value: value.into() }
    }
}

/// A group of options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptionGroup {
    /// The group's label.
    pub label: PlainText,
    /// Its options.
    pub options: Vec<SelectOption>,
}

/// A `block_suggestion`'s answer in its ack: `options` or `option_groups`.
///
/// ```
/// use slack_rtm::app::OptionsResponse;
/// let r = OptionsResponse::from_values(["apple"]);
/// assert_eq!(serde_json::to_value(&r).unwrap(),
///     serde_json::json!({"options": [{"text": {"type": "plain_text", "text": "apple"}, "value": "apple"}]}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OptionsResponse {
    /// The options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<SelectOption>>,
    /// Or groups of options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_groups: Option<Vec<OptionGroup>>,
}

impl OptionsResponse {
    /// These options.
    pub fn options(options: impl IntoIterator<Item = SelectOption>) -> Self {
        OptionsResponse { options: Some(options.into_iter().collect()), option_groups: None }
    }

    /// One option per value, each showing its value.
    pub fn from_values<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        Self::options(values.into_iter().map(|v| {
            let v = v.into();
            SelectOption::new(v.clone(), v)
        }))
    }

    /// These groups.
    pub fn groups(groups: impl IntoIterator<Item = OptionGroup>) -> Self {
        OptionsResponse { options: None, option_groups: Some(groups.into_iter().collect()) }
    }
}

/// What an [`Ack`](super::Ack) of this kind may carry.
pub trait AckResponse: Serialize + Send + 'static {}

impl AckResponse for MessageResponse {}
impl AckResponse for ViewResponse {}
impl AckResponse for OptionsResponse {}
