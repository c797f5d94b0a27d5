//! The fleet's errors.

use std::time::Duration;

/// Why a fleet operation failed. Never shows a token or a Redis password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The Redis URL cannot be used.
    #[error("bad Redis URL {url}: {reason}")]
    BadRedisUrl {
        /// The URL without credentials.
        url: String,
        /// Why.
        reason: String,
    },
    /// Redis failed a command, or could not be reached.
    #[error("Redis: {0}")]
    Redis(String),
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis answered something the fleet did not expect.
    #[error("unexpected answer from Redis: {0}")]
    Protocol(String),
    /// The Socket Mode session could not start.
    #[error("Socket Mode: {0}")]
    Slack(#[from] slack_rtm::Error),
}

impl FleetError {
    pub(crate) fn redis(e: redis::RedisError) -> Self {
        // A RedisError's text names the command and the server's message, never the URL.
        Self::Redis(e.to_string())
    }
}
