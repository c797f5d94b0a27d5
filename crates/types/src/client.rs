//! Messages a client sends on the socket.
//!
//! A [`ClientMessage`] carries no `id`: the session assigns one per connection when it writes
//! the frame (see `slack-rtm-codec`'s `encode_client_message`). Limits documented by Slack are
//! checked by [`ClientMessage::validate`] before a message is queued.

use crate::ids::{ChannelId, Ts, UserId};
use serde::Serialize;
use std::fmt;

/// Most characters Slack accepts in a message's text.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most user ids in one `presence_query`.
pub const MAX_PRESENCE_QUERY_IDS: usize = 500;
/// Largest client frame (the whole JSON) before Slack disconnects the client.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// A message a client sends on the RTM socket (without its `id`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientMessage {
    /// Post a plain-text message to a channel. Answered by an ack (`reply_to`).
    Message(OutgoingMessage),
    /// Show "is typing" to the channel's members. No answer unless an error.
    Typing {
        /// The channel.
        channel: ChannelId,
    },
    /// An application-level ping. Answered by `pong`, echoing the extra fields.
    Ping(Ping),
    /// Replace the set of users whose presence events this connection receives.
    PresenceSub {
        /// The full new set (an empty list unsubscribes from all).
        ids: Vec<UserId>,
    },
    /// Ask for the presence of up to 500 users; answered with `presence_change` events.
    PresenceQuery {
        /// The users.
        ids: Vec<UserId>,
    },
}

/// A plain-text message to post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutgoingMessage {
    /// Where to post.
    pub channel: ChannelId,
    /// The text (at most 4000 characters).
    pub text: String,
    /// Reply in the thread of this parent message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<Ts>,
    /// With `thread_ts`: also show the reply in the channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_broadcast: Option<bool>,
}

impl OutgoingMessage {
    /// A message to `channel`.
    pub fn new(channel: impl Into<ChannelId>, text: impl Into<String>) -> Self {
        Self { channel: channel.into(), text: text.into(), thread_ts: None, reply_broadcast: None }
    }

    /// Posts the message as a reply in the thread of `parent`.
    pub fn in_thread(mut self, parent: impl Into<Ts>) -> Self {
        self.thread_ts = Some(parent.into());
        self
    }

    /// With [`OutgoingMessage::in_thread`]: also broadcast the reply to the channel.
    pub fn broadcast(mut self, yes: bool) -> Self {
        self.reply_broadcast = Some(yes);
        self
    }
}

/// An application-level ping. Its extra fields must be flat scalars (strings, numbers, booleans,
/// null); the server echoes them back in the `pong`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ping {
    /// Extra fields echoed by the server, e.g. `time`.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Ping {
    /// A ping with no extra fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// A ping carrying `time` (milliseconds), as the official clients send.
    pub fn with_time(millis: u64) -> Self {
        Self::new().field("time", millis)
    }

    /// Adds an extra scalar field.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
}

/// Why a client message was refused before being sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientMessageError {
    /// The channel id is empty.
    EmptyChannel,
    /// The message text is empty (Slack answers error code 2).
    EmptyText,
    /// The text has more than [`MAX_TEXT_CHARS`] characters.
    TextTooLong {
        /// Characters in the text.
        chars: usize,
    },
    /// The encoded frame is over [`MAX_FRAME_BYTES`].
    FrameTooLarge {
        /// Bytes in the frame.
        bytes: usize,
    },
    /// A `presence_query` with more than [`MAX_PRESENCE_QUERY_IDS`] ids.
    TooManyIds {
        /// Ids given.
        count: usize,
    },
    /// A ping field that is not a flat scalar, or that would clash with `id`/`type`.
    InvalidPingField {
        /// The field's name.
        name: String,
    },
}

impl fmt::Display for ClientMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyChannel => f.write_str("the channel id is empty"),
            Self::EmptyText => f.write_str("the message text is empty"),
            Self::TextTooLong { chars } => {
                write!(f, "the message text has {chars} characters; Slack accepts at most {MAX_TEXT_CHARS}")
            }
            Self::FrameTooLarge { bytes } => write!(
                f,
                "the frame is {bytes} bytes; Slack disconnects clients that send more than {MAX_FRAME_BYTES}"
            ),
            Self::TooManyIds { count } => {
                write!(f, "presence_query has {count} ids; Slack accepts at most {MAX_PRESENCE_QUERY_IDS}")
            }
            Self::InvalidPingField { name } => {
                write!(f, "ping field {name:?} must be a flat scalar and must not be named `id` or `type`")
            }
        }
    }
}

impl std::error::Error for ClientMessageError {}

