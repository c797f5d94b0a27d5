//! What the fleet tests share: `slack-rtm` processes whose output is collected as it comes,
//! the gateway and tail command lines, the counts lines, and Redis helpers.
#![allow(dead_code)]

use crate::common::*;
use slack_rtm::emulator::SocketModeServerConfig;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, NewEntry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// A running `slack-rtm` process whose stdout lines and stderr are collected as they come.
pub struct Proc {
    pub child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    pub readers: Vec<tokio::task::JoinHandle<()>>,
}

pub fn collect<R: AsyncRead + Unpin + Send + 'static>(
    r: R,
    push: impl Fn(String) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            push(l);
        }
    })
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("the CLI starts");
        let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(String::new())));
        let (o, e) = (stdout.clone(), stderr.clone());
        let readers = vec![
            collect(child.stdout.take().unwrap(), move |l| o.lock().unwrap().push(l)),
            collect(child.stderr.take().unwrap(), move |l| {
                let mut e = e.lock().unwrap();
                e.push_str(&l);
                e.push('\n');
            }),
        ];
        Self { child, stdout, stderr, readers }
    }

    pub fn pid(&self) -> String {
        self.child.id().expect("running").to_string()
    }

    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill").args([sig, &self.pid()]).status().expect("kill runs");
        assert!(ok.success());
    }

    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `f(self)` holds (at most [`LIMIT`]).
    pub async fn wait_for(&self, what: &str, f: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !f(self) {
            assert!(tokio::time::Instant::now() < deadline, "{what}; stderr:\n{}", self.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the exit (after a signal, `--count`, or an error): its code.
    pub async fn exit(mut self) -> (i32, Vec<String>, String) {
        let status = tokio::time::timeout(LIMIT, self.child.wait()).await.expect("exited in time").unwrap();
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        let code = status.code().unwrap_or_else(|| panic!("killed by a signal; stderr:\n{}", self.stderr()));
        (code, self.lines(), self.stderr())
    }

    /// SIGKILL: what it printed.
    pub async fn kill(mut self) -> Vec<String> {
        self.signal("-KILL");
        let status = tokio::time::timeout(LIMIT, self.child.wait()).await.expect("killed").unwrap();
        assert!(status.code().is_none(), "killed by the signal");
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        self.lines()
    }

    /// SIGTERM, then the exit; asserts exit code 0.
    pub async fn stop(self) -> (Vec<String>, String) {
        self.stop_with("-TERM").await
    }

    /// A signal (`-TERM`, `-INT`), then the exit; asserts exit code 0.
    pub async fn stop_with(self, sig: &str) -> (Vec<String>, String) {
        self.signal(sig);
        self.stopped().await
    }

    /// The exit after a stop signal was sent; asserts exit code 0.
    pub async fn stopped(self) -> (Vec<String>, String) {
        let (code, lines, stderr) = self.exit().await;
        assert_eq!(code, 0, "stderr:\n{stderr}");
        (lines, stderr)
    }
}

/// The binary with neither a Redis URL nor a Slack token in its environment.
pub fn fleet_cli(args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env_remove("SLACK_RTM_REDIS_URL").env_remove("SLACK_APP_TOKEN");
    c
}

pub fn gateway(emu: &Emulator, redis: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["fleet", "gateway", "--redis", redis, "--app", "t"];
    args.extend_from_slice(extra);
    let mut c = fleet_cli(&args);
    c.env("SLACK_APP_TOKEN", emu.app_token()).env("SLACK_API_URL", emu.api_url());
    Proc::spawn(c)
}

pub fn tail(redis: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["fleet", "tail", "--redis", redis, "--app", "t", "--group", "g"];
    args.extend_from_slice(extra);
    Proc::spawn(fleet_cli(&args))
}

pub async fn start_sm(sm: SocketModeServerConfig) -> Emulator {
    slack_rtm_test_support::socket_mode_emulator(EmulatorConfig::default(), sm).await
}

pub fn json(lines: &[String]) -> Vec<Value> {
    lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// The numbers of the last counts line starting with `prefix` (`fleet gateway: ` then
/// `received 3, appended 3, …`), by name.
pub fn counts(stderr: &str, prefix: &str, first: &str) -> HashMap<String, u64> {
    let start = format!("{prefix}{first} ");
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no counts line {start:?}:\n{stderr}"));
    line[prefix.len()..]
        .split(", ")
        .map(|part| {
            let part = part.trim_end_matches(" (full)");
            let (name, n) = part.rsplit_once(' ').expect("a name and a number");
            (name.to_owned(), n.parse().unwrap_or_else(|_| panic!("{part:?} in {line}")))
        })
        .collect()
}

pub fn gateway_counts(stderr: &str) -> HashMap<String, u64> {
    counts(stderr, "fleet gateway: ", "received")
}

pub fn tail_counts(stderr: &str) -> HashMap<String, u64> {
    counts(stderr, "fleet tail: ", "handled")
}

pub async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

pub async fn xlen(url: &str, key: &str) -> u64 {
    redis::cmd("XLEN").arg(key).query_async(&mut redis_conn(url).await).await.unwrap()
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub const STREAM: &str = "slack-rtm:{t}:events";
pub const DEAD: &str = "slack-rtm:{t}:dead";

pub async fn append_events(url: &str, n: usize) {
    let s = EventStream::new(&FleetConfig::new(url, "t")).unwrap();
    for i in 0..n {
        let body = format!(
            r#"{{"envelope_id":"e{i}","type":"events_api","payload":{{"event_id":"Ev{i}","event":{{"type":"message"}}}}}}"#
        );
        let out = s.append(&NewEntry::from_envelope_text(&body, 1).unwrap()).await.unwrap();
        assert!(matches!(out, AppendOutcome::Appended { .. }), "{out:?}");
    }
}

/// A Redis password for the tests that check it is never shown.
pub const PASSWORD: &str = "hunter2-fleet-secret";
