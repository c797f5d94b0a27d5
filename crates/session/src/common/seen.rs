//! The bounded window of recently seen keys, and the 64-bit fingerprint they are made of:
//! RTM uses it during a make-before-break overlap, Socket Mode for redeliveries by `event_id`.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// A fixed-key hasher: keys are 64-bit fingerprints, so a collision (dropping a genuine event)
/// has a probability around 2^-64 per pair.
#[derive(Clone, Copy, Debug, Default)]
struct FixedState;

impl BuildHasher for FixedState {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::collections::hash_map::DefaultHasher::new()
    }
}

/// Pass-through hasher for the set of fingerprints (they are already hashes).
#[derive(Clone, Copy, Debug, Default)]
struct IdentityState;

#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl BuildHasher for IdentityState {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher::default()
    }
}

/// A 64-bit fingerprint of `parts` (a fixed-key hash: stable within and across processes).
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut h = FixedState.build_hasher();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// Keys seen recently, bounded in time (`window`) and in count (`capacity`, oldest forgotten
/// first). Protocol-agnostic: keys are 64-bit [`fingerprint`]s, so any session machine uses it
/// (RTM during a make-before-break overlap, Socket Mode for redeliveries by `event_id`).
#[derive(Debug)]
pub(crate) struct SeenWindow {
    window: Duration,
    capacity: usize,
    order: VecDeque<(Instant, u64)>,
    seen: HashSet<u64, IdentityState>,
}

impl SeenWindow {
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::with_hasher(IdentityState),
        }
    }

    /// Whether `k` was seen within the window; records it otherwise. Keys older than the
    /// window, and the oldest ones past the capacity, are forgotten first.
    pub(crate) fn check_and_insert(&mut self, k: u64, now: Instant) -> bool {
        if self.contains(k, now) {
            return true;
        }
        self.insert(k, now);
        false
    }

    /// Whether `k` was seen within the window (forgetting what fell out of it first).
    pub(crate) fn contains(&mut self, k: u64, now: Instant) -> bool {
        while let Some(&(t, old)) = self.order.front() {
            if now.saturating_duration_since(t) < self.window && self.order.len() < self.capacity {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&old);
        }
        self.seen.contains(&k)
    }

    /// Records `k` (nothing if it is already remembered).
    pub(crate) fn insert(&mut self, k: u64, now: Instant) {
        if self.contains(k, now) {
            return;
        }
        self.seen.insert(k);
        self.order.push_back((now, k));
    }

    /// Forgets everything and gives the memory back.
    pub(crate) fn clear(&mut self) {
        self.order.clear();
        self.seen.clear();
        self.seen.shrink_to(64);
        self.order.shrink_to(64);
    }

    /// Keys currently remembered.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}
