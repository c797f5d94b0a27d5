//! The one error for "a Slack API call failed": `rtm.connect`, `apps.connections.open` and
//! every Web API method say it the same way — the method, Slack's request id, and what went
//! wrong ([`ApiFailure`]), with the transport's error kept as a `source`, never flattened.

use crate::advice::{ErrorDetail, req};
use crate::transport::{BoxError, TransportFailure};
use slack_rtm_types::{ApiError, ApiWarning};
use std::fmt;
use std::time::Duration;

/// What kind of failure an error is, for programs (and the CLI's exit codes).
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

impl ErrorKind {
    /// The kind of a Slack error code.
    pub fn of_api_error(e: &ApiError) -> ErrorKind {
        match e {
            ApiError::Ratelimited => ErrorKind::RateLimited,
            e if e.is_auth() => ErrorKind::Auth,
            ApiError::ServiceUnavailable | ApiError::FatalError | ApiError::RequestTimeout => {
                ErrorKind::Network
            }
            _ => ErrorKind::Api,
        }
    }
}

/// A Slack API call failed: which method, Slack's request id, and what went wrong.
///
/// The same type for `rtm.connect`, `apps.connections.open` and every Web API call.
/// `Display` is a sentence for a person (Slack's error codes explained in plain words);
/// [`ApiCallError::kind`] is for programs; [`std::error::Error::source`] gives the transport's
/// own error. No error ever contains the token.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiCallError {
    /// The method, e.g. `chat.postMessage`.
    pub method: String,
    /// Slack's `x-slack-req-id`, if an answer came with one; quote it in support requests.
    pub req_id: Option<String>,
    /// What went wrong.
    pub failure: ApiFailure,
}

