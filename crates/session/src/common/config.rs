//! The settings both machines share (keepalive, deadlines, reconnect backoff) and the limits
//! that keep their deadline arithmetic sound.

use std::time::Duration;

/// Close code used when a machine replaces a connection that stopped answering.
pub(crate) const CLOSE_REPLACED: u16 = 4000;
/// Normal closure.
pub(crate) const CLOSE_NORMAL: u16 = 1000;

/// Longest `Retry-After` honoured (a garbled or hostile value must not park the session for
/// centuries, nor overflow an `Instant`).
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Longest duration taken from a configuration, so deadline arithmetic cannot overflow.
pub(crate) const MAX_CONFIG_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Application-level keepalive.
///
/// When no frame at all has arrived for `idle_ping`, the session sends
/// `{"type":"ping"}`. Any frame (not only the `pong`) proves the connection alive. If nothing
/// arrives within `pong_timeout` after the ping, the connection is declared dead and replaced.
/// Time during which the application is not reading events (backpressure) does not count.
///
/// So a connection that dies silently (no close, no error) is replaced at most
/// `idle_ping + pong_timeout` after the last frame it delivered — 15 s with the defaults (10 s
/// of silence, then 5 s for an answer; the tokio driver wakes for far deadlines on a shared
/// 100 ms grid, so up to 0.1 s later). The official clients detect it after 10 s (Node: ping
/// after 6 s, 4 s for the pong) or 20 s (Python's RTM v2: ping every 5 s, four intervals
/// without a pong); Slack's RTM guide asks clients to detect a disconnection quickly even when
/// idle. Every idle session sends one ping and reads one pong per `idle_ping`, so the defaults
/// favour a long silence and a short answer: the same 15 s bound as 5 s + 10 s, with half the
/// pings (a process holding 19,000 idle sessions spends about half as much CPU on them). A
/// network where answers can take longer than 5 s wants a longer `pong_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeepaliveConfig {
    /// Idle time before a ping. Default 10 s.
    pub idle_ping: Duration,
    /// Silence after a ping before the connection is declared dead. Default 5 s (the official
    /// Node client waits 4 s).
    pub pong_timeout: Duration,
}

impl Default for KeepaliveConfig {
    fn default() -> Self {
        Self { idle_ping: Duration::from_secs(10), pong_timeout: Duration::from_secs(5) }
    }
}

impl KeepaliveConfig {
    /// A keepalive with the given intervals.
    pub fn new(idle_ping: Duration, pong_timeout: Duration) -> Self {
        Self { idle_ping, pong_timeout }
    }
}

/// Connection deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Longest time to open the socket (TCP, TLS, WebSocket handshake). Never later than the
    /// socket URL's 30 s life in any case. Default 10 s.
    pub open: Duration,
    /// Longest wait for `hello` once the socket is open. Default 10 s.
    pub hello: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { open: Duration::from_secs(10), hello: Duration::from_secs(10) }
    }
}

impl Timeouts {
    /// Deadlines with the given values.
    pub fn new(open: Duration, hello: Duration) -> Self {
        Self { open, hello }
    }
}

/// Exponential backoff with jitter between connection attempts.
///
/// Before attempt `n` (1 for the first retry), the session waits a uniformly random time in
/// `[c/2, c]` where `c = min(max, initial × multiplier^(n-1))`, never less than `min_delay`
/// (itself capped at `max`), and never less than a `Retry-After` the server asked for. The
/// floor keeps a fleet of clients from calling `rtm.connect` right after an outage or during a
/// migration; the jitter still spreads them. The attempt counter goes back to zero only once a
/// connection has stayed up for `healthy_after`, so a server that accepts and then drops
/// connections still sees growing delays.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReconnectPolicy {
    /// The first ceiling. Default 1 s.
    pub initial: Duration,
    /// The largest ceiling. Default 60 s (`rtm.connect` is Tier 1: about one call a minute).
    pub max: Duration,
    /// Growth factor of the ceiling per failed attempt. Default 2.0 (values below 1 are
    /// treated as 1).
    pub multiplier: f64,
    /// How long a connection must stay up before the backoff resets. Default 30 s.
    pub healthy_after: Duration,
    /// Give up ([`StopReason::GaveUp`](crate::common::StopReason::GaveUp)) when this many retries in a
    /// row have failed. Default `None`: retry forever on retryable errors.
    pub max_retries: Option<u32>,
    /// The shortest wait before any retry. Default 0.5 s; never more than `max`.
    pub min_delay: Duration,
    /// Seed of the jitter generator. `None` (the default) seeds it randomly per session, so
    /// that many clients do not reconnect in lockstep; tests set it to get reproducible delays.
    pub jitter_seed: Option<u64>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            multiplier: 2.0,
            healthy_after: Duration::from_secs(30),
            max_retries: None,
            min_delay: Duration::from_millis(500),
            jitter_seed: None,
        }
    }
}

impl ReconnectPolicy {
    /// A policy with the given ceilings and the other defaults.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max, ..Self::default() }
    }
}
