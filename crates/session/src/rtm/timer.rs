//! The one table of deadlines: which timers exist, when each is armed, what firing it does, and
//! which ones backpressure freezes. [`Session::poll_timeout`], [`Session::handle_timeout`] and
//! the backpressure rule all read this table, so a new deadline cannot be added to one of them
//! and forgotten in another (every `match` below is exhaustive).

use super::conn::{ConnPhase, ConnectPhase};
use super::{CLOSE_NORMAL, CLOSE_REPLACED, Reason, Session};
use crate::common::TimerTable;
use std::time::{Duration, Instant};

/// Every deadline the machine can arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// The backoff before the next `rtm.connect` is over.
    Reconnect,
    /// The socket being opened must be open by now.
    Open,
    /// `hello` must have arrived by now.
    Hello,
    /// Keepalive: ping after the idle interval, or give up once a ping went unanswered.
    Keepalive,
    /// The connection replaced after `goodbye` must be closed by now.
    Drain,
    /// The oldest reply deadline.
    Ack,
    /// The oldest queued request's deadline.
    Queue,
    /// The shutdown grace is over.
    Shutdown,
    /// The send bucket has a token for the head of the queue.
    SendRate,
}

impl Timer {
    /// Every timer, in the order [`Session::handle_timeout`] fires them.
    pub(crate) const ALL: [Timer; 9] = [
        Timer::Reconnect,
        Timer::Open,
        Timer::Hello,
        Timer::Keepalive,
        Timer::Drain,
        Timer::Ack,
        Timer::Queue,
        Timer::Shutdown,
        Timer::SendRate,
    ];

    /// Whether the timer is frozen while the application does not take events
    /// ([`RtmInput::Backpressure`](super::RtmInput::Backpressure)): liveness and reply deadlines, which
    /// a slow consumer would otherwise trip (the driver stops reading sockets meanwhile).
    pub(crate) fn pauses(self) -> bool {
        match self {
            Timer::Hello | Timer::Keepalive | Timer::Ack => true,
            Timer::Reconnect
            | Timer::Open
            | Timer::Drain
            | Timer::Queue
            | Timer::Shutdown
            | Timer::SendRate => false,
        }
    }
}

impl TimerTable for Session {
    type Timer = Timer;
    const ALL: &'static [Timer] = &Timer::ALL;

    /// When `timer` fires, if it is armed.
    fn deadline(&self, timer: Timer) -> Option<Instant> {
        if self.stopped || (timer.pauses() && self.paused_since.is_some()) {
            return None;
        }
        let primary = self.primary.as_ref();
        match timer {
            Timer::Reconnect => match self.connect {
                ConnectPhase::Waiting(t) => Some(t),
                ConnectPhase::Idle | ConnectPhase::Calling => None,
            },
            Timer::Open => primary.and_then(|c| match c.phase {
                ConnPhase::Opening(t) => Some(t),
                _ => None,
            }),
            Timer::Hello => primary.and_then(|c| match c.phase {
                ConnPhase::AwaitingHello(t) => Some(t),
                _ => None,
            }),
            Timer::Keepalive => primary.filter(|c| c.is_ready()).map(|c| match c.ping {
                Some((_, deadline)) => deadline,
                None => c.last_rx + self.config.keepalive.idle_ping,
            }),
            Timer::Drain => self.old.as_ref().and_then(|o| o.drain_until),
            Timer::Ack => self.ack_deadlines.front().map(|&(t, _, _)| t),
            Timer::Queue => {
                let heads = [self.queue.front(), self.control.front()];
                heads.into_iter().flatten().map(|q| q.deadline).min()
            }
            Timer::Shutdown => self.shutdown_deadline,
            Timer::SendRate => {
                primary.filter(|c| c.is_ready() && !self.queue.is_empty()).map(|_| self.bucket.ready_at())
            }
        }
    }

    /// Acts on `timer`, whose deadline has passed at `now`.
    fn fire(&mut self, timer: Timer, now: Instant) {
        let primary = self.primary.as_ref().map(|c| (c.id, c.ping.is_some()));
        match timer {
            Timer::Reconnect => {
                self.connect = ConnectPhase::Idle;
                self.call_connect();
            }
            Timer::Open => {
                if let Some((id, _)) = primary {
                    self.drop_conn(id, Reason::OpenTimeout, Some(CLOSE_REPLACED), now);
                }
            }
            Timer::Hello => {
                if let Some((id, _)) = primary {
                    self.drop_conn(id, Reason::HelloTimeout, Some(CLOSE_REPLACED), now);
                }
            }
            Timer::Keepalive => match primary {
                Some((id, true)) => {
                    tracing::debug!(conn = %id, "no frame since the keepalive ping: connection dead");
                    self.drop_conn(id, Reason::KeepaliveTimeout, Some(CLOSE_REPLACED), now);
                }
                Some((_, false)) => self.send_ping(now),
                None => {}
            },
            Timer::Drain => {
                if let Some(id) = self.old.as_ref().map(|o| o.id) {
                    self.drop_conn(id, Reason::Goodbye, Some(CLOSE_NORMAL), now);
                }
            }
            Timer::Ack => self.expire_acks(now),
            Timer::Queue => self.expire_queue(now),
            Timer::Shutdown => self.finish(super::StopReason::Shutdown, now),
            Timer::SendRate => self.flush_queue(now),
        }
    }
}

impl Session {
    /// Moves a paused timer's deadline `d` later (the time the application was not reading).
    fn shift(&mut self, timer: Timer, d: Duration) {
        let conns = [self.primary.as_mut(), self.old.as_mut()].into_iter().flatten();
        match timer {
            Timer::Hello => {
                for c in conns {
                    if let ConnPhase::AwaitingHello(t) = &mut c.phase {
                        *t += d;
                    }
                }
            }
            Timer::Keepalive => {
                for c in conns {
                    c.last_rx += d;
                    if let Some((_, t)) = &mut c.ping {
                        *t += d;
                    }
                }
            }
            Timer::Ack => {
                for c in conns {
                    for f in c.in_flight.values_mut() {
                        f.deadline += d;
                    }
                }
                for (t, _, _) in &mut self.ack_deadlines {
                    *t += d;
                }
            }
            Timer::Reconnect
            | Timer::Open
            | Timer::Drain
            | Timer::Queue
            | Timer::Shutdown
            | Timer::SendRate => {}
        }
    }

    /// The application stopped (`true`) or resumed taking events: freezes the pausing timers,
    /// then moves them by the time they were frozen.
    #[inline(never)]
    pub(super) fn on_backpressure(&mut self, on: bool, now: Instant) {
        match (on, self.paused_since) {
            (true, None) => self.paused_since = Some(now),
            (false, Some(since)) => {
                self.paused_since = None;
                let d = now.saturating_duration_since(since);
                for timer in Timer::ALL.into_iter().filter(|t| t.pauses()) {
                    self.shift(timer, d);
                }
            }
            _ => {}
        }
    }
}
