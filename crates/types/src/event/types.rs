//! Typed payloads of the connection-level events (`hello`, `goodbye`, `error`, `pong`, ...),
//! replies, and presence and typing events.
//!
//! Each struct holds the fields Slack documents for the event, without its `type`; other fields
//! are kept in its `extra`. Rich nested objects that few applications read are kept as
//! [`RawJson`].
//!
//! [`RawJson`]: crate::RawJson

use super::Extra;
use super::lossless::lossless;
use crate::ids::{ChannelId, Ts, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

lossless! {
    /// `hello`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Hello {
    }
}

lossless! {
    /// `goodbye`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct Goodbye {
    }
}

lossless! {
    /// `reconnect_url`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ReconnectUrl {
        /// The URL (never use it: Slack documents it as unsupported). Absent from Slack's own
        /// documentation example.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub url: Option<String>,
    }
}

lossless! {
    /// `team_migration_started`.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct TeamMigrationStarted {
    }
}

lossless! {
    /// The `error` object of an `error` event or an error reply.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct ErrorInfo {
        /// The code: `-1` slow down, `0` invalid channel, `1` socket URL expired, `2` text missing,
        /// `4` cannot process message, others unpublished.
        pub code: i64,
        /// The server's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub msg: Option<String>,
    }
}

lossless! {
    /// `error`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ErrorEvent {
        /// What went wrong.
        pub error: ErrorInfo,
        /// The server that sent it (e.g. `gs-sin-1s8n`), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source: Option<String>,
    }
}

/// `pong`: answers a `ping`, echoing its extra fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pong {
    /// The `id` of the ping.
    pub reply_to: u64,
    /// The echoed extra fields (e.g. `time`). The frame's `type` is not one of them.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for Pong {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct PongWire {
            reply_to: u64,
            #[serde(flatten)]
            extra: serde_json::Map<String, serde_json::Value>,
        }
        let mut wire = PongWire::deserialize(d)?;
        // `type` is written back by `Event`'s serializer; keeping it here would write it twice.
        wire.extra.remove("type");
        Ok(Pong { reply_to: wire.reply_to, extra: wire.extra })
    }
}

impl super::lossless::Payload for Pong {
    fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

lossless! {
    /// The answer to a client message: `{"ok":true,"reply_to":1,"ts":"…","text":"…"}` or
    /// `{"ok":false,"reply_to":1,"error":{"code":2,"msg":"…"}}`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Reply {
        /// Whether the message was accepted.
        pub ok: bool,
        /// The `id` of the client message answered.
        pub reply_to: u64,
        /// The posted message's timestamp (on success).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ts: Option<Ts>,
        /// The text as posted (links may have been formatted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub text: Option<String>,
        /// Why the message was refused (on failure).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<ErrorInfo>,
    }
}

/// A user's presence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Presence {
    /// `active`.
    Active,
    /// `away`.
    Away,
    /// Any other value, kept verbatim.
    Other(String),
}

impl Presence {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Presence::Active => "active",
            Presence::Away => "away",
            Presence::Other(s) => s,
        }
    }
}

impl Serialize for Presence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(match &*s {
            "active" => Presence::Active,
            "away" => Presence::Away,
            other => Presence::Other(other.to_owned()),
        })
    }
}

/// `presence_change`, in either form: single `{"user":"U1","presence":"away"}` (deprecated) or
/// batched `{"users":["U1","U2"],"presence":"away"}` (with `batch_presence_aware`). Both decode
/// to this one type; `batched` tells which form arrived and serialization writes that form back.
#[derive(Clone, Debug, PartialEq)]
pub struct PresenceChange {
    /// The users whose presence changed (one for the single form).
    pub users: Vec<UserId>,
    /// Their new presence.
    pub presence: Presence,
    /// Whether the frame used the batched (`users`) form.
    pub batched: bool,
    /// Every field this type does not model, as it came (see [`Extra`]).
    pub extra: Extra,
}

lossless! {
    /// The wire form of [`PresenceChange`].
    struct PresenceWire {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        users: Option<Vec<UserId>>,
        presence: Presence,
    }
}

impl PresenceChange {
    fn from_wire<E: serde::de::Error>(w: PresenceWire) -> Result<Self, E> {
        let mut extra = w.extra;
        let (users, batched) = match (w.user, w.users) {
            (user, Some(users)) => {
                // Both forms at once (never seen): `users` wins, `user` is kept as it came.
                if let Some(user) = user {
                    let raw = crate::RawJson::from_value(&user).map_err(E::custom)?;
                    extra.insert("user", raw);
                }
                (users, true)
            }
            (Some(user), None) => (vec![user], false),
            (None, None) => return Err(E::missing_field("user")),
        };
        Ok(PresenceChange { users, presence: w.presence, batched, extra })
    }
}

impl Serialize for PresenceChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (user, users) = if self.batched || self.users.len() != 1 {
            (None, Some(self.users.clone()))
        } else {
            (self.users.first().cloned(), None)
        };
        let wire = PresenceWire { user, users, presence: self.presence.clone(), extra: self.extra.clone() };
        <PresenceWire as Serialize>::serialize(&wire, s)
    }
}

impl<'de> Deserialize<'de> for PresenceChange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PresenceChange::from_wire(<PresenceWire as Deserialize>::deserialize(d)?)
    }
}

impl super::lossless::Payload for PresenceChange {
    fn from_frame(text: &str) -> Result<Self, serde_json::Error> {
        PresenceChange::from_wire(<PresenceWire as super::lossless::Payload>::from_frame(text)?)
    }
}

lossless! {
    /// `manual_presence_change`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ManualPresenceChange {
        /// The connecting user's new presence.
        pub presence: Presence,
        /// When the event happened.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_ts: Option<Ts>,
    }
}

lossless! {
    /// `user_typing`.
    #[derive(Clone, Debug, PartialEq)]
    pub struct UserTyping {
        /// The channel.
        pub channel: ChannelId,
        /// Who is typing.
        pub user: UserId,
    }
}
