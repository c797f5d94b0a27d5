//! When a Web API call may be sent again, sans-IO.
//!
//! - A **429** means Slack did not run the call: every method, reads and writes alike, waits
//!   `Retry-After` and tries again (at most [`RetryPolicy::max_rate_limit_waits`] times, and
//!   never for a wait longer than [`RetryPolicy::max_retry_after`]).
//! - A call whose request never left (the transport could not connect) is sent again, with
//!   backoff, whatever the method.
//! - **Idempotent reads** ([`is_idempotent_read`]: `conversations.history`, `users.info`,
//!   `auth.test`, …) are retried after a 5xx, a non-JSON answer, a transport failure after
//!   sending, or a transient Slack error (`service_unavailable`, `internal_error`,
//!   `fatal_error`, `request_timeout`), at most [`RetryPolicy::max_retries`] times with
//!   exponential backoff.
//! - **Writes** (`chat.postMessage` and everything not known to be a read) are never sent
//!   again once the request may have reached Slack: the same failures end the call as
//!   [`Decision::OutcomeUnknown`] — it may or may not have been applied — like RTM's
//!   `Unconfirmed`. Posting twice is worse than asking the application to check.

use crate::api_error::ApiFailure;
use crate::transport::Reach;
use slack_rtm_types::ApiError;
use std::time::Duration;

/// Whether `method` only reads, so that running it twice changes nothing.
pub fn is_idempotent_read(method: &str) -> bool {
    const READS: &[&str] = &["auth.test", "rtm.connect", "api.test", "bots.info", "team.info", "emoji.list"];
    if READS.contains(&method) {
        return true;
    }
    let Some((_, verb)) = method.rsplit_once('.') else { return false };
    ["info", "list", "history", "replies", "members", "get", "lookup"].iter().any(|p| verb.starts_with(p))
}

/// How failed calls are retried. Backoff is deterministic: `backoff_base × 2^n`, capped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of a read after a 5xx / non-JSON / transport failure / transient error, and of
    /// any call whose request was not sent. Default 3.
    pub max_retries: u32,
    /// The first backoff. Default 500 ms.
    pub backoff_base: Duration,
    /// The longest backoff. Default 8 s.
    pub backoff_max: Duration,
    /// How many 429s one call waits out before failing with the 429. Default 5.
    pub max_rate_limit_waits: u32,
    /// A `Retry-After` longer than this fails the call at once. Default 5 min.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            max_rate_limit_waits: 5,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (a 429 fails at once too).
    pub fn never() -> Self {
        Self { max_retries: 0, max_rate_limit_waits: 0, ..Self::default() }
    }

    /// Starts following one call of `method`.
    pub fn start(&self, method: &str) -> RetryState {
        RetryState { policy: self.clone(), read: is_idempotent_read(method), retries: 0, waits: 0 }
    }
}

/// How a call failed, as the retry rules see it.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Failure<'a> {
    /// The server answered, but not with success.
    Answer(&'a ApiFailure),
    /// The transport refused the request before any I/O, for a reason no retry can fix (e.g.
    /// a plain `http://` URL it is not allowed to use).
    Refused,
    /// The transport failed before the request could leave (connect, TLS, proxy).
    NotSent,
    /// The transport failed after the request may have been sent (reset, timeout, cut body).
    MaybeSent,
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Send again after this wait. `rate_limited` says it is a `Retry-After`, which holds every
    /// call of the method (see [`crate::web::RateLimiter::rate_limited`]).
    Retry {
        /// How long to wait first.
        after: Duration,
        /// Whether the wait comes from a 429.
        rate_limited: bool,
    },
    /// Stop and report the failure as it is (Slack refused, or retries are used up).
    GiveUp,
    /// Stop: a write may or may not have been applied, and is not sent again.
    OutcomeUnknown,
}

/// The retry state of one call.
#[derive(Clone, Debug)]
pub struct RetryState {
    policy: RetryPolicy,
    read: bool,
    retries: u32,
    waits: u32,
}

fn is_transient(error: &ApiError) -> bool {
    matches!(error, ApiError::ServiceUnavailable | ApiError::FatalError | ApiError::RequestTimeout)
        || error.as_str() == "internal_error"
}

impl RetryState {
    /// Whether the call is an idempotent read.
    pub fn is_read(&self) -> bool {
        self.read
    }

    fn backoff(&mut self) -> Decision {
        if self.retries >= self.policy.max_retries {
            return Decision::GiveUp;
        }
        let factor = 1u32.checked_shl(self.retries).unwrap_or(u32::MAX);
        let after = self.policy.backoff_base.saturating_mul(factor).min(self.policy.backoff_max);
        self.retries += 1;
        Decision::Retry { after, rate_limited: false }
    }

