//! Block elements: buttons, selects, pickers, inputs, images.

use super::tagged::{tagged, type_of};
use super::text::{Confirm, OptionGroupObject, OptionObject, Text};
use crate::RawJson;
use crate::event::lossless::lossless;

tagged! {
    /// An interactive (or image) element, in an `actions` or `input` block or a section's
    /// accessory. Unknown element types are kept verbatim in [`Element::Other`].
    ///
    /// Every select and multi-select shares one struct, [`Select`]; its variant says which.
    pub enum Element {
        /// `button`.
        "button" => Button(Button),
        /// `static_select`.
        "static_select" => StaticSelect(Select),
        /// `external_select`.
        "external_select" => ExternalSelect(Select),
        /// `users_select`.
        "users_select" => UsersSelect(Select),
        /// `conversations_select`.
        "conversations_select" => ConversationsSelect(Select),
        /// `channels_select`.
        "channels_select" => ChannelsSelect(Select),
        /// `multi_static_select`.
        "multi_static_select" => MultiStaticSelect(Select),
        /// `multi_external_select`.
        "multi_external_select" => MultiExternalSelect(Select),
        /// `multi_users_select`.
        "multi_users_select" => MultiUsersSelect(Select),
        /// `multi_conversations_select`.
        "multi_conversations_select" => MultiConversationsSelect(Select),
        /// `multi_channels_select`.
        "multi_channels_select" => MultiChannelsSelect(Select),
        /// `overflow`: 2 to 5 options behind a "…" button.
        "overflow" => Overflow(Overflow),
        /// `datepicker`.
        "datepicker" => DatePicker(DatePicker),
        /// `timepicker`.
        "timepicker" => TimePicker(TimePicker),
        /// `checkboxes`.
        "checkboxes" => Checkboxes(Choices),
        /// `radio_buttons`.
        "radio_buttons" => RadioButtons(Choices),
        /// `plain_text_input`.
        "plain_text_input" => PlainTextInput(PlainTextInput),
        /// `image`.
        "image" => Image(ImageElement),
    }
}

impl Element {
    /// A button sending `action_id` (and `value`, if set later) when pressed.
    pub fn button(text: impl Into<String>, action_id: impl Into<String>) -> Self {
        Element::Button(Button {
            text: Text::plain(text),
            action_id: Some(action_id.into()),
            ..Button::default()
        })
    }

    /// A `static_select` with `options`.
    pub fn static_select(
        placeholder: impl Into<String>,
        action_id: impl Into<String>,
        options: Vec<OptionObject>,
    ) -> Self {
        Element::StaticSelect(Select {
            placeholder: Some(Text::plain(placeholder)),
            action_id: Some(action_id.into()),
            options: Some(options),
            ..Select::default()
        })
    }

    /// A `users_select`.
    pub fn users_select(placeholder: impl Into<String>, action_id: impl Into<String>) -> Self {
        Element::UsersSelect(Select::new(placeholder, action_id))
    }

    /// A `conversations_select`.
    pub fn conversations_select(placeholder: impl Into<String>, action_id: impl Into<String>) -> Self {
        Element::ConversationsSelect(Select::new(placeholder, action_id))
    }

    /// A `plain_text_input`.
    pub fn text_input(action_id: impl Into<String>) -> Self {
        Element::PlainTextInput(PlainTextInput { action_id: Some(action_id.into()), ..Default::default() })
    }

    /// An `image` element.
    pub fn image(image_url: impl Into<String>, alt_text: impl Into<String>) -> Self {
        Element::Image(ImageElement::new(image_url, alt_text))
    }

    /// The element's `action_id`, if it has one.
    pub fn action_id(&self) -> Option<&str> {
        match self {
            Element::Button(e) => e.action_id.as_deref(),
            Element::StaticSelect(e)
            | Element::ExternalSelect(e)
            | Element::UsersSelect(e)
            | Element::ConversationsSelect(e)
            | Element::ChannelsSelect(e)
            | Element::MultiStaticSelect(e)
            | Element::MultiExternalSelect(e)
            | Element::MultiUsersSelect(e)
            | Element::MultiConversationsSelect(e)
            | Element::MultiChannelsSelect(e) => e.action_id.as_deref(),
            Element::Overflow(e) => e.action_id.as_deref(),
            Element::DatePicker(e) => e.action_id.as_deref(),
            Element::TimePicker(e) => e.action_id.as_deref(),
            Element::Checkboxes(e) | Element::RadioButtons(e) => e.action_id.as_deref(),
            Element::PlainTextInput(e) => e.action_id.as_deref(),
            Element::Image(_) | Element::Other(_) => None,
        }
    }
}

lossless! {
    /// `button`: text at most 75 characters, `value` at most 2000, `url` at most 3000.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Button {
        /// The label (`plain_text`).
        pub text: Text,
        /// The action id (at most 255 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// A URL opened in the browser.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
        /// Sent with the interaction.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub value: Option<String>,
        /// `primary` or `danger`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub style: Option<String>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
        /// The label for screen readers (at most 75 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub accessibility_label: Option<String>,
    }
}

impl Default for Button {
    fn default() -> Self {
        Self {
            text: Text::plain(""),
            action_id: None,
            url: None,
            value: None,
            style: None,
            confirm: None,
            accessibility_label: None,
            extra: Default::default(),
        }
    }
}

