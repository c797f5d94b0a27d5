//! The Socket Mode machine's one table of deadlines: every timer, when it is armed, what
//! firing it does, and which ones backpressure freezes (the RTM machine's rule: liveness
//! deadlines, which a slow consumer would otherwise trip).

use super::SocketModeSession;
use super::pending::Stage;
use super::sockets::Phase;
use crate::common::TimerTable;
use std::time::{Duration, Instant};

/// Every deadline the machine can arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// The next `apps.connections.open` may start (stagger, backoff, `too_many_websockets`).
    Open,
    /// A socket must be open, or have said `hello`, by now.
    Opening,
    /// Keepalive: ping an idle socket, or give up on one whose ping went unanswered.
    Keepalive,
    /// A replaced socket's drain is over.
    Drain,
    /// Manual mode: an ack is due, missed, or forgotten.
    Ack,
    /// The shutdown grace is over.
    Shutdown,
}

impl Timer {
    /// Every timer, in the order `handle_timeout` fires them.
    pub(crate) const ALL: [Timer; 6] =
        [Timer::Open, Timer::Opening, Timer::Keepalive, Timer::Drain, Timer::Ack, Timer::Shutdown];

    /// Whether backpressure freezes it.
    pub(crate) fn pauses(self) -> bool {
        match self {
            Timer::Keepalive => true,
            Timer::Open | Timer::Opening | Timer::Drain | Timer::Ack | Timer::Shutdown => false,
        }
    }
}

impl TimerTable for SocketModeSession {
    type Timer = Timer;
    const ALL: &'static [Timer] = &Timer::ALL;

    /// When `timer` fires, if it is armed.
    fn deadline(&self, timer: Timer) -> Option<Instant> {
        if self.stopped || (timer.pauses() && self.paused_since.is_some()) {
            return None;
        }
        let socks = self.socks.iter();
        match timer {
            Timer::Open => {
                if !self.open_wanted() {
                    return None;
                }
                // Below the configured count but held by `too_many_websockets`: wait for the
                // cap to end; otherwise for the stagger or the backoff.
                match self.cap {
                    Some((_, until)) if self.counted() >= self.target() => Some(until),
                    _ => self.next_open,
                }
            }
            Timer::Opening => socks
                .filter_map(|s| match s.phase {
                    Phase::Opening(t) | Phase::AwaitingHello(t) => Some(t),
                    Phase::Ready => None,
                })
                .min(),
            Timer::Keepalive => socks
                .filter(|s| s.is_ready())
                .map(|s| s.ping.unwrap_or(s.last_rx + self.config.keepalive.idle_ping))
                .min(),
            Timer::Drain => socks.filter_map(|s| s.drain_until).min(),
            Timer::Ack => {
                let c = &self.config;
                [(Stage::Due, c.ack_warning), (Stage::Missed, c.ack_deadline), (Stage::Forget, c.ack_forget)]
                    .into_iter()
                    .filter_map(|(stage, after)| self.pending.head(stage).map(|t| t + after))
                    .min()
            }
            Timer::Shutdown => self.shutdown_deadline,
        }
    }

    /// Acts on `timer`, whose deadline has passed at `now`.
    fn fire(&mut self, timer: Timer, now: Instant) {
        match timer {
            Timer::Open => self.top_up(now),
            Timer::Opening => self.check_opening(now),
            Timer::Keepalive => self.check_liveness(now),
            Timer::Drain => self.check_drained(now),
            Timer::Ack => self.check_acks(now),
            Timer::Shutdown => self.finish(super::StopReason::Shutdown, now),
        }
    }
}

impl SocketModeSession {
    /// The application stopped (`true`) or resumed taking envelopes: freezes the pausing
    /// timers, then moves them by the time they were frozen.
    pub(super) fn on_backpressure(&mut self, on: bool, now: Instant) {
        match (on, self.paused_since) {
            (true, None) => self.paused_since = Some(now),
            (false, Some(since)) => {
                self.paused_since = None;
                let d: Duration = now.saturating_duration_since(since);
                for s in &mut self.socks {
                    s.last_rx += d;
                    if let Some(t) = &mut s.ping {
                        *t += d;
                    }
                }
            }
            _ => {}
        }
    }
}
