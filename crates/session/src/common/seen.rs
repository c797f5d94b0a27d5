//! The bounded window of recently seen keys, and the 64-bit fingerprint they are made of:
//! RTM uses it during a make-before-break overlap, Socket Mode for redeliveries by `event_id`.

use foldhash::SharedSeed;
use foldhash::quality::FoldHasher;
use hashbrown::HashTable;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The seeds of [`fingerprint`]'s hash, drawn once per process.
#[derive(Debug)]
struct Seeds {
    shared: SharedSeed,
    per_hasher: u64,
}

impl Seeds {
    /// Seeds expanded from two 64-bit values (`SharedSeed::from_u64` mixes the first into
    /// foldhash's four and keeps them away from zero).
    fn new(shared: u64, per_hasher: u64) -> Self {
        Self { shared: SharedSeed::from_u64(shared), per_hasher }
    }
}

/// Random per process: std's `RandomState` takes its keys from the operating system, so the
/// two values below are unknown outside the process (see [`fingerprint`] for why).
static SEEDS: LazyLock<Seeds> = LazyLock::new(|| {
    let random = std::hash::RandomState::new();
    Seeds::new(random.hash_one(0u8), random.hash_one(1u8))
});

/// A 64-bit fingerprint of `parts`: the keys of the dedupe window ([`SeenWindow`]) and of
/// Socket Mode's waiting deliveries, where two different keys with one fingerprint would make
/// a genuine event look like a duplicate and drop it.
///
/// foldhash's quality variant (`foldhash::quality`, a folded-multiply hash whose output is
/// mixed once more: every output bit depends on every input bit, so the index's slot and
/// control bits taken from the fingerprint itself stay well spread), with a seed drawn at
/// random once per process: **stable within a process, different across processes**. Nothing
/// needs more: the fingerprints never leave the session (the fleet's shared dedupe keys on the
/// `event_id` text in Redis; no test compares a fingerprint with a written-down value). A
/// random seed rather than a fixed one because some keys hold text an outsider writes (an
/// unknown RTM event is keyed on its whole frame, user text included): with foldhash's fixed
/// seeds, which are public, such text could be chosen to collide with another event's key
/// (a folded multiply of a block XORed with a known seed is zero for a chosen block); with
/// unknown seeds it can only be guessed, at the 2^-64 of any other pair.
///
/// Each part is written after its length, so the parts' boundaries count (`["ab", "c"]` and
/// `["a", "bc"]` are different inputs), as `str`'s `Hash` does with its terminator.
#[inline]
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    fingerprint_with(&SEEDS, parts)
}

/// [`fingerprint`] with the given seeds (the same seeds and parts always give the same value).
#[inline]
fn fingerprint_with(seeds: &Seeds, parts: &[&str]) -> u64 {
    let mut h = FoldHasher::with_seed(seeds.per_hasher, &seeds.shared);
    write_parts(&mut h, parts);
    h.finish()
}

/// Writes each part after its length: different lists of parts are different byte streams.
#[inline(always)]
fn write_parts(h: &mut impl Hasher, parts: &[&str]) {
    for p in parts {
        h.write_usize(p.len());
        h.write(p.as_bytes());
    }
}

#[cfg(test)]
mod fingerprint_tests;

/// The longest window kept exactly (≈ 24.8 days of milliseconds); a longer one is cut to it, so
/// every remembered key's time fits a `u32` offset.
const MAX_WINDOW: Duration = Duration::from_millis(1 << 31);
/// When the newest offset reaches this, the offsets are moved to count from the oldest key kept.
const REBASE_AT: u32 = 3 << 30;
/// Below this many slots nothing is given back (a quiet session's window stays allocated).
const SHRINK_FLOOR: usize = 1024;

/// Keys recorded in the same millisecond, one after the other: the time is kept once per run,
/// not once per key, so a busy window costs a key (8 bytes) plus its hash slot per entry.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Milliseconds from [`SeenWindow::base`] to when the run's keys were recorded, rounded up
    /// (a key is never forgotten before its window has passed; at most 1 ms after).
    at_ms: u32,
    /// How many of the oldest keys not in an earlier run belong to this one (≥ 1).
    len: u32,
}

