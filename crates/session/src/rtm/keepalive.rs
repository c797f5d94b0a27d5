//! Keepalive: any frame is liveness; an application-level `ping` after
//! [`KeepaliveConfig::idle_ping`](super::KeepaliveConfig::idle_ping) of silence (when it is due
//! is in the timer table, `timer.rs`).

use super::conn::{ConnPhase, FlightKind, InFlight};
use super::{ConnId, RtmOutput, Session};
use slack_rtm_codec::encode_client_message;
use slack_rtm_codec::types::ClientMessage;
use slack_rtm_codec::types::client::Ping;
use std::time::Instant;

impl Session {
    /// Records liveness; `false` if the connection is unknown.
    pub(super) fn touch(&mut self, id: ConnId, now: Instant) -> bool {
        let hello = self.config.timeouts.hello;
        match self.conn_mut(id) {
            Some(c) => {
                c.last_rx = now;
                c.ping = None;
                if let ConnPhase::Opening(_) = c.phase {
                    c.phase = ConnPhase::AwaitingHello(now + hello);
                }
                true
            }
            None => false,
        }
    }

    pub(super) fn send_ping(&mut self, now: Instant) {
        let millis = u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX);
        let deadline = now + self.config.keepalive.pong_timeout;
        let Some(c) = self.primary.as_mut() else { return };
        let wire = c.take_wire_id();
        let Ok(text) = encode_client_message(wire, &ClientMessage::Ping(Ping::with_time(millis))) else {
            return;
        };
        // Only one keepalive ping is tracked at a time.
        c.in_flight.retain(|_, f| !matches!(f.kind, FlightKind::Ping));
        c.in_flight.insert(wire.get(), InFlight { kind: FlightKind::Ping, written: false, deadline });
        c.ping = Some((wire.get(), deadline));
        let conn = c.id;
        self.outputs.push_back(RtmOutput::Send { conn, text, id: wire.get() });
    }
}
