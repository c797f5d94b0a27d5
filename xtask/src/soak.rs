//! `cargo xtask soak [--seconds N] [--sessions M] [--seed S] [--interval-ms I]` and
//! `cargo xtask soak --reconnects N`: builds `crates/bench/src/bin/soak.rs` in release and runs
//! it, passing the arguments through. The binary prints messages sent / acked / unconfirmed /
//! failed, duplicates, lost, reconnects and peak RSS, and exits non-zero on a violated
//! invariant; so does this command.
//!
//! `cargo xtask soak --socket-mode [--seconds N] [--sockets K] [--seed S] [--interval-ms I]
//! [--fault-ms F]` runs `crates/bench/src/bin/sm-soak.rs` instead: one Socket Mode client with
//! K sockets under random faults and redeliveries; it fails on a lost or duplicated event.

use crate::official::{cargo, target_dir, workspace_root};
use std::process::Command;

const KNOWN: &[&str] = &["--seconds", "--sessions", "--seed", "--interval-ms", "--reconnects"];
const KNOWN_SOCKET_MODE: &[&str] = &["--seconds", "--sockets", "--seed", "--interval-ms", "--fault-ms"];

fn check(args: &[String]) -> Result<(), String> {
    check_known(args, KNOWN)
}

fn check_known(args: &[String], known: &[&str]) -> Result<(), String> {
    if !args.len().is_multiple_of(2) {
        return Err("every option takes a value".to_owned());
    }
    for pair in args.chunks(2) {
        if !known.contains(&pair[0].as_str()) {
            return Err(format!("unknown option {}; known: {}", pair[0], known.join(" ")));
        }
        if pair[1].parse::<u64>().is_err() {
            return Err(format!("{}: not a number: {}", pair[0], pair[1]));
        }
    }
    Ok(())
}

/// Builds and runs the soak binary; `Err` if it cannot be built or reports a violation.
pub fn run_soak(args: &[String]) -> Result<(), String> {
    let socket_mode = args.iter().any(|a| a == "--socket-mode");
    let args: Vec<String> = args.iter().filter(|a| *a != "--socket-mode").cloned().collect();
    let args = &args[..];
    let name = if socket_mode {
        check_known(args, KNOWN_SOCKET_MODE)?;
        "sm-soak"
    } else {
        check(args)?;
        "soak"
    };
    let status = Command::new(cargo())
        .current_dir(workspace_root())
        .args(["build", "--release", "-p", "slack-rtm-bench", "--bin", name])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the soak binary failed ({status})"));
    }
    let bin = target_dir().join("release").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let status =
        Command::new(&bin).args(args).status().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if status.success() { Ok(()) } else { Err(format!("the soak reported a violated invariant ({status})")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn checks_the_options() {
        assert!(check(&args(&["--seconds", "60", "--sessions", "20"])).is_ok());
        assert!(check(&args(&["--reconnects", "1000"])).is_ok());
        assert!(check(&args(&["--seconds"])).is_err());
        assert!(check(&args(&["--minutes", "1"])).is_err());
        assert!(check(&args(&["--seconds", "x"])).is_err());
        assert!(check_known(&args(&["--seconds", "30", "--sockets", "4"]), KNOWN_SOCKET_MODE).is_ok());
        assert!(check_known(&args(&["--sessions", "4"]), KNOWN_SOCKET_MODE).is_err());
    }
}
