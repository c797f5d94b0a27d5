//! The session's configuration, with documented defaults.

pub use crate::common::{KeepaliveConfig, ReconnectPolicy, Timeouts};
use std::time::Duration;

/// Everything the sans-IO [`Session`](super::Session) needs to know. IO settings (how
/// `rtm.connect` is called, the token, TLS, sockets) belong to whoever does the IO: the driver's
/// `DriverConfig`, or your own.
///
/// Every field has a default chosen for Slack's published limits; see each sub-config.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SessionConfig {
    /// Application-level ping on an idle connection.
    pub keepalive: KeepaliveConfig,
    /// Connection deadlines (socket open, `hello`).
    pub timeouts: Timeouts,
    /// Backoff between connection attempts.
    pub reconnect: ReconnectPolicy,
    /// Outgoing flow control.
    pub send_rate: SendRate,
    /// Limits on outgoing messages: queue size, deadlines.
    pub sending: SendingConfig,
    /// Duplicate suppression across a make-before-break reconnect.
    pub dedupe: DedupeConfig,
}

/// A token bucket for outgoing messages (`message`, `typing`, `presence_query`).
///
/// Slack tolerates short bursts but answers sustained sending above one message a second with
/// a `-1` "slow down" error and then a disconnect. The bucket holds `burst` tokens and refills
/// one every `interval`. On a `-1` reply the interval doubles (up to 16 × the configured one)
/// and the message is queued again; after `recovery` without another `-1` it halves back
/// step by step. Pings and `presence_sub` (one per connection) bypass the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendRate {
    /// Time per token. Default 1 s (1 message/s sustained).
    pub interval: Duration,
    /// Bucket size. Default 3. Zero is treated as one.
    pub burst: u32,
    /// Quiet time after a `-1` before the rate recovers one step. Default 60 s.
    pub recovery: Duration,
    /// Minimum spacing of `typing` indicators per channel. Default 3 s (Slack's rule). A
    /// `typing` submitted while one for the same channel is queued, or less than this after one
    /// was sent, is dropped and resolves at once with [`RtmAck::Throttled`](super::RtmAck::Throttled).
    pub typing_interval: Duration,
}

impl Default for SendRate {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            burst: 3,
            recovery: Duration::from_secs(60),
            typing_interval: Duration::from_secs(3),
        }
    }
}

impl SendRate {
    /// A rate of one message per `interval` with the given burst, other values default.
    pub fn new(interval: Duration, burst: u32) -> Self {
        Self { interval, burst, ..Self::default() }
    }
}

/// Limits on outgoing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendingConfig {
    /// Most requests outstanding at once (queued, being written, or awaiting their reply).
    /// A submit beyond it fails with [`SubmitError::QueueFull`](super::SubmitError::QueueFull).
    /// Default 1024.
    pub queue_capacity: usize,
    /// Longest wait for the reply after a frame is handed to the socket. Default 10 s.
    pub ack_timeout: Duration,
    /// Longest time a request may wait in the queue before being written (e.g. while
    /// disconnected). Default 60 s. Such a request was never sent.
    pub queue_timeout: Duration,
    /// How many times a message refused with `-1` ("slow down") is queued again before the
    /// error is returned. Default 3.
    pub slow_down_retries: u32,
}

impl Default for SendingConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            ack_timeout: Duration::from_secs(10),
            queue_timeout: Duration::from_secs(60),
            slow_down_retries: 3,
        }
    }
}

/// Duplicate suppression when two connections overlap (make-before-break after `goodbye`).
///
/// While two sockets are open, and for `window` after the old one closes, events are keyed by
/// `channel`+`ts` (messages), `client_msg_id`, or type+`event_ts`, and an event whose key was
/// already seen is dropped. Events with no such key (`user_typing`, `presence_change`, …) are
/// not deduplicated. At most `capacity` keys are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DedupeConfig {
    /// How long keys are remembered. Default 30 s; longer than 2^31 ms (about 24.8 days) counts
    /// as that.
    pub window: Duration,
    /// Most keys remembered. Default 8192.
    pub capacity: usize,
    /// How long an old connection may stay open after the new one said `hello`, to collect the
    /// replies it still owes. Default 5 s.
    pub drain: Duration,
}

impl Default for DedupeConfig {
    fn default() -> Self {
        Self { window: Duration::from_secs(30), capacity: 8192, drain: Duration::from_secs(5) }
    }
}
