//! What goes in and out of the Socket Mode machine.

use crate::common::{ConnId, ConnectFailure, Reason, SkippedFrame, Warning};
use slack_rtm_codec::OpenResponse;
use slack_rtm_codec::types::socket_mode::{DisconnectReason, EnvelopeFrame};
use std::fmt;
use std::time::{Duration, Instant};

/// One thing read from a Socket Mode socket, as the machine takes it in [`SocketModeInput::Frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketModeIncoming {
    /// An envelope whose id and type were found by the light scan: it can be acked before its
    /// payload is decoded.
    Envelope(EnvelopeFrame),
    /// Any other text message (`hello`, `disconnect`, unknown frames): decoded by the machine.
    Text(String),
    /// A message skipped before decoding (binary, or text that is not UTF-8).
    Skipped(SkippedFrame),
    /// Proof of life without a message: a WebSocket ping or pong, one fragment of a message.
    Activity,
}

impl SocketModeIncoming {
    /// Classifies one complete WebSocket message: `text` is whether its opcode was text,
    /// `payload` its bytes. Copies the payload once, and only a valid text message.
    pub fn message(text: bool, payload: &[u8]) -> SocketModeIncoming {
        match crate::common::message_text(text, payload) {
            Ok(text) => SocketModeIncoming::text(text.to_owned()),
            Err(skipped) => SocketModeIncoming::Skipped(skipped),
        }
    }

    /// Classifies a text message the caller already owns (no copy).
    pub fn text(text: String) -> SocketModeIncoming {
        match EnvelopeFrame::new(text) {
            Ok(frame) => SocketModeIncoming::Envelope(frame),
            Err(text) => SocketModeIncoming::Text(text),
        }
    }
}

/// What happened, fed to [`SocketModeSession::handle`](super::SocketModeSession::handle).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SocketModeInput {
    /// The answer to [`SocketModeOutput::CallOpen`] (`apps.connections.open`).
    OpenResult(Result<OpenResponse, ConnectFailure>),
    /// The socket of [`SocketModeOutput::OpenSocket`] is open (the WebSocket handshake is done).
    SocketOpened {
        /// The socket.
        conn: ConnId,
    },
    /// Something was read from a socket.
    Frame {
        /// The socket.
        conn: ConnId,
        /// What was read.
        frame: SocketModeIncoming,
    },
    /// A socket ended, could not be opened, or a write on it failed.
    SocketClosed {
        /// The socket.
        conn: ConnId,
        /// Why.
        reason: Reason,
    },
    /// The application stopped (`true`) or resumed taking envelopes: liveness deadlines are
    /// frozen meanwhile (the driver stops reading sockets).
    Backpressure(bool),
}

/// What to do, drained from [`SocketModeSession::poll_output`](super::SocketModeSession::poll_output).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SocketModeOutput {
    /// Call `apps.connections.open`; answer with [`SocketModeInput::OpenResult`].
    CallOpen,
    /// Open this single-use URL as socket `conn`; answer with [`SocketModeInput::SocketOpened`] or
    /// [`SocketModeInput::SocketClosed`].
    OpenSocket {
        /// The socket's id.
        conn: ConnId,
        /// The URL (holds a one-time ticket: never log it).
        url: String,
    },
    /// Write this text frame (an ack) on `conn`; if it cannot be written, report
    /// [`SocketModeInput::SocketClosed`].
    Send {
        /// The socket the envelope came from.
        conn: ConnId,
        /// The encoded ack.
        text: String,
    },
    /// Write a WebSocket ping on `conn` (liveness: any frame back counts).
    Ping {
        /// The socket.
        conn: ConnId,
    },
    /// Close `conn` with this close code and forget it.
    Close {
        /// The socket.
        conn: ConnId,
        /// The close code.
        code: u16,
    },
    /// Hand this envelope to the application (decode it there).
    Deliver(Delivered),
    /// Tell the application.
    Event(SocketModeEvent),
}

/// An envelope handed to the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The socket it came from (its ack goes out there).
    pub conn: ConnId,
    /// The frame, verbatim.
    pub frame: EnvelopeFrame,
    /// The `event_id` of an `events_api` envelope.
    pub event_id: Option<String>,
    /// The inner event's `type` (`message`, `app_mention`, …) of an `events_api` envelope,
    /// read in the same pass as its `event_id` (so a router needs no decode to pick a listener).
    pub event_type: Option<String>,
    /// Whether the session already acked it ([`AckMode::Auto`](super::AckMode::Auto)).
    pub acked: bool,
    /// Manual ack mode: its place in the order the envelopes waiting for an ack were handed
    /// over (`None` in auto mode). An ack that names it
    /// ([`SocketModeHandle::ack_detached_in_order`](crate::driver::SocketModeHandle::ack_detached_in_order))
    /// costs less when the acks come in this order.
    pub seq: Option<DeliverySeq>,
}