/// What went wrong in an [`ApiCallError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiFailure {
    /// The call could not be built and was not sent: a bad method name, arguments that are
    /// not an object, Block Kit blocks over one of Slack's limits, an unusable API URL or
    /// token. The source says which.
    InvalidRequest(BoxError),
    /// The transport failed: no HTTP answer. [`TransportFailure::reach`] says whether the
    /// request may have reached Slack.
    Transport(TransportFailure),
    /// An HTTP status other than 200 and 429 (a 5xx, a 404 from a wrong API URL, …).
    Status {
        /// The status.
        status: u16,
        /// The response's content type.
        content_type: String,
        /// The start of the body, sanitized.
        snippet: String,
    },
    /// `{"ok":false,"error":"…"}`: Slack refused the call. Codes this version does not know
    /// are kept as text ([`ApiError::Other`]).
    Api {
        /// The error code.
        error: ApiError,
        /// Warnings that came with it.
        warnings: Vec<ApiWarning>,
        /// What Slack said beyond the code: the scope needed, its explanations.
        detail: Option<Box<ErrorDetail>>,
    },
    /// HTTP 429: Slack did not run the call; wait `retry_after`.
    RateLimited {
        /// From `Retry-After` (or a safe default when missing or garbled).
        retry_after: Duration,
    },
    /// A write whose request may have reached Slack got no usable answer: it may or may not
    /// have been applied, and was **not** sent again (it could post twice). Check (e.g. with
    /// `conversations.history`) before retrying. The source is what happened.
    OutcomeUnknown(Box<ApiFailure>),
    /// The body is not JSON (e.g. an HTML page from a proxy), or is truncated.
    NotJson {
        /// The status.
        status: u16,
        /// The response's content type.
        content_type: String,
        /// The start of the body, sanitized.
        snippet: String,
    },
    /// JSON without the `ok` envelope, or a field missing or of the wrong type.
    Decode {
        /// The field, when one is to blame (`ok`, `url`, `self`, `team`, …).
        field: Option<String>,
        /// The parser's explanation.
        detail: String,
    },
    /// The socket URL in the answer is not an acceptable WebSocket URL (not `wss://`, or
    /// `ws://` without the insecure option or from a secure API base).
    InvalidSocketUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl ApiCallError {
    /// An error of `method`.
    pub fn new(method: impl Into<String>, req_id: Option<String>, failure: ApiFailure) -> Self {
        Self { method: method.into(), req_id, failure }
    }

    /// The method that failed.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Slack's `x-slack-req-id`, if an answer came with one.
    pub fn req_id(&self) -> Option<&str> {
        self.req_id.as_deref()
    }

    /// What went wrong.
    pub fn failure(&self) -> &ApiFailure {
        &self.failure
    }

    /// What went wrong, looking through [`ApiFailure::OutcomeUnknown`] to its cause.
    pub fn root_failure(&self) -> &ApiFailure {
        match &self.failure {
            ApiFailure::OutcomeUnknown(cause) => cause,
            other => other,
        }
    }

    /// The transport's failure, if the transport failed (also under
    /// [`ApiFailure::OutcomeUnknown`]).
    pub fn transport_failure(&self) -> Option<&TransportFailure> {
        match self.root_failure() {
            ApiFailure::Transport(t) => Some(t),
            _ => None,
        }
    }

    /// The transport's own error as its type `T` (e.g. the built-in transport's
    /// `slack_rtm_hyper::TransportError`), if the transport failed with one.
    pub fn transport_error<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.transport_failure().and_then(|t| t.source.downcast_ref::<T>())
    }

    /// The Slack error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self.root_failure() {
            ApiFailure::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The warnings that came with a refusal.
    pub fn warnings(&self) -> &[ApiWarning] {
        match self.root_failure() {
            ApiFailure::Api { warnings, .. } => warnings,
            _ => &[],
        }
    }

    /// How long the server asked to wait, if it did (HTTP 429).
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.failure {
            ApiFailure::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The HTTP status, when the error is about one.
    pub fn status(&self) -> Option<u16> {
        match self.root_failure() {
            ApiFailure::RateLimited { .. } => Some(429),
            ApiFailure::Status { status, .. } | ApiFailure::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the call may have been applied although it failed: `true` only for
    /// [`ApiFailure::OutcomeUnknown`].
    pub fn may_have_been_applied(&self) -> bool {
        matches!(self.failure, ApiFailure::OutcomeUnknown(_))
    }

    /// Whether a later call may succeed (with backoff). `false` for errors no retry can fix:
    /// a bad or revoked token, a token type the method refuses, a malformed call, a wrong API
    /// URL.
    pub fn is_retryable(&self) -> bool {
        match &self.failure {
            ApiFailure::Api { error, .. } => error.is_retryable(),
            // 408 and 425 are transient; other 4xx mean a wrong API base or a broken call.
            ApiFailure::Status { status, .. } => *status >= 500 || matches!(*status, 408 | 425),
            ApiFailure::InvalidRequest(_) => false,
            ApiFailure::Transport(t) => t.reach != crate::Reach::Refused,
            ApiFailure::RateLimited { .. }
            | ApiFailure::OutcomeUnknown(_)
            | ApiFailure::NotJson { .. }
            | ApiFailure::Decode { .. }
            | ApiFailure::InvalidSocketUrl { .. } => true,
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self.root_failure() {
            ApiFailure::InvalidRequest(_) => ErrorKind::Config,
            ApiFailure::Api { error, .. } => ErrorKind::of_api_error(error),
            ApiFailure::RateLimited { .. } => ErrorKind::RateLimited,
            ApiFailure::Decode { .. } => ErrorKind::Api,
            // A wrong API URL (or method name), not a network failure.
            ApiFailure::Status { status: 404, .. } => ErrorKind::Config,
            ApiFailure::Transport(t) if t.reach == crate::Reach::Refused => ErrorKind::Config,
            _ => ErrorKind::Network,
        }
    }
}

/// Two errors are equal when they name the same method, request id and failure; the
/// transport's own errors (which need not be comparable) compare by their text.
impl PartialEq for ApiCallError {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.req_id == other.req_id && self.failure == other.failure
    }
}

impl PartialEq for ApiFailure {
    fn eq(&self, other: &Self) -> bool {
        use ApiFailure as F;
        match (self, other) {
            (F::InvalidRequest(a), F::InvalidRequest(b)) => a.to_string() == b.to_string(),
            (F::Transport(a), F::Transport(b)) => a.reach == b.reach && a.to_string() == b.to_string(),
            (
                F::Status { status: s, content_type: c, snippet: n },
                F::Status { status, content_type, snippet },
            )
            | (
                F::NotJson { status: s, content_type: c, snippet: n },
                F::NotJson { status, content_type, snippet },
            ) => (s, c, n) == (status, content_type, snippet),
            (F::Api { error: e, warnings: w, detail: d }, F::Api { error, warnings, detail }) => {
                (e, w, d) == (error, warnings, detail)
            }
            (F::RateLimited { retry_after: a }, F::RateLimited { retry_after: b }) => a == b,
            (F::OutcomeUnknown(a), F::OutcomeUnknown(b)) => a == b,
            (F::Decode { field: f, detail: d }, F::Decode { field, detail }) => (f, d) == (field, detail),
            (F::InvalidSocketUrl { reason: a }, F::InvalidSocketUrl { reason: b }) => a == b,
            _ => false,
        }
    }
}

/// Writes what went wrong, as a sentence about `method`.
fn describe(
    f: &mut fmt::Formatter<'_>,
    method: &str,
    req_id: &Option<String>,
    failure: &ApiFailure,
) -> fmt::Result {
    match failure {
        ApiFailure::InvalidRequest(e) if method.is_empty() => {
            write!(f, "invalid Web API call, not sent: {e}")
        }
        ApiFailure::InvalidRequest(e) => write!(f, "{method}: invalid call, not sent: {e}"),
        ApiFailure::Transport(t) => write!(f, "{method}: transport error: {}", t.source),
        ApiFailure::Status { status, content_type, snippet } if *status >= 500 => write!(
            f,
            "{method} failed with server error {status} ({content_type}): {snippet:?}{}",
            req(req_id)
        ),
        ApiFailure::Status { status, content_type, snippet } => {
            f.write_str(&crate::advice::unexpected_status(method, *status, content_type, snippet, req_id))
        }
        ApiFailure::Api { error, detail, .. } => {
            f.write_str(&crate::advice::api_failure(method, error, detail, req_id))?;
            if method == crate::APPS_CONNECTIONS_OPEN
                && matches!(error, ApiError::NotAllowedTokenType | ApiError::InvalidAuth)
            {
                f.write_str(" Socket Mode needs an app-level token (xapp-…) with connections:write.")?;
            }
            Ok(())
        }
        ApiFailure::RateLimited { retry_after } => {
            write!(f, "{method} was rate limited: retry after {}s{}", retry_after.as_secs(), req(req_id))
        }
        ApiFailure::OutcomeUnknown(cause) => {
            write!(
                f,
                "{method}: outcome unknown, the request may have reached Slack and was not sent again \
                 (check before retrying): "
            )?;
            describe(f, method, req_id, cause)
        }
        ApiFailure::NotJson { status, content_type, snippet } => write!(
            f,
            "{method} answered HTTP {status} with a body that is not valid JSON ({content_type}): {snippet:?}{}",
            req(req_id)
        ),
        ApiFailure::Decode { field: Some(field), detail } => write!(
            f,
            "{method} answer is missing or has a malformed field `{field}`: {detail}{}",
            req(req_id)
        ),
        ApiFailure::Decode { field: None, detail } => {
            write!(f, "{method} answered with an unexpected shape: {detail}{}", req(req_id))
        }
        ApiFailure::InvalidSocketUrl { reason } => {
            write!(f, "{method} returned an unusable socket URL: {reason}{}", req(req_id))
        }
    }
}

impl From<crate::web::WebBuildError> for ApiCallError {
    /// A call that could not be built (the method is filled in when known).
    fn from(e: crate::web::WebBuildError) -> Self {
        Self::new(String::new(), None, ApiFailure::InvalidRequest(Box::new(e)))
    }
}

impl From<slack_rtm_types::blocks::BlockError> for ApiCallError {
    /// Block Kit blocks over one of Slack's limits (checked before any call).
    fn from(e: slack_rtm_types::blocks::BlockError) -> Self {
        Self::new(String::new(), None, ApiFailure::InvalidRequest(Box::new(e)))
    }
}

impl fmt::Display for ApiCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, &self.method, &self.req_id, &self.failure)
    }
}

