//! The event keys of the deliveries waiting for their ack (manual mode): looked up at every
//! delivery (a redelivery of one of them is held) and taken out at every ack.

/// A set of 64-bit event keys ([`fingerprint`](crate::common::fingerprint)s: already
/// well-mixed hashes, so their low bits pick the slot; no hasher, no control bytes).
///
/// Open addressing with linear probing over the keys themselves; a removal moves the entries
/// behind it back (no tombstones, so a probe stops at the first empty slot). At most half full
/// (a probe mostly stops at its first or second slot); grows by doubling, and keeps its slots
/// until cleared, as the hash map it replaces did: the keys are the waiting deliveries, at most
/// `max_pending_acks` (10,000 by default: 256 KB of slots at most), and a busy session's count
/// of them swings (giving the slots back whenever it fell cost rebuilds: up to ~70
/// instructions per envelope in one run of the bench's blast). The key 0 (the empty slot's
/// mark) is kept apart.
#[derive(Debug, Default)]
pub(super) struct KeySet {
    /// A power of two of slots (or none); 0 marks an empty one.
    slots: Vec<u64>,
    /// Keys in `slots`.
    len: usize,
    /// The key 0 is in the set.
    zero: bool,
}

/// The fewest slots allocated.
const MIN_SLOTS: usize = 16;

impl KeySet {
    /// Adds `k`: `false` if it was in the set already.
    pub(super) fn insert(&mut self, k: u64) -> bool {
        if k == 0 {
            return !std::mem::replace(&mut self.zero, true);
        }
        if 2 * (self.len + 1) > self.slots.len() {
            self.resize((2 * self.slots.len()).max(MIN_SLOTS));
        }
        let mask = self.slots.len() - 1;
        let mut i = slot_of(k, mask);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = k;
                    self.len += 1;
                    return true;
                }
                s if s == k => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Takes `k` out: `false` if it was not in the set. Inlined into the ack (its one caller).
    #[inline]
    pub(super) fn remove(&mut self, k: u64) -> bool {
        if k == 0 {
            return std::mem::replace(&mut self.zero, false);
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut hole = slot_of(k, mask);
        loop {
            match self.slots[hole] {
                0 => return false,
                s if s == k => break,
                _ => hole = (hole + 1) & mask,
            }
        }
        // Every key after the hole up to the next empty slot whose probe passes the hole moves
        // back into it (its probe would otherwise stop at the hole).
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == 0 {
                break;
            }
            let from_home = j.wrapping_sub(slot_of(s, mask)) & mask;
            if j.wrapping_sub(hole) & mask <= from_home {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = 0;
        self.len -= 1;
        true
    }

    /// Empties the set and gives its slots back.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Keys in the set.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len + usize::from(self.zero)
    }

    /// Moves the keys into `n` slots (a power of two, at least twice the keys).
    fn resize(&mut self, n: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; n]);
        let mask = n - 1;
        for k in old.into_iter().filter(|&k| k != 0) {
            let mut i = slot_of(k, mask);
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = k;
        }
    }
}

/// The slot a key's probe starts at: its low bits (the key is a hash already).
#[inline]
fn slot_of(k: u64, mask: usize) -> usize {
    // Truncation intended: only the bits under the mask count.
    (k as usize) & mask
}

#[cfg(test)]
mod tests {
    use super::KeySet;
    use std::collections::HashSet;

    /// The set against std's, through inserts and removals of keys crowded on a few slots
    /// (long probes, runs wrapping past the last slot, removals in the middle of a run), the
    /// key 0, growth, and the slots given back when cleared.
    #[test]
    fn answers_as_a_hash_set_does_through_crowded_probes_and_growth() {
        let mut set = KeySet::default();
        let mut model = HashSet::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..4u64 {
            // The count growing (mostly inserts), then falling (mostly removals).
            for step in 0..6000u64 {
                let r = next();
                let k = match r % 4 {
                    // Crowded: few distinct low bits (the slot), different high bits.
                    0 => (r >> 20 << 20) | (r % 3) | 0x0f,
                    1 => r % 64,
                    _ => r,
                };
                let insert = if step < 3000 { r % 4 != 3 } else { r % 4 == 3 };
                if round % 2 == 1 && step % 2 == 0 {
                    // Remove a key that is in the set (the model's first).
                    if let Some(&k) = model.iter().next() {
                        assert!(set.remove(k), "{k:#x}");
                        model.remove(&k);
                        continue;
                    }
                }
                if insert {
                    assert_eq!(set.insert(k), model.insert(k), "insert {k:#x}");
                } else {
                    assert_eq!(set.remove(k), model.remove(&k), "remove {k:#x}");
                }
                assert_eq!(set.len(), model.len());
            }
            for &k in &model {
                assert!(!set.insert(k), "{k:#x} kept");
            }
        }
        for k in model.drain() {
            assert!(set.remove(k));
        }
        assert_eq!(set.len(), 0);
        assert!(set.insert(0) && !set.insert(0) && set.remove(0) && !set.remove(0));
        set.insert(5);
        set.clear();
        assert!(set.slots.is_empty() && !set.remove(5));
    }
}
