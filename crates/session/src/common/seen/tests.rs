//! The window's time and count bounds, its memory per key, and the memory it gives back.

use super::*;
use std::mem::size_of;

/// The bytes the window's collections hold: its key and run slots, and the index's table
/// (a power of two of buckets, each a 4-byte position and a control byte).
fn footprint(w: &SeenWindow) -> usize {
    w.keys.capacity() * size_of::<u64>() + w.runs.capacity() * size_of::<Run>() + w.index.allocation_size()
}

/// Whether `k` is in the index (without forgetting anything first).
fn indexed(w: &SeenWindow, k: u64) -> bool {
    w.index.find(k, |&p| key_at(&w.keys, w.head, p) == k).is_some()
}

const MS: Duration = Duration::from_millis(1);
const WINDOW: Duration = Duration::from_secs(600);

/// 50,000 distinct keys, 100 a millisecond (Socket Mode's busy bench, 10 minutes' window).
fn busy(w: &mut SeenWindow, t0: Instant) -> Instant {
    let mut now = t0;
    for i in 0..50_000u64 {
        if i % 100 == 0 {
            now += MS;
        }
        assert!(!w.check_and_insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), now));
    }
    now
}

#[test]
fn a_busy_window_costs_about_a_key_and_its_slot_per_entry() {
    let mut w = SeenWindow::new(WINDOW, 100_000);
    busy(&mut w, Instant::now());
    assert_eq!(w.len(), 50_000);
    assert_eq!(w.runs.len(), 500, "one time per millisecond, not per key");
    let per_key = footprint(&w) as f64 / 50_000.0;
    // A key (8 bytes) and its hash slot (9) with the collections' doubling slack: ≤ 24 bytes.
    // A `(Instant, u64)` per key (the window before the runs) came to 43.
    assert!(per_key <= 24.0, "{per_key:.1} bytes per key");
}

#[test]
fn a_burst_gone_from_the_window_gives_its_memory_back() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(WINDOW, 100_000);
    let end = busy(&mut w, t0);
    let at_peak = footprint(&w);
    // Ten minutes later one key arrives: the burst is forgotten and its memory is freed.
    assert!(!w.check_and_insert(1, end + WINDOW));
    assert_eq!(w.len(), 1);
    let after = footprint(&w);
    assert!(after * 20 < at_peak, "{after} bytes held after the burst, {at_peak} at its peak");
}

#[test]
fn a_key_is_remembered_for_its_whole_window_and_at_most_a_millisecond_more() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(Duration::from_secs(10), 100);
    assert!(!w.check_and_insert(1, t0));
    // Recorded between two milliseconds of the window's clock.
    let t1 = t0 + Duration::from_micros(2_500);
    assert!(!w.check_and_insert(2, t1));
    assert!(w.contains(1, t0 + Duration::from_secs(10) - Duration::from_nanos(1)));
    assert!(!w.contains(1, t0 + Duration::from_secs(10)));
    assert!(w.contains(2, t1 + Duration::from_secs(10) - Duration::from_nanos(1)));
    assert!(!w.contains(2, t1 + Duration::from_secs(10) + MS));
    // Emptied, it starts its clock again from the next key.
    assert_eq!(w.len(), 0);
    let t2 = t1 + Duration::from_secs(3_600);
    assert!(!w.check_and_insert(3, t2));
    assert!(w.check_and_insert(3, t2 + Duration::from_secs(9)));
}

#[test]
fn the_capacity_forgets_the_oldest_first_across_runs() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(WINDOW, 5);
    for k in 0..3 {
        w.insert_absent(k, t0);
    }
    for k in 3..7 {
        w.insert_absent(k, t0 + MS * k as u32);
    }
    // 0 and 1 made room for 5 and 6; 2 is left of the first run.
    assert_eq!(w.keys, [2, 3, 4, 5, 6]);
    assert_eq!(
        w.runs.iter().map(|r| (r.at_ms, r.len)).collect::<Vec<_>>(),
        [(0, 1), (3, 1), (4, 1), (5, 1), (6, 1)]
    );
    assert!(w.keys.iter().all(|&k| indexed(&w, k)) && w.index.len() == 5);
    // The next key takes the first run's last key, and the run goes with it.
    assert!(!w.check_and_insert(7, t0 + MS * 10));
    assert_eq!(w.keys, [3, 4, 5, 6, 7]);
    assert_eq!(w.runs.front().map(|r| (r.at_ms, r.len)), Some((3, 1)));
    assert!(!indexed(&w, 2) && w.index.len() == 5);
    // Remembered ones are repeats (asking makes room for one more: 3 goes).
    assert!(w.check_and_insert(6, t0 + MS * 10));
    assert_eq!(w.keys, [4, 5, 6, 7]);
}