/// Keys seen recently, bounded in time (`window`) and in count (`capacity`, oldest forgotten
/// first). Protocol-agnostic: keys are 64-bit [`fingerprint`]s, so any session machine uses it
/// (RTM during a make-before-break overlap, Socket Mode for redeliveries by `event_id`).
///
/// Compact: the keys in order (8 bytes each, never more slots than the capacity), their times
/// as runs of one millisecond (a burst of a thousand envelopes shares one), and a hash table of
/// 4-byte positions in that order to look them up (the key itself is the hash: it is one
/// already); after a burst has left the window the memory it took is given back.
#[derive(Debug)]
pub(crate) struct SeenWindow {
    window: Duration,
    capacity: usize,
    /// What [`Run::at_ms`] counts from: the first key's time (`None` while empty).
    base: Option<Instant>,
    keys: VecDeque<u64>,
    /// The position of `keys[0]`: a key's position is `head + its index`, wrapping (the keys
    /// kept never number more than `u32::MAX`, see [`MAX_CAPACITY`]), so a position stays
    /// valid while older keys are forgotten.
    head: u32,
    runs: VecDeque<Run>,
    /// The position of every key kept, hashed by the key.
    index: HashTable<u32>,
    /// Before this time no run can leave the window (the oldest run's time plus the window),
    /// so a look-up under the capacity skips [`Self::forget_old`]'s arithmetic; `None`: not
    /// known, the full check runs (and sets it again).
    keep_until: Option<Instant>,
    /// The times whose key joins the newest run, `(after, until]` (the millisecond
    /// [`Run::at_ms`] rounds up to it), so a key in the same millisecond skips the offset's
    /// arithmetic; `None`: not known. Absolute times: a rebase leaves them right.
    newest_run: Option<(Instant, Instant)>,
}

/// The most keys a window keeps (its positions are `u32`s): a larger capacity is cut to it
/// (4 billion keys would take over 50 GB).
const MAX_CAPACITY: usize = u32::MAX as usize;

/// The key at position `at` (one of the positions in the index).
#[inline]
fn key_at(keys: &VecDeque<u64>, head: u32, at: u32) -> u64 {
    keys[at.wrapping_sub(head) as usize]
}

