//! What goes in and out of the machine: inputs, outputs, events, acks and errors.

use slack_rtm_codec::types::{ApiError, ApiWarning, ClientMessageError, Event, SelfInfo, TeamInfo, Ts};
use slack_rtm_codec::{CallError, ConnectError, ConnectResponse, DecodeError, EventFrame};
use std::fmt;
use std::time::{Duration, Instant};

/// Identifies one WebSocket connection of a session. Never reused within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Identifies one submitted request for the whole session (unlike the wire `id`, which is per
/// connection and may change if the request is sent again after a reconnect).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request#{}", self.0)
    }
}

/// Whether a failed `rtm.connect` may succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Try again after backoff (and any `Retry-After`).
    Retryable,
    /// No retry can fix it: the session stops.
    Fatal,
}

/// A failed `rtm.connect`, reduced to what the machine needs. Never holds the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectFailure {
    /// Retry or stop.
    pub kind: FailureKind,
    /// Slack's error code, if it answered with one.
    pub api_error: Option<ApiError>,
    /// How long the server asked to wait (HTTP 429 `Retry-After`).
    pub retry_after: Option<Duration>,
    /// Slack's `x-slack-req-id`, if any.
    pub req_id: Option<String>,
    /// A human-readable explanation (a transport error only as text).
    pub message: String,
}

impl ConnectFailure {
    /// A retryable failure with only a message (e.g. the transport failed).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Retryable,
            api_error: None,
            retry_after: None,
            req_id: None,
            message: message.into(),
        }
    }

    /// A fatal failure with only a message (e.g. the request could not be built).
    pub fn fatal(message: impl Into<String>) -> Self {
        Self { kind: FailureKind::Fatal, ..Self::retryable(message) }
    }

    /// Whether the session must stop.
    pub fn is_fatal(&self) -> bool {
        self.kind == FailureKind::Fatal
    }
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<&ConnectError> for ConnectFailure {
    fn from(e: &ConnectError) -> Self {
        let api_error = match e {
            // HTTP 429 carries `{"ok":false,"error":"ratelimited"}`.
            ConnectError::RateLimited { .. } => Some(ApiError::Ratelimited),
            other => other.api_error().cloned(),
        };
        Self {
            kind: if e.is_retryable() { FailureKind::Retryable } else { FailureKind::Fatal },
            api_error,
            retry_after: e.retry_after(),
            req_id: e.req_id().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

impl From<ConnectError> for ConnectFailure {
    fn from(e: ConnectError) -> Self {
        Self::from(&e)
    }
}

impl<E: std::error::Error + 'static> From<CallError<E>> for ConnectFailure {
    fn from(e: CallError<E>) -> Self {
        match &e {
            CallError::Connect(c) => Self::from(c),
            CallError::Transport(t) => Self::retryable(format!("rtm.connect transport error: {t}")),
            other => Self {
                kind: if other.is_retryable() { FailureKind::Retryable } else { FailureKind::Fatal },
                ..Self::retryable(other.to_string())
            },
        }
    }
}

/// Why a connection ended or is being replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The server said `goodbye`.
    Goodbye,
    /// The server said `team_migration_started`.
    TeamMigration,
    /// The server sent an `error` event (code 1: the socket URL expired).
    ServerError {
        /// The error code.
        code: i64,
        /// The server's message.
        msg: String,
    },
    /// The server closed the WebSocket (close frame or end of stream).
    Closed {
        /// The close code, if a close frame carried one.
        code: Option<u16>,
        /// The close reason or a description.
        reason: String,
    },
    /// Reading or writing the socket failed.
    Io(String),
    /// The socket could not be opened (TCP, TLS, WebSocket handshake).
    OpenFailed(String),
    /// The socket did not open before its deadline (or the URL expired first).
    OpenTimeout,
    /// No `hello` in time.
    HelloTimeout,
    /// No frame at all within the pong deadline after a ping.
    KeepaliveTimeout,
    /// A message larger than the configured cap arrived.
    MessageTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// `rtm.connect` failed.
    ConnectFailed(ConnectFailure),
    /// The `rtm.connect` URL was already expired when it could be used.
    UrlExpired,
    /// The application asked the session to stop.
    Shutdown,
    /// Socket Mode: Slack asked for this socket to be refreshed; its replacement is serving
    /// and it was closed once its last envelopes were handled.
    Replaced,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Goodbye => f.write_str("the server said goodbye"),
            Reason::TeamMigration => f.write_str("the team is migrating"),
            Reason::ServerError { code, msg } => write!(f, "server error {code}: {msg}"),
            Reason::Closed { code: Some(c), reason } => write!(f, "closed by the server ({c}: {reason})"),
            Reason::Closed { code: None, reason } => write!(f, "closed by the server ({reason})"),
            Reason::Io(e) => write!(f, "socket error: {e}"),
            Reason::OpenFailed(e) => write!(f, "could not open the socket: {e}"),
            Reason::OpenTimeout => f.write_str("the socket did not open in time"),
            Reason::HelloTimeout => f.write_str("no hello in time"),
            Reason::KeepaliveTimeout => f.write_str("no answer to the keepalive ping"),
            Reason::MessageTooLarge { limit } => write!(f, "a message exceeded {limit} bytes"),
            Reason::ConnectFailed(e) => write!(f, "rtm.connect failed: {e}"),
            Reason::UrlExpired => f.write_str("the socket URL expired before it was used"),
            Reason::Shutdown => f.write_str("shut down by the application"),
            Reason::Replaced => f.write_str("replaced by a new socket, as Slack asked (a routine refresh)"),
        }
    }
}

