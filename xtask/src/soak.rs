//! `cargo xtask soak [--seconds N] [--sessions M] [--seed S] [--interval-ms I]` and
//! `cargo xtask soak --reconnects N`: builds `crates/bench/src/bin/soak.rs` in release and runs
//! it, passing the arguments through. The binary prints messages sent / acked / unconfirmed /
//! failed, duplicates, lost, reconnects and peak RSS, and exits non-zero on a violated
//! invariant; so does this command.
//!
//! `cargo xtask soak --socket-mode [--seconds N] [--sockets K] [--seed S] [--interval-ms I]
//! [--fault-ms F]` runs `crates/bench/src/bin/sm-soak.rs` instead: one Socket Mode client with
//! K sockets under random faults and redeliveries; it fails on a lost or duplicated event.
//!
//! `cargo xtask soak --fleet [--seconds N] [--seed S] [--interval-ms I] [--fault-ms F]
//! [--handler-ms H]` runs
//! `crates/bench/src/bin/fleet-soak` with the release `slack-rtm` binary: a real
//! `redis-server`, 3 `slack-rtm fleet gateway` and 3 `slack-rtm fleet tail` processes under
//! socket faults and SIGKILLs of gateways, workers and Redis; it fails on a lost event or an
//! unexplained duplicate, and at once (before building) if `redis-server` is not installed.

use crate::official::{cargo, target_dir, workspace_root};
use std::process::Command;

const KNOWN: &[&str] = &["--seconds", "--sessions", "--seed", "--interval-ms", "--reconnects"];
const KNOWN_SOCKET_MODE: &[&str] = &["--seconds", "--sockets", "--seed", "--interval-ms", "--fault-ms"];
const KNOWN_FLEET: &[&str] = &["--seconds", "--seed", "--interval-ms", "--fault-ms", "--handler-ms"];

/// The `redis-server` the fleet soak runs: `$REDIS_SERVER`, else the one on the `PATH`.
fn redis_server() -> std::ffi::OsString {
    std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}

/// `Ok` if `bin --version` runs.
fn redis_server_installed(bin: &std::ffi::OsStr) -> Result<(), String> {
    match Command::new(bin).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("{} --version failed ({})", bin.to_string_lossy(), out.status)),
        Err(e) => Err(format!(
            "the fleet soak needs redis-server, which cannot be run ({}: {e}): install it \
             (apt-get install redis-server) or set REDIS_SERVER to its path",
            bin.to_string_lossy()
        )),
    }
}

fn build(args: &[&str]) -> Result<(), String> {
    let status = Command::new(cargo())
        .current_dir(workspace_root())
        .args(["build", "--release"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build --release {} failed ({status})", args.join(" ")))
    }
}

fn release_bin(name: &str) -> std::path::PathBuf {
    target_dir().join("release").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// `soak --fleet`: checks Redis, builds the CLI and the soak, runs it.
fn run_fleet_soak(args: &[String]) -> Result<(), String> {
    check_known(args, KNOWN_FLEET)?;
    redis_server_installed(&redis_server())?;
    // One build for both, so their shared crates are built once, with one set of features.
    build(&["-p", "slack-rtm-cli", "-p", "slack-rtm-bench", "--bin", "slack-rtm", "--bin", "fleet-soak"])?;
    let cli = release_bin("slack-rtm");
    let bin = release_bin("fleet-soak");
    let status = Command::new(&bin)
        .arg("--cli")
        .arg(&cli)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the fleet soak reported a violated invariant ({status})"))
    }
}

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
    if args.iter().any(|a| a == "--fleet") {
        let rest: Vec<String> = args.iter().filter(|a| *a != "--fleet").cloned().collect();
        return run_fleet_soak(&rest);
    }
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
    build(&["-p", "slack-rtm-bench", "--bin", name])?;
    let bin = release_bin(name);
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
        assert!(check_known(&args(&["--seconds", "60", "--fault-ms", "900"]), KNOWN_FLEET).is_ok());
        assert!(check_known(&args(&["--sockets", "4"]), KNOWN_FLEET).is_err());
    }

    #[test]
    fn a_missing_redis_server_is_named_with_how_to_install_it() {
        let err = redis_server_installed("/nonexistent/redis-server".as_ref()).unwrap_err();
        assert!(
            err.contains("apt-get install redis-server") && err.contains("/nonexistent/redis-server"),
            "{err}"
        );
        assert!(redis_server_installed("true".as_ref()).is_ok());
        assert!(redis_server_installed("false".as_ref()).is_err());
    }
}
