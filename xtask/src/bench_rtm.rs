//! The RTM event rows on harder traffic (issue 26), each beside Floor A on the same frames:
//! Slack-shaped frames on both runtimes, and both blasts written the way a real server writes
//! them — one frame per system call (`--blast-frame-per-write`, the emulator's `blast`
//! feature) instead of hundreds per write.
//!
//! The main table's blast is the friendliest traffic a client can get: every read returns a
//! full buffer of frames and the emulator costs 0.1 µs per event, leaving the client a core of
//! its own. Written one frame at a time, the emulator spends a system call per frame on the
//! other core, the client's reads are smaller and it catches up (and sleeps) more often, so
//! its per-wake-up costs count: these rows are the ones to compare with an outside server.

use crate::bench::{ClientSpec, Summary, measure, run_binary, run_binary_env, run_binary_envs};
use crate::official::EmulatorProcess;
use std::collections::BTreeMap;
use std::path::Path;

/// One workload: its name in the table, the emulator's flags beside `--blast N`, and whether
/// the typed-events rows run on it too.
struct Workload {
    name: &'static str,
    flags: &'static [&'static str],
    typed: bool,
}

const WORKLOADS: [Workload; 3] = [
    Workload { name: "Slack shapes, batched writes", flags: &["--blast-slack-shapes"], typed: true },
    Workload { name: "plain, one frame per write", flags: &["--blast-frame-per-write"], typed: false },
    Workload {
        name: "Slack shapes, one frame per write",
        flags: &["--blast-slack-shapes", "--blast-frame-per-write"],
        typed: false,
    },
];

const CT: &str = "slack-rtm (current_thread)";
const MT: &str = "slack-rtm (multi_thread)";
const CT_TYPED: &str = "slack-rtm (current_thread), typed events";
const MT_TYPED: &str = "slack-rtm (multi_thread), typed events";
const FLOOR: &str = "floor-a-value";

/// What the slack-rtm event rows read, printed above the RTM table.
pub const EVENTS_NOTE: &str = "The `slack-rtm` event rows read events as an application that routes on the type \
and reads a message's channel, user and text would, with `Events::next_lazy` (server events decoded only when \
asked; the fields borrowed from the frame). The `typed events` rows decode every event to a typed `Event` \
with `Events::next`. Floor A parses every frame into a `serde_json::Value`.";

/// `bench-client` decoding every event to a typed `Event` (`Events::next`, `BENCH_TYPED_EVENTS`)
/// on both runtimes; the plain `slack-rtm` rows read events lazily (`Events::next_lazy`: the
/// type, and a message's channel, user and text).
pub fn typed_clients(bin: &Path) -> [ClientSpec; 2] {
    let client = bin.join("bench-client");
    [
        ClientSpec {
            name: CT_TYPED,
            run: run_binary_envs(
                client.clone(),
                vec![],
                vec![("BENCH_CURRENT_THREAD", "1"), ("BENCH_TYPED_EVENTS", "1")],
            ),
        },
        ClientSpec {
            name: MT_TYPED,
            run: run_binary_envs(client, vec![], vec![("BENCH_TYPED_EVENTS", "1")]),
        },
    ]
}

/// Runs the three clients on each workload (`events` events, `runs` runs each) and returns the
/// table, ratios against Floor A on the same frames.
pub fn run(bin: &Path, events: u64, runs: usize) -> Result<String, String> {
    let emulator = bin.join("slack-rtm-emulator");
    let clients = [
        ClientSpec {
            name: CT,
            run: run_binary_env(bin.join("bench-client"), vec![], Some(("BENCH_CURRENT_THREAD", "1"))),
        },
        ClientSpec { name: MT, run: run_binary(bin.join("bench-client"), vec![]) },
        ClientSpec { name: FLOOR, run: run_binary(bin.join("floor"), vec!["value".into()]) },
    ];
    let mut results = Vec::new();
    for w in &WORKLOADS {
        eprintln!("bench: RTM events, {}", w.name);
        let n = events.to_string();
        let mut args = vec!["--blast", n.as_str(), "--no-rate-limit"];
        args.extend_from_slice(w.flags);
        let emu = EmulatorProcess::start(&emulator, &args)?;
        let mut rows = measure(&emu, &clients, "events", events, runs);
        if w.typed {
            rows.extend(measure(&emu, &typed_clients(bin), "events", events, runs));
        }
        results.push((w.name, rows));
    }
    Ok(table(&results))
}

const FLOOR_MT: &str = "floor-a-value (multi_thread)";

/// Floor A on tokio's multi-thread runtime (2 workers, `BENCH_MULTI_THREAD`), measured for
/// round trips only: the main table's Floor A runs on the current-thread runtime.
pub fn floor_multi_thread(bin: &Path) -> ClientSpec {
    ClientSpec {
        name: FLOOR_MT,
        run: run_binary_env(bin.join("floor"), vec!["value".into()], Some(("BENCH_MULTI_THREAD", "1"))),
    }
}

