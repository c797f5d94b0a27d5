//! `cargo xtask conformance`: the emulator against clients nobody here wrote (issues 3 and 12).
//!
//! Builds the standalone emulator, installs the official Node `@slack/rtm-api` and
//! `@slack/socket-mode` and Python `slack-sdk` under `target/official` (see
//! [`crate::official`]), and runs two suites per client, each against a fresh emulator:
//!
//! - `rtm`: `--blast 1 --goodbye-after SECS` and `xtask/clients/conformance.{js,py}`;
//! - `socket-mode`: `--socket-mode-script --ack-timeout 1 --retry-now` and
//!   `xtask/clients/conformance_socket_mode.{js,py}`; the emulator's own verdicts
//!   (`SOCKET_MODE_STEP` lines: every envelope acked, the redelivery acked, the refreshed
//!   client back) are checked too, as `emulator:<step>`.
//!
//! The scripts print `STEP <name> <ok|fail|known-issue> [detail]`; this prints one aligned line
//! per step per client and fails when any step failed (or a script died, hung or skipped a
//! step). `known-issue` is for a documented bug of the client itself (docs/emulator.md,
//! "Official clients"), never for an emulator shortcoming.
//!
//! ```text
//! cargo xtask conformance [--client node|python]... [--suite rtm|socket-mode]... [--debug]
//!                         [--timeout SECS] [--goodbye-after SECS]
//! ```

use crate::official::{self, EmulatorProcess, Official, OfficialClients};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const USAGE: &str = "usage: cargo xtask conformance [--client node|python]... [--suite rtm|socket-mode]... \
                     [--debug] [--timeout SECS] [--goodbye-after SECS]";

/// What is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suite {
    /// The RTM clients (`@slack/rtm-api`, `slack_sdk.rtm_v2`).
    Rtm,
    /// The Socket Mode clients (`@slack/socket-mode`, `slack_sdk.socket_mode.builtin`).
    SocketMode,
}

impl Suite {
    fn parse(s: &str) -> Option<Suite> {
        match s {
            "rtm" => Some(Suite::Rtm),
            "socket-mode" | "sm" => Some(Suite::SocketMode),
            _ => None,
        }
    }

    /// The label of a client's lines in this suite.
    fn label(self, client: Official) -> String {
        match self {
            Suite::Rtm => client.name().to_owned(),
            Suite::SocketMode => format!("{}-sm", client.name()),
        }
    }

    /// Each script's own overall deadline unless `--timeout` is given.
    fn default_timeout(self) -> Duration {
        match self {
            Suite::Rtm => Duration::from_secs(30),
            Suite::SocketMode => Duration::from_secs(60),
        }
    }
}

