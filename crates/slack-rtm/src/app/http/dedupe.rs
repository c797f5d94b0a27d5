//! Handing an `event_id` to the listeners once: Slack retries a delivery that was not answered
//! 200 in time, with the same `event_id`, and a retry may reach another instance.

use super::super::BoxFuture;
use slack_rtm_codec::BoxError;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Decides whether an event is seen for the first time. Implement it over a store the
/// instances share (the fleet crate's `RedisEventDedupe` claims in Redis with `SET NX EX`);
/// [`MemoryDedupe`] is the per-process default.
pub trait EventDedupe: Send + Sync + 'static {
    /// Claims `event_id`: `Ok(true)` the first time (hand it to the listeners), `Ok(false)` for
    /// one claimed already. An error (the store is down) hands the event over: at least once
    /// beats never.
    fn claim(&self, event_id: String) -> BoxFuture<Result<bool, BoxError>>;

    /// Gives a claim back: the event could not be handed over (the app is shutting down), so a
    /// retry must be. Default: nothing (the claim expires).
    fn release(&self, event_id: String) -> BoxFuture<()> {
        let _ = event_id;
        Box::pin(async {})
    }
}

/// The default window of [`MemoryDedupe`]: longer than Slack's retry schedule (at once, after
/// about 1 minute, after about 5 minutes).
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// The default capacity of [`MemoryDedupe`].
pub const DEFAULT_DEDUPE_CAPACITY: usize = 100_000;

/// In-process dedupe: remembers event ids for a window, bounded in number (the oldest are
/// forgotten first). Cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct MemoryDedupe {
    inner: Arc<Mutex<Window>>,
}

#[derive(Debug)]
struct Window {
    /// id → (when claimed, claim number).
    seen: HashMap<String, (Instant, u64)>,
    /// Claims in order; an entry whose number is no longer the id's in `seen` is stale.
    order: VecDeque<(Instant, u64, String)>,
    next: u64,
    window: Duration,
    capacity: usize,
}

impl Default for MemoryDedupe {
    fn default() -> Self {
        Self::new(DEFAULT_DEDUPE_WINDOW, DEFAULT_DEDUPE_CAPACITY)
    }
}

impl MemoryDedupe {
    /// Remembers up to `capacity` ids (at least 1), each for `window`.
    pub fn new(window: Duration, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let w = Window { seen: HashMap::new(), order: VecDeque::new(), next: 0, window, capacity };
        Self { inner: Arc::new(Mutex::new(w)) }
    }

    /// Claims `event_id` now: `true` the first time within the window.
    pub fn claim_now(&self, event_id: &str) -> bool {
        let now = Instant::now();
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        w.expire(now);
        if w.seen.contains_key(event_id) {
            return false;
        }
        while w.seen.len() >= w.capacity {
            let Some((_, n, oldest)) = w.order.pop_front() else { break };
            w.remove_if_current(&oldest, n);
        }
        let n = w.next;
        w.next += 1;
        w.seen.insert(event_id.to_owned(), (now, n));
        w.order.push_back((now, n, event_id.to_owned()));
        if w.order.len() > 2 * w.capacity {
            // Forgotten ids left stale entries: drop them, so the queue stays bounded.
            let Window { seen, order, .. } = &mut *w;
            order.retain(|(_, n, id)| seen.get(id).is_some_and(|(_, m)| m == n));
        }
        true
    }

    /// Forgets `event_id`.
    pub fn forget(&self, event_id: &str) {
        let mut w = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        w.seen.remove(event_id);
        // Its entry in `order` is stale now: dropped when it expires, is evicted or compacted.
    }

    /// Ids remembered now.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).seen.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Window {
    fn expire(&mut self, now: Instant) {
        while let Some((at, _, _)) = self.order.front() {
            if now.duration_since(*at) < self.window {
                break;
            }
            if let Some((_, n, id)) = self.order.pop_front() {
                self.remove_if_current(&id, n);
            }
        }
    }

    /// Removes `id` if claim `n` is its current one (it may have been forgotten and claimed
    /// again since).
    fn remove_if_current(&mut self, id: &str, n: u64) {
        if self.seen.get(id).is_some_and(|(_, m)| *m == n) {
            self.seen.remove(id);
        }
    }
}

impl EventDedupe for MemoryDedupe {
    fn claim(&self, event_id: String) -> BoxFuture<Result<bool, BoxError>> {
        let first = self.claim_now(&event_id);
        Box::pin(async move { Ok(first) })
    }

    fn release(&self, event_id: String) -> BoxFuture<()> {
        self.forget(&event_id);
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_id_is_handed_over_once_within_the_window() {
        let d = MemoryDedupe::new(Duration::from_secs(60), 10);
        assert!(d.claim_now("Ev1"));
        assert!(!d.claim_now("Ev1"));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(!d.claim_now("Ev1"));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(d.claim_now("Ev1"), "forgotten after the window");
        d.forget("Ev1");
        assert!(d.claim_now("Ev1"), "released");
    }

    #[tokio::test(start_paused = true)]
    async fn memory_is_bounded() {
        let d = MemoryDedupe::new(Duration::from_secs(600), 3);
        for i in 0..100 {
            assert!(d.claim_now(&format!("Ev{i}")));
            assert!(d.len() <= 3);
        }
        // The newest are remembered, the oldest forgotten.
        assert!(!d.claim_now("Ev99"));
        assert!(d.claim_now("Ev0"));
        // Forgotten ids do not leave the order queue growing: it is bounded by evictions too.
        for i in 0..100 {
            d.forget(&format!("Ev{i}"));
            d.claim_now(&format!("Ev{i}"));
        }
        assert!(d.inner.lock().unwrap().order.len() <= 2 * 3 + 1);
        assert!(!d.claim_now("Ev99"), "a re-claimed id is remembered");
    }
}
