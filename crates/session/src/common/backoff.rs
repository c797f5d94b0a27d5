//! Exponential backoff with jitter above a floor, and the small PRNG behind the jitter.
//!
//! Protocol-agnostic (it knows only a [`ReconnectPolicy`]): any session machine that reconnects
//! uses this one.

use super::config::ReconnectPolicy;
use std::time::Duration;

/// SplitMix64: a tiny, fast, well-distributed generator. Not cryptographic (jitter does not
/// need to be), and deterministic for a given seed so tests are reproducible.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A seed that differs per session and per process, from the standard library's randomly
    /// keyed hasher (no IO, no extra dependency).
    pub(crate) fn random_seed() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        h.finish()
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    pub(crate) fn next_unit(&mut self) -> f64 {
        // 53 random bits: every value is exactly representable.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The backoff state: consecutive failed attempts and the jitter source.
///
/// Before retry `n` the delay is uniform in `[c/2, c]`, `c` being [`Backoff::ceiling`], and
/// never under [`ReconnectPolicy::min_delay`] (capped at [`ReconnectPolicy::max`]) nor under a
/// `Retry-After`. Unlike full jitter from zero, no client of a fleet comes back at once after
/// an outage or during a migration, while the spread still desynchronises them.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    policy: ReconnectPolicy,
    rng: SplitMix64,
    /// Failed attempts in a row (0 after a healthy connection).
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(policy: ReconnectPolicy) -> Self {
        let seed = policy.jitter_seed.unwrap_or_else(SplitMix64::random_seed);
        Self { policy, rng: SplitMix64::new(seed), failures: 0 }
    }

    /// The ceiling before retry number `attempt` (1-based): `min(max, initial × m^(attempt-1))`.
    pub(crate) fn ceiling(policy: &ReconnectPolicy, attempt: u32) -> Duration {
        let m =
            if policy.multiplier.is_finite() && policy.multiplier >= 1.0 { policy.multiplier } else { 1.0 };
        let max = policy.max.as_secs_f64();
        let exp = attempt.saturating_sub(1).min(1024) as i32;
        let c = policy.initial.as_secs_f64() * m.powi(exp);
        let c = if c.is_finite() { c.min(max) } else { max };
        Duration::try_from_secs_f64(c.max(0.0)).unwrap_or(policy.max)
    }

    /// The smallest delay before any retry: [`ReconnectPolicy::min_delay`], but never above
    /// [`ReconnectPolicy::max`] (the caller's explicit cap wins).
    pub(crate) fn floor(policy: &ReconnectPolicy) -> Duration {
        policy.min_delay.min(policy.max)
    }

    /// Records a failure and returns `(attempt, delay)` for the next try.
    pub(crate) fn next_delay(&mut self, retry_after: Option<Duration>) -> (u32, Duration) {
        self.failures = self.failures.saturating_add(1);
        let ceiling = Self::ceiling(&self.policy, self.failures);
        let half = ceiling / 2;
        let jittered = (half + half.mul_f64(self.rng.next_unit())).max(Self::floor(&self.policy));
        let delay = match retry_after {
            Some(ra) => jittered.max(ra),
            None => jittered,
        };
        (self.failures, delay)
    }

    /// `base` stretched by a random factor in `[1, 1.5)`: never under `base`, and spread so
    /// that clients told the same thing at the same time do not come back together.
    pub(crate) fn jittered(&mut self, base: Duration) -> Duration {
        base + (base / 2).mul_f64(self.rng.next_unit())
    }

    /// Failed attempts in a row.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// A connection stayed healthy: start over.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    pub(crate) fn policy(&self) -> &ReconnectPolicy {
        &self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(seed: u64) -> ReconnectPolicy {
        ReconnectPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 2.0,
            jitter_seed: Some(seed),
            ..ReconnectPolicy::default()
        }
    }

    #[test]
    fn ceiling_grows_exponentially_then_caps() {
        let p = policy(1);
        let c: Vec<u64> = (1..=9).map(|a| Backoff::ceiling(&p, a).as_millis() as u64).collect();
        assert_eq!(c, vec![100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        // Absurd attempt numbers and multipliers do not overflow.
        assert_eq!(Backoff::ceiling(&p, u32::MAX), Duration::from_secs(5));
        let wild = ReconnectPolicy { multiplier: f64::INFINITY, ..p };
        assert_eq!(Backoff::ceiling(&wild, 3), Duration::from_millis(100));
        let nan = ReconnectPolicy { multiplier: f64::NAN, ..p };
        assert_eq!(Backoff::ceiling(&nan, 3), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_in_the_upper_half_above_the_floor_and_spreads() {
        // The defaults: 1 s doubling to 60 s, floor 0.5 s.
        let policy = ReconnectPolicy::default();
        for seed in 0..500u64 {
            let mut b = Backoff::new(ReconnectPolicy { jitter_seed: Some(seed), ..policy });
            for attempt in 1..=10u32 {
                let (a, d) = b.next_delay(None);
                assert_eq!(a, attempt);
                let ceiling = Backoff::ceiling(&policy, attempt);
                assert!(d >= Duration::from_millis(500), "seed {seed} attempt {attempt}: {d:?}");
                assert!(
                    d >= ceiling / 2 && d <= ceiling,
                    "seed {seed} attempt {attempt}: {d:?} vs {ceiling:?}"
                );
            }
        }
        // Across seeds, the first retry spreads over its whole range [0.5 s, 1 s].
        let firsts: Vec<Duration> = (0..500u64)
            .map(|seed| {
                Backoff::new(ReconnectPolicy { jitter_seed: Some(seed), ..policy }).next_delay(None).1
            })
            .collect();
        assert!(firsts.iter().any(|d| *d < Duration::from_millis(550)));
        assert!(firsts.iter().any(|d| *d > Duration::from_millis(950)));
    }

    #[test]
    fn the_floor_never_exceeds_the_callers_cap() {
        let tight = ReconnectPolicy { max: Duration::from_millis(200), ..policy(3) };
        let mut b = Backoff::new(tight);
        for _ in 0..20 {
            let (_, d) = b.next_delay(None);
            assert!(d <= Duration::from_millis(200), "{d:?}");
            assert!(d >= Duration::from_millis(100), "{d:?}");
        }
        let none = ReconnectPolicy { min_delay: Duration::ZERO, ..policy(3) };
        let (_, d) = Backoff::new(none).next_delay(None);
        assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100), "{d:?}");
    }

    #[test]
    fn same_seed_same_delays_and_retry_after_is_a_floor() {
        let mut a = Backoff::new(policy(7));
        let mut b = Backoff::new(policy(7));
        for _ in 0..10 {
            assert_eq!(a.next_delay(None), b.next_delay(None));
        }
        let mut c = Backoff::new(policy(7));
        let (_, d) = c.next_delay(Some(Duration::from_secs(17)));
        assert_eq!(d, Duration::from_secs(17), "the first ceiling is 100 ms, so Retry-After wins");
    }

    #[test]
    fn unit_values_are_in_range() {
        let mut r = SplitMix64::new(0);
        for _ in 0..10_000 {
            let u = r.next_unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_ne!(SplitMix64::random_seed(), SplitMix64::random_seed());
    }
}
