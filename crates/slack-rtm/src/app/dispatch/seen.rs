//! The fallback's "logged once per kind": which kinds of unhandled requests were logged
//! already. Checked for every request no listener takes (as many of an app's events are).

use crate::app::receiver::RequestKind;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

/// Kinds of unhandled requests remembered for "logged once" (beyond it, each is logged).
const KINDS: usize = 256;
/// Kinds read without the lock: the first ones logged.
const CACHED: usize = 8;

/// The kinds of unhandled requests already logged.
#[derive(Default)]
pub(super) struct FallbackSeen {
    /// The first kinds logged, in order, each set once it was logged and never changed: read
    /// without the lock (a request of one of these kinds takes no lock, the common case: an
    /// app's unhandled requests are of a few kinds). Every kind here is in `seen` too.
    cached: [OnceLock<(RequestKind, Box<str>)>; CACHED],
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    kinds: HashMap<String, HashSet<String>>,
    /// The last kind found in `kinds`: a run of the same kind compares the kinds and one
    /// string instead of hashing them (its buffer is reused).
    last: Option<(RequestKind, String)>,
    /// Places of `cached` taken.
    cached: usize,
}

impl FallbackSeen {
    /// Whether `kind`/`subkind` was not logged before (it is remembered now: `true` once per
    /// kind, up to [`KINDS`] kinds; every time beyond them).
    #[inline]
    pub(super) fn first(&self, kind: &RequestKind, subkind: &str) -> bool {
        for place in &self.cached {
            match place.get() {
                Some((k, s)) if k == kind && **s == *subkind => return false,
                Some(_) => {}
                // Filled in order: the rest are empty too.
                None => break,
            }
        }
        self.first_locked(kind, subkind)
    }

    fn first_locked(&self, kind: &RequestKind, subkind: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let seen = &mut *seen;
        let name = kind.as_str();
        // Looked up without building the key: only a new kind allocates.
        if seen.last.as_ref().is_some_and(|(k, s)| k == kind && s == subkind) {
            false
        } else if seen.kinds.get(name).is_some_and(|s| s.contains(subkind)) {
            let last = seen.last.get_or_insert_with(|| (kind.clone(), String::new()));
            if last.0 != *kind {
                last.0 = kind.clone();
            }
            last.1.clear();
            last.1.push_str(subkind);
            false
        } else if seen.kinds.values().map(HashSet::len).sum::<usize>() >= KINDS {
            true
        } else {
            seen.kinds.entry(name.to_owned()).or_default().insert(subkind.to_owned());
            // Under the lock: the places are filled in order, each kind once.
            if let Some(place) = self.cached.get(seen.cached) {
                let _ = place.set((kind.clone(), subkind.into()));
                seen.cached += 1;
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind is first once, whether it is read from the places without the lock or found
    /// under it (more kinds than places), however the kinds alternate; a kind is told apart
    /// by its request kind and its type both.
    #[test]
    fn each_kind_is_first_once_in_the_places_and_beyond_them() {
        let seen = FallbackSeen::default();
        let kinds: Vec<(RequestKind, String)> = (0..CACHED + 4)
            .map(|i| (RequestKind::EventsApi, format!("type_{i}")))
            .chain([
                (RequestKind::SlashCommands, "type_0".to_owned()),
                (RequestKind::Other("hello".into()), "type_0".to_owned()),
            ])
            .collect();
        for round in 0..3 {
            for (i, (kind, subkind)) in kinds.iter().enumerate() {
                // Each kind twice in a row, then the next.
                assert_eq!(seen.first(kind, subkind), round == 0, "{kind:?}/{subkind}, round {round}");
                assert!(!seen.first(kind, subkind), "{kind:?}/{subkind} again");
                // And one logged before, between.
                let (earlier, its) = &kinds[i / 2];
                assert!(!seen.first(earlier, its), "{earlier:?}/{its}, round {round}");
            }
        }
        assert!(seen.cached.iter().all(|p| p.get().is_some()), "the first kinds cached");
    }

    /// Beyond the remembered kinds, a new kind is logged every time (as before the places).
    #[test]
    fn beyond_the_remembered_kinds_a_new_kind_is_always_first() {
        let seen = FallbackSeen::default();
        for i in 0..KINDS {
            assert!(seen.first(&RequestKind::EventsApi, &format!("t{i}")));
        }
        assert!(seen.first(&RequestKind::EventsApi, "one more"));
        assert!(seen.first(&RequestKind::EventsApi, "one more"));
        assert!(!seen.first(&RequestKind::EventsApi, "t0"));
        assert!(!seen.first(&RequestKind::EventsApi, &format!("t{}", KINDS - 1)));
    }
}
