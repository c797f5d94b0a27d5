//! Why a session stopped: one type for both machines (RTM and Socket Mode).

use super::types::{ConnectFailure, Reason};
use slack_rtm_codec::types::ApiError;

/// Why a session stopped, RTM's or Socket Mode's: the last thing either reports
/// (`SessionEvent::Stopped`, `SocketModeEvent::Stopped`) and what their published statuses
/// keep.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopReason {
    /// The application asked for it.
    #[error("shut down by the application")]
    Shutdown,
    /// The opening call (`rtm.connect`, `apps.connections.open`) refused the token: invalid,
    /// expired, of the wrong type, lacking a scope, or its user or workspace is gone
    /// ([`ApiError::is_auth`]), except a revoked token ([`StopReason::TokenRevoked`]).
    #[error("the token was refused: {} (not retried: no retry can fix this)", .0.message)]
    InvalidAuth(ConnectFailure),
    /// The token was revoked (`token_revoked`): the app was uninstalled, or the token rotated
    /// or revoked. Install the app again to get a new token.
    #[error("the token was revoked (the app was uninstalled?): {} (not retried)", .0.message)]
    TokenRevoked(ConnectFailure),
    /// Slack said `link_disabled`: the app's Socket Mode was turned off (or the app removed).
    #[error("Socket Mode is disabled for this app (link_disabled)")]
    LinkDisabled,
    /// The opening call failed in another way no retry can fix (a malformed call, an answer
    /// that is not a usable socket URL, …).
    #[error("{} (not retried: no retry can fix this)", .0.message)]
    Refused(ConnectFailure),
    /// [`ReconnectPolicy::max_retries`](crate::common::ReconnectPolicy::max_retries)
    /// failures in a row: connecting was given up.
    #[error("gave up after {attempts} failed connection attempts; last: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Reason,
    },
}

impl StopReason {
    /// The stop reason for a fatal failure of the opening call: a refused or revoked token,
    /// or anything else.
    pub fn from_failure(failure: ConnectFailure) -> Self {
        match &failure.api_error {
            Some(ApiError::TokenRevoked) => StopReason::TokenRevoked(failure),
            Some(e) if e.is_auth() => StopReason::InvalidAuth(failure),
            _ => StopReason::Refused(failure),
        }
    }

    /// Whether the session stopped because of an error (not a requested shutdown).
    pub fn is_error(&self) -> bool {
        !matches!(self, StopReason::Shutdown)
    }

    /// The failed opening call that stopped the session, if one did (the last one, after
    /// [`StopReason::GaveUp`]).
    pub fn failure(&self) -> Option<&ConnectFailure> {
        match self {
            StopReason::InvalidAuth(f) | StopReason::TokenRevoked(f) | StopReason::Refused(f) => Some(f),
            StopReason::GaveUp { last: Reason::ConnectFailed(f), .. } => Some(f),
            _ => None,
        }
    }

    /// Slack's error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.failure().and_then(|f| f.api_error.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str) -> ConnectFailure {
        ConnectFailure { api_error: Some(ApiError::from_code(code)), ..ConnectFailure::fatal(code) }
    }

    /// The shared causes are told apart by Slack's error code, whichever call it answered.
    #[test]
    fn a_fatal_failure_is_classified_by_its_code() {
        assert!(matches!(StopReason::from_failure(failure("invalid_auth")), StopReason::InvalidAuth(_)));
        assert!(matches!(
            StopReason::from_failure(failure("not_allowed_token_type")),
            StopReason::InvalidAuth(_)
        ));
        assert!(matches!(StopReason::from_failure(failure("token_revoked")), StopReason::TokenRevoked(_)));
        assert!(matches!(StopReason::from_failure(failure("unknown_method")), StopReason::Refused(_)));
        assert!(matches!(StopReason::from_failure(ConnectFailure::fatal("no url")), StopReason::Refused(_)));
        let r = StopReason::from_failure(failure("token_revoked"));
        assert_eq!(r.api_error(), Some(&ApiError::TokenRevoked));
        assert!(r.is_error() && !StopReason::Shutdown.is_error());
    }
}