#[test]
fn a_window_busy_for_weeks_keeps_its_bound_past_the_offsets_range() {
    // One key a minute for 60 days (past `u32` milliseconds, 49.7 days): each one is remembered
    // for its five minutes' window, and forgotten after it.
    let t0 = Instant::now();
    let window = Duration::from_secs(300);
    let mut w = SeenWindow::new(window, 1_000);
    let minute = Duration::from_secs(60);
    for i in 0..(60 * 24 * 60u32) {
        let now = t0 + minute * i;
        assert!(!w.check_and_insert(u64::from(i), now), "minute {i}");
        if i >= 5 {
            assert!(!w.contains(u64::from(i - 5), now), "minute {i}");
            assert!(w.contains(u64::from(i - 4), now), "minute {i}");
        }
        assert!(w.len() <= 5);
    }
}

#[test]
fn look_ups_between_keep_the_window_exact_and_a_repeat_is_recorded_once() {
    // Many look-ups inside the window (they skip the forgetting's arithmetic) must not keep a
    // key past its window, nor forget one early; a repeat adds nothing.
    let t0 = Instant::now();
    let window = Duration::from_secs(10);
    let mut w = SeenWindow::new(window, 100);
    assert!(!w.check_and_insert(1, t0));
    let t1 = t0 + Duration::from_micros(2_500);
    assert!(!w.check_and_insert(2, t1));
    for i in 0..1_000u32 {
        let now = t1 + Duration::from_millis(9) * i;
        assert!(w.contains(1, now) && w.contains(2, now), "at {i}");
        assert!(w.check_and_insert(2, now));
        assert!(w.check_and_insert(1, now));
    }
    assert_eq!((w.len(), w.keys.len(), w.index.len()), (2, 2, 2), "each key once");
    assert!(w.contains(1, t0 + window - Duration::from_nanos(1)));
    assert!(!w.contains(1, t0 + window));
    assert!(w.contains(2, t1 + window - Duration::from_nanos(1)));
    assert!(!w.contains(2, t1 + window + MS));
    assert_eq!(w.len(), 0);
    // A later burst gets its own bound: a key of it is kept for its whole window.
    let t2 = t1 + Duration::from_secs(60);
    for k in 10..20 {
        w.insert_absent(k, t2 + MS * k as u32);
    }
    assert!(w.contains(10, t2 + MS * 10 + window - Duration::from_nanos(1)));
    assert!(!w.contains(10, t2 + MS * 11 + window) && w.contains(19, t2 + MS * 11 + window));
}

#[test]
fn a_zero_window_remembers_nothing() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(Duration::ZERO, 100);
    for i in 0..3u32 {
        assert!(!w.check_and_insert(7, t0 + MS * i), "{i}");
        assert!(!w.contains(7, t0 + MS * i), "{i}");
    }
}

#[test]
fn a_full_socket_mode_window_costs_under_sixteen_bytes_a_key() {
    // Socket Mode's default: 50,000 ids. The keys take exactly their capacity (not the next
    // power of two), the index 4-byte positions (not the keys again).
    let mut w = SeenWindow::new(WINDOW, 50_000);
    let end = busy(&mut w, Instant::now());
    assert_eq!(w.len(), 50_000);
    assert_eq!(w.keys.capacity(), 50_000, "the keys' slots stop at the capacity");
    // The set of `u64`s and the doubling deque this replaced came to 22.3 bytes a key.
    let per_key = footprint(&w) as f64 / 50_000.0;
    assert!(per_key < 16.0, "{per_key:.1} bytes per key");
    // Full, it keeps going: the oldest goes, the newest stays, the memory does not grow.
    let at_full = footprint(&w);
    for i in 0..20_000u64 {
        assert!(!w.check_and_insert(u64::MAX - i, end + MS));
    }
    assert_eq!((w.len(), w.index.len()), (50_000, 50_000));
    assert!(w.contains(u64::MAX, end + MS) && !w.contains(0x9E37_79B9_7F4A_7C15, end + MS));
    assert_eq!(footprint(&w), at_full);
}

#[test]
fn positions_wrap_past_u32_and_keep_finding_their_keys() {
    // After 4 billion keys the positions wrap: start just below it.
    let t0 = Instant::now();
    let mut w = SeenWindow::new(WINDOW, 5);
    w.head = u32::MAX - 2;
    for k in 0..12u64 {
        assert!(!w.check_and_insert(k, t0 + MS * k as u32), "{k}");
        assert!(w.check_and_insert(k, t0 + MS * k as u32), "{k} is a repeat");
    }
    // Full, each repeat's look-up made room for one more: 7 went with the last one.
    assert_eq!(w.head, (u32::MAX - 2).wrapping_add(8), "wrapped");
    assert_eq!(w.keys, [8, 9, 10, 11]);
    assert!((8..12).all(|k| indexed(&w, k)) && !(0..8).any(|k| indexed(&w, k)));
    // The time bound forgets across the wrap too.
    assert!(!w.contains(8, t0 + MS * 8 + WINDOW) && w.contains(9, t0 + MS * 8 + WINDOW));
}

#[test]
fn a_capacity_past_the_positions_range_is_cut_to_it() {
    assert_eq!(SeenWindow::new(WINDOW, usize::MAX).capacity, MAX_CAPACITY);
    assert_eq!(SeenWindow::new(WINDOW, 0).capacity, 1);
}