/// An envelope's place in the order the envelopes waiting for an ack were handed over (manual
/// ack mode; never reused within a session): see [`Delivered::seq`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliverySeq(std::num::NonZeroU64);

impl DeliverySeq {
    /// The envelope numbered `n` (kept as `n + 1`: an `Option<DeliverySeq>` takes 8 bytes).
    pub(crate) fn new(n: u64) -> Self {
        Self(std::num::NonZeroU64::MIN.saturating_add(n))
    }

    /// The number (the first envelope handed over is 0).
    pub fn get(self) -> u64 {
        self.0.get() - 1
    }
}

pub use crate::common::StopReason;

/// What the machine tells the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SocketModeEvent {
    /// The session started.
    Connecting,
    /// A socket said `hello`.
    Connected {
        /// The socket.
        conn: ConnId,
        /// Sockets serving now (this one included).
        sockets: usize,
    },
    /// A socket ended (a replacement is on its way unless the session is stopping).
    Disconnected {
        /// The socket.
        conn: ConnId,
        /// Why.
        reason: Reason,
        /// Sockets still serving.
        sockets: usize,
    },
    /// Slack announced that a socket goes away (`warning`, `refresh_requested`): a replacement
    /// is opened before it is closed.
    Replacing {
        /// The socket.
        conn: ConnId,
        /// Slack's reason.
        reason: DisconnectReason,
    },
    /// After a failure, the next `apps.connections.open` waits `delay`.
    Reconnecting {
        /// Failures in a row.
        attempt: u32,
        /// The failure.
        reason: Reason,
        /// The wait.
        delay: Duration,
    },
    /// `too_many_websockets`: the session holds at most `target` sockets until `until`.
    TooManyWebsockets {
        /// The lowered count.
        target: usize,
        /// Until when.
        until: Instant,
    },
    /// No socket was serving from `from` to `to`: Slack queued what happened meanwhile and
    /// redelivers it.
    Gap {
        /// When the last socket went away.
        from: Instant,
        /// When one said hello again.
        to: Instant,
    },
    /// A redelivery of an event already handed over: acked, not handed over again.
    Duplicate {
        /// The redelivery's envelope.
        envelope_id: String,
        /// The event.
        event_id: String,
        /// Its `retry_attempt`.
        retry_attempt: u32,
    },
    /// Manual mode: a redelivery of an event the application is still handling (handed over,
    /// neither acked nor released): neither handed over again nor acked. If the application
    /// never acks, Slack delivers it again later.
    RedeliveryHeld {
        /// The redelivery's envelope.
        envelope_id: String,
        /// The event.
        event_id: String,
        /// Its `retry_attempt`.
        retry_attempt: u32,
    },
    /// Manual mode: this envelope's ack deadline is near.
    AckDue {
        /// The envelope.
        envelope_id: String,
        /// Time left.
        remaining: Duration,
    },
    /// Manual mode: this envelope's ack deadline passed without an ack (Slack redelivers it).
    AckMissed {
        /// The envelope.
        envelope_id: String,
    },
    /// Manual mode: an ack was sent after the deadline.
    AckLate {
        /// The envelope.
        envelope_id: String,
        /// How late.
        late_by: Duration,
    },
    /// A frame that is not an envelope, `hello` or `disconnect`, kept verbatim.
    Unknown {
        /// The frame.
        raw: String,
    },
    /// Something was skipped or could not be decoded.
    Warning(Warning),
    /// The session stopped; nothing follows.
    Stopped {
        /// Why.
        reason: StopReason,
    },
}

/// Why an ack was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryAckError {
    /// The socket the envelope came from is gone: the ack cannot go anywhere else. Slack
    /// redelivers the envelope; the session recognises the redelivery (same `event_id`) and
    /// does not hand it over again.
    #[error("the envelope's socket is gone: the ack was not sent (Slack will redeliver)")]
    Unsent,
    /// The session acked this envelope itself when it handed it over ([`AckMode::Auto`]); a
    /// response payload needs [`AckMode::Manual`].
    ///
    /// [`AckMode::Auto`]: super::AckMode::Auto
    /// [`AckMode::Manual`]: super::AckMode::Manual
    #[error(
        "the session already acked this envelope (auto ack mode); a response payload needs AckMode::Manual"
    )]
    AlreadyAcked,
    /// Not waiting for an ack: already acked, or forgotten.
    #[error("no ack is expected for this envelope (already acked, or forgotten)")]
    Unknown,
    /// The ack cannot be encoded (too large, empty id, invalid payload).
    #[error(transparent)]
    Invalid(#[from] slack_rtm_codec::AckEncodeError),
    /// The session is stopped.
    #[error("the session is stopped")]
    Stopped,
}

