//! What goes in and out of the machine: inputs, outputs, events, acks and errors.

pub use crate::common::{
    ConnId, ConnectFailure, FailureKind, Reason, SkippedFrame, State, StopReason, Warning,
};
use slack_rtm_codec::types::{ClientMessageError, Event, SelfInfo, TeamInfo, Ts};
use slack_rtm_codec::{ConnectResponse, EventFrame};
use std::fmt;
use std::time::{Duration, Instant};

/// Identifies one submitted request for the whole session (unlike the wire `id`, which is per
/// connection and may change if the request is sent again after a reconnect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request#{}", self.0)
    }
}

// Events are moved, not boxed: a box would cost an allocation per event. The size comes from
// `Event` itself.
#[allow(clippy::large_enum_variant)]
/// What the application sees: lifecycle changes and every server event.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// The session started its first connection attempt.
    Connecting,
    /// A connection is up (`hello` received).
    Connected {
        /// The connecting user.
        self_: SelfInfo,
        /// The workspace.
        team: TeamInfo,
        /// The connection.
        conn: ConnId,
        /// Whether this replaces an earlier connection.
        reconnect: bool,
    },
    /// A new connection will be attempted after `delay`.
    Reconnecting {
        /// Failed attempts in a row, this one included (1 = first retry after a healthy run).
        attempt: u32,
        /// Why.
        reason: Reason,
        /// How long the session waits before calling `rtm.connect`.
        delay: Duration,
    },
    /// The session lost its last usable connection; events may be missed until the next
    /// `Connected`, which is followed by a [`SessionEvent::Gap`].
    Disconnected {
        /// Why.
        reason: Reason,
    },
    /// Events may have been missed between these instants (the session had no connection).
    /// Refetch history (e.g. `conversations.history`) if it matters.
    Gap {
        /// When the last connection was lost.
        from: Instant,
        /// When the new connection said `hello`.
        to: Instant,
    },
    /// Something worth knowing that stops nothing.
    Warning(Warning),
    /// A server event, typed. Every frame is delivered except `hello` (reported as
    /// [`SessionEvent::Connected`]), the replies and pongs that answer requests (reported
    /// through their completion), and duplicates dropped across a make-before-break reconnect.
    Rtm(Event),
    /// The session stopped; nothing follows.
    Stopped {
        /// Why ([`StopReason::Shutdown`] after a shutdown requested by the application).
        reason: StopReason,
    },
}

/// A successful outcome of a request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RtmAck {
    /// A `message` was posted.
    Posted {
        /// Its timestamp (its id in the channel).
        ts: Option<Ts>,
        /// The text as Slack posted it (links may have been formatted).
        text: Option<String>,
    },
    /// A `ping` was answered.
    Pong {
        /// The echoed extra fields.
        extra: serde_json::Map<String, serde_json::Value>,
    },
    /// A request that has no reply (`typing`, `presence_sub`, `presence_query`) was written
    /// to the socket.
    Written,
    /// A `typing` dropped by the per-channel throttle (one per 3 s); nothing was sent.
    Throttled,
}

/// Why a request failed after it was accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The server refused it with an error reply.
    #[error("the server refused the message: error {code}: {msg}")]
    Rejected {
        /// The code (`-1` slow down, `0` invalid channel, `2` no text, `4` cannot process, …).
        code: i64,
        /// The server's message.
        msg: String,
    },
    /// The request waited in the queue past its deadline and was never sent.
    #[error("the request was not sent before its deadline (not posted)")]
    QueueTimeout,
    /// The frame was written but no reply came in time: it may or may not have been posted.
    #[error("no reply in time: the message may or may not have been posted")]
    AckTimeout,
    /// The connection died after the frame was written and before the reply: it may or may not
    /// have been posted.
    #[error("the connection died after the message was written: it may or may not have been posted")]
    Unconfirmed,
    /// The session stopped (shutdown or a fatal error) before the request was written: it was
    /// not sent.
    #[error("the session stopped before the request was sent (not posted)")]
    Stopped,
    /// Refused before queueing: over Slack's limits.
    #[error("invalid message: {0}")]
    Invalid(ClientMessageError),
    /// Refused before queueing: the queue is full.
    #[error("the send queue is full")]
    QueueFull,
}

impl SendError {
    /// Whether the message may have reached Slack (so blindly retrying could post it twice).
    pub fn may_have_been_posted(&self) -> bool {
        matches!(self, SendError::AckTimeout | SendError::Unconfirmed)
    }
}

