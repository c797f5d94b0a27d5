//! A worker's settings.

use std::time::Duration;

/// How a [`Worker`](super::Worker) consumes the stream.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// The consumer group (created at the stream's start if it does not exist). Workers of one
    /// group share the events; each group gets every event.
    pub group: String,
    /// This worker's name in the group; unique per process (default `<host>-<pid>`). A worker
    /// restarted under the same name first takes back what it held.
    pub consumer: String,
    /// Entries read at once. Default 64.
    pub batch: usize,
    /// How long one read waits for new entries. Default 1 s.
    pub block: Duration,
    /// An entry held this long by a worker without an `XACK` is taken over by another
    /// (`XAUTOCLAIM`): the worker died, or its handler hangs. Must be longer than the slowest
    /// handler, or a slow event is handed to a second worker. Default 30 s.
    pub claim_idle: Duration,
    /// How often a worker looks for such entries. Default 5 s.
    pub claim_every: Duration,
    /// Deliveries of one entry before it goes to the dead-letter stream instead of the handler
    /// again. Default 5.
    pub max_attempts: u32,
    /// After a handler failure, the wait before this worker tries the entry again (multiplied
    /// by the attempts so far). Default 1 s.
    pub retry_delay: Duration,
}

impl WorkerConfig {
    /// The defaults, in consumer group `group`.
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            consumer: default_consumer(),
            batch: 64,
            block: Duration::from_secs(1),
            claim_idle: Duration::from_secs(30),
            claim_every: Duration::from_secs(5),
            max_attempts: 5,
            retry_delay: Duration::from_secs(1),
        }
    }

    /// Another consumer name.
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = name.into();
        self
    }

    /// Another batch size (at least 1).
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Another read wait (at least 1 ms).
    pub fn block(mut self, d: Duration) -> Self {
        self.block = d.max(Duration::from_millis(1));
        self
    }

    /// Another takeover idle time, and how often to look (at least 10 ms each).
    pub fn claim(mut self, idle: Duration, every: Duration) -> Self {
        self.claim_idle = idle.max(Duration::from_millis(10));
        self.claim_every = every.max(Duration::from_millis(10));
        self
    }

    /// Another attempt limit (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Another retry wait.
    pub fn retry_delay(mut self, d: Duration) -> Self {
        self.retry_delay = d;
        self
    }
}

/// `<host>-<pid>`.
fn default_consumer() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}
