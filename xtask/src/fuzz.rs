//! `cargo xtask fuzz [--seconds N] [--target NAME]`: runs every cargo-fuzz target in `fuzz/`
//! for N seconds each (default 20), starting from the committed seed corpus.
//!
//! Needs `cargo-fuzz` (`cargo install cargo-fuzz`). cargo-fuzz passes nightly-only compiler
//! flags (`-Zsanitizer=…`, `-Cpasses=sancov-module`); on a stable toolchain this sets
//! `RUSTC_BOOTSTRAP=1` so they are accepted. New inputs found by a run go to
//! `fuzz/scratch/<target>/` (ignored by git), never into the committed `fuzz/corpus/`;
//! a crash leaves its input in `fuzz/artifacts/<target>/` and fails the command.

use crate::official::{cargo, workspace_root};
use std::process::Command;

/// The targets in `fuzz/Cargo.toml`.
pub const TARGETS: &[&str] =
    &["decode_event", "parse_response", "machine", "decode_socket_frame", "socket_mode", "http_request"];

struct Options {
    seconds: u64,
    targets: Vec<String>,
    sanitizer: String,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 20,
        targets: TARGETS.iter().map(|t| (*t).to_owned()).collect(),
        sanitizer: "address".to_owned(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seconds" => {
                let v = value("--seconds")?;
                o.seconds = v.parse().map_err(|_| format!("--seconds: not a number: {v}"))?;
            }
            "--target" => {
                let t = value("--target")?;
                if !TARGETS.contains(&t.as_str()) {
                    return Err(format!("unknown fuzz target {t}; known: {}", TARGETS.join(", ")));
                }
                o.targets = vec![t];
            }
            "--sanitizer" => o.sanitizer = value("--sanitizer")?,
            other => {
                return Err(format!(
                    "unknown argument {other}\nusage: cargo xtask fuzz [--seconds N] [--target NAME] [--sanitizer address|none]"
                ));
            }
        }
    }
    Ok(o)
}

/// Whether `cargo fuzz` is installed.
pub fn cargo_fuzz_installed() -> bool {
    Command::new(cargo()).args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success())
}

/// Runs the fuzz targets; `Err` on a crash, a build failure or a missing `cargo-fuzz`.
pub fn run_fuzz(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    if !cargo_fuzz_installed() {
        return Err("cargo-fuzz is not installed: `cargo install cargo-fuzz` (from crates.io)".to_owned());
    }
    let fuzz_dir = workspace_root().join("fuzz");
    seed_lockfile(&fuzz_dir)?;
    for target in &o.targets {
        let seeds = fuzz_dir.join("corpus").join(target);
        let scratch = fuzz_dir.join("scratch").join(target);
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        println!("fuzz: {target} for {} s (seeds: {})", o.seconds, seeds.display());
        let status = Command::new(cargo())
            .current_dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--release", "--sanitizer", &o.sanitizer, target])
            .arg(&scratch)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={}", o.seconds))
            .arg("-max_len=65536")
            .arg("-print_final_stats=1")
            .status()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        if !status.success() {
            return Err(format!(
                "fuzz target {target} failed ({status}); the input is in {}",
                fuzz_dir.join("artifacts").join(target).display()
            ));
        }
    }
    println!("fuzz: {} target(s) ran {} s each without a finding", o.targets.len(), o.seconds);
    Ok(())
}

/// The fuzz crate is a workspace of its own, so it needs its own `Cargo.lock`. It is not
/// committed (a committed one went stale whenever the workspace's dependencies changed, and
/// every run then rewrote it, leaving the tree dirty): each run starts from the workspace's
/// `Cargo.lock`, so the fuzzed crates are built with the versions the workspace locks, and
/// cargo adds the fuzz-only crates (libfuzzer-sys) to the copy, which git ignores.
fn seed_lockfile(fuzz_dir: &std::path::Path) -> Result<(), String> {
    let from = workspace_root().join("Cargo.lock");
    let to = fuzz_dir.join("Cargo.lock");
    std::fs::copy(&from, &to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// `cargo xtask deny [CHECKS…]`: runs `cargo deny check [CHECKS…]` with the root `deny.toml`
/// (advisories, licenses, bans of openssl/native-tls, sources) when cargo-deny is installed;
/// says so and succeeds when it is not (`cargo install cargo-deny --locked`). Without network
/// access the advisory database cannot be fetched: run `cargo xtask deny licenses bans sources`.
pub fn run_deny(args: &[String]) -> Result<(), String> {
    let installed =
        Command::new(cargo()).args(["deny", "--version"]).output().is_ok_and(|o| o.status.success());
    if !installed {
        println!("deny: cargo-deny is not installed (`cargo install cargo-deny --locked`); skipped");
        return Ok(());
    }
    let status = Command::new(cargo())
        .current_dir(workspace_root())
        .args(["deny", "check"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo deny: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo deny check failed ({status})")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_options() {
        let o = parse(&args(&["--seconds", "5", "--target", "machine"])).unwrap();
        assert_eq!(o.seconds, 5);
        assert_eq!(o.targets, vec!["machine".to_owned()]);
        assert!(parse(&args(&["--target", "nope"])).is_err());
        assert!(parse(&args(&["--seconds"])).is_err());
        assert_eq!(parse(&[]).unwrap().targets.len(), TARGETS.len());
    }

    #[test]
    fn every_target_has_a_seed_corpus() {
        for t in TARGETS {
            let dir = workspace_root().join("fuzz").join("corpus").join(t);
            let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            assert!(n > 0, "no seeds in {}", dir.display());
        }
    }
}
