//! [`InteractionConfig`]: the lifetimes and limits of what users' actions hand the app.

use std::time::Duration;

/// How the emulator treats what users' actions hand the app: `trigger_id`s and
/// `response_url`s. Set it with [`crate::EmulatorConfig::interactions`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InteractionConfig {
    /// How long a `trigger_id` stays valid for `views.open` / `views.push`. Default 3 s
    /// (Slack's rule); tests of expiry set it short.
    pub trigger_lifetime: Duration,
    /// How long a `response_url` stays usable. Default 30 min (Slack's rule).
    pub response_url_lifetime: Duration,
    /// How many times a `response_url` may be used. Default 5 (Slack's rule).
    pub response_url_uses: u32,
}

impl Default for InteractionConfig {
    fn default() -> Self {
        Self {
            trigger_lifetime: Duration::from_secs(3),
            response_url_lifetime: Duration::from_secs(30 * 60),
            response_url_uses: 5,
        }
    }
}

impl InteractionConfig {
    /// Sets how long a `trigger_id` stays valid.
    pub fn trigger_lifetime(mut self, lifetime: Duration) -> Self {
        self.trigger_lifetime = lifetime;
        self
    }

    /// Sets how long a `response_url` stays usable.
    pub fn response_url_lifetime(mut self, lifetime: Duration) -> Self {
        self.response_url_lifetime = lifetime;
        self
    }

    /// Sets how many times a `response_url` may be used.
    pub fn response_url_uses(mut self, uses: u32) -> Self {
        self.response_url_uses = uses;
        self
    }
}
