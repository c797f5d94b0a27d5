//! The records the machine keeps: the `rtm.connect` phase, each connection, requests in flight
//! and queued, the typing throttle's slots.

use super::types::{ConnId, RequestId};
use crate::common::IdMap;
use slack_rtm_codec::types::{ClientMessage, SelfInfo, TeamInfo};
use std::num::NonZeroU64;
use std::time::Instant;

/// Where the `rtm.connect` part of the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ConnectPhase {
    /// Nothing in progress.
    Idle,
    /// Backing off until then.
    Waiting(Instant),
    /// `rtm.connect` is in flight.
    Calling,
}

/// Where one connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ConnPhase {
    /// The socket is being opened; give up at the deadline.
    Opening(Instant),
    /// Open; `hello` must arrive before the deadline.
    AwaitingHello(Instant),
    /// `hello` received at this instant.
    Ready(Instant),
}

/// What a frame in flight is for.
#[derive(Debug)]
pub(super) enum FlightKind {
    /// An application request.
    App { request: RequestId, msg: ClientMessage, retries: u32, queue_deadline: Instant },
    /// The keepalive ping.
    Ping,
    /// The automatic `presence_sub` after `hello`.
    Presence,
}

/// A frame handed to the driver and not yet answered.
#[derive(Debug)]
pub(super) struct InFlight {
    pub(super) kind: FlightKind,
    pub(super) written: bool,
    pub(super) deadline: Instant,
}

/// One WebSocket connection.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) id: ConnId,
    pub(super) phase: ConnPhase,
    pub(super) self_: SelfInfo,
    pub(super) team: TeamInfo,
    pub(super) next_wire_id: u64,
    pub(super) last_rx: Instant,
    /// The outstanding keepalive ping: wire id and deadline.
    pub(super) ping: Option<(u64, Instant)>,
    pub(super) in_flight: IdMap<u64, InFlight>,
    /// For a replaced connection after the new one's `hello`: close at this instant at the
    /// latest.
    pub(super) drain_until: Option<Instant>,
}

impl Conn {
    pub(super) fn new(id: ConnId, deadline: Instant, self_: SelfInfo, team: TeamInfo, now: Instant) -> Self {
        Self {
            id,
            phase: ConnPhase::Opening(deadline),
            self_,
            team,
            next_wire_id: 1,
            last_rx: now,
            ping: None,
            in_flight: IdMap::default(),
            drain_until: None,
        }
    }

    pub(super) fn is_ready(&self) -> bool {
        matches!(self.phase, ConnPhase::Ready(_))
    }

    pub(super) fn app_in_flight(&self) -> usize {
        self.in_flight.values().filter(|f| matches!(f.kind, FlightKind::App { .. })).count()
    }

    pub(super) fn take_wire_id(&mut self) -> NonZeroU64 {
        let id = NonZeroU64::new(self.next_wire_id).unwrap_or(NonZeroU64::MIN);
        self.next_wire_id = self.next_wire_id.saturating_add(1).max(1);
        id
    }
}

/// An application request waiting to be written.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) request: RequestId,
    pub(super) msg: ClientMessage,
    pub(super) deadline: Instant,
    pub(super) retries: u32,
}

/// The typing throttle's state for one channel.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct TypingSlot {
    pub(super) queued: bool,
    pub(super) last_sent: Option<Instant>,
}
