//! Composition objects: text, option, option group, confirmation dialog.

use crate::event::lossless::lossless;

/// Which kind of text a [`Text`] object is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextKind {
    /// `plain_text`: shown as written (emoji shortcodes optional).
    PlainText,
    /// `mrkdwn`: Slack's markdown.
    Mrkdwn,
}

lossless! {
    /// A text object (`plain_text` or `mrkdwn`).
    #[derive(Clone, Debug, PartialEq)]
    pub struct Text {
        /// `plain_text` or `mrkdwn`.
        #[serde(rename = "type")]
        pub kind: TextKind,
        /// The text itself.
        pub text: String,
        /// `plain_text` only: render emoji shortcodes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub emoji: Option<bool>,
        /// `mrkdwn` only: do not linkify URLs, mentions and channel names.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub verbatim: Option<bool>,
    }
}

impl Text {
    /// A `plain_text` object.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            kind: TextKind::PlainText,
            text: text.into(),
            emoji: None,
            verbatim: None,
            extra: Default::default(),
        }
    }

    /// A `mrkdwn` object.
    pub fn mrkdwn(text: impl Into<String>) -> Self {
        Self { kind: TextKind::Mrkdwn, ..Self::plain(text) }
    }

    /// With `emoji` set (`plain_text`).
    pub fn emoji(mut self, on: bool) -> Self {
        self.emoji = Some(on);
        self
    }
}

impl From<&str> for Text {
    /// A `plain_text` object.
    fn from(s: &str) -> Self {
        Text::plain(s)
    }
}

impl From<String> for Text {
    /// A `plain_text` object.
    fn from(s: String) -> Self {
        Text::plain(s)
    }
}

lossless! {
    /// An option object: one choice of a select, overflow menu, checkbox group or radio group.
    #[derive(Clone, Debug, PartialEq)]
    pub struct OptionObject {
        /// What the user sees.
        pub text: Text,
        /// What the app receives (at most 150 characters).
        pub value: String,
        /// A line under the text (checkboxes, radio buttons).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub description: Option<Text>,
        /// Overflow menus only: a URL opened when chosen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
    }
}

impl OptionObject {
    /// An option showing `text` (plain text) and sending `value`.
    pub fn new(text: impl Into<Text>, value: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            value: value.into(),
            description: None,
            url: None,
            extra: Default::default(),
        }
    }

    /// With a description.
    pub fn description(mut self, text: impl Into<Text>) -> Self {
        self.description = Some(text.into());
        self
    }
}

lossless! {
    /// An option group: a labelled list of options in a select.
    #[derive(Clone, Debug, PartialEq)]
    pub struct OptionGroupObject {
        /// The label (`plain_text`).
        pub label: Text,
        /// The options (at most 100).
        pub options: Vec<OptionObject>,
    }
}

impl OptionGroupObject {
    /// A group labelled `label`.
    pub fn new(label: impl Into<Text>, options: Vec<OptionObject>) -> Self {
        Self { label: label.into(), options, extra: Default::default() }
    }
}

lossless! {
    /// A confirmation dialog shown before an interactive element acts.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Confirm {
        /// The title (`plain_text`).
        pub title: Text,
        /// The explanation.
        pub text: Text,
        /// The confirming button's label (`plain_text`).
        pub confirm: Text,
        /// The cancelling button's label (`plain_text`).
        pub deny: Text,
        /// `primary` or `danger`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub style: Option<String>,
    }
}

impl Confirm {
    /// A dialog: `title`, `text`, and the two buttons' labels.
    pub fn new(
        title: impl Into<Text>,
        text: impl Into<Text>,
        confirm: impl Into<Text>,
        deny: impl Into<Text>,
    ) -> Self {
        Self {
            title: title.into(),
            text: text.into(),
            confirm: confirm.into(),
            deny: deny.into(),
            style: None,
            extra: Default::default(),
        }
    }
}
