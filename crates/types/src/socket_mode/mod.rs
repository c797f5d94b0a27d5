//! Socket Mode: the frames Slack sends on an app's socket, and the ack a client sends back.
//!
//! [`SocketFrame::from_json`] decodes one text frame into [`SocketModeHello`], [`Disconnect`], an
//! [`Envelope`] or [`SocketFrame::Unknown`]; like RTM's [`Event::from_json`](crate::Event::from_json)
//! it never fails on valid JSON, and an unknown type or an unexpected shape is kept verbatim.
//!
//! An envelope must be acknowledged within 3 s, so the ack never waits for a decode:
//! [`EnvelopeFrame`] finds an envelope's `envelope_id` and `type` with the same light scan as
//! RTM's [`EventFrame`](crate::EventFrame), and an [`Envelope`] keeps its `payload` as
//! [`RawJson`] until [`Envelope::decode_payload`] is asked for it: [`EventCallback`] for
//! `events_api`, [`SlashCommand`] for `slash_commands`, [`Interactive`] for `interactive`.
//!
//! ```
//! use slack_rtm_types::socket_mode::{EnvelopeFrame, Payload, SocketFrame};
//!
//! let text = r#"{"envelope_id":"57d6a792","payload":{"command":"/weather","text":"paris",
//!     "user_id":"U1","channel_id":"C1","team_id":"T1"},"type":"slash_commands",
//!     "accepts_response_payload":true}"#;
//! let frame = EnvelopeFrame::new(text.to_owned()).expect("an envelope");
//! assert_eq!((frame.envelope_id(), frame.envelope_type()), ("57d6a792", "slash_commands"));
//! // ... ack now with frame.envelope_id(), decode later:
//! let SocketFrame::Envelope(envelope) = frame.decode().unwrap() else { panic!() };
//! let Payload::SlashCommand(cmd) = envelope.decode_payload() else { panic!() };
//! assert_eq!(cmd.command, "/weather");
//! ```

mod elements;
mod events_api;
mod interactive;

pub use elements::*;
mod assistant;

pub use assistant::*;
pub use events_api::*;
pub use interactive::*;

use crate::RawJson;
use crate::scan::{Scan, top_level_strings};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Slack's limit on an ack frame: one of this size or more is dropped (or the socket closed),
/// so an encoder refuses it before it is sent.
pub const MAX_ACK_BYTES: usize = 20 * 1024;

/// `debug_info` of `hello` and `disconnect`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugInfo {
    /// The server that holds the socket, e.g. `applink-7fc4fdbb64-4x5xq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The server's build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_number: Option<u64>,
    /// How long (seconds) Slack means to keep this socket before refreshing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_connection_time: Option<u64>,
}

/// `connection_info` of `hello`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// The app the socket belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
}

/// `hello`: the socket is ready.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketModeHello {
    /// How many sockets the app holds now, this one included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_connections: Option<u32>,
    /// The server and the socket's planned lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_info: Option<DebugInfo>,
    /// The app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_info: Option<ConnectionInfo>,
}

wire_enum! {
    /// Why Slack is about to close (or refuses) a socket.
    pub enum DisconnectReason {
        /// The socket will be refreshed in about 10 s: open a replacement now.
        Warning = "warning",
        /// Routine recycling: replace the socket.
        RefreshRequested = "refresh_requested",
        /// More sockets than the app's limit (10): back off, never reconnect in a tight loop.
        TooManyWebsockets = "too_many_websockets",
        /// Socket Mode was turned off for the app: fatal, stop.
        LinkDisabled = "link_disabled",
    }
}

impl DisconnectReason {
    /// Whether no reconnection can help (`link_disabled`).
    pub fn is_fatal(&self) -> bool {
        matches!(self, DisconnectReason::LinkDisabled)
    }
}

/// `disconnect`: Slack is about to close this socket (or refuses it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// Why.
    pub reason: DisconnectReason,
    /// The server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_info: Option<DebugInfo>,
}

wire_enum! {
    /// What an envelope carries.
    pub enum EnvelopeType {
        /// An Events API `event_callback` ([`EventCallback`]).
        EventsApi = "events_api",
        /// A slash command ([`SlashCommand`]).
        SlashCommands = "slash_commands",
        /// An interaction: block actions, view submissions, shortcuts, ... ([`Interactive`]).
        Interactive = "interactive",
    }
}

