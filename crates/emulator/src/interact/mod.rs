//! The test kit for users' own apps: act as a workspace user ([`crate::Emulator::user`] →
//! [`Actor`]), wait for the app's ack ([`crate::Emulator::wait_for_ack`]) and read back what
//! the app did (posted, answered on a `response_url`, opened as modals).
//!
//! Every action makes the payload Slack would send (an Events API event, a slash command, a
//! `block_actions`, a shortcut, a `view_submission`, a `block_suggestion`) and delivers it to
//! the app, returning a [`Sent`] whose [`Sent::seq`] the test waits on. The app's ack is applied
//! as Slack applies it: a view's `response_action`, a command's reply, an options list.

pub(crate) mod acks;
mod actor;
mod config;
mod elements;
pub(crate) mod payloads;
pub(crate) mod state;
mod waits;

pub use actor::Actor;
pub use config::InteractionConfig;

use serde_json::Value;
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::time::Instant;

/// What a user's action sent to the app.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// The envelope to wait on ([`crate::Emulator::wait_for_ack`]): the `app_mention` of a
    /// mention, the `message` of a plain message, the interaction itself otherwise.
    pub seq: u64,
    /// Every envelope the action made (a mention makes a `message` and an `app_mention`).
    pub envelopes: Vec<u64>,
    /// The channel it happened in, if any.
    pub channel: Option<ChannelId>,
    /// The `ts` of the message the user posted (for [`Actor::say`] and friends).
    pub ts: Option<Ts>,
    /// The `trigger_id` handed to the app, if any.
    pub trigger_id: Option<String>,
    /// The `response_url` handed to the app, if any.
    pub response_url: Option<String>,
    /// The view the action came from (a submission, a close, an action in a modal).
    pub view_id: Option<String>,
}

/// Where a user clicks, selects or types: a message the app posted, or a modal it opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActionSurface {
    /// A message, by channel and `ts`.
    Message {
        /// Its channel.
        channel: ChannelId,
        /// Its `ts`.
        ts: Ts,
    },
    /// A modal, by view id.
    View(String),
}

impl ActionSurface {
    /// A message the app posted.
    pub fn message(channel: &ChannelId, ts: &Ts) -> Self {
        ActionSurface::Message { channel: channel.clone(), ts: ts.clone() }
    }

    /// A modal the app opened.
    pub fn view(view_id: &str) -> Self {
        ActionSurface::View(view_id.to_owned())
    }
}

/// Why a user's action could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActError {
    /// No such (undeleted) message.
    #[error("no message {ts} in {channel}")]
    NoMessage {
        /// The channel.
        channel: String,
        /// The `ts`.
        ts: String,
    },
    /// No such open modal.
    #[error("no open view {0}")]
    NoView(String),
    /// The message or view has no interactive element with this `action_id`.
    #[error("no element with action_id {0:?}")]
    NoElement(String),
    /// The element has no option with this value.
    #[error("element {action_id:?} has no option {value:?}")]
    NoOption {
        /// The element.
        action_id: String,
        /// The value asked for.
        value: String,
    },
    /// The message could not be posted (unknown channel, not a member, empty text).
    #[error("cannot post: {0}")]
    CannotPost(String),
}

/// One POST to a `response_url` the emulator handed out, as it was answered.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ResponseRecord {
    /// When it arrived.
    pub at: Instant,
    /// The URL's path (e.g. `/commands/T…/…`).
    pub path: String,
    /// The JSON body, when it was JSON.
    pub body: Option<Value>,
    /// The HTTP status answered.
    pub status: u16,
    /// The error answered, if any (`invalid_payload`, `no_text`, `expired_url`, `used_url`, …).
    pub error: Option<String>,
    /// What it did, when it succeeded.
    pub effect: Option<ResponseEffect>,
}

/// What a message response (on a `response_url`, or in a command's ack) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseEffect {
    /// Posted a visible message (`response_type: in_channel`), at this `ts`.
    PostedInChannel(Ts),
    /// Showed an ephemeral message to the user ([`crate::Emulator::ephemeral_messages`]).
    Ephemeral,
    /// Replaced the original message (`replace_original: true`).
    ReplacedOriginal(Ts),
    /// Deleted the original message (`delete_original: true`).
    DeletedOriginal(Ts),
}

/// A message only one user sees: from a `response_url`, a command's ack, or
/// `chat.postEphemeral`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EphemeralMessage {
    /// When it was shown.
    pub at: Instant,
    /// The channel it was shown in (`None` when the source had none).
    pub channel: Option<ChannelId>,
    /// The user who sees it.
    pub user: UserId,
    /// Its text (as given).
    pub text: Option<String>,
    /// Its blocks, if any.
    pub blocks: Option<Value>,
    /// Where it came from: `response_url`, `ack` or `chat.postEphemeral`.
    pub source: &'static str,
}