#[test]
fn the_keys_grow_by_half_so_a_busy_window_under_its_capacity_stands_a_third_empty_at_most() {
    // Socket Mode's default capacity (100,000) with the bench's 50,000 ids: doubling would hold
    // 65,536 slots (17.1 bytes a key in all).
    let mut w = SeenWindow::new(WINDOW, 100_000);
    busy(&mut w, Instant::now());
    assert!(w.keys.capacity() * 2 <= w.len() * 3, "{} slots for {} keys", w.keys.capacity(), w.len());
    let per_key = footprint(&w) as f64 / 50_000.0;
    assert!(per_key < 16.0, "{per_key:.1} bytes per key");
}

#[test]
fn a_key_joins_the_newest_run_only_within_its_millisecond() {
    // Keys in the newest run's millisecond skip the arithmetic: at its edges they must land
    // where the arithmetic puts them (rounded up: (0, 1 ms] is run 1, (1, 2 ms] run 2).
    let t0 = Instant::now();
    let ns = Duration::from_nanos(1);
    let mut w = SeenWindow::new(WINDOW, 100);
    let times = [
        (Duration::ZERO, 0),
        (Duration::ZERO, 0),
        (ns, 1),
        (MS / 2, 1),
        (MS, 1),
        (MS + ns, 2),
        (MS * 2, 2),
        (MS * 2 + ns, 3),
        (MS * 7, 7),
        (MS * 7, 7),
    ];
    for (i, (d, _)) in times.iter().enumerate() {
        assert!(!w.check_and_insert(i as u64, t0 + *d), "{i}");
    }
    let runs: Vec<(u32, u32)> = w.runs.iter().map(|r| (r.at_ms, r.len)).collect();
    assert_eq!(runs, [(0, 2), (1, 3), (2, 2), (3, 1), (7, 2)]);
    // A key recorded at 1 ms + 1 ns is kept until 2 ms + the window, not 1 ms + the window.
    assert!(w.contains(5, t0 + MS * 2 + WINDOW - ns) && !w.contains(5, t0 + MS * 2 + WINDOW));
    assert!(!w.contains(4, t0 + MS * 2 + WINDOW));
}

#[test]
fn after_a_rebase_a_key_in_the_same_millisecond_joins_the_newest_run() {
    // One key a minute for 40 days, then a second key in the same millisecond as the last: the
    // offsets were moved (past 3 × 2^30 ms), the newest run's times were not.
    let t0 = Instant::now();
    let window = Duration::from_secs(300);
    let mut w = SeenWindow::new(window, 1_000);
    let minute = Duration::from_secs(60);
    let last = t0 + minute * (40 * 24 * 60);
    for i in 0..=(40 * 24 * 60u32) {
        w.insert_absent(u64::from(i), t0 + minute * i);
    }
    assert!(!w.check_and_insert(u64::MAX, last));
    assert_eq!(w.runs.back().map(|r| r.len), Some(2));
    assert!(w.contains(u64::MAX, last + window - Duration::from_nanos(1)));
    assert!(!w.contains(u64::MAX, last + window));
}

#[test]
fn cleared_it_forgets_everything_gives_the_memory_back_and_starts_again() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(WINDOW, 100_000);
    let end = busy(&mut w, t0);
    let at_peak = footprint(&w);
    w.clear();
    assert_eq!((w.len(), w.index.len(), w.runs.len()), (0, 0, 0));
    assert!(footprint(&w) * 100 < at_peak, "{} bytes kept of {at_peak}", footprint(&w));
    // A key of the burst is new again, and remembered from now on.
    let k = 0x9E37_79B9_7F4A_7C15;
    assert!(!w.check_and_insert(k, end) && w.check_and_insert(k, end + MS));
    assert!(w.contains(k, end + WINDOW - Duration::from_nanos(1)) && !w.contains(k, end + WINDOW));
}

#[test]
fn a_key_recorded_without_a_look_up_is_found_kept_and_forgotten_like_the_others() {
    let t0 = Instant::now();
    let window = Duration::from_secs(10);
    let mut w = SeenWindow::new(window, 4);
    w.insert_absent(1, t0);
    assert!(!w.check_and_insert(2, t0));
    w.insert_absent(3, t0 + MS);
    assert!(w.contains(1, t0 + MS) && w.check_and_insert(3, t0 + MS));
    // At the capacity, the oldest goes first, whichever way it was recorded.
    w.insert_absent(4, t0 + 2 * MS);
    assert!(!w.contains(1, t0 + 2 * MS) && w.contains(2, t0 + 2 * MS) && w.contains(4, t0 + 2 * MS));
    assert_eq!((w.len(), w.index.len()), (3, 3));
    assert!(!w.contains(3, t0 + MS + window) && w.contains(4, t0 + MS + window));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "already remembered")]
fn recording_a_remembered_key_without_a_look_up_is_caught_in_debug_builds() {
    let t0 = Instant::now();
    let mut w = SeenWindow::new(Duration::from_secs(10), 10);
    assert!(!w.check_and_insert(1, t0));
    w.insert_absent(1, t0);
}