impl ClientMessage {
    /// A `message` to a channel.
    pub fn message(channel: impl Into<ChannelId>, text: impl Into<String>) -> Self {
        Self::Message(OutgoingMessage::new(channel, text))
    }

    /// A `typing` indicator.
    pub fn typing(channel: impl Into<ChannelId>) -> Self {
        Self::Typing { channel: channel.into() }
    }

    /// The wire `type` of the message.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Message(_) => "message",
            Self::Typing { .. } => "typing",
            Self::Ping(_) => "ping",
            Self::PresenceSub { .. } => "presence_sub",
            Self::PresenceQuery { .. } => "presence_query",
        }
    }

    /// Whether the server answers this message with a `reply_to` (ack or pong).
    pub fn expects_reply(&self) -> bool {
        matches!(self, Self::Message(_) | Self::Ping(_))
    }

    /// Checks Slack's documented limits (all but the frame size, which the codec checks when it
    /// encodes). Cheap: call it before queueing.
    pub fn validate(&self) -> Result<(), ClientMessageError> {
        match self {
            Self::Message(m) => {
                if m.channel.is_empty() {
                    return Err(ClientMessageError::EmptyChannel);
                }
                if m.text.is_empty() {
                    return Err(ClientMessageError::EmptyText);
                }
                // Cheap bound first: 4000 chars are at most 16000 bytes of UTF-8.
                if m.text.len() > MAX_TEXT_CHARS {
                    let chars = m.text.chars().count();
                    if chars > MAX_TEXT_CHARS {
                        return Err(ClientMessageError::TextTooLong { chars });
                    }
                }
                Ok(())
            }
            Self::Typing { channel } => {
                if channel.is_empty() {
                    Err(ClientMessageError::EmptyChannel)
                } else {
                    Ok(())
                }
            }
            Self::Ping(p) => {
                for (name, value) in &p.extra {
                    if name == "id" || name == "type" || value.is_array() || value.is_object() {
                        return Err(ClientMessageError::InvalidPingField { name: name.clone() });
                    }
                }
                Ok(())
            }
            Self::PresenceSub { .. } => Ok(()),
            Self::PresenceQuery { ids } => {
                if ids.len() > MAX_PRESENCE_QUERY_IDS {
                    Err(ClientMessageError::TooManyIds { count: ids.len() })
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        assert!(ClientMessage::message("C1", "a".repeat(4000)).validate().is_ok());
        assert_eq!(
            ClientMessage::message("C1", "é".repeat(4001)).validate(),
            Err(ClientMessageError::TextTooLong { chars: 4001 })
        );
        // 4000 multi-byte characters are fine even though they are more than 4000 bytes.
        assert!(ClientMessage::message("C1", "é".repeat(4000)).validate().is_ok());
        assert_eq!(ClientMessage::message("", "x").validate(), Err(ClientMessageError::EmptyChannel));
        assert_eq!(ClientMessage::message("C1", "").validate(), Err(ClientMessageError::EmptyText));
        assert_eq!(ClientMessage::typing("").validate(), Err(ClientMessageError::EmptyChannel));
        let ids = |n| (0..n).map(|i| UserId::new(format!("U{i}"))).collect::<Vec<_>>();
        assert!(ClientMessage::PresenceQuery { ids: ids(500) }.validate().is_ok());
        assert_eq!(
            ClientMessage::PresenceQuery { ids: ids(501) }.validate(),
            Err(ClientMessageError::TooManyIds { count: 501 })
        );
        assert!(ClientMessage::PresenceSub { ids: ids(2000) }.validate().is_ok());
        let bad = Ping::new().field("nested", serde_json::json!({"a": 1}));
        assert!(matches!(
            ClientMessage::Ping(bad).validate(),
            Err(ClientMessageError::InvalidPingField { .. })
        ));
        let clash = Ping::new().field("id", 3);
        assert!(ClientMessage::Ping(clash).validate().is_err());
        assert!(ClientMessage::Ping(Ping::with_time(5).field("x", "y")).validate().is_ok());
    }

    #[test]
    fn serializes_wire_shapes() {
        let m = ClientMessage::Message(OutgoingMessage::new("C1", "hi").in_thread("1.2").broadcast(true));
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"type":"message","channel":"C1","text":"hi","thread_ts":"1.2","reply_broadcast":true})
        );
        assert_eq!(
            serde_json::to_value(ClientMessage::Ping(Ping::with_time(7))).unwrap(),
            serde_json::json!({"type":"ping","time":7})
        );
        assert_eq!(
            serde_json::to_value(ClientMessage::PresenceSub { ids: vec!["U1".into()] }).unwrap(),
            serde_json::json!({"type":"presence_sub","ids":["U1"]})
        );
    }
}
