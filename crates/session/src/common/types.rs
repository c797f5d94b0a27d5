//! The types both machines use: connection ids, a failed opening call, why a socket ended,
//! warnings, skipped frames, the overall state.

use slack_rtm_codec::types::{ApiError, ApiWarning, Event};
use slack_rtm_codec::{ApiCallError, ApiFailure, DecodeError};
use std::fmt;
use std::time::Duration;

/// Identifies one WebSocket connection of a session. Never reused within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Whether a failed opening call (`rtm.connect`, `apps.connections.open`) may succeed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Try again after backoff (and any `Retry-After`).
    Retryable,
    /// No retry can fix it: the session stops.
    Fatal,
}

/// A failed opening call (`rtm.connect`, `apps.connections.open`), reduced to what a machine
/// needs. Never holds the token.
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

impl From<&ApiCallError> for ConnectFailure {
    fn from(e: &ApiCallError) -> Self {
        let api_error = match e.failure() {
            // HTTP 429 carries `{"ok":false,"error":"ratelimited"}`.
            ApiFailure::RateLimited { .. } => Some(ApiError::Ratelimited),
            _ => e.api_error().cloned(),
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

impl From<ApiCallError> for ConnectFailure {
    fn from(e: ApiCallError) -> Self {
        Self::from(&e)
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

/// The text of one complete WebSocket message, or why it is skipped (binary, not UTF-8): the
/// first step of every machine's classification (RTM's here, Socket Mode's `SocketModeIncoming`).
pub(crate) fn message_text(text: bool, payload: &[u8]) -> Result<&str, SkippedFrame> {
    if !text {
        return Err(SkippedFrame::Binary { len: payload.len() });
    }
    std::str::from_utf8(payload).map_err(|_| SkippedFrame::InvalidUtf8 { len: Some(payload.len()) })
}
