//! The window's time and count bounds, its memory per key, and the memory it gives back.

use super::*;
use std::mem::size_of;

/// The bytes the window's collections hold: its key and run slots, and the lookup set's
/// buckets (a power of two holding the set's capacity at 7/8, each a key and a control byte).
fn footprint(w: &SeenWindow) -> usize {
    let buckets = (w.seen.capacity() * 8 / 7).next_power_of_two();
    w.keys.capacity() * size_of::<u64>() + w.runs.capacity() * size_of::<Run>() + buckets * 9
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
        w.insert(k, t0);
    }
    for k in 3..7 {
        w.insert(k, t0 + MS * k as u32);
    }
    // 0 and 1 made room for 5 and 6; 2 is left of the first run.
    assert_eq!(w.keys, [2, 3, 4, 5, 6]);
    assert_eq!(
        w.runs.iter().map(|r| (r.at_ms, r.len)).collect::<Vec<_>>(),
        [(0, 1), (3, 1), (4, 1), (5, 1), (6, 1)]
    );
    assert!(w.keys.iter().all(|k| w.seen.contains(k)) && w.seen.len() == 5);
    // The next key takes the first run's last key, and the run goes with it.
    assert!(!w.check_and_insert(7, t0 + MS * 10));
    assert_eq!(w.keys, [3, 4, 5, 6, 7]);
    assert_eq!(w.runs.front().map(|r| (r.at_ms, r.len)), Some((3, 1)));
    assert!(!w.seen.contains(&2) && w.seen.len() == 5);
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
        w.insert(2, now);
        assert!(w.check_and_insert(1, now));
    }
    assert_eq!((w.len(), w.keys.len(), w.seen.len()), (2, 2, 2), "each key once");
    assert!(w.contains(1, t0 + window - Duration::from_nanos(1)));
    assert!(!w.contains(1, t0 + window));
    assert!(w.contains(2, t1 + window - Duration::from_nanos(1)));
    assert!(!w.contains(2, t1 + window + MS));
    assert_eq!(w.len(), 0);
    // A later burst gets its own bound: a key of it is kept for its whole window.
    let t2 = t1 + Duration::from_secs(60);
    for k in 10..20 {
        w.insert(k, t2 + MS * k as u32);
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
