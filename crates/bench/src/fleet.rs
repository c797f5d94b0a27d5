//! Pieces shared by the fleet bench and soak (`fleet-bench`, `fleet-soak`).

/// The sequence number `fleet-bench` put in an event's text (`"text":"fleet-bench 42"`),
/// read from the envelope as the gateway stored it; `None` if there is none.
pub fn emitted_seq(body: &str) -> Option<u64> {
    const MARK: &str = "\"text\":\"fleet-bench ";
    // One searcher for every call (`str::find` of the mark builds a two-way searcher per call;
    // this runs once per event in the bench's handler, on the workers' thread).
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(MARK));
    let at = FINDER.find(body.as_bytes())? + MARK.len();
    let (digits, _) = body[at..].split_once('"')?;
    digits.parse().ok()
}

/// CPU time of this process's threads whose name starts with `prefix` (the nanosecond run
/// time in `/proc/self/task/*/schedstat`, as [`crate::cpu_time`]; the name from `comm`).
pub fn thread_cpu_time(prefix: &str) -> std::time::Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if !comm.starts_with(prefix) {
                continue;
            }
            let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            total += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    std::time::Duration::from_nanos(total)
}

/// The `p`-quantile (0.0–1.0) of sorted values, nearest rank; 0 when there are none.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sequence_number_of_an_envelope() {
        let body =
            r#"{"envelope_id":"e","payload":{"event":{"type":"message","text":"fleet-bench 42","ts":"1"}}}"#;
        assert_eq!(emitted_seq(body), Some(42));
        assert_eq!(emitted_seq(r#"{"text":"fleet-bench x"}"#), None);
        assert_eq!(emitted_seq(r#"{"text":"hello"}"#), None);
        assert_eq!(emitted_seq(r#"{"text":"fleet-bench 7"#), None);
        // Other dashes before the mark (ids, a context) are passed over.
        let body = r#"{"event_context":"4-x","payload":{"event":{"text":"fleet-bench 9"},"x":"a-b"}}"#;
        assert_eq!(emitted_seq(body), Some(9));
        assert_eq!(emitted_seq(r#"-{"text":"fleet-bench-3"}"#), None);
    }

    #[test]
    fn a_named_threads_cpu_time_is_its_own() {
        let busy = std::thread::Builder::new()
            .name("cpu-test-busy".into())
            .spawn(|| {
                // A fixed amount of work (not a wall-clock time, which a loaded machine would
                // fill with other threads' work): 20 million steps take well over 5 ms of CPU.
                let mut x = 0u64;
                for _ in 0..20_000_000u64 {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                thread_cpu_time("cpu-test-busy")
            })
            .unwrap();
        let own = busy.join().unwrap();
        assert!(own >= std::time::Duration::from_millis(5), "{own:?}");
        assert_eq!(thread_cpu_time("no-such-thread"), std::time::Duration::ZERO);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.99), percentile(&v, 1.0)), (50, 99, 100));
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.0), 7);
    }
}
