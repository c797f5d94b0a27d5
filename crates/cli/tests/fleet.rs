//! `slack-rtm fleet gateway` and `fleet tail` end to end: the binary, as separate processes,
//! against an emulator started in the test process and a real `redis-server` (a throwaway one
//! on a free loopback port). Every expectation is checked against what the emulator or Redis
//! recorded, never against a copy of the CLI's output.

mod common;

use common::*;
use slack_rtm::emulator::SocketModeConfig;
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, NewEntry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// A running `slack-rtm` process whose stdout lines and stderr are collected as they come.
struct Proc {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

fn collect<R: AsyncRead + Unpin + Send + 'static>(
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
    fn spawn(mut cmd: Command) -> Self {
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

    fn pid(&self) -> String {
        self.child.id().expect("running").to_string()
    }

    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill").args([sig, &self.pid()]).status().expect("kill runs");
        assert!(ok.success());
    }

    fn lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `f(self)` holds (at most [`LIMIT`]).
    async fn wait_for(&self, what: &str, f: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !f(self) {
            assert!(tokio::time::Instant::now() < deadline, "{what}; stderr:\n{}", self.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the exit (after a signal, `--count`, or an error): its code.
    async fn exit(mut self) -> (i32, Vec<String>, String) {
        let status = tokio::time::timeout(LIMIT, self.child.wait()).await.expect("exited in time").unwrap();
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        let code = status.code().unwrap_or_else(|| panic!("killed by a signal; stderr:\n{}", self.stderr()));
        (code, self.lines(), self.stderr())
    }

    /// SIGKILL: what it printed.
    async fn kill(mut self) -> Vec<String> {
        self.signal("-KILL");
        let status = tokio::time::timeout(LIMIT, self.child.wait()).await.expect("killed").unwrap();
        assert!(status.code().is_none(), "killed by the signal");
        for r in self.readers.drain(..) {
            let _ = r.await;
        }
        self.lines()
    }

    /// SIGTERM, then the exit; asserts exit code 0.
    async fn stop(self) -> (Vec<String>, String) {
        self.signal("-TERM");
        let (code, lines, stderr) = self.exit().await;
        assert_eq!(code, 0, "stderr:\n{stderr}");
        (lines, stderr)
    }
}

/// The binary with neither a Redis URL nor a Slack token in its environment.
fn fleet_cli(args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env_remove("SLACK_RTM_REDIS_URL").env_remove("SLACK_APP_TOKEN");
    c
}

fn gateway(emu: &Emulator, redis: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["fleet", "gateway", "--redis", redis, "--app", "t"];
    args.extend_from_slice(extra);
    let mut c = fleet_cli(&args);
    c.env("SLACK_APP_TOKEN", emu.app_token()).env("SLACK_API_URL", emu.api_url());
    Proc::spawn(c)
}

fn tail(redis: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["fleet", "tail", "--redis", redis, "--app", "t", "--group", "g"];
    args.extend_from_slice(extra);
    Proc::spawn(fleet_cli(&args))
}

async fn start_sm(sm: SocketModeConfig) -> Emulator {
    Emulator::start(EmulatorConfig::default().socket_mode(sm.ping_interval(None)))
        .await
        .expect("emulator starts")
}

fn json(lines: &[String]) -> Vec<Value> {
    lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

/// The numbers of the last counts line starting with `prefix` (`fleet gateway: ` then
/// `received 3, appended 3, …`), by name.
fn counts(stderr: &str, prefix: &str, first: &str) -> HashMap<String, u64> {
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

fn gateway_counts(stderr: &str) -> HashMap<String, u64> {
    counts(stderr, "fleet gateway: ", "received")
}

fn tail_counts(stderr: &str) -> HashMap<String, u64> {
    counts(stderr, "fleet tail: ", "handled")
}

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
}

async fn xlen(url: &str, key: &str) -> u64 {
    redis::cmd("XLEN").arg(key).query_async(&mut redis_conn(url).await).await.unwrap()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

const STREAM: &str = "slack-rtm:{t}:events";
const DEAD: &str = "slack-rtm:{t}:dead";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_and_two_tails_print_every_event_once_and_every_envelope_is_acked() {
    let r = RedisServer::start().unwrap();
    let emu = start_sm(SocketModeConfig::default()).await;
    let g1 = gateway(&emu, &r.url(), &[]);
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    let g2 = gateway(&emu, &r.url(), &["--connections", "3"]);
    emu.wait_for_open_sockets(5, WAIT).await.unwrap();
    let (t1, t2) = (tail(&r.url(), &["--consumer", "t1"]), tail(&r.url(), &["--consumer", "t2"]));
    for t in [&t1, &t2] {
        t.wait_for("the tail started", |t| t.stderr().contains("fleet tail: reading")).await;
    }
    let (channel, alice) = (emu.general_channel(), emu.second_user().user);
    for i in 0..8 {
        emu.send_api_event(serde_json::json!({"type": "app_mention", "text": format!("job {i}")}));
    }
    emu.slash_command(&alice, &channel, "/deploy", "staging");
    let total = |t1: &Proc, t2: &Proc| t1.lines().len() + t2.lines().len();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while total(&t1, &t2) < 9 {
        assert!(tokio::time::Instant::now() < deadline, "{}\n{}", t1.stderr(), t2.stderr());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emu.wait_for_acks(9, WAIT).await.unwrap();
    let ((l1, e1), (l2, e2)) = (t1.stop().await, t2.stop().await);
    let ((_, ge1), (_, ge2)) = (g1.stop().await, g2.stop().await);
    let lines = json([l1, l2].concat().as_slice());
    // Each envelope the emulator made was printed once, with its ids, type and body.
    let records = emu.envelopes();
    assert_eq!((records.len(), lines.len()), (9, 9), "{lines:?}");
    for record in &records {
        assert_eq!(record.attempts.len(), 1, "not redelivered: {record:?}");
        assert!(record.acked, "acked: {record:?}");
        let envelope_id = record.attempts[0].envelope_id.as_str();
        let printed: Vec<&Value> = lines.iter().filter(|l| l["envelope_id"] == envelope_id).collect();
        assert_eq!(printed.len(), 1, "{envelope_id} printed once: {lines:?}");
        let line = printed[0];
        assert_eq!(line["event_id"].as_str(), record.event_id.as_deref());
        assert_eq!(line["type"], record.envelope_type.as_str());
        assert_eq!(line["envelope"]["payload"], record.payload);
        assert_eq!(line["attempt"], 1);
        assert!(line["stream_id"].as_str().is_some_and(|id| id.contains('-')));
        let (received, handled) =
            (line["received_ms"].as_u64().unwrap(), line["handled_ms"].as_u64().unwrap());
        assert!(received > 0 && handled >= received, "{line}");
    }
    assert!(lines.iter().any(|l| l["event_type"] == "app_mention"));
    assert!(lines.iter().any(|l| l["type"] == "slash_commands" && l["event_id"].is_null()));
    // Every ack in time, none twice; the gateways' counts add up to the emulator's record.
    let acks = emu.acks();
    assert_eq!(acks.len(), 9);
    assert!(acks.iter().all(|a| !a.late), "{acks:?}");
    let (c1, c2) = (gateway_counts(&ge1), gateway_counts(&ge2));
    for name in ["received", "appended", "acked"] {
        assert_eq!(c1[name] + c2[name], 9, "{name}: {ge1}\n{ge2}");
    }
    assert_eq!((c1["sockets"], c2["sockets"]), (2, 3), "{ge1}\n{ge2}");
    assert_eq!(c1["duplicates"] + c2["duplicates"] + c1["redis failures"] + c2["redis failures"], 0);
    let (h1, h2) = (tail_counts(&e1), tail_counts(&e2));
    assert_eq!(h1["handled"] + h2["handled"], 9, "{e1}\n{e2}");
    // The sockets were closed by the gateways on SIGTERM.
    assert!(emu.sockets().iter().all(|s| !s.is_open()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_delivered_twice_to_the_gateways_is_printed_once() {
    // Both gateways are frozen (SIGSTOP) while the envelopes arrive, so none is acked within
    // the 500 ms deadline and Slack delivers each a second time, to another socket. Once
    // thawed, the gateways see every event twice.
    let r = RedisServer::start().unwrap();
    let sm = SocketModeConfig::default()
        .ack_timeout(Duration::from_millis(500))
        .retry_delays(vec![Duration::ZERO]);
    let emu = start_sm(sm).await;
    let g1 = gateway(&emu, &r.url(), &[]);
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    let g2 = gateway(&emu, &r.url(), &[]);
    emu.wait_for_open_sockets(4, WAIT).await.unwrap();
    g1.signal("-STOP");
    g2.signal("-STOP");
    for i in 0..3 {
        emu.send_api_event(serde_json::json!({"type": "app_mention", "text": format!("job {i}")}));
    }
    emu.wait_for_deliveries(6, WAIT).await.unwrap();
    g1.signal("-CONT");
    g2.signal("-CONT");
    let t = tail(&r.url(), &["--count", "3"]);
    let (code, lines, stderr) = t.exit().await;
    assert_eq!(code, 0, "{stderr}");
    let lines = json(&lines);
    let records = emu.envelopes();
    assert_eq!(records.len(), 3);
    let mut printed: Vec<&str> = lines.iter().map(|l| l["event_id"].as_str().unwrap()).collect();
    let mut made: Vec<&str> = records.iter().map(|r| r.event_id.as_deref().unwrap()).collect();
    printed.sort();
    made.sort();
    assert_eq!(printed, made);
    for record in &records {
        assert_eq!(record.attempts.len(), 2, "delivered twice: {record:?}");
    }
    // Both deliveries of every event were acked (the second as a duplicate, not appended).
    emu.wait_for_acks(6, WAIT).await.unwrap();
    assert_eq!(xlen(&r.url(), STREAM).await, 3, "each event appended once");
    let ((_, ge1), (_, ge2)) = (g1.stop().await, g2.stop().await);
    let (c1, c2) = (gateway_counts(&ge1), gateway_counts(&ge2));
    assert_eq!(c1["received"] + c2["received"], 6, "{ge1}\n{ge2}");
    assert_eq!(c1["appended"] + c2["appended"], 3, "{ge1}\n{ge2}");
    assert_eq!(c1["duplicates"] + c2["duplicates"], 3, "{ge1}\n{ge2}");
    assert_eq!(c1["acked"] + c2["acked"], 6, "{ge1}\n{ge2}");
    assert!(emu.envelopes().iter().all(|r| r.attempts.iter().all(|a| a.acked_at.is_some())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_the_gateway_does_not_ack_and_says_so_then_recovers() {
    let mut r = RedisServer::start().unwrap();
    // Slack redelivers at once after each missed 1 s deadline, ten times.
    let sm = SocketModeConfig::default()
        .ack_timeout(Duration::from_secs(1))
        .retry_delays(vec![Duration::ZERO; 10]);
    let emu = start_sm(sm).await;
    let g = gateway(&emu, &r.url(), &["--connections", "1"]);
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    r.kill();
    emu.send_api_event(serde_json::json!({"type": "app_mention", "text": "while Redis is down"}));
    g.wait_for("the gateway reports the fault", |g| g.stderr().contains("not acked")).await;
    emu.wait_for_deliveries(2, WAIT).await.unwrap();
    let record = &emu.envelopes()[0];
    assert!(!record.acked && emu.acks().is_empty(), "nothing acked while Redis is down: {record:?}");
    assert!(g.stderr().contains("Slack will deliver them again"), "{}", g.stderr());
    r.restart().unwrap();
    g.wait_for("the gateway appends again", |g| g.stderr().contains("appending again")).await;
    emu.wait_for_acks(1, WAIT).await.unwrap();
    let (code, lines, stderr) = tail(&r.url(), &["--count", "1"]).exit().await;
    assert_eq!(code, 0, "{stderr}");
    let lines = json(&lines);
    let record = emu.envelopes().remove(0);
    assert!(record.acked && record.attempts.len() >= 2, "{record:?}");
    assert_eq!(lines[0]["event_id"].as_str(), record.event_id.as_deref());
    // The redelivery that made it is the one printed.
    let acked = record.attempts.iter().find(|a| a.acked_at.is_some()).unwrap();
    assert_eq!(lines[0]["envelope_id"], acked.envelope_id.as_str());
    assert_eq!(lines[0]["retry_attempt"], acked.retry_attempt);
    let (_, stderr) = g.stop().await;
    let c = gateway_counts(&stderr);
    assert!(c["redis failures"] >= 1, "{stderr}");
    assert_eq!((c["appended"], c["acked"]), (1, 1), "{stderr}");
}

async fn append_events(url: &str, n: usize) {
    let s = EventStream::new(&FleetConfig::new(url, "t")).unwrap();
    for i in 0..n {
        let body = format!(
            r#"{{"envelope_id":"e{i}","type":"events_api","payload":{{"event_id":"Ev{i}","event":{{"type":"message"}}}}}}"#
        );
        let out = s.append(&NewEntry::from_envelope_text(&body, 1).unwrap()).await.unwrap();
        assert!(matches!(out, AppendOutcome::Appended { .. }), "{out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_exec_command_is_retried_then_dead_lettered() {
    let r = RedisServer::start().unwrap();
    append_events(&r.url(), 2).await;
    let t = tail(&r.url(), &["--exec", "cat >&2; exit 1", "--max-attempts", "2"]);
    let url = r.url();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while xlen(&url, DEAD).await < 2 {
        assert!(tokio::time::Instant::now() < deadline, "{}", t.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (lines, stderr) = t.stop().await;
    assert!(lines.is_empty(), "nothing handled, nothing printed: {lines:?}");
    let c = tail_counts(&stderr);
    assert_eq!((c["handled"], c["failures"], c["dead-lettered"]), (0, 4, 2), "{stderr}");
    // The command got each event's JSON line on stdin (it echoed them to stderr).
    assert!(stderr.contains(r#""event_id":"Ev0""#) && stderr.contains(r#""event_id":"Ev1""#), "{stderr}");
    let dead: Vec<(String, HashMap<String, String>)> = redis::cmd("XRANGE")
        .arg(DEAD)
        .arg("-")
        .arg("+")
        .query_async(&mut redis_conn(&url).await)
        .await
        .unwrap();
    let mut ids: Vec<&str> = dead.iter().map(|(_, f)| f["event_id"].as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["Ev0", "Ev1"]);
    for (_, f) in &dead {
        assert_eq!((f["attempts"].as_str(), f["group"].as_str()), ("2", "g"));
        assert!(f["error"].contains("exit status: 1"), "{f:?}");
    }
    // Nothing left pending: a dead letter is acked.
    let pending: (u64, redis::Value, redis::Value, redis::Value) =
        redis::cmd("XPENDING").arg(STREAM).arg("g").query_async(&mut redis_conn(&url).await).await.unwrap();
    assert_eq!(pending.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_command_that_succeeds_gets_the_line_and_its_output_stays_off_stdout() {
    let r = RedisServer::start().unwrap();
    append_events(&r.url(), 3).await;
    let dir = std::env::temp_dir().join(format!("slack-rtm-fleet-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("input");
    let cmd = format!("IFS= read -r line; printf '%s\\n' \"$line\" >> {}; echo noise", input.display());
    let (code, lines, stderr) = tail(&r.url(), &["--exec", &cmd, "--count", "3"]).exit().await;
    assert_eq!(code, 0, "{stderr}");
    // stdout: only the JSON lines, one per event, after the command succeeded.
    let lines = json(&lines);
    let got: Vec<&str> = lines.iter().map(|l| l["event_id"].as_str().unwrap()).collect();
    assert_eq!(got, ["Ev0", "Ev1", "Ev2"]);
    assert!(stderr.contains("noise"), "the command's output goes to stderr: {stderr}");
    let seen: Vec<Value> =
        std::fs::read_to_string(&input).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(seen.len(), 3);
    for (given, printed) in seen.iter().zip(&lines) {
        assert_eq!(given["stream_id"], printed["stream_id"]);
        assert_eq!(given["envelope"], printed["envelope"]);
    }
    assert_eq!(tail_counts(&stderr)["handled"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Redis password for the tests that check it is never shown.
const PASSWORD: &str = "hunter2-fleet-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_unreachable_redis_is_a_clear_error_without_its_password() {
    let emu = start_sm(SocketModeConfig::default()).await;
    let no_password = |out: &(i32, Vec<String>, String)| {
        assert!(!out.2.contains(PASSWORD) && !out.1.concat().contains(PASSWORD), "{}", out.2);
    };
    // Not a Redis URL: a usage error, before Slack is called.
    let bad = format!("http://:{PASSWORD}@127.0.0.1:1/");
    for out in [gateway(&emu, &bad, &[]).exit().await, tail(&bad, &[]).exit().await] {
        assert_eq!(out.0, 2, "{}", out.2);
        assert!(out.2.contains("bad Redis URL"), "{}", out.2);
        no_password(&out);
    }
    // Nothing answers there: exit 5 (network), naming the URL without its credentials.
    let port = closed_port();
    let down = format!("redis://fleet:{PASSWORD}@127.0.0.1:{port}/0");
    let shown = format!("redis://127.0.0.1:{port}/0");
    let out = gateway(&emu, &down, &[]).exit().await;
    assert_eq!(out.0, 5, "{}", out.2);
    assert!(out.2.contains(&format!("Redis at {shown} does not answer")), "{}", out.2);
    no_password(&out);
    assert!(emu.apps_connections_open_calls().is_empty(), "Redis is checked before Slack");
    // The same from SLACK_RTM_REDIS_URL, for a tail.
    let mut c = fleet_cli(&["fleet", "tail", "--group", "g"]);
    c.env("SLACK_RTM_REDIS_URL", &down);
    let out = Proc::spawn(c).exit().await;
    assert_eq!(out.0, 5, "{}", out.2);
    assert!(out.2.contains(&shown), "{}", out.2);
    no_password(&out);
    // No URL at all: a usage error naming the option and the variable.
    let out = Proc::spawn(fleet_cli(&["fleet", "tail", "--group", "g"])).exit().await;
    assert_eq!(out.0, 2, "{}", out.2);
    assert!(out.2.contains("--redis"), "{}", out.2);
    // Out-of-range options: usage errors, before Redis or Slack.
    for extra in [&["--connections", "11"][..], &["--connections", "0"], &["--max-backlog", "0"]] {
        let out = gateway(&emu, &down, extra).exit().await;
        assert_eq!(out.0, 2, "{extra:?}: {}", out.2);
    }
    assert!(emu.apps_connections_open_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_the_token_nor_the_redis_password_is_ever_shown() {
    let mut r = RedisServer::start().unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg(PASSWORD)
        .query_async(&mut redis_conn(&r.url()).await)
        .await
        .unwrap();
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/", r.port());
    let emu = start_sm(SocketModeConfig::default()).await;
    let token = emu.app_token();
    // The token on the command line (a warning says so), debug logging on, the URL in the
    // environment.
    let mut c = fleet_cli(&["-vv", "fleet", "gateway", "--app", "t", "--token", &token]);
    c.env("SLACK_API_URL", emu.api_url()).env("SLACK_RTM_REDIS_URL", &url);
    let g = Proc::spawn(c);
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    emu.send_api_event(serde_json::json!({"type": "app_mention", "text": "secret handling"}));
    let mut c = fleet_cli(&["-vv", "fleet", "tail", "--app", "t", "--group", "g", "--count", "1"]);
    c.env("SLACK_RTM_REDIS_URL", &url);
    let (code, tail_lines, tail_err) = Proc::spawn(c).exit().await;
    assert_eq!(code, 0, "{tail_err}");
    assert_eq!(tail_lines.len(), 1);
    // Redis goes away: the fault is reported, still without the password.
    r.kill();
    emu.send_api_event(serde_json::json!({"type": "app_mention", "text": "while Redis is down"}));
    g.wait_for("the fault is reported", |g| g.stderr().contains("not acked")).await;
    let (gw_lines, gw_err) = g.stop().await;
    assert!(gw_err.contains("--token puts the token on the command line"), "{gw_err}");
    // --help shows where the URL may come from, not its value.
    let mut c = fleet_cli(&["fleet", "tail", "--help"]);
    c.env("SLACK_RTM_REDIS_URL", &url);
    let help = Proc::spawn(c).exit().await;
    assert_eq!(help.0, 0);
    assert!(help.1.concat().contains("SLACK_RTM_REDIS_URL"));
    let everything =
        [tail_lines.concat(), tail_err, gw_lines.concat(), gw_err, help.1.concat(), help.2].concat();
    for secret in [PASSWORD, token.as_str()] {
        assert!(!everything.contains(secret), "{secret} shown in:\n{everything}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_stops_after_n_acked_events_and_a_killed_tail_loses_nothing() {
    let r = RedisServer::start().unwrap();
    let url = r.url();
    append_events(&url, 40).await;
    // --count 5: exactly five, acked (nothing left pending under its name).
    let (code, first, stderr) = tail(&url, &["--consumer", "a", "--count", "5"]).exit().await;
    assert_eq!(code, 0, "{stderr}");
    let first = json(&first);
    assert_eq!(first.len(), 5);
    assert_eq!(tail_counts(&stderr)["handled"], 5);
    let pending: (u64, redis::Value, redis::Value, redis::Value) =
        redis::cmd("XPENDING").arg(STREAM).arg("g").query_async(&mut redis_conn(&url).await).await.unwrap();
    assert_eq!(pending.0, 0, "the five were acked before the exit");
    // A tail whose command is slow is killed (SIGKILL) in the middle: every event it printed
    // was acked or is still pending, so the next tail prints everything else (and, at most,
    // the one being handled again).
    let b = tail(&url, &["--consumer", "b", "--exec", "sleep 0.05"]);
    b.wait_for("b printed some", |b| b.lines().len() >= 5).await;
    let killed = json(&b.kill().await);
    let c = tail(&url, &["--consumer", "c", "--claim-idle-ms", "200"]);
    let printed = |c: &Proc| {
        let mut ids: Vec<String> = [&first, &killed, &json(&c.lines())]
            .into_iter()
            .flatten()
            .map(|l| l["event_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    c.wait_for("every event printed by one tail or another", |c| printed(c) == 40).await;
    let (rest, stderr) = c.stop().await;
    let rest = json(&rest);
    // Printed twice: only what b printed and was killed before acking (a tail acks after each
    // batch), printed again by c as a second delivery. Nothing acked is printed again.
    for line in &rest {
        let id = &line["stream_id"];
        assert!(first.iter().all(|l| &l["stream_id"] != id), "an acked event came back: {line}");
        if killed.iter().any(|l| &l["stream_id"] == id) {
            assert!(line["attempt"].as_u64().unwrap() >= 2, "{line}");
        }
    }
    assert!(tail_counts(&stderr)["taken over"] >= 1, "b's unacked events were taken over: {stderr}");
    let pending: (u64, redis::Value, redis::Value, redis::Value) =
        redis::cmd("XPENDING").arg(STREAM).arg("g").query_async(&mut redis_conn(&url).await).await.unwrap();
    assert_eq!(pending.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_backlog_the_gateway_stops_acking_until_a_tail_catches_up() {
    let r = RedisServer::start().unwrap();
    let sm = SocketModeConfig::default()
        .ack_timeout(Duration::from_secs(1))
        .retry_delays(vec![Duration::ZERO; 10]);
    let emu = start_sm(sm).await;
    let g = gateway(&emu, &r.url(), &["--connections", "1", "--max-backlog", "2"]);
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    for i in 0..3 {
        emu.send_api_event(serde_json::json!({"type": "app_mention", "text": format!("job {i}")}));
    }
    g.wait_for("the refusal is reported", |g| g.stderr().contains("the stream is full")).await;
    emu.wait_for_acks(2, WAIT).await.unwrap();
    assert_eq!(xlen(&r.url(), STREAM).await, 2);
    assert_eq!(emu.envelopes().iter().filter(|r| !r.acked).count(), 1, "the third is not acked");
    // A tail handles the two; the next redelivery of the third finds room.
    let (code, lines, stderr) = tail(&r.url(), &["--count", "3"]).exit().await;
    assert_eq!(code, 0, "{stderr}");
    let mut printed: Vec<String> =
        json(&lines).iter().map(|l| l["event_id"].as_str().unwrap().to_owned()).collect();
    let mut made: Vec<String> = emu.envelopes().iter().map(|r| r.event_id.clone().unwrap()).collect();
    printed.sort();
    made.sort();
    assert_eq!(printed, made);
    assert!(emu.envelopes().iter().all(|r| r.acked));
    let (_, stderr) = g.stop().await;
    let c = gateway_counts(&stderr);
    assert!(c["refused"] >= 1, "{stderr}");
    assert_eq!(c["appended"], 3, "{stderr}");
}
