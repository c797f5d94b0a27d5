//! Maps keyed by ids on a session's hot paths: the integers it hands out itself (request ids,
//! wire ids; a round trip looks such a map up four times) and the envelope ids of Socket Mode's
//! manual acks (two lookups per envelope). SipHash's per-key setup dominated those lookups;
//! this multiply-rotate hash is seeded per map, so ids chosen to collide cannot be precomputed,
//! and every such map is bounded, so a collision could at worst slow a bounded map down.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// A `HashMap` keyed by ids, with the fast seeded hash below.
pub(crate) type IdMap<K, V> = HashMap<K, V, IdHasherState>;

/// The per-map seed of [`IdHasher`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct IdHasherState(u64);

impl Default for IdHasherState {
    fn default() -> Self {
        // A per-map seed from std's random keys (no dependency).
        IdHasherState(std::collections::hash_map::RandomState::new().hash_one(0u8) | 1)
    }
}

impl BuildHasher for IdHasherState {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// Multiply-rotate over 8-byte words (as rustc's FxHash), with a final mix.
pub(crate) struct IdHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let h = self.0 ^ (self.0 >> 29);
        h.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last));
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::{IdHasherState, IdMap};
    use std::hash::BuildHasher;

    #[test]
    fn sequential_ids_are_found_and_removed() {
        let mut map: IdMap<u64, u64> = IdMap::default();
        for id in 1..=10_000u64 {
            map.insert(id, id * 2);
        }
        assert_eq!(map.len(), 10_000);
        for id in (1..=10_000u64).step_by(7) {
            assert_eq!(map.remove(&id), Some(id * 2));
        }
        assert_eq!(map.get(&8), None);
        assert_eq!(map.get(&9), Some(&18));
        assert_eq!(map.len(), 10_000 - 1_429);
        assert_eq!(map.get(&0), None);
        assert_eq!(map.get(&10_001), None);
    }

    #[test]
    fn the_id_hash_tells_close_ids_apart() {
        let s = IdHasherState::default();
        let ids =
            ["1d1b5ca0-0000-0000-0000-000000000000", "1d1b5ca0-0000-0000-0000-000000000001", "a", "b", ""];
        let hashes: std::collections::HashSet<u64> = ids.iter().map(|id| s.hash_one(id)).collect();
        assert_eq!(hashes.len(), ids.len());
        // The same id hashes the same within a map; two maps have their own seeds.
        assert_eq!(s.hash_one("a"), s.hash_one("a"));
    }
}