/// CPU per round trip on each runtime against Floor A on the same runtime (and, for
/// comparison, against Floor A on the current-thread runtime, as in the main table).
pub fn rtt_by_runtime(rtt: &BTreeMap<&'static str, Summary>, pinned_cpu: Option<u32>) -> String {
    let cpu = |name: &str| rtt.get(name).map_or(f64::NAN, |s| s.cpu_us_per_op);
    let mut t = match pinned_cpu {
        Some(n) => format!(
            "The round trips ran with the emulator and each client on one CPU (CPU {n}; docs/perf/rtt7.md: \
             unpinned, a run's CPU per round trip depended on whether the scheduler put the two on one \
             CPU or two, by up to 3 ×). "
        ),
        None => String::from("The round trips ran unpinned (`taskset` failed; see the log). "),
    };
    t.push_str(
        "Round trips by runtime: each slack-rtm row against Floor A on the same runtime (a multi-thread \
         runtime parks and wakes its worker once per round trip, which Floor A pays there too).\n\n\
         | runtime | slack-rtm CPU µs/round trip | Floor A CPU µs/round trip | × Floor A, same runtime | × Floor A, current-thread |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for (runtime, ours, floor) in [("current_thread", CT, FLOOR), ("multi_thread", MT, FLOOR_MT)] {
        t.push_str(&format!(
            "| {runtime} | {:.1} | {:.1} | {:.2} | {:.2} |\n",
            cpu(ours),
            cpu(floor),
            cpu(ours) / cpu(floor),
            cpu(ours) / cpu(FLOOR),
        ));
    }
    t
}

/// The table: one row per (workload, client), `× Floor A` against Floor A on the same frames.
fn table(results: &[(&str, BTreeMap<&'static str, Summary>)]) -> String {
    let mut t = String::from(
        "| frames, writes | client | events/s | × Floor A (same frames) | CPU µs/event | × Floor A | peak RSS MB | emulator CPU µs/event |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for (workload, rows) in results {
        let floor = rows.get(FLOOR);
        let (floor_ev, floor_cpu) = floor.map_or((f64::NAN, f64::NAN), |f| (f.per_sec, f.cpu_us_per_op));
        for name in [CT, MT, CT_TYPED, MT_TYPED, FLOOR] {
            let Some(s) = rows.get(name) else { continue };
            let note = s.failure.as_ref().map(|f| format!(" (failed: {f})")).unwrap_or_default();
            t.push_str(&format!(
                "| {workload} | {name}{note} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} |\n",
                s.per_sec,
                s.per_sec / floor_ev,
                s.cpu_us_per_op,
                s.cpu_us_per_op / floor_cpu,
                s.peak_rss_mb,
                s.emulator_cpu_us_per_op,
            ));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_are_against_the_floor_on_the_same_runtime() {
        let s = |cpu| Summary { cpu_us_per_op: cpu, ..Summary::default() };
        let rtt: BTreeMap<_, _> =
            [(CT, s(12.0)), (MT, s(15.0)), (FLOOR, s(10.0)), (FLOOR_MT, s(12.5))].into_iter().collect();
        let t = rtt_by_runtime(&rtt, Some(1));
        assert!(
            t.starts_with("The round trips ran with the emulator and each client on one CPU (CPU 1;"),
            "{t}"
        );
        assert!(rtt_by_runtime(&rtt, None).starts_with("The round trips ran unpinned"));
        let rows: Vec<&str> =
            t.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| runtime")).collect();
        assert_eq!(
            rows,
            [
                "| current_thread | 12.0 | 10.0 | 1.20 | 1.20 |",
                "| multi_thread | 15.0 | 12.5 | 1.20 | 1.50 |"
            ],
            "{t}"
        );
    }

    #[test]
    fn ratios_are_against_the_floor_on_the_same_frames() {
        let s = |per_sec, cpu| Summary { per_sec, cpu_us_per_op: cpu, ..Summary::default() };
        let a: BTreeMap<_, _> = [(CT, s(300.0, 1.0)), (FLOOR, s(200.0, 2.0))].into_iter().collect();
        let b: BTreeMap<_, _> = [(MT, s(100.0, 3.0)), (FLOOR, s(50.0, 1.5))].into_iter().collect();
        let t = table(&[("first", a), ("second", b)]);
        let rows: Vec<&str> = t.lines().skip(2).collect();
        assert_eq!(rows.len(), 4, "{t}");
        assert!(
            rows[0].starts_with("| first | slack-rtm (current_thread) | 300 | 1.50 | 1.00 | 0.50 |"),
            "{t}"
        );
        assert!(rows[1].starts_with("| first | floor-a-value | 200 | 1.00 | 2.00 | 1.00 |"), "{t}");
        assert!(
            rows[2].starts_with("| second | slack-rtm (multi_thread) | 100 | 2.00 | 3.00 | 2.00 |"),
            "{t}"
        );
    }
}
