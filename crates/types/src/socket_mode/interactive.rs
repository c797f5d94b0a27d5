//! The `slash_commands` and `interactive` payloads: the parts apps read, typed; every struct
//! keeps the fields it does not model in its `extra` ([`Extra`](crate::event::Extra)), and the
//! whole payload stays verbatim in [`Envelope::payload`](super::Envelope::payload).

use super::elements::{BlockAction, Container, View, ViewState};
use crate::event::Message;
use crate::event::lossless::lossless;
use crate::scan::{Scan, top_level_strings};
use crate::{ChannelId, RawJson, TeamId, UserId};

lossless! {
    /// A slash command (`slash_commands` payload). Its ack may carry the reply.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct SlashCommand {
        /// The command, e.g. `/weather`.
        pub command: String,
        /// What follows the command.
        #[serde(default)]
        pub text: String,
        /// Who ran it.
        pub user_id: UserId,
        /// Their name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user_name: Option<String>,
        /// Where.
        pub channel_id: ChannelId,
        /// The channel's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_name: Option<String>,
        /// The workspace.
        pub team_id: TeamId,
        /// The workspace's domain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_domain: Option<String>,
        /// The app.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub api_app_id: Option<String>,
        /// Where to post delayed replies (for 30 minutes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub response_url: Option<String>,
        /// Opens a modal (for 3 s).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub trigger_id: Option<String>,
    }
}

lossless! {
    /// The user of an interaction.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct InteractionUser {
        /// The user.
        pub id: UserId,
        /// Their user name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub username: Option<String>,
        /// Their name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
        /// Their workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team_id: Option<TeamId>,
    }
}

lossless! {
    /// The workspace of an interaction.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct InteractionTeam {
        /// The workspace.
        pub id: TeamId,
        /// Its domain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub domain: Option<String>,
    }
}

lossless! {
    /// The channel of an interaction.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct InteractionChannel {
        /// The channel.
        pub id: ChannelId,
        /// Its name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
    }
}

lossless! {
    /// `block_actions`: a user clicked a button, chose an option, ...
    #[derive(Clone, Debug, PartialEq)]
    pub struct BlockActions {
        /// Who.
        pub user: InteractionUser,
        /// The workspace (absent for org-wide apps in some places).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<InteractionTeam>,
        /// The channel, for a message's blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<InteractionChannel>,
        /// The app.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub api_app_id: Option<String>,
        /// Opens a modal (for 3 s).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub trigger_id: Option<String>,
        /// Where to reply, for a message's blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub response_url: Option<String>,
        /// What was done.
        #[serde(default)]
        pub actions: Vec<BlockAction>,
        /// The view, for a modal's or Home's blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub view: Option<View>,
        /// Where the element is (a message, with its channel and thread; a view).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub container: Option<Container>,
        /// The message the element is in, as it was when the user acted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Box<Message>>,
        /// The view's state when the element is in one (also `view.state`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub state: Option<ViewState>,
    }
}

lossless! {
    /// `view_submission` and `view_closed`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct ViewAction {
        /// Who.
        pub user: InteractionUser,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<InteractionTeam>,
        /// The app.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub api_app_id: Option<String>,
        /// The view, with its state.
        pub view: View,
        /// Opens another modal (view_submission).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub trigger_id: Option<String>,
        /// Whether the whole stack was closed (view_closed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub is_cleared: Option<bool>,
    }
}

lossless! {
    /// `shortcut` (global) and `message_action` (message shortcut).
    #[derive(Clone, Debug, PartialEq)]
    pub struct Shortcut {
        /// Who.
        pub user: InteractionUser,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<InteractionTeam>,
        /// The shortcut's `callback_id`.
        #[serde(default)]
        pub callback_id: String,
        /// Opens a modal (for 3 s).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub trigger_id: Option<String>,
        /// When it happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub action_ts: Option<String>,
        /// The channel (message shortcut).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<InteractionChannel>,
        /// Where to reply (message shortcut).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub response_url: Option<String>,
        /// The message's timestamp (message shortcut).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message_ts: Option<String>,
        /// The message (message shortcut).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Box<Message>>,
    }
}

lossless! {
    /// `block_suggestion`: an external select asks for options (answered in the ack).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct BlockSuggestion {
        /// Who is typing.
        pub user: InteractionUser,
        /// The workspace.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub team: Option<InteractionTeam>,
        /// The select's `action_id`.
        pub action_id: String,
        /// The block's `block_id`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub block_id: Option<String>,
        /// What was typed so far.
        #[serde(default)]
        pub value: String,
        /// The channel, for a message's blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<InteractionChannel>,
        /// The view, for a modal's blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub view: Option<View>,
    }
}

/// An `interactive` payload, by its `type`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "always boxed as a whole: `Payload::Interactive(Box<Interactive>)`"
)]
pub enum Interactive {
    /// `block_actions`.
    BlockActions(BlockActions),
    /// `view_submission` (the ack may carry a `response_action`).
    ViewSubmission(ViewAction),
    /// `view_closed`.
    ViewClosed(ViewAction),
    /// `shortcut`: a global shortcut.
    Shortcut(Shortcut),
    /// `message_action`: a message shortcut.
    MessageAction(Shortcut),
    /// `block_suggestion` (the ack carries the `options`).
    BlockSuggestion(BlockSuggestion),
    /// Another type, or a known one of an unexpected shape, kept verbatim.
    Unknown {
        /// The payload's `type`, if it had one.
        interactive_type: Option<String>,
        /// The whole payload.
        raw: RawJson,
        /// Why a known type could not be decoded, if that is what happened.
        shape_error: Option<String>,
    },
}

impl Interactive {
    /// Decodes an `interactive` payload (valid JSON): never fails.
    pub fn from_raw(raw: &RawJson) -> Interactive {
        let kind = match top_level_strings(raw.as_str().as_bytes(), [b"type"], b"") {
            Scan::Found { values: [kind], .. } => kind,
            Scan::Unsure => None,
        };
        let typed = match kind {
            Some("block_actions") => raw.parse().map(Interactive::BlockActions),
            Some("view_submission") => raw.parse().map(Interactive::ViewSubmission),
            Some("view_closed") => raw.parse().map(Interactive::ViewClosed),
            Some("shortcut") => raw.parse().map(Interactive::Shortcut),
            Some("message_action") => raw.parse().map(Interactive::MessageAction),
            Some("block_suggestion") => raw.parse().map(Interactive::BlockSuggestion),
            _ => {
                return Interactive::Unknown {
                    interactive_type: kind.map(str::to_owned),
                    raw: raw.clone(),
                    shape_error: None,
                };
            }
        };
        typed.unwrap_or_else(|e| Interactive::Unknown {
            interactive_type: kind.map(str::to_owned),
            raw: raw.clone(),
            shape_error: Some(e.to_string()),
        })
    }

    /// The payload's `type`.
    pub fn interactive_type(&self) -> &str {
        match self {
            Interactive::BlockActions(_) => "block_actions",
            Interactive::ViewSubmission(_) => "view_submission",
            Interactive::ViewClosed(_) => "view_closed",
            Interactive::Shortcut(_) => "shortcut",
            Interactive::MessageAction(_) => "message_action",
            Interactive::BlockSuggestion(_) => "block_suggestion",
            Interactive::Unknown { interactive_type, .. } => interactive_type.as_deref().unwrap_or("unknown"),
        }
    }
}
