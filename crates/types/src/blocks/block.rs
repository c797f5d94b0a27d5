//! Layout blocks.

use super::element::{ContextElement, Element, ImageElement};
use super::tagged::tagged;
use super::text::Text;
use crate::RawJson;
use crate::event::lossless::lossless;

tagged! {
    /// One layout block. Blocks of a type this version does not type, or whose fields do not
    /// fit the typed struct, are kept verbatim in [`Block::Other`] and sent back unchanged.
    pub enum Block {
        /// `section`: text, up to 10 fields, one accessory.
        "section" => Section(Section),
        /// `header`: large plain text.
        "header" => Header(Header),
        /// `divider`.
        "divider" => Divider(Divider),
        /// `context`: small images and text.
        "context" => Context(ContextBlock),
        /// `actions`: interactive elements.
        "actions" => Actions(Actions),
        /// `input`: one input element with a label (modals, Home tabs, messages).
        "input" => Input(InputBlock),
        /// `image`.
        "image" => Image(ImageBlock),
        /// `rich_text`.
        "rich_text" => RichText(RichText),
        /// `markdown`: standard markdown, rendered by Slack.
        "markdown" => Markdown(Markdown),
        /// `card`: image, title, body, buttons.
        "card" => Card(Card),
        /// `alert`: a notice with a level (modals only).
        "alert" => Alert(Alert),
    }
}

macro_rules! into_block {
    ($($ty:ident => $variant:ident),*) => {$(
        impl From<$ty> for Block {
            fn from(v: $ty) -> Self {
                Block::$variant(v)
            }
        }
    )*};
}
into_block!(Section => Section, Header => Header, Divider => Divider, ContextBlock => Context,
    Actions => Actions, InputBlock => Input, ImageBlock => Image, RichText => RichText,
    Markdown => Markdown, Card => Card, Alert => Alert);

impl Block {
    /// The block's `block_id`, if set.
    pub fn block_id(&self) -> Option<&str> {
        match self {
            Block::Section(b) => b.block_id.as_deref(),
            Block::Header(b) => b.block_id.as_deref(),
            Block::Divider(b) => b.block_id.as_deref(),
            Block::Context(b) => b.block_id.as_deref(),
            Block::Actions(b) => b.block_id.as_deref(),
            Block::Input(b) => b.block_id.as_deref(),
            Block::Image(b) => b.block_id.as_deref(),
            Block::RichText(b) => b.block_id.as_deref(),
            Block::Markdown(b) => b.block_id.as_deref(),
            Block::Card(b) => b.block_id.as_deref(),
            Block::Alert(b) => b.block_id.as_deref(),
            Block::Other(_) => None,
        }
    }

    /// A `divider`.
    pub fn divider() -> Self {
        Block::Divider(Divider { block_id: None, extra: Default::default() })
    }
}

lossless! {
    /// `section`: text (at most 3000 characters), fields (at most 10, 2000 each), an accessory.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Section {
        /// The text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<Text>,
        /// The block id (at most 255 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
        /// Text shown in two columns.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fields: Option<Vec<Text>>,
        /// One element shown beside the text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub accessory: Option<Element>,
        /// Always show the whole text (no "see more").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expand: Option<bool>,
    }
}

impl Section {
    /// A section with `text` (mrkdwn).
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: Some(Text::mrkdwn(text)), ..Self::default() }
    }

    /// A section of fields only.
    pub fn fields(fields: Vec<Text>) -> Self {
        Self { fields: Some(fields), ..Self::default() }
    }

    /// With an accessory.
    pub fn accessory(mut self, element: Element) -> Self {
        self.accessory = Some(element);
        self
    }

    /// With a block id.
    pub fn block_id(mut self, id: impl Into<String>) -> Self {
        self.block_id = Some(id.into());
        self
    }
}

lossless! {
    /// `header`: plain text, at most 150 characters.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Header {
        /// The text (`plain_text`).
        pub text: Text,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl Header {
    /// A header.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: Text::plain(text), block_id: None, extra: Default::default() }
    }
}