struct Options {
    clients: Vec<Official>,
    suites: Vec<Suite>,
    release: bool,
    /// Each script's own overall deadline; the process is killed 15 s after it.
    timeout: Option<Duration>,
    goodbye_after: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o =
        Options { clients: Vec::new(), suites: Vec::new(), release: true, timeout: None, goodbye_after: 4 };
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
            "--suite" => {
                let v = value("--suite")?;
                let suite = Suite::parse(&v).ok_or_else(|| format!("unknown suite {v:?}\n{USAGE}"))?;
                if !o.suites.contains(&suite) {
                    o.suites.push(suite);
                }
            }
            "--debug" => o.release = false,
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: u64 =
                    v.parse().ok().filter(|s| *s > 0).ok_or_else(|| format!("invalid timeout {v:?}"))?;
                o.timeout = Some(Duration::from_secs(secs));
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
    if o.suites.is_empty() {
        o.suites = vec![Suite::Rtm, Suite::SocketMode];
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
    for &suite in &opts.suites {
        for &client in &opts.clients {
            let (f, k) = run_client(&bin, &clients, client, suite, &opts)?;
            failures += f;
            known += k;
        }
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
    suite: Suite,
    opts: &Options,
) -> Result<(usize, usize), String> {
    let label = suite.label(client);
    let timeout = opts.timeout.unwrap_or_else(|| suite.default_timeout());
    let goodbye = opts.goodbye_after.to_string();
    let (args, stem): (Vec<&str>, &str) = match suite {
        Suite::Rtm => (vec!["--blast", "1", "--goodbye-after", &goodbye], "conformance"),
        Suite::SocketMode => {
            (vec!["--socket-mode-script", "--ack-timeout", "1", "--retry-now"], "conformance_socket_mode")
        }
    };
    let mut emu = EmulatorProcess::start(bin, &args)?;
    let mut cmd: Command = clients.script_command(client, stem);
    match suite {
        Suite::Rtm => {
            if emu.channel.is_empty() {
                return Err("the emulator did not print SLACK_CHANNEL".to_owned());
            }
            cmd.arg(&emu.api_url).arg(&emu.token).arg(&emu.channel);
        }
        Suite::SocketMode => {
            if emu.app_token.is_empty() {
                return Err("the emulator did not print SLACK_APP_TOKEN".to_owned());
            }
            cmd.arg(&emu.api_url).arg(&emu.app_token);
        }
    }
    cmd.env("CONFORMANCE_TIMEOUT_MS", timeout.as_millis().to_string());
    let out = official::run_with_timeout(cmd, timeout + Duration::from_secs(15));
    // The emulator's own verdicts (Socket Mode): what it recorded of the client's acks.
    let emu_lines = match suite {
        Suite::SocketMode => emu.lines(Some("SOCKET_MODE_RECORD"), Duration::from_secs(5)),
        Suite::Rtm => Vec::new(),
    };
    let emulator_died = emu.exited();
    drop(emu); // always killed, whatever the script did
    let out = out?;

    let mut failed = 0;
    let mut known = 0;
    let mut steps = 0;
    let script_steps = out.stdout.lines().filter_map(|l| l.strip_prefix("STEP ")).map(|s| (String::new(), s));
    let emu_steps = emu_lines
        .iter()
        .filter_map(|l| l.strip_prefix("SOCKET_MODE_STEP "))
        .map(|s| ("emulator:".to_owned(), s));
    for (prefix, rest) in script_steps.chain(emu_steps) {
        let mut parts = rest.splitn(3, ' ');
        let (step, status, detail) =
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let step = format!("{prefix}{step}");
        steps += 1;
        match status {
            "ok" => {}
            "known-issue" => known += 1,
            _ => failed += 1,
        }
        let line = format!("{label:<10}{step} {} {status:<11} {detail}", dots(&step));
        println!("{}", line.trim_end());
    }
    if suite == Suite::SocketMode && !emu_lines.iter().any(|l| l.starts_with("SOCKET_MODE_RECORD")) {
        failed += 1;
        println!(
            "{label:<10}emulator:record {} fail        the emulator printed no record",
            dots("emulator:record")
        );
    }
    let died = match out.status {
        None => Some(format!("killed after {:?}", timeout + Duration::from_secs(15))),
        Some(s) if !s.success() && failed == 0 => Some(format!("exited with {s}")),
        _ => None,
    };
    if steps == 0 || died.is_some() {
        failed += 1;
        let why = died.unwrap_or_else(|| "reported no step".to_owned());
        println!("{label:<10}script {} fail        {why}", dots("script"));
    }
    if let Some(status) = emulator_died {
        // Not the client's fault: say so rather than leave a puzzling client failure.
        failed += 1;
        println!("{label:<10}emulator {} fail        it exited during the run ({status})", dots("emulator"));
    }
    if failed > 0 && !out.stderr.trim().is_empty() {
        println!("{label:<10}stderr: {}", official::tail(&out.stderr, 8));
    }
    Ok((failed, known))
}

fn dots(step: &str) -> String {
    ".".repeat(34usize.saturating_sub(step.len()).max(3))
}
