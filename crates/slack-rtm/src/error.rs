use slack_rtm_codec::ApiCallError;
pub use slack_rtm_codec::ErrorKind;
use slack_rtm_session::common::{Reason, StopReason};
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
    /// No connection could be established within the connect timeout.
    #[error("no connection within {0:?}; the session kept retrying until then: {1}")]
    ConnectTimeout(std::time::Duration, String),
    /// The session (RTM or Socket Mode) stopped: before it connected (a fatal `rtm.connect`
    /// or `apps.connections.open` error such as `invalid_auth`, `link_disabled`, too many
    /// failures, a shutdown by the application), or later, as its stream reported.
    #[error("the session stopped: {0}")]
    Stopped(StopReason),
}

impl From<StopReason> for Error {
    fn from(r: StopReason) -> Self {
        Error::Stopped(r)
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
            Error::Stopped(r) => match r {
                StopReason::InvalidAuth(_) | StopReason::TokenRevoked(_) | StopReason::LinkDisabled => {
                    ErrorKind::Auth
                }
                StopReason::Refused(f) => f.api_error.as_ref().map_or(ErrorKind::Config, api_kind),
                StopReason::GaveUp { last: Reason::OpenFailed(_), .. } => ErrorKind::Network,
                StopReason::GaveUp { last: Reason::ConnectFailed(f), .. } => {
                    f.api_error.as_ref().map_or(ErrorKind::Network, api_kind)
                }
                _ => ErrorKind::Stopped,
            },
        }
    }

    /// The Slack error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Connect(e) => e.api_error(),
            Error::Stopped(r) => r.api_error(),
            _ => None,
        }
    }
}