lossless! {
    /// Every select and multi-select menu: the fields a given kind does not use stay `None`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Select {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The placeholder (`plain_text`, at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub placeholder: Option<Text>,
        /// Static selects: the options (at most 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub options: Option<Vec<OptionObject>>,
        /// Static selects: the option groups (at most 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub option_groups: Option<Vec<OptionGroupObject>>,
        /// Single static/external selects: the preselected option.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_option: Option<OptionObject>,
        /// Multi static/external selects: the preselected options.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_options: Option<Vec<OptionObject>>,
        /// `users_select`: the preselected user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_user: Option<String>,
        /// `multi_users_select`: the preselected users.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_users: Option<Vec<String>>,
        /// `conversations_select`: the preselected conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_conversation: Option<String>,
        /// `multi_conversations_select`: the preselected conversations.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_conversations: Option<Vec<String>>,
        /// `channels_select`: the preselected channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_channel: Option<String>,
        /// `multi_channels_select`: the preselected channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_channels: Option<Vec<String>>,
        /// External selects: characters typed before options are requested.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub min_query_length: Option<u32>,
        /// Multi-selects: at most this many (at least 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_selected_items: Option<u32>,
        /// Conversation selects: start with the current conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub default_to_current_conversation: Option<bool>,
        /// Conversation/channel selects in modals: send a `response_url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub response_url_enabled: Option<bool>,
        /// Conversation selects: which conversations are listed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub filter: Option<RawJson>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
        /// Focus it when the view opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub focus_on_load: Option<bool>,
    }
}

impl Select {
    /// A select with a placeholder and an action id.
    pub fn new(placeholder: impl Into<String>, action_id: impl Into<String>) -> Self {
        Self {
            placeholder: Some(Text::plain(placeholder)),
            action_id: Some(action_id.into()),
            ..Self::default()
        }
    }
}

lossless! {
    /// `overflow`: 2 to 5 options.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Overflow {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The options.
        pub options: Vec<OptionObject>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
    }
}

lossless! {
    /// `datepicker`: `initial_date` as `YYYY-MM-DD`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct DatePicker {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The preselected date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_date: Option<String>,
        /// The placeholder (at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub placeholder: Option<Text>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
        /// Focus it when the view opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub focus_on_load: Option<bool>,
    }
}

lossless! {
    /// `timepicker`: `initial_time` as `HH:mm`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct TimePicker {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The preselected time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_time: Option<String>,
        /// The placeholder (at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub placeholder: Option<Text>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
        /// Focus it when the view opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub focus_on_load: Option<bool>,
        /// An IANA time zone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub timezone: Option<String>,
    }
}

lossless! {
    /// `checkboxes` and `radio_buttons`: at most 10 options.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Choices {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The options.
        pub options: Vec<OptionObject>,
        /// Checkboxes: the preselected options.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_options: Option<Vec<OptionObject>>,
        /// Radio buttons: the preselected option.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_option: Option<OptionObject>,
        /// A confirmation dialog.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub confirm: Option<Confirm>,
        /// Focus it when the view opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub focus_on_load: Option<bool>,
    }
}

lossless! {
    /// `plain_text_input`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct PlainTextInput {
        /// The action id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_id: Option<String>,
        /// The placeholder (at most 150 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub placeholder: Option<Text>,
        /// The initial text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub initial_value: Option<String>,
        /// Several lines.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub multiline: Option<bool>,
        /// At least this many characters (at most 3000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub min_length: Option<u32>,
        /// At most this many characters (at most 3000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max_length: Option<u32>,
        /// When a `block_actions` payload is sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dispatch_action_config: Option<RawJson>,
        /// Focus it when the view opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub focus_on_load: Option<bool>,
    }
}

lossless! {
    /// `image` element: a URL or a Slack file, with alt text.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct ImageElement {
        /// The image's URL (at most 3000 characters).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_url: Option<String>,
        /// A Slack file object instead of a URL.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub slack_file: Option<RawJson>,
        /// The alt text.
        pub alt_text: String,
    }
}

impl ImageElement {
    /// An image from a URL.
    pub fn new(image_url: impl Into<String>, alt_text: impl Into<String>) -> Self {
        Self { image_url: Some(image_url.into()), alt_text: alt_text.into(), ..Self::default() }
    }
}

/// One element of a `context` block: an image or a text object; anything else verbatim.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum ContextElement {
    /// An image.
    #[serde(rename = "image")]
    Image(ImageElement),
    /// A text object (`plain_text` or `mrkdwn`; it carries its own `type`).
    #[serde(untagged)]
    Text(Text),
    /// Anything else, verbatim.
    #[serde(untagged)]
    Other(RawJson),
}

impl From<Text> for ContextElement {
    fn from(t: Text) -> Self {
        ContextElement::Text(t)
    }
}

impl From<ImageElement> for ContextElement {
    fn from(i: ImageElement) -> Self {
        ContextElement::Image(i)
    }
}

impl<'de> serde::Deserialize<'de> for ContextElement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJson::deserialize(d)?;
        let typed = match type_of(&raw).as_deref() {
            Some("image") => serde_json::from_str::<ImageElement>(raw.as_str()).ok().map(|mut i| {
                i.extra.remove("type");
                ContextElement::Image(i)
            }),
            Some("plain_text" | "mrkdwn") => {
                serde_json::from_str::<Text>(raw.as_str()).ok().map(ContextElement::Text)
            }
            _ => None,
        };
        Ok(typed.unwrap_or(ContextElement::Other(raw)))
    }
}