impl SeenWindow {
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window: window.min(MAX_WINDOW),
            capacity: capacity.clamp(1, MAX_CAPACITY),
            base: None,
            keys: VecDeque::new(),
            head: 0,
            runs: VecDeque::new(),
            index: HashTable::new(),
            keep_until: None,
            newest_run: None,
        }
    }

    /// Whether `k` was seen within the window; records it otherwise. Keys older than the
    /// window, and the oldest ones past the capacity, are forgotten first.
    pub(crate) fn check_and_insert(&mut self, k: u64, now: Instant) -> bool {
        self.forget_old(now);
        // One hash access: the entry says whether the key was new, and takes its position.
        let (keys, head) = (&self.keys, self.head);
        let at = head.wrapping_add(keys.len() as u32);
        match self.index.entry(k, |&p| key_at(keys, head, p) == k, |&p| key_at(keys, head, p)) {
            hashbrown::hash_table::Entry::Occupied(_) => return true,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
        self.append(k, now);
        false
    }

    /// Whether `k` was seen within the window (forgetting what fell out of it first).
    pub(crate) fn contains(&mut self, k: u64, now: Instant) -> bool {
        self.forget_old(now);
        let (keys, head) = (&self.keys, self.head);
        self.index.find(k, |&p| key_at(keys, head, p) == k).is_some()
    }

    /// Records `k`, which the caller knows is not remembered (no look-up first: Socket Mode's
    /// manual ack records an event whose delivery it held as the event's only waiting one
    /// since a [`SeenWindow::contains`] that found it absent). Checked in debug builds; should
    /// it be broken, the key is indexed twice, which forgets both copies in turn and stays
    /// within the capacity.
    pub(crate) fn insert_absent(&mut self, k: u64, now: Instant) {
        self.forget_old(now);
        let (keys, head) = (&self.keys, self.head);
        debug_assert!(self.index.find(k, |&p| key_at(keys, head, p) == k).is_none(), "already remembered");
        let at = head.wrapping_add(keys.len() as u32);
        self.index.insert_unique(k, at, |&p| key_at(keys, head, p));
        self.append(k, now);
    }

    /// Forgets everything and gives the memory back.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.runs.clear();
        self.index.clear();
        self.head = 0;
        self.base = None;
        self.keep_until = None;
        self.newest_run = None;
        let (keys, head) = (&self.keys, self.head);
        self.index.shrink_to(64, |&p| key_at(keys, head, p));
        self.keys.shrink_to(64);
        self.runs.shrink_to(64);
    }

    /// Keys currently remembered.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Appends `k`, just added to the index (it was not remembered), after
    /// [`Self::forget_old`] at `now`.
    fn append(&mut self, k: u64, now: Instant) {
        if let (Some((after, until)), Some(run)) = (self.newest_run, self.runs.back_mut())
            && after < now
            && now <= until
            && run.len < u32::MAX
        {
            // The same millisecond as the newest run (what the arithmetic below would find).
            run.len += 1;
            self.push_key(k);
            return;
        }
        let base = *self.base.get_or_insert(now);
        let mut at = ms_up(now.saturating_duration_since(base));
        if at >= u64::from(REBASE_AT) {
            at = self.rebase(at);
        }
        // Within the window of the oldest run kept after a rebase: fits.
        let at_ms = u32::try_from(at).unwrap_or(u32::MAX);
        self.push_key(k);
        match self.runs.back_mut() {
            Some(run) if run.at_ms == at_ms && run.len < u32::MAX => run.len += 1,
            _ => self.runs.push_back(Run { at_ms, len: 1 }),
        }
        // Rounded up: the keys of `at_ms` are those recorded in (at_ms − 1 ms, at_ms] from the
        // base (`at_ms` 0: only the base itself, left to the arithmetic).
        self.newest_run = self.base.filter(|_| at_ms > 0).and_then(|base| {
            let until = base.checked_add(Duration::from_millis(u64::from(at_ms)))?;
            Some((until.checked_sub(Duration::from_millis(1))?, until))
        });
    }

    /// Pushes `k` behind the others, growing the slots by half when they are full.
    fn push_key(&mut self, k: u64) {
        if self.keys.len() == self.keys.capacity() {
            // By half (not doubling: at most a third of the slots stand empty), never past the
            // capacity (a full window of 50,000 keys takes 50,000 slots, not 65,536).
            let cap = self.keys.capacity();
            let want = (cap + cap / 2).max(16).min(self.capacity).max(self.keys.len() + 1);
            self.keys.reserve_exact(want - self.keys.len());
        }
        self.keys.push_back(k);
    }

    /// Moves the offsets to count from the oldest run kept (every run left is within the window
    /// of now, so they shrink below [`MAX_WINDOW`]); gives back `at_ms` moved the same way.
    fn rebase(&mut self, at: u64) -> u64 {
        let shift = self.runs.front().map_or(at, |r| u64::from(r.at_ms));
        if let Some(base) = self.base.as_mut() {
            *base += Duration::from_millis(shift);
        }
        self.keep_until = None;
        let shift32 = u32::try_from(shift).unwrap_or(u32::MAX);
        for run in &mut self.runs {
            run.at_ms -= shift32;
        }
        at - shift
    }

    /// Forgets the keys older than the window, then the oldest ones until there is room for one
    /// more; gives the memory of a burst back once most of it is gone. Inlined: mostly nothing
    /// can leave yet, a check of two fields.
    #[inline]
    fn forget_old(&mut self, now: Instant) {
        if self.keys.len() < self.capacity && self.keep_until.is_some_and(|t| now < t) {
            return;
        }
        self.forget_old_now(now);
    }

    /// [`Self::forget_old`] once a key may have to go.
    #[inline(never)]
    fn forget_old_now(&mut self, now: Instant) {
        let Some(base) = self.base else { return };
        let elapsed = now.saturating_duration_since(base);
        while let Some(run) = self.runs.front() {
            let at = Duration::from_millis(u64::from(run.at_ms));
            if elapsed.saturating_sub(at) < self.window {
                break;
            }
            let len = run.len;
            self.runs.pop_front();
            for _ in 0..len {
                self.forget_oldest();
            }
        }
        while self.keys.len() >= self.capacity {
            if !self.forget_oldest() {
                break;
            }
            if let Some(run) = self.runs.front_mut() {
                run.len -= 1;
                if run.len == 0 {
                    self.runs.pop_front();
                }
            }
        }
        if self.keys.is_empty() {
            self.base = None;
        }
        // Nothing leaves the window before the oldest run's time plus the window (a zero
        // window: the full check every time). Rounded the way the loop above compares.
        self.keep_until = match (self.base, self.runs.front()) {
            (Some(base), Some(run)) if !self.window.is_zero() => {
                base.checked_add(Duration::from_millis(u64::from(run.at_ms)) + self.window)
            }
            _ => None,
        };
        self.shrink();
    }

    /// Forgets the oldest key (its run is the caller's); `false` if there was none.
    fn forget_oldest(&mut self) -> bool {
        let Some(k) = self.keys.pop_front() else { return false };
        let at = self.head;
        self.head = at.wrapping_add(1);
        // Its entry holds its position: found without reading the keys.
        let found = self.index.find_entry(k, |&p| p == at).map(|entry| entry.remove());
        debug_assert!(found.is_ok(), "every key kept is indexed");
        true
    }

    /// Gives memory back when at most a quarter of it is used (keeping room for twice what is).
    fn shrink(&mut self) {
        let len = self.keys.len();
        if self.keys.capacity() > SHRINK_FLOOR && self.keys.capacity() / 4 > len {
            self.keys.shrink_to(len * 2);
            let (keys, head) = (&self.keys, self.head);
            self.index.shrink_to(len * 2, |&p| key_at(keys, head, p));
        }
        let runs = self.runs.len();
        if self.runs.capacity() > SHRINK_FLOOR && self.runs.capacity() / 4 > runs {
            self.runs.shrink_to(runs * 2);
        }
    }
}

/// `d` in whole milliseconds, rounded up.
fn ms_up(d: Duration) -> u64 {
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
