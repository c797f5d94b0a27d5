//! What interactions carry about Block Kit: the container, the element kind, an action's or an
//! input's value typed by element kind ([`Selection`]), a view's state. Every struct keeps the
//! fields it does not model ([`Extra`](crate::event::Extra)).

use crate::event::lossless::lossless;
use crate::{ChannelId, RawJson, Ts, UserId};
use std::collections::BTreeMap;

wire_enum! {
    /// A Block Kit interactive element's `type`.
    pub enum ElementKind {
        /// `button`.
        Button = "button",
        /// `static_select`.
        StaticSelect = "static_select",
        /// `external_select` (options from the app: `block_suggestion`).
        ExternalSelect = "external_select",
        /// `users_select`.
        UsersSelect = "users_select",
        /// `conversations_select`.
        ConversationsSelect = "conversations_select",
        /// `channels_select`.
        ChannelsSelect = "channels_select",
        /// `multi_static_select`.
        MultiStaticSelect = "multi_static_select",
        /// `multi_external_select`.
        MultiExternalSelect = "multi_external_select",
        /// `multi_users_select`.
        MultiUsersSelect = "multi_users_select",
        /// `multi_conversations_select`.
        MultiConversationsSelect = "multi_conversations_select",
        /// `multi_channels_select`.
        MultiChannelsSelect = "multi_channels_select",
        /// `overflow`.
        Overflow = "overflow",
        /// `datepicker`.
        Datepicker = "datepicker",
        /// `timepicker`.
        Timepicker = "timepicker",
        /// `datetimepicker`.
        Datetimepicker = "datetimepicker",
        /// `checkboxes`.
        Checkboxes = "checkboxes",
        /// `radio_buttons`.
        RadioButtons = "radio_buttons",
        /// `plain_text_input`.
        PlainTextInput = "plain_text_input",
        /// `email_text_input`.
        EmailTextInput = "email_text_input",
        /// `url_text_input`.
        UrlTextInput = "url_text_input",
        /// `number_input`.
        NumberInput = "number_input",
        /// `rich_text_input`.
        RichTextInput = "rich_text_input",
    }
}

lossless! {
    /// A text object (`plain_text` or `mrkdwn`).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct TextObject {
        /// `plain_text` or `mrkdwn`.
        #[serde(rename = "type", default)]
        pub text_type: String,
        /// The text.
        #[serde(default)]
        pub text: String,
    }
}

lossless! {
    /// An option of a select, an overflow menu, checkboxes or radio buttons.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct SelectedOption {
        /// What the user saw.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<TextObject>,
        /// The option's value.
        #[serde(default)]
        pub value: String,
    }
}

lossless! {
    /// Where an interaction's element is: a message, a view, …
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Container {
        /// `message`, `view`, `message_attachment`, …
        #[serde(rename = "type", default)]
        pub container_type: String,
        /// The message (`message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message_ts: Option<Ts>,
        /// The message's channel (`message`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_id: Option<ChannelId>,
        /// The message's thread, for a message in one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread_ts: Option<Ts>,
        /// Whether the message is ephemeral.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_ephemeral: Option<bool>,
        /// The view (`view`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub view_id: Option<String>,
    }
}

