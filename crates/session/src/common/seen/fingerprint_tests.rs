//! [`fingerprint`]: its parts' boundaries, its seeds, and collisions and bit spread over a million
//! keys shaped as the sessions' are.

use super::{SEEDS, Seeds, fingerprint, fingerprint_with};
use std::fmt::Write as _;
use std::hash::Hasher;

/// A hasher that keeps every byte written, in order, as a streaming hash (SipHash) sees them.
#[derive(Default)]
struct Recorder(Vec<u8>);

impl Hasher for Recorder {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

/// The bytes [`fingerprint_with`] feeds its hasher for `parts`, concatenated.
fn stream(parts: &[&str]) -> Vec<u8> {
    let mut r = Recorder::default();
    super::write_parts(&mut r, parts);
    r.0
}

/// Every list of up to three parts cut from the strings over {a, b} of up to five characters.
fn part_lists() -> Vec<Vec<String>> {
    let mut words = vec![String::new()];
    for len in 1..=5 {
        for bits in 0..(1u32 << len) {
            words.push((0..len).map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' }).collect());
        }
    }
    let mut lists = Vec::new();
    for w in &words {
        let n = w.len();
        lists.push(vec![w.clone()]);
        for i in 0..=n {
            lists.push(vec![w[..i].to_owned(), w[i..].to_owned()]);
            for j in i..=n {
                lists.push(vec![w[..i].to_owned(), w[i..j].to_owned(), w[j..].to_owned()]);
            }
        }
    }
    lists.sort();
    lists.dedup();
    lists
}

#[test]
fn the_parts_boundaries_count_even_for_a_hasher_that_concatenates_its_input() {
    assert_ne!(stream(&["ab", "c"]), stream(&["a", "bc"]));
    assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    assert_ne!(fingerprint(&["a", ""]), fingerprint(&["", "a"]));
    assert_ne!(fingerprint(&["a"]), fingerprint(&["a", ""]));
    // Every different list of parts is a different byte stream (so no hasher, streaming or
    // not, sees two of them as one input), and a different fingerprint.
    let lists = part_lists();
    assert!(lists.len() > 1_000, "{}", lists.len());
    let mut streams = std::collections::HashSet::new();
    let mut prints = std::collections::HashSet::new();
    for list in &lists {
        let parts: Vec<&str> = list.iter().map(String::as_str).collect();
        assert!(streams.insert(stream(&parts)), "{parts:?}: the same bytes as another list");
        assert!(prints.insert(fingerprint(&parts)), "{parts:?}: the same fingerprint as another list");
    }
}

#[test]
fn the_same_seeds_give_the_same_fingerprint_and_the_process_keeps_one_seed_on_every_thread() {
    let parts = ["sm-event", "Ev08ABCDEF12"];
    let (a, b) = (Seeds::new(1, 2), Seeds::new(1, 2));
    assert_eq!(fingerprint_with(&a, &parts), fingerprint_with(&b, &parts));
    assert_ne!(fingerprint_with(&a, &parts), fingerprint_with(&Seeds::new(3, 2), &parts));
    assert_ne!(fingerprint_with(&a, &parts), fingerprint_with(&Seeds::new(1, 3), &parts));
    // The process's seeds are random (not the zeros nor foldhash's fixed ones), drawn once.
    assert_ne!(fingerprint(&parts), fingerprint_with(&Seeds::new(0, 0), &parts));
    let here = fingerprint(&parts);
    let there = std::thread::spawn(move || fingerprint(&parts)).join().unwrap();
    assert_eq!(here, there);
    assert_eq!(here, fingerprint_with(&SEEDS, &parts));
}

/// The fingerprints of `n` keys of each shape the sessions hash (Socket Mode's event ids, RTM's
/// message, client message and event keys, and unknown events' whole frames, short and past
/// 256 bytes), all different inputs.
fn realistic(seeds: &Seeds, n: usize) -> Vec<u64> {
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let id = |buf: &mut String, prefix: &str, mut i: usize, width: usize| {
        buf.clear();
        buf.push_str(prefix);
        let start = buf.len();
        for _ in 0..width {
            buf.insert(start, ALNUM[i % 36] as char);
            i /= 36;
        }
    };
    let mut out = Vec::with_capacity(4 * n + n / 4);
    let (mut a, mut b) = (String::new(), String::new());
    for i in 0..n {
        // `Ev08ABCDEF12`-like event ids, counting up in their last characters.
        id(&mut a, "Ev08", i, 8);
        out.push(fingerprint_with(seeds, &["sm-event", &a]));
        // A message: one of 64 channels, a timestamp counting microseconds, with or without
        // a subtype.
        id(&mut a, "C0", i % 64, 9);
        b.clear();
        let _ = write!(b, "17{:08}.{:06}", 33_000_000 + i / 64 / 1000, i / 64 % 1000 * 997 % 1_000_000);
        let subtype = if i % 3 == 0 { "message_changed" } else { "" };
        out.push(fingerprint_with(seeds, &["m", &a, &b, subtype]));
        // A client message id and an event's type and timestamp.
        b.clear();
        let _ = write!(b, "{:08x}-4e2a-9c1b-{:012x}", i.wrapping_mul(2_654_435_761) as u32, i);
        out.push(fingerprint_with(seeds, &["c", &b, ""]));
        b.clear();
        let _ = write!(b, "17{:08}.{:06}", 33_000_000 + i / 1000, i % 1000);
        out.push(fingerprint_with(seeds, &["e", "reaction_added", &b]));
    }
    for i in 0..n / 4 {
        // An unknown event's frame, its user text varying (some frames past 256 bytes).
        a.clear();
        let _ = write!(a, r#"{{"type":"brand_new","user":"U0{i:09}","text":"hello {}"#, "x".repeat(i % 300));
        let _ = write!(a, r#" {i}","event_ts":"1733600000.{:06}"}}"#, i % 1_000_000);
        out.push(fingerprint_with(seeds, &["u", &a]));
    }
    out
}

/// Whether `keys` has two equal values.
fn collisions(keys: &mut [u64]) -> usize {
    keys.sort_unstable();
    keys.windows(2).filter(|w| w[0] == w[1]).count()
}

/// No two of ~1.1 million different keys share a fingerprint, under the process's seeds and under
/// zero seeds (with SipHash, or any hash with a random-looking 64-bit output, the chance of one
/// is about one in 30 million at this size; docs/perf/hash13.md has a run over 16 million), and
/// the bits the look-ups take from the fingerprint itself are spread evenly: the low bits
/// (Socket Mode's waiting keys and the window's index pick a slot with them) and the top seven
/// (the index's control bytes).
#[test]
fn a_million_realistic_keys_never_collide_and_their_bits_are_spread() {
    for seeds in [&*SEEDS, &Seeds::new(0, 0)] {
        let mut keys = realistic(seeds, 1 << 18);
        let n = keys.len();
        // Each bit set in half the keys (± 1 %; a standard deviation is 0.05 %).
        for bit in 0..64 {
            let ones = keys.iter().filter(|&&k| k >> bit & 1 == 1).count();
            let share = ones as f64 / n as f64;
            assert!((0.49..0.51).contains(&share), "bit {bit} set in {share} of the keys");
        }
        // The top seven bits: each of their 128 values within 8 % of n / 128 (~7.5 standard deviations).
        let mut top = [0usize; 128];
        for &k in &keys {
            top[(k >> 57) as usize] += 1;
        }
        let expected = n as f64 / 128.0;
        for (v, &count) in top.iter().enumerate() {
            assert!((count as f64 - expected).abs() < expected * 0.08, "top bits {v}: {count}");
        }
        // The low 20 bits over ~1.1 million keys: the slots filled as random keys fill them
        // (1 − e^(−n / 2^20) of them, ± 0.5 %).
        let mut low: Vec<u32> = keys.iter().map(|&k| (k & ((1 << 20) - 1)) as u32).collect();
        low.sort_unstable();
        low.dedup();
        let filled = low.len() as f64 / f64::from(1u32 << 20);
        let random = 1.0 - (-(n as f64) / f64::from(1u32 << 20)).exp();
        assert!((filled - random).abs() < 0.005, "low bits fill {filled}, random keys {random}");
        assert_eq!(collisions(&mut keys), 0, "{n} keys");
    }
}
