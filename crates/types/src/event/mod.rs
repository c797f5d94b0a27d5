//! Events the server sends on the RTM socket.
//!
//! [`Event::from_json`] decodes one text frame. It never fails on valid JSON: a frame whose
//! `type` is unknown, or a known type whose shape is unexpected, becomes [`Event::Unknown`],
//! which keeps the whole frame verbatim. Only invalid JSON is an error.
//!
//! Decoding is two cheap passes: a peek that reads only `type`, `subtype`, `reply_to` and `ok`
//! (skipping everything else without allocating), then a typed decode of the one struct the
//! frame needs. Rarely read parts (a message's `blocks`, `attachments`, `files`) stay
//! [`RawJson`] until asked for.

mod message;
mod types;

pub use message::{Message, MessageSubtype};
pub use types::*;

use crate::RawJson;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

macro_rules! events {
    ($( $(#[$doc:meta])* $wire:literal => $variant:ident($ty:ty), )*) => {
        /// One event from the RTM socket.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* $variant($ty), )*
            /// The answer to a client message that had an `id`: an ack (`ok: true`, with the
            /// message's `ts` and echoed text) or an error reply.
            Reply(Reply),
            /// A frame this version cannot type: an unknown `type`, a known `type` whose shape
            /// was unexpected, or valid JSON that is not an event at all. Nothing is lost: `raw`
            /// is the whole frame, verbatim.
            Unknown {
                /// The frame's `type`, if it had one.
                event_type: Option<String>,
                /// The whole frame.
                raw: RawJson,
                /// Why a known type could not be decoded, if that is what happened.
                shape_error: Option<String>,
            },
        }

        /// Every `type` this version decodes into a typed variant.
        pub const KNOWN_TYPES: &[&str] = &[$($wire,)*];

        impl Event {
            /// The wire `type` (`"reply"` for replies, the frame's own type or `"unknown"` for
            /// [`Event::Unknown`]).
            pub fn event_type(&self) -> &str {
                match self {
                    $( Event::$variant(_) => $wire, )*
                    Event::Reply(_) => "reply",
                    Event::Unknown { event_type, .. } => event_type.as_deref().unwrap_or("unknown"),
                }
            }

            fn decode_typed(kind: &str, text: &str) -> Option<Result<Event, serde_json::Error>> {
                Some(match kind {
                    $( $wire => serde_json::from_str::<$ty>(text).map(Event::$variant), )*
                    _ => return None,
                })
            }
        }

        impl Serialize for Event {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Event::$variant(inner) => Tagged { kind: $wire, inner }.serialize(s), )*
                    Event::Reply(r) => r.serialize(s),
                    Event::Unknown { raw, .. } => raw.serialize(s),
                }
            }
        }
    };
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

/// The fields read by the first, allocation-free pass.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    reply_to: Option<IgnoredAny>,
}

impl Event {
    /// Decodes one text frame.
    ///
    /// Errors only if `text` is not valid JSON; any valid JSON decodes, falling back to
    /// [`Event::Unknown`] with the frame kept verbatim.
    pub fn from_json(text: &str) -> Result<Event, serde_json::Error> {
        let peek = match serde_json::from_str::<Peek<'_>>(text) {
            Ok(p) => p,
            Err(e) => {
                // Not an object, or an object whose `type` is not a string: still valid JSON?
                serde_json::from_str::<IgnoredAny>(text).map_err(|_| e)?;
                return Ok(Event::unknown(None, text, None));
            }
        };
        match peek.kind {
            Some(kind) => match Event::decode_typed(&kind, text) {
                Some(Ok(ev)) => Ok(ev),
                Some(Err(e)) => Ok(Event::unknown(Some(kind.into_owned()), text, Some(e.to_string()))),
                None => Ok(Event::unknown(Some(kind.into_owned()), text, None)),
            },
            None if peek.reply_to.is_some() => match serde_json::from_str::<Reply>(text) {
                Ok(r) => Ok(Event::Reply(r)),
                Err(e) => Ok(Event::unknown(None, text, Some(e.to_string()))),
            },
            None => Ok(Event::unknown(None, text, None)),
        }
    }

    fn unknown(event_type: Option<String>, text: &str, shape_error: Option<String>) -> Event {
        Event::Unknown { event_type, raw: RawJson::from_trusted(text), shape_error }
    }
}

events! {
    /// `hello`: the first frame of a good connection.
    "hello" => Hello(Hello),
    /// `goodbye`: the server is about to close this connection; reconnect.
    "goodbye" => Goodbye(Goodbye),
    /// `reconnect_url`: an alternative URL. Unsupported by Slack: record it, never use it.
    "reconnect_url" => ReconnectUrl(ReconnectUrl),
    /// `team_migration_started`: the socket closes right after; reconnect with backoff.
    "team_migration_started" => TeamMigrationStarted(TeamMigrationStarted),
    /// `error`: e.g. code 1, "Socket URL has expired".
    "error" => Error(ErrorEvent),
    /// `pong`: the answer to an application-level `ping`.
    "pong" => Pong(Pong),
    /// `message`, with any subtype.
    "message" => Message(Message),
    /// `presence_change`, in either the single (`user`) or batched (`users`) form.
    "presence_change" => PresenceChange(PresenceChange),
    /// `manual_presence_change`: the connecting user changed their own presence.
    "manual_presence_change" => ManualPresenceChange(ManualPresenceChange),
    /// `user_typing`: someone is typing in a channel.
    "user_typing" => UserTyping(UserTyping),
}
