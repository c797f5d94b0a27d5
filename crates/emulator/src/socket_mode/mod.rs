//! Socket Mode beside RTM, from the same workspace: `apps.connections.open` (in
//! [`crate::api`]), the sockets ([`conn`]), envelope delivery with acks and redelivery
//! ([`state`]), and the handle's methods ([`handle`]).

#[cfg(feature = "blast")]
pub(crate) mod blast;
#[cfg(feature = "blast")]
mod blast_slack;
pub(crate) mod conn;
mod handle;
pub(crate) mod ops;
pub(crate) mod state;

use crate::record::CloseReason;
use std::fmt;
use std::time::{Duration, Instant};

/// A Socket Mode socket id, unique within one emulator (1, 2, 3, … in opening order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u64);

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "socket#{}", self.0)
    }
}

/// Which Socket Mode sockets a scripted action applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketTarget {
    /// Every open socket.
    All,
    /// One socket.
    Socket(SocketId),
}

impl From<SocketId> for SocketTarget {
    fn from(id: SocketId) -> Self {
        SocketTarget::Socket(id)
    }
}

/// A Socket Mode socket, open or closed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SocketInfo {
    /// Its id.
    pub id: SocketId,
    /// When it opened.
    pub opened_at: Instant,
    /// When it closed (`None` while open).
    pub closed_at: Option<Instant>,
    /// Why it closed (with the close code, when there was one).
    pub close_reason: Option<CloseReason>,
    /// Refused with `disconnect` `too_many_websockets` (one socket over the limit).
    pub refused: bool,
    /// Its URL carried `debug_reconnects=true`.
    pub debug_reconnects: bool,
    /// The `disconnect` reasons it was sent, in order.
    pub disconnects: Vec<String>,
    /// WebSocket pings the client sent.
    pub client_pings: u64,
    /// WebSocket pongs the client sent (answers to the server's pings).
    pub client_pongs: u64,
}

impl SocketInfo {
    /// Whether the socket is still open.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// One delivery of an envelope.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeliveryAttempt {
    /// The envelope id of this delivery (new on each redelivery).
    pub envelope_id: String,
    /// 0 for the first delivery.
    pub retry_attempt: u32,
    /// The socket it was written to.
    pub socket: SocketId,
    /// When.
    pub sent_at: Instant,
    /// When its ack arrived, if it did.
    pub acked_at: Option<Instant>,
}

/// An envelope the workspace produced, with its delivery attempts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EnvelopeRecord {
    /// Its number (1, 2, 3, … in creation order).
    pub seq: u64,
    /// `events_api`, `slash_commands`, `interactive`, …
    pub envelope_type: String,
    /// The event id (`events_api` only): the same on every delivery.
    pub event_id: Option<String>,
    /// The payload.
    pub payload: serde_json::Value,
    /// When it was made.
    pub created_at: Instant,
    /// Every delivery so far (empty while it waits for a socket).
    pub attempts: Vec<DeliveryAttempt>,
    /// Whether any delivery was acked.
    pub acked: bool,
    /// Every retry was used and none was acked in time.
    pub gave_up: bool,
}

/// An ack a client sent.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AckRecord {
    /// The envelope id acked.
    pub envelope_id: String,
    /// The socket it came on.
    pub socket: SocketId,
    /// When it arrived.
    pub at: Instant,
    /// Time since that delivery was written (`None` for an unknown envelope id).
    pub delay: Option<Duration>,
    /// Whether it arrived after the ack deadline.
    pub late: bool,
    /// The response payload, if any.
    pub payload: Option<serde_json::Value>,
}
