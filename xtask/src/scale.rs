//! `cargo xtask bench --sessions N`: N concurrent idle sessions in one process (keepalive on),
//! the emulators in others (one per 10,000 sessions: each holds a socket per session, under
//! the open-files limit); reports RSS per session and idle CPU.

use crate::official::EmulatorProcess;
use std::path::Path;
use std::process::Command;

/// Raises this process's soft open-files limit to its hard limit (children inherit it), with
/// `prlimit` from util-linux, so thousands of sockets fit.
fn raise_fd_limit() {
    let pid = std::process::id().to_string();
    let _ = Command::new("prlimit").args(["--pid", &pid, "--nofile=unlimited:unlimited"]).status();
    let hard = Command::new("sh").args(["-c", "ulimit -Hn"]).output().ok();
    if let Some(h) = hard.and_then(|o| String::from_utf8(o.stdout).ok()) {
        let h = h.trim().to_owned();
        let _ = Command::new("prlimit").args(["--pid", &pid, &format!("--nofile={h}:{h}")]).status();
    }
}

/// Sessions per emulator process at most: each holds one socket per session, under the
/// open-files limit (20,000 here) with room for its listeners and HTTP connections.
const SESSIONS_PER_EMULATOR: u64 = 10_000;

/// Runs the scale test: `sessions` idle sessions in one process, spread over as many emulator
/// processes as their sockets need; prints and returns the table.
pub fn run(bin: &Path, sessions: u64, quick: bool, idle_ping: Option<u64>) -> Result<String, String> {
    raise_fd_limit();
    let count = sessions.div_ceil(SESSIONS_PER_EMULATOR).max(1);
    let emulators = (0..count)
        .map(|_| EmulatorProcess::start(&bin.join("slack-rtm-emulator"), &["--no-rate-limit"]))
        .collect::<Result<Vec<_>, _>>()?;
    let idle = if quick { "3" } else { "20" };
    let mut cmd = Command::new(bin.join("bench-sessions"));
    if let Some(secs) = idle_ping {
        cmd.args(["--idle-ping", &secs.to_string()]);
    }
    for emu in &emulators {
        cmd.args(["--api-url", &emu.api_url, "--token", &emu.token]);
    }
    let out = cmd
        .args(["--n", &sessions.to_string(), "--idle", idle])
        .output()
        .map_err(|e| format!("cannot run bench-sessions: {e}"))?;
    if !out.status.success() {
        return Err(format!("bench-sessions failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().rev().find(|l| l.starts_with('{')).ok_or("no result line")?;
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let t = format!(
        "| sessions | emulator processes | keepalive ping after (s) | dead after (s) | failed | RSS per session KB | idle CPU % of one core | connect all (s) |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {:.1} | {:.2} | {:.2} |\n",
        v["sessions"],
        emulators.len(),
        v["idle_ping_secs"],
        v["dead_after_secs"],
        v["failed"],
        v["rss_per_session_kb"].as_f64().unwrap_or(f64::NAN),
        v["idle_cpu_percent_of_one_core"].as_f64().unwrap_or(f64::NAN),
        v["connect_secs"].as_f64().unwrap_or(f64::NAN)
    );
    println!("{t}");
    if v["sessions"].as_u64() != Some(sessions) {
        return Err(format!("only {} of {sessions} sessions connected", v["sessions"]));
    }
    Ok(t)
}
