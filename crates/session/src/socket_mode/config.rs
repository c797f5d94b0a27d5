//! The Socket Mode machine's configuration, with documented defaults.

use crate::common::{KeepaliveConfig, ReconnectPolicy, Timeouts};
use std::time::Duration;

/// Most sockets Slack lets one app hold.
pub const MAX_CONNECTIONS: usize = 10;

/// When an envelope is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AckMode {
    /// The session acks every envelope the moment it is handed over, before the application
    /// looks at it: a slow handler can never cause a redelivery. The default.
    #[default]
    Auto,
    /// The application acks each envelope itself (with or without a response payload); the
    /// session tracks the 3 s deadline, warns before it passes and reports late acks.
    Manual,
}

/// Everything the sans-IO [`SocketModeSession`](super::SocketModeSession) needs to know.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SocketModeConfig {
    /// Sockets kept open. Default 2; clamped to `1..=10`.
    pub connections: usize,
    /// Time between opening one socket and the next when several are wanted, so they do not
    /// recycle together. Default 2 s. A replacement (make-before-break) does not wait for it.
    pub stagger: Duration,
    /// When envelopes are acknowledged. Default [`AckMode::Auto`].
    pub ack_mode: AckMode,
    /// Slack's ack deadline. Default 3 s.
    pub ack_deadline: Duration,
    /// In manual mode, how long after delivery an unacked envelope is reported as due
    /// ([`SocketModeEvent::AckDue`](super::SocketModeEvent::AckDue)). Default 2 s.
    pub ack_warning: Duration,
    /// In manual mode, how long an unacked envelope is remembered after delivery; acking it
    /// later is [`DeliveryAckError::Unknown`](super::DeliveryAckError::Unknown). Default 60 s.
    pub ack_forget: Duration,
    /// In manual mode, most unacked envelopes remembered; past it the oldest is forgotten.
    /// Default 10 000.
    pub max_pending_acks: usize,
    /// Liveness: a WebSocket ping after this much silence, and the pong deadline.
    /// Default 5 s and 10 s.
    pub keepalive: KeepaliveConfig,
    /// Socket open and `hello` deadlines. Default 10 s each.
    pub timeouts: Timeouts,
    /// Backoff between `apps.connections.open` attempts after a failure.
    pub reconnect: ReconnectPolicy,
    /// How long the replaced socket stays open after its replacement said hello (envelopes
    /// already in flight on it are still read and acked). Default 1 s.
    pub drain: Duration,
    /// After `too_many_websockets`, how long the lowered socket count holds. Default 5 min.
    pub too_many_cooldown: Duration,
    /// Redeliveries (same `event_id`) are recognised for this long. Default 10 min (Slack
    /// retries at once, after about 1 min and after about 5 min). Longer than 2^31 ms (about
    /// 24.8 days) counts as that.
    pub dedupe_window: Duration,
    /// Most `event_id`s remembered; past it the oldest is forgotten first (a redelivery of an
    /// event that old would be handed over again). Default 100 000 (at most about 2.2 MB: an id
    /// costs its 8 bytes in arrival order and a slot of the set that looks it up).
    pub dedupe_capacity: usize,
}

impl Default for SocketModeConfig {
    fn default() -> Self {
        Self {
            connections: 2,
            stagger: Duration::from_secs(2),
            ack_mode: AckMode::Auto,
            ack_deadline: Duration::from_secs(3),
            ack_warning: Duration::from_secs(2),
            ack_forget: Duration::from_secs(60),
            max_pending_acks: 10_000,
            keepalive: KeepaliveConfig::default(),
            timeouts: Timeouts::default(),
            reconnect: ReconnectPolicy::default(),
            drain: Duration::from_secs(1),
            too_many_cooldown: Duration::from_secs(300),
            dedupe_window: Duration::from_secs(600),
            dedupe_capacity: 100_000,
        }
    }
}

impl SocketModeConfig {
    /// The configuration with every value brought into its valid range.
    pub(crate) fn sanitized(mut self) -> Self {
        let clamp = |d: &mut Duration| *d = (*d).min(crate::common::MAX_CONFIG_DURATION);
        for d in [
            &mut self.stagger,
            &mut self.ack_deadline,
            &mut self.ack_warning,
            &mut self.ack_forget,
            &mut self.keepalive.idle_ping,
            &mut self.keepalive.pong_timeout,
            &mut self.timeouts.open,
            &mut self.timeouts.hello,
            &mut self.reconnect.initial,
            &mut self.reconnect.max,
            &mut self.reconnect.healthy_after,
            &mut self.reconnect.min_delay,
            &mut self.drain,
            &mut self.too_many_cooldown,
            &mut self.dedupe_window,
        ] {
            clamp(d);
        }
        self.connections = self.connections.clamp(1, MAX_CONNECTIONS);
        self.ack_warning = self.ack_warning.min(self.ack_deadline);
        self.ack_forget = self.ack_forget.max(self.ack_deadline);
        self.max_pending_acks = self.max_pending_acks.max(1);
        self.dedupe_capacity = self.dedupe_capacity.max(1);
        self
    }
}
