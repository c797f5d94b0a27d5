//! Delivery over HTTP to a Request URL, as Slack does for apps not on Socket Mode: once
//! [`crate::Emulator::set_request_url`] has passed the `url_verification` handshake, every
//! envelope (events, slash commands, interactions, options requests; the same the actor API
//! and [`crate::Emulator::send_envelope`] make) is POSTed there instead of to the sockets,
//! signed with [`crate::Emulator::signing_secret`] (Slack's `v0` scheme).
//!
//! - Events API: JSON, `application/json`. Commands: a form of their fields. Interactions and
//!   options requests: a form with one `payload` field holding the JSON.
//! - Headers: `X-Slack-Request-Timestamp`, `X-Slack-Signature`, `User-Agent`, and on a retry
//!   `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` (`http_timeout`, `http_error`,
//!   `connection_failed`).
//! - An answer must be a 2xx within [`HttpDeliveryConfig::timeout`] (Slack: 3 s). An event not
//!   answered so is retried after each of [`HttpDeliveryConfig::retry_delays`] (Slack: 3
//!   retries), unless the answer carried `X-Slack-No-Retry: 1`. Commands and interactions are
//!   not retried (Slack shows the user an error).
//! - The answer's body to a command or an interaction is its ack, applied exactly as a Socket
//!   Mode ack (a `response_action`, options, a command reply; a plain-text body to a command is
//!   its reply's text) and resolving [`crate::Emulator::wait_for_ack`].
//! - Every request and its answer is recorded ([`crate::Emulator::http_deliveries`]);
//!   [`crate::Emulator::send_app_rate_limited`] sends the `app_rate_limited` callback.
//! - [`HttpProbe`]: requests a receiver must refuse (bad or missing signature, stale
//!   timestamp, replays with retry headers, oversized bodies, other methods / content types).
//! - Bounded: at most 256 deliveries (with their retries) in flight and 4096 waiting; past that
//!   an envelope is given up (`EnvelopeRecord::gave_up`) with a warning.

mod client;
mod deliver;
mod probe;
mod sign;

pub use probe::{HttpProbe, ProbeResponse};

use crate::record::Ring;
use bytes::Bytes;
use std::fmt;
use std::time::{Duration, Instant};

/// How requests to the Request URL are made. Set it with
/// [`crate::EmulatorConfig::http_delivery`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpDeliveryConfig {
    /// How long an answer may take. Default 3 s (Slack's rule).
    pub timeout: Duration,
    /// The waits before each retry of an event; their number is the number of retries.
    /// Default Slack's: nearly at once, after 1 min, after 5 min.
    pub retry_delays: Vec<Duration>,
    /// The signing secret; `None` (the default) makes a random one at start.
    pub signing_secret: Option<String>,
}

impl fmt::Debug for HttpDeliveryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpDeliveryConfig")
            .field("timeout", &self.timeout)
            .field("retry_delays", &self.retry_delays)
            .field("signing_secret", &self.signing_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for HttpDeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            retry_delays: vec![Duration::from_millis(100), Duration::from_secs(60), Duration::from_secs(300)],
            signing_secret: None,
        }
    }
}

impl HttpDeliveryConfig {
    /// Sets how long an answer may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the waits before each retry (tests use short ones).
    pub fn retry_delays(mut self, delays: Vec<Duration>) -> Self {
        self.retry_delays = delays;
        self
    }

    /// Uses this signing secret instead of a random one.
    pub fn signing_secret(mut self, secret: &str) -> Self {
        self.signing_secret = Some(secret.to_owned());
        self
    }
}

/// One request to the Request URL and how it was answered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpDelivery {
    /// The envelope delivered ([`crate::Sent::seq`]); 0 for the `url_verification`.
    pub seq: u64,
    /// `events_api`, `slash_commands`, `interactive` or `url_verification`.
    pub kind: String,
    /// 0 for the first attempt; the `X-Slack-Retry-Num` sent otherwise.
    pub retry_num: u32,
    /// The `X-Slack-Retry-Reason` sent, on a retry.
    pub retry_reason: Option<String>,
    /// The URL.
    pub url: String,
    /// The body sent (replay it with [`HttpProbe::replay`]).
    pub request_body: Bytes,
    /// Its content type.
    pub content_type: String,
    /// When it was sent.
    pub sent_at: Instant,
    /// The status answered (`None`: no answer).
    pub status: Option<u16>,
    /// The body answered.
    pub response_body: Bytes,
    /// The answer carried `X-Slack-No-Retry: 1`.
    pub no_retry: bool,
    /// Time to the complete answer (or to the failure).
    pub latency: Duration,
    /// `http_timeout`, `http_error` or `connection_failed` when it failed.
    pub failure: Option<String>,
}

impl HttpDelivery {
    /// Answered 2xx in time.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// The HTTP delivery's part of the shared state.
pub(crate) struct HttpState {
    pub secret: String,
    pub target: Option<client::Target>,
    pub records: Ring<HttpDelivery>,
}

impl HttpState {
    pub fn new(config: &HttpDeliveryConfig, cap: usize) -> Self {
        let secret = config
            .signing_secret
            .clone()
            .unwrap_or_else(|| crate::workspace::random_alnum(32).to_ascii_lowercase());
        Self { secret, target: None, records: Ring::new(cap) }
    }
}
