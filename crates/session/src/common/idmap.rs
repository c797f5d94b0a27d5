//! Maps keyed by the ids the session hands out itself (request ids, wire ids): sequential
//! integers, never chosen by the server (a `reply_to` is only looked up), so they need no
//! defence against collisions and are hashed with one multiplication instead of SipHash —
//! a round trip looks such a map up four times.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by session-made integer ids.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of one integer: the multiplication spreads sequential ids over the high
/// bits (the table's tag) and keeps them distinct in the low bits (its bucket).
#[derive(Default)]
pub(crate) struct IdHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by integer keys; correct for any other.
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }
}

#[cfg(test)]
mod tests {
    use super::IdMap;

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
}
