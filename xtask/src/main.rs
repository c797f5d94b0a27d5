//! Project automation: `cargo xtask <command>`.
//!
//! - `deps`: checks the design card's dependency rules and the workspace-hack rule (also run
//!   by `cargo test`).
//! - `bench [--quick] [--events N] [--round-trips M] [--runs R] [--no-official] [--no-doc]
//!   [--envelopes N] [--paced-envelopes M] [--no-socket-mode]`: every part of the benchmark in
//!   one run ([`bench_parts::PARTS`]: RTM, Socket Mode, HTTP mode, fleet, idle sessions), each
//!   beside its floors; writes `docs/benchmarks.md` unless `--no-doc` or `--quick`. One part
//!   alone: `--rtm-only`, `--socket-mode-only`, `--http [--http-requests N]
//!   [--http-paced-requests M]`, `--fleet [--fleet-events N] [--fleet-paced-events M]`,
//!   `--sessions S [--idle-ping SECS]` (the last three write their own sections too), and
//!   `--upload [--mb N]` (the peak memory of a file upload from disk).
//! - `corpus [DIR...]` (default `../shared/slack-corpus` beside the workspace): decodes every JSON file (RTM events or `rtm.connect` answers) and checks
//!   the round trip; fails on a shape error or a lost field.
//! - `conformance [--client node|python]...`: the official Node and Python clients against the
//!   emulator.
//! - `fuzz --seconds N`: the cargo-fuzz targets, N seconds each.
//! - `soak --seconds N --sessions M`: sessions under random faults; fails on a lost or
//!   duplicated message. `soak --socket-mode --seconds N --sockets K`: a Socket Mode client
//!   under random faults and redeliveries; fails on a lost or duplicated event. `soak --fleet
//!   --seconds N`: gateway and tail processes of the CLI on a real Redis under faults and
//!   SIGKILLs; fails on a lost event or an unexplained duplicate.
//! - `deny`: `cargo deny check` (licenses, bans, sources) when cargo-deny is installed.

mod bench;
mod bench_doc;
mod bench_fleet;
mod bench_http;
mod bench_parts;
mod bench_rtm;
mod bench_sm;
mod bench_sm_slack;
mod bench_upload;
mod conformance;
mod corpus;
mod deps;
mod fuzz;
mod hack;
mod official;
mod pin;
mod scale;
mod soak;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  deps          check the crate dependency rules (types/codec free of IO crates, layering)
  bench         every benchmark in one run (--quick for CI); one part: --rtm-only, --socket-mode-only,
                --http, --fleet, --sessions N [--idle-ping S]; --upload [--mb N] for an upload's peak memory
  corpus        decode recorded Slack payloads ([DIR...], default ../shared/slack-corpus): typed / unknown type / shape error / round-trip loss
  conformance   run the official Node and Python clients against the emulator
  fuzz          run the fuzz targets (--seconds N each)
  soak          sessions under random faults (--seconds N --sessions M; --socket-mode --sockets K;
                --fleet: gateway and tail processes on a real Redis, SIGKILLs included)
  deny          cargo deny check (licenses, bans, sources)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let result = match args.first().map(String::as_str) {
        Some("deps") => match deps::check_workspace() {
            Ok(report) => {
                println!("{report}");
                Ok(())
            }
            Err(problems) => Err(problems
                .iter()
                .map(|p| format!("dependency rule violated: {p}"))
                .collect::<Vec<_>>()
                .join("\n")),
        },
        Some("bench") => bench::run(rest),
        Some("corpus") => corpus::run(rest),
        Some("conformance") => conformance::run_conformance(rest),
        Some("fuzz") => fuzz::run_fuzz(rest),
        Some("soak") => soak::run_soak(rest),
        Some("deny") => fuzz::run_deny(rest),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