/// An envelope: something Slack delivers at least once and the client must acknowledge
/// ([`Envelope::ack`]) within 3 s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The id to acknowledge. A redelivery has a new one.
    pub envelope_id: String,
    /// What the payload is.
    #[serde(rename = "type")]
    pub envelope_type: EnvelopeType,
    /// Whether the ack may carry a response payload (slash commands, view submissions, block
    /// suggestions).
    #[serde(default)]
    pub accepts_response_payload: bool,
    /// 0 for a first delivery; 1, 2, 3 for redeliveries.
    #[serde(default)]
    pub retry_attempt: u32,
    /// Why it is redelivered (`timeout`, ...); `None` (or empty) for a first delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_reason: Option<String>,
    /// The payload, verbatim: decode it with [`Envelope::decode_payload`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<RawJson>,
}

impl Envelope {
    /// The ack for this envelope, without a response payload.
    pub fn ack(&self) -> EnvelopeAck {
        EnvelopeAck::new(self.envelope_id.clone())
    }

    /// Whether this is a redelivery (`retry_attempt` above 0).
    pub fn is_retry(&self) -> bool {
        self.retry_attempt > 0
    }

    /// Decodes the payload by the envelope's type. Never fails: anything that cannot be typed
    /// is [`Payload::Unknown`], with the payload kept verbatim.
    pub fn decode_payload(&self) -> Payload {
        let Some(raw) = &self.payload else {
            return Payload::Unknown { raw: RawJson::from_trusted("null"), shape_error: None };
        };
        Payload::decode(&self.envelope_type, raw)
    }
}

impl Payload {
    /// Decodes `raw` as the payload of an envelope of `envelope_type`, as
    /// [`Envelope::decode_payload`] does (never fails; no copy of `raw` unless it is kept
    /// verbatim in [`Payload::Unknown`]).
    pub fn decode(envelope_type: &EnvelopeType, raw: &RawJson) -> Payload {
        let shape =
            |e: serde_json::Error| Payload::Unknown { raw: raw.clone(), shape_error: Some(e.to_string()) };
        match envelope_type {
            EnvelopeType::EventsApi => match raw.parse::<EventCallback>() {
                Ok(cb) => Payload::EventsApi(Box::new(cb)),
                Err(e) => shape(e),
            },
            EnvelopeType::SlashCommands => match raw.parse::<SlashCommand>() {
                Ok(cmd) => Payload::SlashCommand(Box::new(cmd)),
                Err(e) => shape(e),
            },
            EnvelopeType::Interactive => Payload::Interactive(Box::new(Interactive::from_raw(raw))),
            EnvelopeType::Other(_) => Payload::Unknown { raw: raw.clone(), shape_error: None },
        }
    }
}

/// An envelope's decoded payload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// `events_api`.
    EventsApi(Box<EventCallback>),
    /// `slash_commands`.
    SlashCommand(Box<SlashCommand>),
    /// `interactive` (itself never failing: see [`Interactive::Unknown`]).
    Interactive(Box<Interactive>),
    /// An unknown envelope type, a payload of an unexpected shape, or no payload (`null`).
    Unknown {
        /// The payload, verbatim.
        raw: RawJson,
        /// Why a known type could not be decoded, if that is what happened.
        shape_error: Option<String>,
    },
}

/// One text frame from a Socket Mode socket.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SocketFrame {
    /// `hello`.
    Hello(SocketModeHello),
    /// `disconnect`.
    Disconnect(Disconnect),
    /// An envelope (any frame with an `envelope_id` that is not `hello` or `disconnect`).
    Envelope(Box<Envelope>),
    /// Anything else, kept verbatim: an unknown type, a known one of an unexpected shape, or
    /// valid JSON that is not a frame at all.
    Unknown {
        /// The frame's `type`, if it had one.
        frame_type: Option<String>,
        /// The whole frame.
        raw: RawJson,
        /// Why a known type could not be decoded, if that is what happened.
        shape_error: Option<String>,
    },
}

/// The fields read by the slow-path peek.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    envelope_id: Option<IgnoredAny>,
}