impl From<SubmitError> for SendError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Invalid(e) => SendError::Invalid(e),
            SubmitError::QueueFull => SendError::QueueFull,
            SubmitError::Stopped => SendError::Stopped,
        }
    }
}

/// Why a request was refused before being queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// Over Slack's limits (4000 characters, 16 KB frame, 500 `presence_query` ids, …).
    #[error("invalid message: {0}")]
    Invalid(ClientMessageError),
    /// [`SendingConfig::queue_capacity`](super::SendingConfig::queue_capacity) requests are
    /// already outstanding.
    #[error("the send queue is full")]
    QueueFull,
    /// The session is shutting down or has stopped.
    #[error("the session is shutting down or stopped")]
    Stopped,
}

/// An input to the machine.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RtmInput {
    /// The answer to [`RtmOutput::CallConnect`]: the parsed `rtm.connect` response (its
    /// `obtained_at` is when it arrived) or why it failed. Boxed: every input, a frame read
    /// from the socket included, is as large as the largest variant, and inputs are moved
    /// several times on their way from the socket to the machine.
    ConnectResult(Box<Result<ConnectResponse, ConnectFailure>>),
    /// The socket asked for by [`RtmOutput::OpenSocket`] is open (WebSocket handshake done).
    SocketOpened {
        /// The connection.
        conn: ConnId,
    },
    /// Something read from the socket: a complete message, classified by
    /// [`RtmIncoming::message`](super::RtmIncoming::message), or proof of life. Every one counts as
    /// liveness.
    Frame {
        /// The connection.
        conn: ConnId,
        /// What was read.
        frame: super::RtmIncoming,
    },
    /// The frame of [`RtmOutput::Send`] with this `id` was handed to the socket (written and
    /// flushed). Until then, if the socket dies, the request is sent again on the next
    /// connection; after it, it is reported [`SendError::Unconfirmed`].
    Written {
        /// The connection.
        conn: ConnId,
        /// The frame's wire id.
        id: u64,
    },
    /// The socket is gone (closed by the peer, failed, or never opened). Not needed after an
    /// [`RtmOutput::Close`] from the machine, but harmless.
    SocketClosed {
        /// The connection.
        conn: ConnId,
        /// Why. Boxed for the same reason as [`RtmInput::ConnectResult`]: a socket closes once,
        /// while every frame read travels as an `RtmInput` of the largest variant's size.
        reason: Box<Reason>,
    },
    /// The application stopped (`true`) or resumed (`false`) consuming events, so the caller
    /// stopped reading sockets. Liveness, `hello` and reply deadlines are frozen meanwhile, so
    /// a slow consumer never causes a spurious reconnect.
    Backpressure(bool),
}

/// An instruction from the machine, drained with [`Session::poll_output`](super::Session::poll_output).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RtmOutput {
    /// Call `rtm.connect` now and feed [`RtmInput::ConnectResult`]. Never issued while a call is
    /// in flight.
    CallConnect,
    /// Open this socket URL (before its deadline) and feed [`RtmInput::SocketOpened`] or
    /// [`RtmInput::SocketClosed`].
    OpenSocket {
        /// The new connection's id.
        conn: ConnId,
        /// The single-use `wss://` URL.
        url: String,
    },
    /// Write this text frame, then feed [`RtmInput::Written`].
    Send {
        /// The connection.
        conn: ConnId,
        /// The frame.
        text: String,
        /// Its wire id.
        id: u64,
    },
    /// Close this socket with this WebSocket close code and forget it.
    Close {
        /// The connection.
        conn: ConnId,
        /// `1000` normal, `1001` going away, `4000` for "replaced" (liveness failures).
        code: u16,
    },
    /// Deliver this to the application. Boxed: these are the session's own events (lifecycle,
    /// warnings, the rare server event the machine decodes itself), while every message sent
    /// moves a `Send` and a `Completed` several times, at the size of the largest variant
    /// (200 bytes unboxed, 64 boxed). Server events come as [`RtmOutput::RawEvent`].
    Event(Box<SessionEvent>),
    /// Deliver this server event to the application, once turned into its
    /// [`SessionEvent`] by [`SessionEvent::from_raw`] (the decoded [`SessionEvent::Rtm`], or a
    /// [`Warning::Undecodable`]). An ordinary event the machine did not need to look inside, so
    /// the decoding can happen where the event is consumed.
    RawEvent {
        /// The frame, verbatim, with its type.
        frame: EventFrame,
    },
    /// This request is finished.
    Completed {
        /// The request.
        request: RequestId,
        /// Its outcome.
        result: Result<RtmAck, SendError>,
    },
}
