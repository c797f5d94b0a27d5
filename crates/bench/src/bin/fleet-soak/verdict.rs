//! What the workers handled (their output files), and the verdict: lost events, and
//! duplicates with their explanation.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One handling of an event: by which worker instance, when (Unix ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handling {
    pub instance: String,
    pub handled_ms: u64,
}

/// Every handling of every event, by event id, read from the `<instance>.jsonl` files.
#[derive(Default)]
pub struct Handled {
    pub by_event: HashMap<String, Vec<Handling>>,
    /// Lines that are not JSON objects with an `event_id` and a `handled_ms` (a process
    /// SIGKILLed in the middle of a line leaves at most one).
    pub bad_lines: u64,
}

impl Handled {
    /// Reads every worker output in `dir`.
    pub fn read(dir: &Path) -> std::io::Result<Self> {
        let mut h = Handled::default();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(instance) =
                path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".jsonl"))
            else {
                continue;
            };
            let text = std::fs::read_to_string(&path)?;
            h.add(instance, &text);
        }
        for v in h.by_event.values_mut() {
            v.sort_by_key(|x| x.handled_ms);
        }
        Ok(h)
    }

    fn add(&mut self, instance: &str, text: &str) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            match (v["event_id"].as_str(), v["handled_ms"].as_u64()) {
                (Some(id), Some(ms)) => self
                    .by_event
                    .entry(id.to_owned())
                    .or_default()
                    .push(Handling { instance: instance.to_owned(), handled_ms: ms }),
                _ => self.bad_lines += 1,
            }
        }
    }
}

/// Why an event was handed to a handler again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    /// The earlier handling was by a worker instance SIGKILLed later (before its `XACK`).
    WorkerKilled,
    /// The earlier handling was while Redis was down or restarting (its `XACK` may be lost).
    RedisRestart,
    /// Neither: a bug.
    Unexplained,
}

/// Duplicates: handlings after the first, each explained by the handling before it.
pub fn duplicates(
    handled: &Handled,
    killed_workers: &BTreeMap<String, u64>,
    redis_windows: &[(u64, u64)],
) -> BTreeMap<Why, Vec<String>> {
    let mut out: BTreeMap<Why, Vec<String>> = BTreeMap::new();
    for (id, hs) in &handled.by_event {
        for pair in hs.windows(2) {
            let before = &pair[0];
            let why = if killed_workers.get(&before.instance).is_some_and(|k| *k >= before.handled_ms) {
                Why::WorkerKilled
            } else if redis_windows.iter().any(|(a, b)| (*a..=*b).contains(&before.handled_ms)) {
                Why::RedisRestart
            } else {
                Why::Unexplained
            };
            out.entry(why).or_default().push(id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handled(lines: &[(&str, &str)]) -> Handled {
        let mut h = Handled::default();
        for (instance, text) in lines {
            h.add(instance, text);
        }
        for v in h.by_event.values_mut() {
            v.sort_by_key(|x| x.handled_ms);
        }
        h
    }

    #[test]
    fn duplicates_are_explained_by_a_killed_worker_or_a_redis_restart_or_not_at_all() {
        let h = handled(&[
            (
                "w0-1",
                "{\"event_id\":\"A\",\"handled_ms\":100}\n{\"event_id\":\"B\",\"handled_ms\":500}\n{\"ev",
            ),
            ("w1-1", "{\"event_id\":\"A\",\"handled_ms\":4000}\n{\"event_id\":\"B\",\"handled_ms\":900}"),
            ("w1-1", "{\"event_id\":\"C\",\"handled_ms\":1000}\n{\"event_id\":\"C\",\"handled_ms\":1200}\n"),
            ("w2-1", "{\"event_id\":\"D\",\"handled_ms\":5000}\n"),
        ]);
        assert_eq!(h.bad_lines, 1, "the torn last line of a killed process");
        let killed = BTreeMap::from([("w0-1".to_owned(), 200u64)]);
        let d = duplicates(&h, &killed, &[(1100, 1300)]);
        // A: first handled by w0-1 before it was killed. B: first handled by w0-1 after its
        // kill time (so not lost to the kill). C: first handled outside the Redis window.
        assert_eq!(d.get(&Why::WorkerKilled), Some(&vec!["A".to_owned()]));
        let mut unexplained = d.get(&Why::Unexplained).cloned().unwrap_or_default();
        unexplained.sort();
        assert_eq!(unexplained, vec!["B".to_owned(), "C".to_owned()]);
        assert_eq!(d.get(&Why::RedisRestart), None);
        let d = duplicates(&h, &killed, &[(900, 1100)]);
        assert_eq!(d.get(&Why::RedisRestart), Some(&vec!["C".to_owned()]));
        assert_eq!(d.get(&Why::Unexplained), Some(&vec!["B".to_owned()]));
    }
}