/// Why the session stopped on its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Fatal {
    /// `rtm.connect` failed in a way no retry can fix (bad token, wrong token type, …).
    #[error("{} (not retried: no retry can fix this)", .0.message)]
    Connect(ConnectFailure),
    /// [`ReconnectPolicy::max_retries`](super::ReconnectPolicy::max_retries) retries in a row failed.
    #[error("gave up after {attempts} failed connection attempts; last: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Reason,
    },
}

impl Fatal {
    /// The API error, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Fatal::Connect(f) => f.api_error.as_ref(),
            Fatal::GaveUp { last: Reason::ConnectFailed(f), .. } => f.api_error.as_ref(),
            Fatal::GaveUp { .. } => None,
        }
    }
}

/// Something the application should know that does not stop anything.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// A text frame that is not JSON; skipped.
    Undecodable(DecodeError),
    /// A binary frame (RTM is text only); skipped.
    BinaryFrame {
        /// Its size.
        len: usize,
    },
    /// A text frame that is not valid UTF-8; skipped.
    InvalidUtf8 {
        /// Its size, when the socket layer reported it.
        len: Option<usize>,
    },
    /// A reply whose `reply_to` matches nothing outstanding (e.g. an error reply to a `typing`
    /// that already completed, or a reply after its deadline).
    UnmatchedReply(Box<Event>),
    /// `rtm.connect` succeeded with warnings.
    ConnectWarnings(Vec<ApiWarning>),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Undecodable(e) => write!(f, "skipped an undecodable frame: {e}"),
            Warning::BinaryFrame { len } => write!(f, "skipped a binary frame of {len} bytes"),
            Warning::InvalidUtf8 { len: Some(len) } => {
                write!(f, "skipped a frame of {len} bytes that is not valid UTF-8")
            }
            Warning::InvalidUtf8 { len: None } => f.write_str("skipped a text frame that is not valid UTF-8"),
            Warning::UnmatchedReply(e) => {
                write!(f, "a reply matched no request (a {} event)", e.event_type())
            }
            Warning::ConnectWarnings(w) => {
                let codes: Vec<&str> = w.iter().map(ApiWarning::as_str).collect();
                write!(f, "rtm.connect warnings: {}", codes.join(", "))
            }
        }
    }
}

/// A frame the socket layer could not turn into text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkippedFrame {
    /// A binary frame.
    Binary {
        /// Its size.
        len: usize,
    },
    /// A text frame that is not valid UTF-8.
    InvalidUtf8 {
        /// Its size, if known.
        len: Option<usize>,
    },
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
    /// The session stopped; nothing follows. `error` is `None` after a shutdown requested by
    /// the application.
    Stopped {
        /// Why it stopped on its own, if it did.
        error: Option<Fatal>,
    },
}

/// A successful outcome of a request.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Ack {
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
pub enum Input {
    /// The answer to [`Output::CallConnect`]: the parsed `rtm.connect` response (its
    /// `obtained_at` is when it arrived) or why it failed.
    ConnectResult(Result<ConnectResponse, ConnectFailure>),
    /// The socket asked for by [`Output::OpenSocket`] is open (WebSocket handshake done).
    SocketOpened {
        /// The connection.
        conn: ConnId,
    },
    /// Something read from the socket: a complete message, classified by
    /// [`Incoming::message`](super::Incoming::message), or proof of life. Every one counts as
    /// liveness.
    Frame {
        /// The connection.
        conn: ConnId,
        /// What was read.
        frame: super::Incoming,
    },
    /// The frame of [`Output::Send`] with this `id` was handed to the socket (written and
    /// flushed). Until then, if the socket dies, the request is sent again on the next
    /// connection; after it, it is reported [`SendError::Unconfirmed`].
    Written {
        /// The connection.
        conn: ConnId,
        /// The frame's wire id.
        id: u64,
    },
    /// The socket is gone (closed by the peer, failed, or never opened). Not needed after an
    /// [`Output::Close`] from the machine, but harmless.
    SocketClosed {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: Reason,
    },
    /// The application stopped (`true`) or resumed (`false`) consuming events, so the caller
    /// stopped reading sockets. Liveness, `hello` and reply deadlines are frozen meanwhile, so
    /// a slow consumer never causes a spurious reconnect.
    Backpressure(bool),
}

// Events are moved, not boxed: a box would cost an allocation per event. The size comes from
// `Event` itself.
#[allow(clippy::large_enum_variant)]
/// An instruction from the machine, drained with [`Session::poll_output`](super::Session::poll_output).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Call `rtm.connect` now and feed [`Input::ConnectResult`]. Never issued while a call is
    /// in flight.
    CallConnect,
    /// Open this socket URL (before its deadline) and feed [`Input::SocketOpened`] or
    /// [`Input::SocketClosed`].
    OpenSocket {
        /// The new connection's id.
        conn: ConnId,
        /// The single-use `wss://` URL.
        url: String,
    },
    /// Write this text frame, then feed [`Input::Written`].
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
    /// Deliver this to the application.
    Event(SessionEvent),
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
        result: Result<Ack, SendError>,
    },
}

/// The session's overall state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Working on the first connection.
    Connecting,
    /// A connection is up.
    Connected,
    /// Had a connection, lost it, working on a new one.
    Reconnecting,
    /// Finishing outstanding requests before stopping.
    ShuttingDown,
    /// Done; nothing more happens.
    Stopped,
}