/// An element's value, typed by the element's kind ([`BlockAction::selection`],
/// [`StateValue::selection`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection<'a> {
    /// Text typed (text inputs, a number as typed) or a button's value.
    Text(&'a str),
    /// One option (static/external select, overflow, radio buttons).
    Option(&'a SelectedOption),
    /// Options (multi-selects, checkboxes).
    Options(&'a [SelectedOption]),
    /// A date, `YYYY-MM-DD`.
    Date(&'a str),
    /// A time, `HH:mm`.
    Time(&'a str),
    /// A date and time, Unix seconds.
    DateTime(i64),
    /// A user.
    User(&'a UserId),
    /// Users.
    Users(&'a [UserId]),
    /// A channel (`channels_select`, `conversations_select`).
    Channel(&'a ChannelId),
    /// Channels.
    Channels(&'a [ChannelId]),
    /// A rich text value, verbatim.
    RichText(&'a RawJson),
    /// Nothing chosen or typed.
    None,
}

/// The value fields an action and a state value share, and the typed view of them.
macro_rules! with_value {
    ($( $(#[$meta:meta])* pub struct $name:ident { $($own:tt)* } )*) => {$(
        lossless! {
            $(#[$meta])*
            pub struct $name {
                $($own)*
                /// Text typed, or a button's value.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub value: Option<String>,
                /// The option chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_option: Option<SelectedOption>,
                /// The options chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_options: Option<Vec<SelectedOption>>,
                /// The date chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_date: Option<String>,
                /// The time chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_time: Option<String>,
                /// The date and time chosen (Unix seconds).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_date_time: Option<i64>,
                /// The user chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_user: Option<UserId>,
                /// The users chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_users: Option<Vec<UserId>>,
                /// The channel chosen (`channels_select`).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_channel: Option<ChannelId>,
                /// The channels chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_channels: Option<Vec<ChannelId>>,
                /// The conversation chosen (`conversations_select`).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_conversation: Option<ChannelId>,
                /// The conversations chosen.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub selected_conversations: Option<Vec<ChannelId>>,
                /// A rich text input's value, verbatim.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub rich_text_value: Option<RawJson>,
            }
        }

        impl $name {
            /// The element's kind (from its `type`).
            pub fn element(&self) -> ElementKind {
                ElementKind::from_wire(self.element_type.as_deref().unwrap_or(""))
            }

            /// The value, typed by what the element carries.
            pub fn selection(&self) -> Selection<'_> {
                if let Some(o) = &self.selected_option {
                    Selection::Option(o)
                } else if let Some(o) = &self.selected_options {
                    Selection::Options(o)
                } else if let Some(d) = &self.selected_date {
                    Selection::Date(d)
                } else if let Some(t) = &self.selected_time {
                    Selection::Time(t)
                } else if let Some(t) = self.selected_date_time {
                    Selection::DateTime(t)
                } else if let Some(u) = &self.selected_user {
                    Selection::User(u)
                } else if let Some(u) = &self.selected_users {
                    Selection::Users(u)
                } else if let Some(c) = self.selected_channel.as_ref().or(self.selected_conversation.as_ref()) {
                    Selection::Channel(c)
                } else if let Some(c) = self.selected_channels.as_ref().or(self.selected_conversations.as_ref()) {
                    Selection::Channels(c)
                } else if let Some(r) = &self.rich_text_value {
                    Selection::RichText(r)
                } else if let Some(v) = &self.value {
                    Selection::Text(v)
                } else {
                    Selection::None
                }
            }
        }
    )*};
}

with_value! {
    /// One action of `block_actions`: the element, and its value typed by kind
    /// ([`BlockAction::selection`]).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct BlockAction {
        /// The element's `action_id`.
        #[serde(default)]
        pub action_id: String,
        /// The block's `block_id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
        /// The element's type ([`BlockAction::element`]).
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        pub element_type: Option<String>,
        /// A button's text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<TextObject>,
        /// When it happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_ts: Option<String>,
    }

    /// The value of one input element in a view's state, typed by kind
    /// ([`StateValue::selection`]).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct StateValue {
        /// The element's type ([`StateValue::element`]).
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        pub element_type: Option<String>,
    }
}

lossless! {
    /// A view's state.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ViewState {
        /// `block_id` → `action_id` → value.
        #[serde(default)]
        pub values: BTreeMap<String, BTreeMap<String, StateValue>>,
    }
}

impl ViewState {
    /// The value of the element `action_id` in the block `block_id`.
    pub fn get(&self, block_id: &str, action_id: &str) -> Option<&StateValue> {
        self.values.get(block_id)?.get(action_id)
    }

    /// The text typed in the element `action_id` of the block `block_id` (`None` if empty or
    /// absent).
    pub fn text(&self, block_id: &str, action_id: &str) -> Option<&str> {
        self.get(block_id, action_id)?.value.as_deref().filter(|v| !v.is_empty())
    }
}

lossless! {
    /// A view (modal or Home tab), as an interaction reports it.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct View {
        /// The view's id.
        #[serde(default)]
        pub id: String,
        /// The app's `callback_id` for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub callback_id: Option<String>,
        /// The view's type (`modal`, `home`).
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        pub view_type: Option<String>,
        /// What the app stored in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub private_metadata: Option<String>,
        /// For `views.update` races.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hash: Option<String>,
        /// The view's blocks, verbatim.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub blocks: Option<RawJson>,
        /// The inputs' values.
        #[serde(default)]
        pub state: ViewState,
        /// The view below it, for a pushed view.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub previous_view_id: Option<String>,
        /// The first view of the stack.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub root_view_id: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket_mode::{BlockActions, Interactive};
    use serde_json::json;

    #[test]
    fn actions_are_typed_by_element_kind_and_keep_unknown_fields() {
        let payload = json!({
            "type": "block_actions", "user": {"id": "U1", "future": 1},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1", "thread_ts": "1.0"},
            "message": {"type": "message", "ts": "1.2", "text": "pick one", "user": "UB"},
            "actions": [
                {"type": "static_select", "action_id": "a", "selected_option": {"text": {"type": "plain_text", "text": "Apple"}, "value": "apple"}},
                {"type": "datepicker", "action_id": "d", "selected_date": "2026-01-02"},
                {"type": "multi_users_select", "action_id": "u", "selected_users": ["U2", "U3"]},
                {"type": "button", "action_id": "b", "value": "yes", "style": "primary"},
                {"type": "fancy_new_thing", "action_id": "n"},
            ],
            "state": {"values": {}},
            "is_enterprise_install": false,
        });
        let raw = RawJson::from_value(&payload).unwrap();
        let Interactive::BlockActions(a) = Interactive::from_raw(&raw) else { panic!() };
        let a: BlockActions = a;
        let container = a.container.as_ref().unwrap();
        assert_eq!(
            (container.container_type.as_str(), container.thread_ts.as_ref().map(|t| t.as_str())),
            ("message", Some("1.0"))
        );
        assert_eq!(a.message.as_ref().unwrap().text.as_deref(), Some("pick one"));
        let kinds: Vec<ElementKind> = a.actions.iter().map(BlockAction::element).collect();
        assert_eq!(
            kinds[..4],
            [
                ElementKind::StaticSelect,
                ElementKind::Datepicker,
                ElementKind::MultiUsersSelect,
                ElementKind::Button
            ]
        );
        assert_eq!(kinds[4], ElementKind::Other("fancy_new_thing".into()));
        assert!(matches!(a.actions[0].selection(), Selection::Option(o) if o.value == "apple"));
        assert_eq!(a.actions[1].selection(), Selection::Date("2026-01-02"));
        assert!(matches!(a.actions[2].selection(), Selection::Users(u) if u.len() == 2));
        assert_eq!(a.actions[3].selection(), Selection::Text("yes"));
        assert_eq!(a.actions[4].selection(), Selection::None);
        // Unknown fields are kept, and written back.
        assert_eq!(a.actions[3].extra.get("style").unwrap().as_str(), "\"primary\"");
        assert_eq!(a.user.extra.get("future").unwrap().as_str(), "1");
        assert!(a.state.is_some());
        assert_eq!(a.extra.get("is_enterprise_install").unwrap().as_str(), "false");
        let mut back = serde_json::to_value(&a).unwrap();
        back["type"] = json!("block_actions");
        assert_eq!(back, payload);
    }

    #[test]
    fn view_state_values_are_typed() {
        let state: ViewState = serde_json::from_value(json!({"values": {
            "name": {"value": {"type": "plain_text_input", "value": "Ada"}},
            "when": {"d": {"type": "datepicker", "selected_date": null}},
            "empty": {"value": {"type": "plain_text_input", "value": ""}},
        }}))
        .unwrap();
        assert_eq!(state.text("name", "value"), Some("Ada"));
        assert_eq!(state.text("empty", "value"), None);
        assert_eq!(state.get("when", "d").unwrap().element(), ElementKind::Datepicker);
        assert_eq!(state.get("when", "d").unwrap().selection(), Selection::None);
    }
}
