use crate::ErrorKind;
use slack_rtm_codec::BoxError;
use slack_rtm_codec::web::WebBuildError;
use slack_rtm_codec::web::WebError;
use slack_rtm_types::ApiError;

/// Why a [`crate::WebClient`] call failed.
///
/// `Display` is a sentence for a person; [`WebCallError::kind`] is for programs. No error ever
/// contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebCallError {
    /// The call could not be built (bad method name, arguments that are not an object, …).
    #[error("invalid Web API call: {0}")]
    Build(#[from] WebBuildError),
    /// Block Kit blocks broke one of Slack's limits (checked before any call); the error names
    /// the path, e.g. `blocks[3].elements[1].text`.
    #[error("invalid blocks: {0}")]
    InvalidBlocks(#[from] slack_rtm_types::blocks::BlockError),
    /// Slack (or whatever answered) refused the call or answered unusably, after any retries
    /// the rules allow: an API error code, a 429 that lasted too long, a 5xx, an HTML page.
    #[error(transparent)]
    Api(#[from] WebError),
    /// The transport failed and retries (if allowed) did not help.
    #[error("{method}: transport error: {source}")]
    Transport {
        /// The method.
        method: String,
        /// The transport's error.
        #[source]
        source: BoxError,
    },
    /// A write (e.g. `chat.postMessage`) whose request may have reached Slack got no usable
    /// answer: it may or may not have been applied, and was **not** sent again (it could post
    /// twice). Check (e.g. with `conversations.history`) before retrying.
    #[error(
        "{method}: outcome unknown, the request may have reached Slack and was not sent again \
         (check before retrying): {cause}"
    )]
    OutcomeUnknown {
        /// The method.
        method: String,
        /// What happened (transport error, 5xx, non-JSON answer).
        cause: String,
        /// Slack's request id, if an answer came.
        req_id: Option<String>,
    },
}

impl WebCallError {
    /// What kind of failure this is (the same kinds as [`crate::Error`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            WebCallError::Build(_) | WebCallError::InvalidBlocks(_) => ErrorKind::Config,
            WebCallError::Api(WebError::Api { error, .. }) => crate::error::api_kind(error),
            WebCallError::Api(WebError::RateLimited { .. }) => ErrorKind::RateLimited,
            WebCallError::Api(WebError::Malformed { .. }) => ErrorKind::Api,
            // A wrong API URL (or method name), not a network failure.
            WebCallError::Api(WebError::UnexpectedStatus { status: 404, .. }) => ErrorKind::Config,
            WebCallError::Api(_) | WebCallError::Transport { .. } | WebCallError::OutcomeUnknown { .. } => {
                ErrorKind::Network
            }
        }
    }

    /// The Slack error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            WebCallError::Api(e) => e.api_error(),
            _ => None,
        }
    }

    /// Slack's `x-slack-req-id`, if an answer came.
    pub fn req_id(&self) -> Option<&str> {
        match self {
            WebCallError::Api(e) => e.req_id(),
            WebCallError::OutcomeUnknown { req_id, .. } => req_id.as_deref(),
            _ => None,
        }
    }

    /// Whether the call may have been applied although it failed: `true` only for
    /// [`WebCallError::OutcomeUnknown`].
    pub fn may_have_been_applied(&self) -> bool {
        matches!(self, WebCallError::OutcomeUnknown { .. })
    }
}
