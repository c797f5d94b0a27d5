//! Shutdown: the grace deadline, finishing when nothing is left, and stopping (every socket
//! closed, every request resolved, `Stopped` emitted).

use super::conn::{ConnectPhase, FlightKind, InFlight, Queued};
use super::{CLOSE_NORMAL, Reason, RtmOutput, SendError, Session, SessionEvent, StopReason};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

impl Session {
    /// Starts a graceful shutdown (see [`Session::shutdown`]).
    pub(super) fn begin_shutdown(&mut self, now: Instant, grace: Duration) {
        if self.stopped {
            return;
        }
        let deadline = now.checked_add(grace).unwrap_or(now);
        if let Some(existing) = self.shutdown_deadline {
            if deadline < existing {
                self.shutdown_deadline = Some(deadline);
                self.after(now);
            }
            return;
        }
        self.shutdown_deadline = Some(deadline);
        self.connect = ConnectPhase::Idle;
        if let Some(c) = &self.primary
            && !c.is_ready()
        {
            let id = c.id;
            self.drop_conn(id, Reason::Shutdown, Some(CLOSE_NORMAL), now);
        }
        self.after(now);
    }

    /// Runs after every input: writes what may be written, finishes a shutdown when done.
    pub(super) fn after(&mut self, now: Instant) {
        if self.stopped {
            return;
        }
        self.flush_queue(now);
        if self.shutdown_deadline.is_some() {
            self.after_in_shutdown(now);
        }
    }

    /// [`after`](Self::after) while shutting down: finishes once nothing is left to send.
    #[cold]
    fn after_in_shutdown(&mut self, now: Instant) {
        let idle = self.queue.is_empty()
            && self.control.is_empty()
            && [self.primary.as_ref(), self.old.as_ref()]
                .into_iter()
                .flatten()
                .all(|c| c.app_in_flight() == 0);
        if idle || !self.serving() {
            self.finish(StopReason::Shutdown, now);
        }
    }

    /// Stops the session: closes every socket, fails what is left, emits `Stopped`.
    #[cold]
    pub(super) fn finish(&mut self, reason: StopReason, now: Instant) {
        if self.stopped {
            return;
        }
        let was_serving = self.serving();
        for conn in [self.primary.take(), self.old.take()].into_iter().flatten() {
            self.outputs.push_back(RtmOutput::Close { conn: conn.id, code: CLOSE_NORMAL });
            let mut flights: Vec<(u64, InFlight)> = conn.in_flight.into_iter().collect();
            flights.sort_unstable_by_key(|(wire, _)| *wire);
            for (_, f) in flights {
                if let FlightKind::App { request, .. } = f.kind {
                    // Handed to the socket before the close: it may have been posted.
                    self.complete(request, Err(SendError::Unconfirmed));
                }
            }
        }
        let queued: Vec<Queued> = self.control.drain(..).chain(self.queue.drain(..)).collect();
        for item in queued {
            self.complete(item.request, Err(SendError::Stopped));
        }
        if was_serving {
            let last = match &reason {
                StopReason::GaveUp { last, .. } => last.clone(),
                other => other.failure().map_or(Reason::Shutdown, |f| Reason::ConnectFailed(f.clone())),
            };
            self.emit(SessionEvent::Disconnected { reason: last });
        }
        self.emit(SessionEvent::Stopped { reason });
        self.stopped = true;
        self.connect = ConnectPhase::Idle;
        self.ack_deadlines = VecDeque::new();
        self.typing = HashMap::new();
        self.dedupe.end_overlap(now);
        tracing::info!("session stopped");
    }
}
