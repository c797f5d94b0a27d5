//! Where the fleet keeps its data in Redis, and its limits.

use std::fmt;
use std::time::Duration;

/// A Redis URL (`redis://[user:password@]host[:port][/db]`). Its password is never shown:
/// `Debug` and `Display` print the host only.
#[derive(Clone)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// Wraps a URL (checked when the first connection is made).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL, password included: for the Redis client only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `scheme://host:port/db`, without credentials: no user or password, and no query (a
    /// Unix socket URL carries its password there: `redis+unix:///path?pass=…`).
    pub fn redacted(&self) -> String {
        match self.0.split_once("://") {
            Some((scheme, rest)) => {
                let rest = rest.split_once(['?', '#']).map_or(rest, |(r, _)| r);
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                format!("{scheme}://{host}")
            }
            None => "(not a URL)".to_owned(),
        }
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// The Redis keys of one app's fleet. They share the hash tag `{name}`, so one app's keys live
/// on one Redis Cluster slot (the append script touches several of them atomically).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    /// The stream gateways append envelopes to and workers read.
    pub stream: String,
    /// The dead-letter stream: events whose handler kept failing.
    pub dead: String,
    /// Prefix of the dedupe claims (`<prefix><event_id>`).
    pub claim_prefix: String,
}

impl Keys {
    /// The keys for the app named `name` (e.g. `slack-rtm:{name}:events`).
    pub fn for_app(name: &str) -> Self {
        Self {
            stream: format!("slack-rtm:{{{name}}}:events"),
            dead: format!("slack-rtm:{{{name}}}:dead"),
            claim_prefix: format!("slack-rtm:{{{name}}}:seen:"),
        }
    }

    /// The claim key of an event (`events_api`: its `event_id`; others: their envelope id).
    pub fn claim(&self, event_id: Option<&str>, envelope_id: &str) -> String {
        let mut key = String::new();
        self.write_claim(event_id, envelope_id, &mut key);
        key
    }

    /// [`Keys::claim`], written at the end of `out`.
    pub(crate) fn write_claim(&self, event_id: Option<&str>, envelope_id: &str, out: &mut String) {
        let (kind, id) = match event_id {
            Some(id) => ("ev:", id),
            None => ("env:", envelope_id),
        };
        out.reserve(self.claim_prefix.len() + kind.len() + id.len());
        out.push_str(&self.claim_prefix);
        out.push_str(kind);
        out.push_str(id);
    }
}

/// What gateways and workers share: the Redis server, the keys, and the stream's limits.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FleetConfig {
    /// The Redis (or Valkey) server.
    pub redis: RedisUrl,
    /// The keys (default: [`Keys::for_app`]`("app")`).
    pub keys: Keys,
    /// Back-pressure: when the stream holds this many entries that some consumer group has not
    /// finished, a gateway stops appending (and so stops acking: Slack redelivers later).
    /// Default 100 000.
    pub max_backlog: u64,
    /// How long an event's dedupe claim lives: longer than Slack's retry schedule (at once,
    /// ~1 min, ~5 min). Default 1 hour.
    pub claim_ttl: Duration,
    /// The dead-letter stream is trimmed to about this many entries (`MAXLEN ~`). Default 10 000.
    pub dead_max_len: u64,
    /// How long one Redis command may take before it counts as failed. Default 2 s.
    pub response_timeout: Duration,
    /// How long connecting to Redis may take. Default 2 s.
    pub connect_timeout: Duration,
}

impl FleetConfig {
    /// The defaults, for the Redis at `redis` and the app named `app`.
    pub fn new(redis: impl Into<String>, app: &str) -> Self {
        Self {
            redis: RedisUrl::new(redis),
            keys: Keys::for_app(app),
            max_backlog: 100_000,
            claim_ttl: Duration::from_secs(3600),
            dead_max_len: 10_000,
            response_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
        }
    }

    /// Another back-pressure limit (at least 1).
    pub fn max_backlog(mut self, n: u64) -> Self {
        self.max_backlog = n.max(1);
        self
    }

    /// Another dedupe claim lifetime (at least 1 s).
    pub fn claim_ttl(mut self, ttl: Duration) -> Self {
        self.claim_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// Another dead-letter bound (at least 1).
    pub fn dead_max_len(mut self, n: u64) -> Self {
        self.dead_max_len = n.max(1);
        self
    }

    /// Another Redis command timeout.
    pub fn response_timeout(mut self, t: Duration) -> Self {
        self.response_timeout = t;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_password_is_never_shown() {
        let url = RedisUrl::new("redis://user:s3cret@cache.internal:6380/2");
        assert_eq!(url.to_string(), "redis://cache.internal:6380/2");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(!format!("{:?}", FleetConfig::new("redis://:s3cret@h", "a")).contains("s3cret"));
        assert_eq!(RedisUrl::new("nonsense").to_string(), "(not a URL)");
        // A Unix socket's password is in the query.
        let unix = RedisUrl::new("redis+unix:///run/redis.sock?db=1&pass=s3cret&user=u");
        assert_eq!(unix.to_string(), "redis+unix:///run/redis.sock");
        assert_eq!(RedisUrl::new("redis://h:1/0?pass=s3cret#x@y").to_string(), "redis://h:1/0");
    }

    #[test]
    fn one_apps_keys_share_a_cluster_slot_and_claims_do_not_collide() {
        let k = Keys::for_app("bot");
        for key in [&k.stream, &k.dead, &k.claim(Some("Ev1"), "e1")] {
            assert!(key.contains("{bot}"), "{key}");
        }
        assert_ne!(k.claim(Some("x"), "e"), k.claim(None, "x"));
    }
}