/// The overall state.
pub use crate::common::State;

/// "1 socket" / "2 sockets".
fn sockets(n: usize) -> String {
    if n == 1 { "1 socket".to_owned() } else { format!("{n} sockets") }
}

/// A duration for a person: "640 ms", "12 s".
fn human(d: Duration) -> String {
    if d < Duration::from_secs(10) { format!("{} ms", d.as_millis()) } else { format!("{} s", d.as_secs()) }
}

/// Sentences for a person (the CLI's lifecycle lines); `Debug` has the fields.
impl fmt::Display for SocketModeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketModeEvent::Connecting => f.write_str("connecting"),
            SocketModeEvent::Connected { conn, sockets: n } => {
                write!(f, "socket {} connected ({} open)", conn.0, sockets(*n))
            }
            SocketModeEvent::Disconnected { conn, reason, sockets: n } => {
                write!(f, "socket {} closed: {reason} ({} still open)", conn.0, sockets(*n))
            }
            SocketModeEvent::Replacing { conn, reason } => write!(
                f,
                "Slack will refresh socket {} ({}): opening its replacement before letting it go",
                conn.0,
                reason.as_str()
            ),
            SocketModeEvent::Reconnecting { attempt, reason, delay } => {
                write!(f, "reconnecting in {} (attempt {attempt}): {reason}", human(*delay))
            }
            SocketModeEvent::TooManyWebsockets { target, .. } => write!(
                f,
                "Slack says the app has too many sockets open (too_many_websockets): holding at most {} for a while",
                sockets(*target)
            ),
            SocketModeEvent::Gap { from, to } => write!(
                f,
                "no socket was open for {}: Slack delivers the events of that time once one is open again",
                human(to.saturating_duration_since(*from))
            ),
            SocketModeEvent::Duplicate { event_id, retry_attempt, .. } => {
                write!(
                    f,
                    "Slack delivered event {event_id} again (retry {retry_attempt}): acked, not handed over again"
                )
            }
            SocketModeEvent::RedeliveryHeld { event_id, retry_attempt, .. } => write!(
                f,
                "Slack delivered event {event_id} again (retry {retry_attempt}) while the app is still handling it: held"
            ),
            SocketModeEvent::AckDue { envelope_id, remaining } => {
                write!(f, "envelope {envelope_id} must be acked within {}", human(*remaining))
            }
            SocketModeEvent::AckMissed { envelope_id } => {
                write!(f, "envelope {envelope_id} was not acked in time: Slack will deliver it again")
            }
            SocketModeEvent::AckLate { envelope_id, late_by } => {
                write!(f, "envelope {envelope_id} was acked {} too late", human(*late_by))
            }
            SocketModeEvent::Unknown { raw } => {
                write!(f, "skipped a frame of an unknown kind ({} bytes)", raw.len())
            }
            SocketModeEvent::Warning(w) => write!(f, "{w}"),
            SocketModeEvent::Stopped { reason } => write!(f, "stopped: {reason}"),
        }
    }
}

impl crate::common::SocketInput for SocketModeInput {
    fn message(conn: ConnId, text: bool, payload: &[u8]) -> Self {
        SocketModeInput::Frame { conn, frame: SocketModeIncoming::message(text, payload) }
    }
    fn activity(conn: ConnId) -> Self {
        SocketModeInput::Frame { conn, frame: SocketModeIncoming::Activity }
    }
    fn skipped(conn: ConnId, frame: SkippedFrame) -> Self {
        SocketModeInput::Frame { conn, frame: SocketModeIncoming::Skipped(frame) }
    }
    fn opened(conn: ConnId) -> Self {
        SocketModeInput::SocketOpened { conn }
    }
    fn closed(conn: ConnId, reason: Reason) -> Self {
        SocketModeInput::SocketClosed { conn, reason }
    }
    fn backpressure(on: bool) -> Self {
        SocketModeInput::Backpressure(on)
    }
    fn closed_reason(&self) -> Option<(ConnId, &Reason)> {
        match self {
            SocketModeInput::SocketClosed { conn, reason } => Some((*conn, reason)),
            _ => None,
        }
    }
}