impl SocketFrame {
    /// Decodes one text frame. Errors only if `text` is not valid JSON.
    pub fn from_json(text: &str) -> Result<SocketFrame, serde_json::Error> {
        if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
            serde_json::from_str::<IgnoredAny>(text)?;
            return Ok(SocketFrame::unknown(None, text, None));
        }
        match top_level_strings(text.as_bytes(), [b"type", b"envelope_id"], b"") {
            Scan::Found { values: [kind, id], .. } => SocketFrame::decode_kind(kind, id.is_some(), text),
            Scan::Unsure => {
                let peek = match serde_json::from_str::<Peek<'_>>(text) {
                    Ok(p) => p,
                    Err(e) => {
                        // A `type` that is not a string: still valid JSON?
                        serde_json::from_str::<IgnoredAny>(text).map_err(|_| e)?;
                        return Ok(SocketFrame::unknown(None, text, None));
                    }
                };
                SocketFrame::decode_kind(peek.kind.as_deref(), peek.envelope_id.is_some(), text)
            }
        }
    }

    /// The frame's `type` (`"unknown"` when it had none).
    pub fn frame_type(&self) -> &str {
        match self {
            SocketFrame::Hello(_) => "hello",
            SocketFrame::Disconnect(_) => "disconnect",
            SocketFrame::Envelope(e) => e.envelope_type.as_str(),
            SocketFrame::Unknown { frame_type, .. } => frame_type.as_deref().unwrap_or("unknown"),
        }
    }

    fn decode_kind(kind: Option<&str>, has_id: bool, text: &str) -> Result<SocketFrame, serde_json::Error> {
        let typed = match kind {
            Some("hello") => serde_json::from_str(text).map(SocketFrame::Hello),
            Some("disconnect") => serde_json::from_str(text).map(SocketFrame::Disconnect),
            _ if has_id => serde_json::from_str(text).map(|e| SocketFrame::Envelope(Box::new(e))),
            _ => {
                serde_json::from_str::<IgnoredAny>(text)?;
                return Ok(SocketFrame::unknown(kind.map(str::to_owned), text, None));
            }
        };
        match typed {
            Ok(frame) => Ok(frame),
            Err(e) if e.is_data() => {
                // A data error can hide a later syntax error (serde stops at the first problem).
                serde_json::from_str::<IgnoredAny>(text)?;
                Ok(SocketFrame::unknown(kind.map(str::to_owned), text, Some(e.to_string())))
            }
            Err(e) => Err(e),
        }
    }

    fn unknown(frame_type: Option<String>, text: &str, shape_error: Option<String>) -> SocketFrame {
        SocketFrame::Unknown { frame_type, raw: RawJson::from_trusted(text), shape_error }
    }
}

/// A text frame whose top-level `envelope_id` and `type` have already been found by the light
/// scan (no parsing, no allocation beyond the frame itself): the envelope can be acknowledged
/// at once ([`EnvelopeFrame::ack`]) and decoded later, elsewhere ([`EnvelopeFrame::decode`]).
///
/// The same walk reads the rest of what a session and a dispatcher need without a decode
/// ([`EnvelopeFrame::parts`]): the payload's text, the `retry_*` fields, the `event_id` and
/// the inner event's `type`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EnvelopeFrame {
    text: String,
    id: (usize, usize),
    kind: (usize, usize),
    parts: Option<crate::scan_envelope::Parts>,
}

/// The parts of an envelope read by [`EnvelopeFrame`]'s scan, borrowed from the frame: what
/// serde would read for them from the same text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeParts<'a> {
    /// The `payload` object, verbatim (`None`: absent or `null`).
    pub payload: Option<&'a str>,
    /// `retry_attempt` (0 when absent).
    pub retry_attempt: u32,
    /// `retry_reason` (`None`: absent or `null`).
    pub retry_reason: Option<&'a str>,
    /// `accepts_response_payload` (`false` when absent).
    pub accepts_response_payload: bool,
    /// The payload's `event_id` (`None`: absent or `null`).
    pub event_id: Option<&'a str>,
    /// The type of the payload's `event` (`None`: absent or `null`).
    pub event_type: Option<&'a str>,
}

impl EnvelopeFrame {
    /// Scans `text` for a top-level `envelope_id` and `type` that are plain strings;
    /// `Err(text)` (given back untouched) otherwise — `hello`, `disconnect`, frames the light
    /// scan cannot read — which decode with [`SocketFrame::from_json`]. Never a validity check.
    pub fn new(text: String) -> Result<EnvelopeFrame, String> {
        let (kind, id, parts) = match crate::scan_envelope::scan_envelope(text.as_bytes()) {
            Some(s) => (s.kind, s.id, s.parts),
            // Cut short or odd: the top-level pair alone, as far as the light scan reads it.
            None => match top_level_strings(text.as_bytes(), [b"type", b"envelope_id"], b"") {
                Scan::Found { values: [Some(kind), Some(id)], .. } => {
                    // Both are slices of `text`: their offsets are the distances between the two.
                    let at = |s: &str| {
                        let start = s.as_ptr() as usize - text.as_ptr() as usize;
                        (start, start + s.len())
                    };
                    (Some(at(kind)), Some(at(id)), None)
                }
                _ => (None, None, None),
            },
        };
        match (kind, id) {
            (Some(kind), Some(id)) if !matches!(&text[kind.0..kind.1], "hello" | "disconnect") => {
                Ok(EnvelopeFrame { text, id, kind, parts })
            }
            _ => Err(text),
        }
    }

