//! `cargo xtask conformance`: the emulator against clients nobody here wrote (issue 3).
//!
//! Builds the standalone emulator, installs the official Node `@slack/rtm-api` and Python
//! `slack-sdk` under `target/official` (see [`crate::official`]), and for each client starts a
//! fresh emulator (`--blast 1 --goodbye-after SECS`) and runs `xtask/clients/conformance.{js,py}`
//! against it. The scripts print `STEP <name> <ok|fail|known-issue> [detail]`; this prints one
//! aligned line per step per client and fails when any step failed (or a script died, hung or
//! skipped a step). `known-issue` is for a documented bug of the client itself
//! (docs/emulator.md, "Official clients"), never for an emulator shortcoming.
//!
//! ```text
//! cargo xtask conformance [--client node|python]... [--debug] [--timeout SECS] [--goodbye-after SECS]
//! ```

use crate::official::{self, EmulatorProcess, Official, OfficialClients};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const USAGE: &str = "usage: cargo xtask conformance [--client node|python]... [--debug] \
                     [--timeout SECS] [--goodbye-after SECS]";

struct Options {
    clients: Vec<Official>,
    release: bool,
    /// Each script's own overall deadline; the process is killed 15 s after it.
    timeout: Duration,
    goodbye_after: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o =
        Options { clients: Vec::new(), release: true, timeout: Duration::from_secs(30), goodbye_after: 4 };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value =
            |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--client" => {
                let v = value("--client")?;
                let c = Official::parse(&v).ok_or_else(|| format!("unknown client {v:?}\n{USAGE}"))?;
                if !o.clients.contains(&c) {
                    o.clients.push(c);
                }
            }
            "--debug" => o.release = false,
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: u64 =
                    v.parse().ok().filter(|s| *s > 0).ok_or_else(|| format!("invalid timeout {v:?}"))?;
                o.timeout = Duration::from_secs(secs);
            }
            "--goodbye-after" => {
                let v = value("--goodbye-after")?;
                o.goodbye_after =
                    v.parse().ok().filter(|s| *s > 0).ok_or_else(|| format!("invalid interval {v:?}"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if o.clients.is_empty() {
        o.clients = Official::ALL.to_vec();
    }
    Ok(o)
}

/// Runs the conformance check; `args` are the arguments after `conformance`.
pub fn run_conformance(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let bin = official::build_emulator(opts.release)?;
    let clients = official::install_official_clients(&official::target_dir())?;
    let mut failures = 0usize;
    let mut known = 0usize;
    for &client in &opts.clients {
        let (f, k) = run_client(&bin, &clients, client, &opts)?;
        failures += f;
        known += k;
    }
    if failures > 0 {
        return Err(format!("conformance: {failures} step(s) failed"));
    }
    if known > 0 {
        println!("conformance: ok ({known} known client issue(s), see docs/emulator.md)");
    } else {
        println!("conformance: ok");
    }
    Ok(())
}

/// One client against its own emulator; returns (failed steps, known issues).
fn run_client(
    bin: &Path,
    clients: &OfficialClients,
    client: Official,
    opts: &Options,
) -> Result<(usize, usize), String> {
    let goodbye = opts.goodbye_after.to_string();
    let mut emu = EmulatorProcess::start(bin, &["--blast", "1", "--goodbye-after", &goodbye])?;
    if emu.channel.is_empty() {
        return Err("the emulator did not print SLACK_CHANNEL".to_owned());
    }
    let mut cmd: Command = clients.script_command(client, "conformance");
    cmd.arg(&emu.api_url)
        .arg(&emu.token)
        .arg(&emu.channel)
        .env("CONFORMANCE_TIMEOUT_MS", opts.timeout.as_millis().to_string());
    let out = official::run_with_timeout(cmd, opts.timeout + Duration::from_secs(15));
    let emulator_died = emu.exited();
    drop(emu); // always killed, whatever the script did
    let out = out?;

    let mut failed = 0;
    let mut known = 0;
    let mut steps = 0;
    for line in out.stdout.lines() {
        let Some(rest) = line.strip_prefix("STEP ") else { continue };
        let mut parts = rest.splitn(3, ' ');
        let (step, status, detail) =
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        steps += 1;
        match status {
            "ok" => {}
            "known-issue" => known += 1,
            _ => failed += 1,
        }
        let line = format!("{:<7}{step} {} {status:<11} {detail}", client.name(), dots(step));
        println!("{}", line.trim_end());
    }
    let died = match out.status {
        None => Some(format!("killed after {:?}", opts.timeout + Duration::from_secs(15))),
        Some(s) if !s.success() && failed == 0 => Some(format!("exited with {s}")),
        _ => None,
    };
    if steps == 0 || died.is_some() {
        failed += 1;
        let why = died.unwrap_or_else(|| "reported no step".to_owned());
        println!("{:<7}script {} fail        {why}", client.name(), dots("script"));
    }
    if let Some(status) = emulator_died {
        // Not the client's fault: say so rather than leave a puzzling client failure.
        failed += 1;
        println!(
            "{:<7}emulator {} fail        it exited during the run ({status})",
            client.name(),
            dots("emulator")
        );
    }
    if failed > 0 && !out.stderr.trim().is_empty() {
        println!("{:<7}stderr: {}", client.name(), official::tail(&out.stderr, 8));
    }
    Ok((failed, known))
}

fn dots(step: &str) -> String {
    ".".repeat(24usize.saturating_sub(step.len()).max(3))
}
