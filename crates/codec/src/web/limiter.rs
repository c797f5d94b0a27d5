//! Slack's rate-limit tiers and a per-method limiter, sans-IO (time is passed in).
//!
//! Slack limits Web API calls per method, per app, per workspace, in tiers (its published
//! figures; each tier's "+" means Slack may allow more):
//!
//! | tier | calls per minute | methods here |
//! |---|---|---|
//! | Tier 1 | 1+ | `rtm.connect`, `apps.connections.open` |
//! | Tier 2 | 20+ | `reactions.remove`, `conversations.list`, `users.list`; unknown methods |
//! | Tier 3 | 50+ | `conversations.history`, `conversations.replies`, `conversations.info`, `chat.update`, `chat.delete`, `reactions.add` |
//! | Tier 4 | 100+ | `users.info`, `chat.postEphemeral`, `views.open`, `views.update`, `views.push`, `views.publish`, `chat.appendStream`, `assistant.threads.setStatus` |
//! | Special | 1 per second per channel, short bursts | `chat.postMessage` (also a workspace-wide limit Slack does not publish) |
//! | Special | hundreds per minute | `auth.test` (treated as Tier 4) |
//!
//! [`RateLimiter`] keeps a token bucket per method (per method *and channel* for
//! `chat.postMessage`) at the tier's rate with a small burst, so a burst of calls waits
//! locally instead of earning 429s; and after a 429 it holds every call of that method until
//! `Retry-After` has passed. Its memory is bounded ([`RateLimiter::MAX_KEYS`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A Web API rate-limit tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateTier {
    /// 1+ per minute.
    Tier1,
    /// 20+ per minute.
    Tier2,
    /// 50+ per minute.
    Tier3,
    /// 100+ per minute.
    Tier4,
    /// `chat.postMessage`: 1 per second per channel, short bursts allowed.
    PerChannel,
}

impl RateTier {
    /// Calls per minute sustained.
    pub fn per_minute(self) -> u32 {
        match self {
            RateTier::Tier1 => 1,
            RateTier::Tier2 => 20,
            RateTier::Tier3 => 50,
            RateTier::Tier4 => 100,
            RateTier::PerChannel => 60,
        }
    }

    /// Calls allowed at once after a quiet period.
    pub fn burst(self) -> u32 {
        match self {
            RateTier::Tier1 => 1,
            RateTier::Tier2 => 5,
            RateTier::Tier3 => 10,
            RateTier::Tier4 => 20,
            RateTier::PerChannel => 3,
        }
    }

    /// The time between two calls, sustained.
    pub fn interval(self) -> Duration {
        Duration::from_secs(60) / self.per_minute()
    }
}

/// The tier of a method (Tier 2, Slack's most common floor, for methods not listed).
pub fn method_tier(method: &str) -> RateTier {
    match method {
        "rtm.connect" | "apps.connections.open" => RateTier::Tier1,
        "chat.postMessage" => RateTier::PerChannel,
        "conversations.history"
        | "conversations.replies"
        | "conversations.info"
        | "conversations.members"
        | "chat.update"
        | "chat.delete"
        | "reactions.add" => RateTier::Tier3,
        "users.info"
        | "auth.test"
        | "chat.postEphemeral"
        | "views.open"
        | "views.update"
        | "views.push"
        | "views.publish"
        | "chat.appendStream"
        | "assistant.threads.setStatus" => RateTier::Tier4,
        _ => RateTier::Tier2,
    }
}

#[derive(Clone, Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    tier: RateTier,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let per_sec = f64::from(self.tier.per_minute()) / 60.0;
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(f64::from(self.tier.burst()));
        self.last = self.last.max(now);
    }

    fn is_full(&self) -> bool {
        self.tokens >= f64::from(self.tier.burst())
    }
}

/// A per-method (per-channel for `chat.postMessage`) limiter at Slack's tier rates. Sans-IO:
/// every call takes `now`; the caller sleeps for the duration it is told.
#[derive(Clone, Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Bucket>,
    paused: HashMap<String, Instant>,
    disabled: bool,
}

impl RateLimiter {
    /// At most this many buckets are kept; idle (full) ones are forgotten first.
    pub const MAX_KEYS: usize = 1024;
    /// Longest hold after a 429, whatever `Retry-After` said.
    pub const MAX_PAUSE: Duration = Duration::from_secs(24 * 3600);

    /// A limiter at Slack's tier rates.
    pub fn new() -> Self {
        Self::default()
    }

    /// A limiter that only honours 429s (no local pacing), e.g. for an emulator with its own
    /// limits or a proxy that paces calls.
    pub fn only_retry_after() -> Self {
        Self { disabled: true, ..Self::default() }
    }

    fn key(method: &str, channel: Option<&str>) -> String {
        match (method_tier(method), channel) {
            (RateTier::PerChannel, Some(c)) => format!("{method}\u{1f}{c}"),
            _ => method.to_owned(),
        }
    }

