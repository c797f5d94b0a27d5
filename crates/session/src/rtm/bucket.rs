//! The outgoing token bucket, as a generic cell rate algorithm on `Instant`s (exact integer
//! arithmetic: no drift, no floating-point busy loops).

use super::config::SendRate;
use std::time::{Duration, Instant};

/// The slowest the bucket gets after repeated `-1` replies, as a multiple of the configured
/// interval.
const MAX_SLOWDOWN: u32 = 16;

#[derive(Clone, Debug)]
pub(crate) struct Bucket {
    base: Duration,
    /// The current time per token (`base` unless slowed down).
    interval: Duration,
    burst: u32,
    recovery: Duration,
    /// Theoretical arrival time: when the bucket will be full again.
    tat: Instant,
    /// When the interval may next recover one step.
    recover_at: Option<Instant>,
}

impl Bucket {
    pub(crate) fn new(rate: &SendRate, now: Instant) -> Self {
        let base = rate.interval;
        Self {
            base,
            interval: base,
            burst: rate.burst.max(1),
            recovery: rate.recovery,
            tat: now,
            recover_at: None,
        }
    }

    fn tolerance(&self) -> Duration {
        self.interval.saturating_mul(self.burst - 1)
    }

    fn recover(&mut self, now: Instant) {
        while let Some(at) = self.recover_at {
            if now < at {
                break;
            }
            self.interval = (self.interval / 2).max(self.base);
            self.recover_at = if self.interval > self.base { Some(at + self.recovery) } else { None };
        }
    }

    /// The earliest time a token is available (`<= now` means now).
    pub(crate) fn ready_at(&self) -> Instant {
        self.tat.checked_sub(self.tolerance()).unwrap_or(self.tat)
    }

    /// Takes a token if one is available at `now`.
    pub(crate) fn try_take(&mut self, now: Instant) -> bool {
        self.recover(now);
        if self.ready_at() > now {
            return false;
        }
        self.tat = self.tat.max(now) + self.interval;
        true
    }

    /// A `-1` reply: halve the rate (down to 1/16 of the configured one) and empty the bucket.
    pub(crate) fn slow_down(&mut self, now: Instant) {
        self.interval = self.interval.saturating_mul(2).min(self.base.saturating_mul(MAX_SLOWDOWN));
        let empty = now + self.interval + self.tolerance();
        self.tat = self.tat.max(empty);
        self.recover_at = Some(now + self.recovery);
    }

    /// The current time per token.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// When the next recovery step is due, if slowed down.
    #[cfg(test)]
    pub(crate) fn recover_at(&self) -> Option<Instant> {
        self.recover_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(ms: u64, burst: u32) -> SendRate {
        SendRate {
            interval: Duration::from_millis(ms),
            burst,
            recovery: Duration::from_secs(10),
            ..SendRate::default()
        }
    }

    #[test]
    fn burst_then_one_per_interval() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&rate(1000, 3), t0);
        assert!(b.try_take(t0));
        assert!(b.try_take(t0));
        assert!(b.try_take(t0));
        assert!(!b.try_take(t0));
        assert_eq!(b.ready_at(), t0 + Duration::from_secs(1));
        assert!(!b.try_take(t0 + Duration::from_millis(999)));
        assert!(b.try_take(t0 + Duration::from_secs(1)));
        assert!(!b.try_take(t0 + Duration::from_millis(1500)));
        assert!(b.try_take(t0 + Duration::from_secs(2)));
        // Idle for long: the bucket refills to `burst`, no more.
        let later = t0 + Duration::from_secs(100);
        assert!(b.try_take(later) && b.try_take(later) && b.try_take(later));
        assert!(!b.try_take(later));
    }

    #[test]
    fn sustained_rate_is_exact_over_many_sends() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&rate(250, 1), t0);
        let mut now = t0;
        let mut sent = 0;
        while now < t0 + Duration::from_secs(10) {
            if b.try_take(now) {
                sent += 1;
            }
            now += Duration::from_millis(10);
        }
        assert_eq!(sent, 40);
    }

    #[test]
    fn slow_down_doubles_then_recovers_stepwise() {
        let t0 = Instant::now();
        let mut b = Bucket::new(&rate(1000, 2), t0);
        assert!(b.try_take(t0));
        b.slow_down(t0);
        assert_eq!(b.interval(), Duration::from_secs(2));
        // The bucket is empty: nothing before a full slowed interval (plus the burst tolerance).
        assert!(!b.try_take(t0 + Duration::from_millis(1999)));
        b.slow_down(t0);
        assert_eq!(b.interval(), Duration::from_secs(4));
        for _ in 0..10 {
            b.slow_down(t0);
        }
        assert_eq!(b.interval(), Duration::from_secs(16), "capped at 16x");
        // Recovery: one halving per quiet period.
        b.try_take(t0 + Duration::from_secs(10));
        assert_eq!(b.interval(), Duration::from_secs(8));
        b.try_take(t0 + Duration::from_secs(35));
        assert_eq!(b.interval(), Duration::from_secs(2));
        b.try_take(t0 + Duration::from_secs(40));
        assert_eq!(b.interval(), Duration::from_secs(1));
        assert_eq!(b.recover_at(), None);
    }
}