lossless! {
    /// `divider`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Divider {
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

lossless! {
    /// `context`: at most 10 images and texts.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ContextBlock {
        /// The elements.
        pub elements: Vec<ContextElement>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl ContextBlock {
    /// A context block.
    pub fn new(elements: Vec<ContextElement>) -> Self {
        Self { elements, ..Self::default() }
    }
}

lossless! {
    /// `actions`: at most 25 interactive elements.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Actions {
        /// The elements.
        pub elements: Vec<Element>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl Actions {
    /// An actions block.
    pub fn new(elements: Vec<Element>) -> Self {
        Self { elements, ..Self::default() }
    }

    /// With a block id.
    pub fn block_id(mut self, id: impl Into<String>) -> Self {
        self.block_id = Some(id.into());
        self
    }
}

lossless! {
    /// `input`: a label (at most 2000 characters) and one input element.
    #[derive(Clone, Debug, PartialEq)]
    pub struct InputBlock {
        /// The label (`plain_text`).
        pub label: Text,
        /// The element.
        pub element: Element,
        /// Send a `block_actions` payload when the element changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dispatch_action: Option<bool>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
        /// A hint under the element (at most 2000 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hint: Option<Text>,
        /// Whether the input may be left empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub optional: Option<bool>,
    }
}

impl InputBlock {
    /// An input block.
    pub fn new(label: impl Into<String>, element: Element) -> Self {
        Self {
            label: Text::plain(label),
            element,
            dispatch_action: None,
            block_id: None,
            hint: None,
            optional: None,
            extra: Default::default(),
        }
    }

    /// With a block id.
    pub fn block_id(mut self, id: impl Into<String>) -> Self {
        self.block_id = Some(id.into());
        self
    }
}

lossless! {
    /// `image` block: a URL (at most 3000 characters) or a Slack file, with alt text.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ImageBlock {
        /// The image's URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_url: Option<String>,
        /// A Slack file object instead of a URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub slack_file: Option<RawJson>,
        /// The alt text (at most 2000 characters).
        pub alt_text: String,
        /// A title (`plain_text`, at most 2000 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<Text>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl ImageBlock {
    /// An image from a URL.
    pub fn new(image_url: impl Into<String>, alt_text: impl Into<String>) -> Self {
        Self { image_url: Some(image_url.into()), alt_text: alt_text.into(), ..Self::default() }
    }
}

lossless! {
    /// `rich_text`: its elements (sections, lists, quotes, preformatted) are kept as JSON.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct RichText {
        /// The rich text elements, verbatim.
        pub elements: Vec<RawJson>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl RichText {
    /// A rich text block of one `rich_text_section` holding `text` as plain text.
    pub fn text(text: &str) -> Self {
        let section = serde_json::json!({
            "type": "rich_text_section",
            "elements": [{"type": "text", "text": text}],
        });
        let raw = RawJson::from_value(&section).unwrap_or_else(|_| RawJson::from_trusted("{}"));
        Self { elements: vec![raw], ..Self::default() }
    }
}

lossless! {
    /// `markdown`: standard markdown (at most 12,000 characters over all markdown blocks of a
    /// payload).
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Markdown {
        /// The markdown.
        pub text: String,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl Markdown {
    /// A markdown block.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into(), ..Self::default() }
    }
}

lossless! {
    /// `card`: at least one of a hero image, a title, a body or buttons.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Card {
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
        /// The banner image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hero_image: Option<ImageElement>,
        /// The small image beside the title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub icon: Option<ImageElement>,
        /// The title (at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub title: Option<Text>,
        /// The subtitle (at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub subtitle: Option<Text>,
        /// The body (at most 200 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub body: Option<Text>,
        /// Buttons at the bottom.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actions: Option<Vec<Element>>,
    }
}

lossless! {
    /// `alert`: a notice (text at most 200 characters) with a `level` (`default`, `info`,
    /// `warning`, `error`, `success`). Slack shows it in modals only.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Alert {
        /// The text.
        pub text: Text,
        /// The level.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub level: Option<String>,
        /// The block id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
    }
}

impl Alert {
    /// An alert at `level`.
    pub fn new(text: impl Into<Text>, level: impl Into<String>) -> Self {
        Self { text: text.into(), level: Some(level.into()), block_id: None, extra: Default::default() }
    }
}
