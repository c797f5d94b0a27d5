use slack_rtm_codec::ConnectError;
use slack_rtm_session::socket_mode::StopReason;
use slack_rtm_session::{Fatal, Reason};
use slack_rtm_types::ApiError;
use std::fmt;

/// What kind of failure an [`Error`] is, for programs (and the CLI's exit codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client is misconfigured (bad API URL, http:// without `allow_insecure`, …).
    Config,
    /// Slack will never accept this token as it is (invalid_auth, account_inactive,
    /// not_allowed_token_type, missing_scope, token_revoked, …). Retrying cannot help.
    Auth,
    /// Rate limited (HTTP 429 / `ratelimited`).
    RateLimited,
    /// The network or the server failed: connect, TLS, timeout, 5xx, a non-JSON answer.
    Network,
    /// Another error code from Slack.
    Api,
    /// The session stopped (shut down, or gave up).
    Stopped,
}

/// An error from the client: configuration, `rtm.connect`, or a session that stopped.
///
/// `Display` is a complete sentence for a person; [`Error::kind`] is for programs. No error
/// ever contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client is misconfigured.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// `rtm.connect` answered, but not with a usable socket URL.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The HTTP transport failed (no answer from `rtm.connect`).
    #[error("rtm.connect transport error: {0}")]
    Transport(#[source] slack_rtm_codec::BoxError),
    /// The session stopped on a fatal error (e.g. `invalid_auth` after a reconnect).
    #[error("the session stopped: {0}")]
    Fatal(Fatal),
    /// No connection could be established within the connect timeout.
    #[error("no connection within {0:?}; the session kept retrying until then: {1}")]
    ConnectTimeout(std::time::Duration, String),
    /// The Socket Mode session stopped before it connected: `link_disabled`, a fatal
    /// `apps.connections.open` error (`invalid_auth`, a bot token, …), or too many failures.
    #[error("the Socket Mode session stopped: {0}")]
    SocketMode(slack_rtm_session::socket_mode::StopReason),
    /// The session was shut down (by the application) before it connected.
    #[error("the session was shut down before it connected")]
    Stopped,
}

impl From<Fatal> for Error {
    fn from(f: Fatal) -> Self {
        Error::Fatal(f)
    }
}

pub(crate) fn api_kind(e: &ApiError) -> ErrorKind {
    match e {
        ApiError::Ratelimited => ErrorKind::RateLimited,
        e if e.is_auth() => ErrorKind::Auth,
        ApiError::ServiceUnavailable | ApiError::FatalError | ApiError::RequestTimeout => ErrorKind::Network,
        _ => ErrorKind::Api,
    }
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Connect(e) => match e {
                ConnectError::Api { error, .. } => api_kind(error),
                ConnectError::RateLimited { .. } => ErrorKind::RateLimited,
                // A wrong API URL, not a network failure.
                ConnectError::UnexpectedStatus { status: 404, .. } => ErrorKind::Config,
                _ => ErrorKind::Network,
            },
            Error::Transport(_) | Error::ConnectTimeout(..) => ErrorKind::Network,
            Error::Fatal(f) => match f.api_error() {
                Some(e) => api_kind(e),
                None => ErrorKind::Stopped,
            },
            Error::SocketMode(r) => match r {
                StopReason::Open(f) => match &f.api_error {
                    Some(e) => api_kind(e),
                    None if f.is_fatal() => ErrorKind::Config,
                    None => ErrorKind::Network,
                },
                StopReason::LinkDisabled => ErrorKind::Auth,
                StopReason::GaveUp { last: Reason::OpenFailed(_), .. } => ErrorKind::Network,
                _ => ErrorKind::Stopped,
            },
            Error::Stopped => ErrorKind::Stopped,
        }
    }

    /// The Slack error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Connect(e) => e.api_error(),
            Error::Fatal(f) => f.api_error(),
            Error::SocketMode(StopReason::Open(f)) => f.api_error.as_ref(),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Config => "configuration",
            ErrorKind::Auth => "authentication",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Network => "network",
            ErrorKind::Api => "api",
            ErrorKind::Stopped => "stopped",
        })
    }
}
