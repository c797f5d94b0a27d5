//! When to refresh a rotating token, and how long to wait after a failed refresh: sans-IO,
//! the time (Unix milliseconds) passed in, so the rule is tested on a virtual clock.
//!
//! A token is refreshed `margin` before it expires. A failed refresh is tried again after a
//! backoff (doubling from `first_retry` up to `max_retry`); after `attempts` failures in a
//! row it is reported ([`RefreshStep::GiveUp`]) and tried again only after `max_retry`. The
//! old token stays in use while it is valid ([`Rotation::usable`]).

use std::time::Duration;

/// The rotation settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationPolicy {
    /// How long before expiry a token is refreshed.
    pub margin: Duration,
    /// The wait after a first failed refresh (doubled after each further failure).
    pub first_retry: Duration,
    /// The longest wait between two tries.
    pub max_retry: Duration,
    /// Failures in a row before one is reported.
    pub attempts: u32,
}

impl Default for RotationPolicy {
    /// Slack's tokens live 12 hours: refresh 10 minutes ahead, retry after 1 s, 2 s, 4 s …
    /// up to 1 minute, report after 5 failures in a row.
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(10 * 60),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            attempts: 5,
        }
    }
}

/// What to do about one token now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshStep {
    /// Nothing until `at` (Unix ms).
    Wait {
        /// When to look again.
        at: u64,
    },
    /// Refresh it now.
    Refresh,
}

/// What a failed refresh leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AfterFailure {
    /// Try again at `at` (Unix ms).
    Retry {
        /// When.
        at: u64,
    },
    /// `attempts` failures in a row: report it; the next try is at `at`.
    GiveUp {
        /// When the next try is.
        at: u64,
    },
}

/// The refresh schedule of one token: its expiry and its failures so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    policy: RotationPolicy,
    failures: u32,
    retry_at: Option<u64>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Rotation {
    /// A schedule with no failure yet.
    pub fn new(policy: RotationPolicy) -> Self {
        Self { policy, failures: 0, retry_at: None }
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// For a token expiring at `expires_at_ms` (Unix ms; `None`: never): what to do at `now_ms`.
    /// A token that never expires is never refreshed (`Wait` at `u64::MAX`).
    pub fn step(&self, expires_at_ms: Option<u64>, now_ms: u64) -> RefreshStep {
        let Some(expires) = expires_at_ms else { return RefreshStep::Wait { at: u64::MAX } };
        let due = expires.saturating_sub(ms(self.policy.margin));
        let at = self.retry_at.map_or(due, |r| r.max(due));
        if now_ms >= at { RefreshStep::Refresh } else { RefreshStep::Wait { at } }
    }

    /// A refresh succeeded: the failures are forgotten.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at = None;
    }

    /// A refresh failed at `now_ms`: when to try again, and whether to report it.
    pub fn failed(&mut self, now_ms: u64) -> AfterFailure {
        self.failures = self.failures.saturating_add(1);
        let shift = (self.failures - 1).min(20);
        let wait = ms(self.policy.first_retry).saturating_mul(1 << shift).min(ms(self.policy.max_retry));
        let at = now_ms.saturating_add(wait);
        self.retry_at = Some(at);
        if self.failures >= self.policy.attempts && self.failures.is_multiple_of(self.policy.attempts.max(1))
        {
            AfterFailure::GiveUp { at }
        } else {
            AfterFailure::Retry { at }
        }
    }

    /// Whether a token expiring at `expires_at_ms` may still be used at `now_ms` (the old token
    /// is used while a refresh is pending or failing).
    pub fn usable(expires_at_ms: Option<u64>, now_ms: u64) -> bool {
        expires_at_ms.is_none_or(|at| now_ms < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            margin: Duration::from_secs(2),
            first_retry: Duration::from_millis(100),
            max_retry: Duration::from_millis(800),
            attempts: 3,
        }
    }

    #[test]
    fn a_token_is_refreshed_margin_before_expiry_and_never_without_one() {
        let r = Rotation::new(policy());
        assert_eq!(r.step(Some(10_000), 0), RefreshStep::Wait { at: 8_000 });
        assert_eq!(r.step(Some(10_000), 7_999), RefreshStep::Wait { at: 8_000 });
        assert_eq!(r.step(Some(10_000), 8_000), RefreshStep::Refresh);
        assert_eq!(r.step(Some(10_000), 12_000), RefreshStep::Refresh, "expired: refresh at once");
        assert_eq!(r.step(None, 12_000), RefreshStep::Wait { at: u64::MAX });
    }

    #[test]
    fn failures_back_off_doubling_to_the_cap_and_are_reported_every_attempts_failures() {
        // A virtual clock: each try happens when the schedule says.
        let mut r = Rotation::new(policy());
        let expires = Some(10_000);
        let mut now = 8_000;
        let mut waits = Vec::new();
        let mut reports = Vec::new();
        for n in 1..=7 {
            assert_eq!(r.step(expires, now), RefreshStep::Refresh, "try {n}");
            let after = r.failed(now);
            let at = match after {
                AfterFailure::Retry { at } => at,
                AfterFailure::GiveUp { at } => {
                    reports.push(n);
                    at
                }
            };
            assert_eq!(r.step(expires, at - 1), RefreshStep::Wait { at }, "no try before the backoff");
            waits.push(at - now);
            now = at;
        }
        assert_eq!(waits, [100, 200, 400, 800, 800, 800, 800]);
        assert_eq!(reports, [3, 6]);
        assert!(Rotation::usable(expires, 9_999), "the old token is used while valid");
        assert!(!Rotation::usable(expires, 10_000));
        r.succeeded();
        assert_eq!(r.failures(), 0);
        assert_eq!(
            r.step(Some(20_000), now),
            RefreshStep::Wait { at: 18_000 },
            "a fresh token: back to the margin"
        );
    }
}