    /// The payload, the `retry_*` fields, the `event_id` and the inner event's type, as the
    /// scan read them; `None` when it could not read them exactly as serde would (an escape, a
    /// value of an unexpected kind, a key twice, a frame cut short): decode then.
    pub fn parts(&self) -> Option<EnvelopeParts<'_>> {
        let p = self.parts?;
        let text = |s: Option<(usize, usize)>| s.map(|(a, b)| &self.text[a..b]);
        Some(EnvelopeParts {
            payload: text(p.payload),
            retry_attempt: p.retry_attempt,
            retry_reason: text(p.retry_reason),
            accepts_response_payload: p.accepts_response_payload,
            event_id: text(p.event_id),
            event_type: text(p.event_type),
        })
    }

    /// The `retry_attempt` and `retry_reason` as the scan read them (as in
    /// [`EnvelopeFrame::parts`], without slicing the other parts out of the text); `None` when
    /// the scan could not read the envelope (decode then).
    #[inline]
    pub fn retry(&self) -> Option<(u32, Option<&str>)> {
        let p = self.parts.as_ref()?;
        Some((p.retry_attempt, p.retry_reason.map(|(a, b)| &self.text[a..b])))
    }

    /// The payload as [`RawJson`] (a copy of its text, no parse) when the scan read it
    /// ([`EnvelopeFrame::parts`]); `None` when it is absent, `null`, or not read (decode then).
    pub fn payload_json(&self) -> Option<RawJson> {
        self.parts()?.payload.map(RawJson::from_trusted)
    }

    /// [`EnvelopeFrame::payload_json`] taking the frame's text over: the payload is handed on
    /// where it lies in the frame, with no copy, and the frame is left empty (its text, id and
    /// type read `""`, [`EnvelopeFrame::parts`] `None`). `None`, the frame untouched, when the
    /// scan did not read the payload (absent, `null`, or not read: decode then).
    #[inline]
    pub fn take_payload(&mut self) -> Option<RawJson> {
        let (start, end) = self.parts?.payload?;
        let text = std::mem::take(&mut self.text);
        (self.id, self.kind, self.parts) = ((0, 0), (0, 0), None);
        Some(RawJson::within(text, start..end))
    }

    /// The envelope's id.
    #[inline]
    pub fn envelope_id(&self) -> &str {
        &self.text[self.id.0..self.id.1]
    }

    /// The envelope's type, e.g. `"events_api"`.
    #[inline]
    pub fn envelope_type(&self) -> &str {
        &self.text[self.kind.0..self.kind.1]
    }

    /// The ack for this envelope (without a response payload).
    pub fn ack(&self) -> EnvelopeAck {
        EnvelopeAck::new(self.envelope_id())
    }

    /// The frame, verbatim.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The frame, verbatim.
    pub fn into_string(self) -> String {
        self.text
    }

    /// Decodes the frame: the same result as [`SocketFrame::from_json`] on the same text.
    pub fn decode(&self) -> Result<SocketFrame, serde_json::Error> {
        SocketFrame::decode_kind(Some(self.envelope_type()), true, &self.text)
    }
}

impl std::fmt::Debug for EnvelopeFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeFrame")
            .field("envelope_id", &self.envelope_id())
            .field("envelope_type", &self.envelope_type())
            .field("text", &self.text)
            .finish()
    }
}

/// The client's acknowledgement of an envelope: `{"envelope_id":"…"}`, with an optional
/// response `payload` when the envelope [accepts one](Envelope::accepts_response_payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeAck {
    /// The envelope acknowledged.
    pub envelope_id: String,
    /// The response (a slash command's reply, a view submission's `response_action`, a block
    /// suggestion's `options`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<RawJson>,
}

impl EnvelopeAck {
    /// An ack without a response payload.
    pub fn new(envelope_id: impl Into<String>) -> Self {
        Self { envelope_id: envelope_id.into(), payload: None }
    }

    /// An ack carrying a response payload.
    pub fn with_payload(envelope_id: impl Into<String>, payload: RawJson) -> Self {
        Self { envelope_id: envelope_id.into(), payload: Some(payload) }
    }
}