impl std::error::Error for ApiCallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.failure.source()
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "the call", &None, self)
    }
}

impl std::error::Error for ApiFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiFailure::InvalidRequest(e) => Some(e.as_ref()),
            ApiFailure::Transport(t) => Some(t),
            ApiFailure::OutcomeUnknown(cause) => Some(cause.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reach;
    use std::error::Error as _;

    #[test]
    fn the_transport_error_is_a_source_not_a_string() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let t = TransportFailure::new(Reach::MaybeSent, Box::new(io));
        let e = ApiCallError::new(
            "chat.postMessage",
            None,
            ApiFailure::OutcomeUnknown(Box::new(ApiFailure::Transport(t))),
        );
        assert!(e.may_have_been_applied());
        assert_eq!(e.kind(), ErrorKind::Network);
        let cause = e.source().expect("the cause");
        let transport = cause.source().expect("the transport failure");
        let io = transport.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(|e| e.kind()), Some(std::io::ErrorKind::ConnectionReset));
        assert!(e.to_string().starts_with("chat.postMessage: outcome unknown"), "{e}");
    }

    #[test]
    fn unknown_codes_are_kept_as_text_and_explained_in_plain_words() {
        let e = ApiCallError::new(
            "apps.connections.open",
            Some("r1".into()),
            ApiFailure::Api { error: ApiError::InvalidAuth, warnings: vec![], detail: None },
        );
        assert!(!e.is_retryable());
        assert_eq!(e.kind(), ErrorKind::Auth);
        let text = e.to_string();
        assert!(text.contains("app-level token") && text.contains("x-slack-req-id r1"), "{text}");
        let other = ApiCallError::new(
            "m",
            None,
            ApiFailure::Api {
                error: ApiError::Other("brand_new_code".into()),
                warnings: vec![],
                detail: None,
            },
        );
        assert_eq!(other.api_error().map(ApiError::as_str), Some("brand_new_code"));
        assert!(other.to_string().contains("brand_new_code"), "{other}");
    }

    #[test]
    fn a_refused_request_is_configuration_and_not_retried() {
        let t = TransportFailure::new(Reach::Refused, "plain http is not allowed".into());
        let e = ApiCallError::new("rtm.connect", None, ApiFailure::Transport(t));
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(!e.is_retryable());
        let sent = ApiCallError::new(
            "rtm.connect",
            None,
            ApiFailure::Transport(TransportFailure::new(Reach::NotSent, "refused".into())),
        );
        assert!(sent.is_retryable());
    }
}