    /// Takes a slot for one call of `method` (to `channel`, which matters for
    /// `chat.postMessage`) at `now`: `Ok(())` to send now, or `Err(wait)` to ask again after
    /// `wait`.
    pub fn try_acquire(&mut self, method: &str, channel: Option<&str>, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.paused.get(method).copied() {
            if until > now {
                return Err(until - now);
            }
            self.paused.remove(method);
        }
        if self.disabled {
            return Ok(());
        }
        let key = Self::key(method, channel);
        if !self.buckets.contains_key(&key) {
            self.make_room(now);
        }
        let tier = method_tier(method);
        let bucket = self.buckets.entry(key).or_insert_with(|| Bucket {
            tokens: f64::from(tier.burst()),
            last: now,
            tier,
        });
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let per_sec = f64::from(tier.per_minute()) / 60.0;
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec);
            // Never ask for a zero wait (rounding): at least a millisecond.
            Err(wait.max(Duration::from_millis(1)))
        }
    }

    /// Slack answered 429 for `method`: hold every call of it until `now + retry_after`.
    pub fn rate_limited(&mut self, method: &str, retry_after: Duration, now: Instant) {
        if !self.paused.contains_key(method) && self.paused.len() >= Self::MAX_KEYS {
            self.paused.retain(|_, until| *until > now);
            if self.paused.len() >= Self::MAX_KEYS {
                return;
            }
        }
        // A hostile or garbled Retry-After must not overflow the deadline.
        let until = now + retry_after.min(Self::MAX_PAUSE);
        let entry = self.paused.entry(method.to_owned()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// When calls of `method` may go again after a 429, if they are held.
    pub fn paused_until(&self, method: &str) -> Option<Instant> {
        self.paused.get(method).copied()
    }

    /// How many buckets are kept (bounded by [`RateLimiter::MAX_KEYS`]).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no bucket is kept.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn make_room(&mut self, now: Instant) {
        if self.buckets.len() < Self::MAX_KEYS {
            return;
        }
        self.buckets.retain(|_, b| {
            b.refill(now);
            !b.is_full()
        });
        while self.buckets.len() >= Self::MAX_KEYS {
            let oldest = self.buckets.iter().min_by_key(|(_, b)| b.last).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.buckets.remove(&k),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drains `n` calls the way a client would: ask, sleep what it says (on a virtual clock),
    /// ask again. Returns the virtual time at which each call went out.
    fn send_times(
        l: &mut RateLimiter,
        method: &str,
        channel: Option<&str>,
        start: Instant,
        n: usize,
    ) -> Vec<Duration> {
        let mut now = start;
        let mut out = Vec::new();
        while out.len() < n {
            match l.try_acquire(method, channel, now) {
                Ok(()) => out.push(now - start),
                Err(wait) => now += wait,
            }
        }
        out
    }

    #[test]
    fn a_burst_of_post_messages_waits_at_one_per_second_per_channel() {
        let mut l = RateLimiter::new();
        let t0 = Instant::now();
        let times = send_times(&mut l, "chat.postMessage", Some("C1"), t0, 6);
        // Three at once (the burst), then one per second.
        assert_eq!(times[..3], [Duration::ZERO; 3]);
        for (i, t) in times[3..].iter().enumerate() {
            let expected = Duration::from_secs(i as u64 + 1);
            assert!(t.abs_diff(expected) < Duration::from_millis(2), "call {}: {t:?}", i + 3);
        }
        // Another channel has its own bucket.
        assert_eq!(l.try_acquire("chat.postMessage", Some("C2"), t0), Ok(()));
    }

    #[test]
    fn tiers_pace_at_their_rate() {
        let mut l = RateLimiter::new();
        let t0 = Instant::now();
        let times = send_times(&mut l, "conversations.history", None, t0, 12);
        assert_eq!(times[9], Duration::ZERO, "Tier 3 bursts 10");
        let gap = times[11] - times[10];
        assert!(gap.abs_diff(Duration::from_millis(1200)) < Duration::from_millis(2), "{gap:?}");
        assert_eq!(RateTier::Tier1.interval(), Duration::from_secs(60));
        assert_eq!(method_tier("some.newMethod"), RateTier::Tier2);
    }

    #[test]
    fn a_429_holds_the_method_until_retry_after() {
        let mut l = RateLimiter::new();
        let t0 = Instant::now();
        l.rate_limited("users.info", Duration::from_secs(30), t0);
        assert_eq!(l.try_acquire("users.info", None, t0), Err(Duration::from_secs(30)));
        assert_eq!(
            l.try_acquire("users.info", None, t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(20))
        );
        assert_eq!(l.try_acquire("auth.test", None, t0), Ok(()), "other methods are not held");
        // A shorter Retry-After never shortens a hold.
        l.rate_limited("users.info", Duration::from_secs(1), t0);
        assert_eq!(l.paused_until("users.info"), Some(t0 + Duration::from_secs(30)));
        assert_eq!(l.try_acquire("users.info", None, t0 + Duration::from_secs(30)), Ok(()));
        let mut only = RateLimiter::only_retry_after();
        assert!((0..100).all(|_| only.try_acquire("chat.postMessage", Some("C"), t0).is_ok()));
        only.rate_limited("chat.postMessage", Duration::from_secs(2), t0);
        assert!(only.try_acquire("chat.postMessage", Some("C"), t0).is_err());
    }

    #[test]
    fn a_huge_retry_after_holds_at_most_max_pause() {
        let mut l = RateLimiter::new();
        let t0 = Instant::now();
        l.rate_limited("users.info", Duration::MAX, t0);
        assert_eq!(l.paused_until("users.info"), Some(t0 + RateLimiter::MAX_PAUSE));
        assert!(l.try_acquire("users.info", None, t0).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut l = RateLimiter::new();
        let t0 = Instant::now();
        for i in 0..(RateLimiter::MAX_KEYS * 3) {
            let c = format!("C{i}");
            let _ = l.try_acquire("chat.postMessage", Some(&c), t0 + Duration::from_millis(i as u64));
            l.rate_limited(&format!("m{i}.x"), Duration::from_secs(1000), t0);
        }
        assert!(l.len() <= RateLimiter::MAX_KEYS);
        assert!(l.paused.len() <= RateLimiter::MAX_KEYS);
    }
}
