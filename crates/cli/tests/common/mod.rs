//! Helpers shared by the CLI's end-to-end tests: the binary with a clean environment, pointed
//! at an emulator started in the test process (loopback only).
#![allow(dead_code, unused_imports)]

pub use serde_json::Value;
pub use slack_rtm::emulator::{CloseReason, Emulator, EmulatorConfig, Rejection, TokenFlavor};
pub use slack_rtm::types::Ts;
pub use std::process::{Output, Stdio};
pub use std::time::Duration;
pub use tokio::io::AsyncWriteExt;
pub use tokio::process::{Child, Command};

/// Longest any single CLI run may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(30);
/// How long to wait for the emulator to observe something.
pub const WAIT: Duration = Duration::from_secs(10);

pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

/// The binary with a clean environment: no token, no API URL, no proxy, no log filter.
pub fn cli(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_slack-rtm"));
    c.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    for var in [
        "SLACK_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "NO_COLOR",
        "SLACK_API_URL",
        "SLACK_RTM_LOG",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(var);
    }
    c
}

/// The binary pointed at the emulator with its bot token in `SLACK_TOKEN`.
pub fn cli_for(emu: &Emulator, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env("SLACK_TOKEN", emu.token()).env("SLACK_API_URL", emu.api_url());
    c
}

pub async fn run(mut cmd: Command) -> Output {
    tokio::time::timeout(LIMIT, cmd.output()).await.expect("the CLI finished in time").expect("the CLI runs")
}

pub async fn finish(child: Child) -> Output {
    tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("the CLI finished in time")
        .expect("the CLI runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally (not killed by a signal)")
}

/// Asserts the exit code, showing the output on failure.
pub fn assert_exit(out: &Output, want: i32) {
    assert_eq!(code(out), want, "exit code; stdout:\n{}\nstderr:\n{}", text(&out.stdout), text(&out.stderr));
}

/// The NDJSON lines of stdout.
pub fn json_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

pub fn no_secret(out: &Output, token: &str) {
    assert!(!text(&out.stdout).contains(token), "the token is on stdout");
    assert!(!text(&out.stderr).contains(token), "the token is on stderr");
}
