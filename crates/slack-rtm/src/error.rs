use slack_rtm_codec::ApiCallError;
pub use slack_rtm_codec::ErrorKind;
use slack_rtm_session::socket_mode::StopReason;
use slack_rtm_session::{Fatal, Reason};
use slack_rtm_types::ApiError;

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
    /// `rtm.connect` failed: the transport (no answer; the transport's error is the
    /// source), or an answer that is not a usable socket URL.
    #[error(transparent)]
    Connect(#[from] ApiCallError),
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
    ErrorKind::of_api_error(e)
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Connect(e) => e.kind(),
            Error::ConnectTimeout(..) => ErrorKind::Network,
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
