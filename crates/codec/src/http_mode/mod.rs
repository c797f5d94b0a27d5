//! HTTP mode, sans-IO: Slack's Request URLs (Events API, slash commands, interactivity,
//! options loads), signed with the app's signing secret.
//!
//! - [`SigningSecret`]: the secret, redacted in `Debug`/`Display`; [`SigningSecret::sign`]
//!   and [`SigningSecret::verify`]: Slack's `v0` signature (HMAC-SHA256 over
//!   `v0:{timestamp}:{raw body}`, compared in constant time), a timestamp more than
//!   [`MAX_TIMESTAMP_SKEW`] from now refused.
//! - [`Verifier`]: the receiver's rules, from method, headers and raw body to a verified,
//!   classified [`Inbound`], or a [`Refusal`] with its HTTP status (401, 405, 413, 415, 400).
//!   Nothing is parsed before the signature matches.
//!
//! The server around it (hyper, tower) is `slack_rtm_hyper::server`.

mod inbound;
mod signature;
mod verifier;

pub use inbound::{Inbound, InboundKind, MalformedBody, Retry};
pub use signature::{MAX_TIMESTAMP_SKEW, SignatureError, SigningSecret};
pub use verifier::{BodyFormat, DEFAULT_MAX_BODY_BYTES, EmptySigningSecret, Refusal, Verifier};

/// `X-Slack-Request-Timestamp`.
pub const TIMESTAMP: &str = "x-slack-request-timestamp";
/// `X-Slack-Signature`.
pub const SIGNATURE: &str = "x-slack-signature";
/// `X-Slack-Retry-Num`.
pub const RETRY_NUM: &str = "x-slack-retry-num";
/// `X-Slack-Retry-Reason`.
pub const RETRY_REASON: &str = "x-slack-retry-reason";
/// `X-Slack-No-Retry`: an answer carrying `1` asks Slack not to retry a failed delivery.
pub const NO_RETRY: &str = "x-slack-no-retry";