    /// What to do after `failure`.
    pub fn on_failure(&mut self, failure: Failure<'_>) -> Decision {
        let maybe_applied =
            |read: bool, this: &mut Self| if read { this.backoff() } else { Decision::OutcomeUnknown };
        match failure {
            Failure::Refused => Decision::GiveUp,
            Failure::NotSent => self.backoff(),
            Failure::MaybeSent => maybe_applied(self.read, self),
            Failure::Answer(ApiFailure::RateLimited { retry_after }) => {
                if self.waits >= self.policy.max_rate_limit_waits
                    || *retry_after > self.policy.max_retry_after
                {
                    return Decision::GiveUp;
                }
                self.waits += 1;
                Decision::Retry { after: *retry_after, rate_limited: true }
            }
            Failure::Answer(ApiFailure::Status { status: 500.., .. } | ApiFailure::NotJson { .. }) => {
                maybe_applied(self.read, self)
            }
            Failure::Answer(ApiFailure::Status { status: 408 | 425, .. }) if self.read => self.backoff(),
            Failure::Answer(ApiFailure::Api { error, .. }) if is_transient(error) => {
                // `request_timeout` means Slack got no complete body: the write did not run.
                if self.read || *error == ApiError::RequestTimeout {
                    self.backoff()
                } else {
                    Decision::OutcomeUnknown
                }
            }
            Failure::Answer(_) => Decision::GiveUp,
        }
    }
}

impl From<Reach> for Failure<'_> {
    /// A transport failure, as far as the transport says the request got.
    fn from(reach: Reach) -> Self {
        match reach {
            Reach::Refused => Failure::Refused,
            Reach::NotSent => Failure::NotSent,
            Reach::MaybeSent => Failure::MaybeSent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ApiFailure {
        ApiFailure::Status { status: 502, content_type: "text/html".into(), snippet: String::new() }
    }

    fn limited(secs: u64) -> ApiFailure {
        ApiFailure::RateLimited { retry_after: Duration::from_secs(secs) }
    }

    fn api(code: &str) -> ApiFailure {
        ApiFailure::Api { error: ApiError::from_code(code), warnings: vec![], detail: None }
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        for read in [
            "conversations.history",
            "conversations.replies",
            "conversations.info",
            "users.info",
            "auth.test",
            "users.list",
            "chat.getPermalink",
        ] {
            assert!(is_idempotent_read(read), "{read}");
        }
        for write in [
            "chat.postMessage",
            "chat.update",
            "chat.delete",
            "reactions.add",
            "views.open",
            "users.setPresence",
            "unknown",
        ] {
            assert!(!is_idempotent_read(write), "{write}");
        }
    }

    #[test]
    fn a_read_retries_5xx_a_bounded_number_of_times_with_backoff() {
        let mut s = RetryPolicy::default().start("conversations.history");
        let e = server();
        let waits: Vec<Decision> = (0..4).map(|_| s.on_failure(Failure::Answer(&e))).collect();
        let ms = |m| Decision::Retry { after: Duration::from_millis(m), rate_limited: false };
        assert_eq!(waits, [ms(500), ms(1000), ms(2000), Decision::GiveUp]);
        let mut s = RetryPolicy::default().start("users.info");
        assert!(matches!(s.on_failure(Failure::MaybeSent), Decision::Retry { .. }));
        assert!(matches!(s.on_failure(Failure::Answer(&api("internal_error"))), Decision::Retry { .. }));
        assert_eq!(s.on_failure(Failure::Answer(&api("user_not_found"))), Decision::GiveUp);
    }

    #[test]
    fn a_write_is_never_resent_once_it_may_have_arrived() {
        let p = RetryPolicy::default();
        for failure in [Failure::MaybeSent, Failure::Answer(&server()), Failure::Answer(&api("fatal_error"))]
        {
            assert_eq!(
                p.start("chat.postMessage").on_failure(failure),
                Decision::OutcomeUnknown,
                "{failure:?}"
            );
        }
        let not_json =
            ApiFailure::NotJson { status: 200, content_type: "text/html".into(), snippet: String::new() };
        assert_eq!(p.start("chat.update").on_failure(Failure::Answer(&not_json)), Decision::OutcomeUnknown);
        assert_eq!(p.start("chat.postMessage").on_failure(Failure::Refused), Decision::GiveUp);
        // Not sent at all, or refused by Slack before running: safe.
        assert!(matches!(p.start("chat.postMessage").on_failure(Failure::NotSent), Decision::Retry { .. }));
        assert!(matches!(
            p.start("chat.postMessage").on_failure(Failure::Answer(&api("request_timeout"))),
            Decision::Retry { .. }
        ));
        assert_eq!(
            p.start("chat.postMessage").on_failure(Failure::Answer(&api("channel_not_found"))),
            Decision::GiveUp
        );
    }

    #[test]
    fn a_429_is_waited_out_for_every_method_within_bounds() {
        let p = RetryPolicy::default();
        let mut s = p.start("chat.postMessage");
        for _ in 0..5 {
            assert_eq!(
                s.on_failure(Failure::Answer(&limited(3))),
                Decision::Retry { after: Duration::from_secs(3), rate_limited: true }
            );
        }
        assert_eq!(s.on_failure(Failure::Answer(&limited(3))), Decision::GiveUp);
        assert_eq!(p.start("users.info").on_failure(Failure::Answer(&limited(301))), Decision::GiveUp);
        assert_eq!(
            RetryPolicy::never().start("users.info").on_failure(Failure::Answer(&limited(1))),
            Decision::GiveUp
        );
    }
}
