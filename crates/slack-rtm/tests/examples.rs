//! Runs every example without `SLACK_TOKEN` (each then starts a local emulator, plays a short
//! script, checks the emulator's record itself, and exits) and checks what it printed.
//!
//! `cargo test -p slack-rtm` builds the examples next to this test binary
//! (`target/<profile>/examples/`).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Longest an example may run.
const LIMIT: Duration = Duration::from_secs(30);

fn example_path(name: &str) -> PathBuf {
    // target/<profile>/deps/examples-<hash> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; run `cargo test -p slack-rtm` (it builds the examples)",
        path.display()
    );
    path
}

/// Runs an example with no token in the environment and returns its output once it exited 0.
fn run(name: &str) -> (String, String) {
    let mut cmd = Command::new(example_path(name));
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for var in [
        "SLACK_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_API_URL",
        "SLACK_SIGNING_SECRET",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    let child = cmd.spawn().expect("the example starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out: Output = match rx.recv_timeout(LIMIT) {
        Ok(r) => r.expect("the example ran"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("{name} did not exit within {LIMIT:?}");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{name} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    // The emulator's tokens never reach the output.
    for token_prefix in ["xoxb-", "xoxp-", "xapp-"] {
        assert!(!stdout.contains(token_prefix) && !stderr.contains(token_prefix), "{name} printed a token");
    }
    (stdout, stderr)
}

/// The lines starting with `prefix`, without it.
fn lines_after<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter_map(|l| l.strip_prefix(prefix)).collect()
}

/// A Slack timestamp: digits, a dot, six digits.
fn is_ts(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && b.len() == 6 && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
}

#[test]
fn echo_bot() {
    let (out, _) = run("echo_bot");
    let acked = lines_after(&out, "acked ");
    assert_eq!(acked.len(), 2, "{out}");
    assert!(acked.iter().all(|t| is_ts(t)) && acked[0] != acked[1], "{out}");
    assert!(out.contains("echo_bot: 2 echoes acknowledged and recorded by the emulator"), "{out}");
}

#[test]
fn presence_watcher() {
    let (out, _) = run("presence_watcher");
    let changes = lines_after(&out, "presence ");
    // The initial report (2 users) then the 4 scripted changes: away, away, active, active.
    assert_eq!(changes.len(), 6, "{out}");
    let states: Vec<&str> = changes[2..].iter().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(states, ["away", "away", "active", "active"], "{out}");
    assert!(out.contains("presence_watcher: saw all 4 presence changes, in order"), "{out}");
}

#[test]
fn thread_replies() {
    let (out, _) = run("thread_replies");
    let replies = lines_after(&out, "replied in thread ");
    assert_eq!(replies.len(), 2, "{out}");
    for r in &replies {
        let (parent, reply) = r.split_once(" with ").expect("parent with reply");
        assert!(is_ts(parent) && is_ts(reply) && parent != reply, "{r}");
    }
    assert!(out.contains("thread_replies: 2 answers, each in its question's thread"), "{out}");
}

#[test]
fn store_events() {
    let (out, _) = run("store_events");
    assert!(out.contains("and read them back identical (0 skipped)"), "{out}");
    let stored: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("store_events: stored "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // The per-type counts add up to the total, unknown types included.
    let by_type: usize = out
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        .sum();
    assert_eq!(by_type, stored, "{out}");
    assert!(out.contains("a_type_from_the_future"), "unknown events are stored too: {out}");
}

#[test]
fn sans_io() {
    let (out, _) = run("sans_io");
    let acked = lines_after(&out, "acked ");
    assert_eq!(acked.len(), 2, "{out}");
    assert!(acked.iter().all(|t| is_ts(t)) && acked[0] != acked[1], "{out}");
    assert!(out.contains("connected on conn#1\n"), "{out}");
    assert!(out.contains("(reconnect)"), "{out}");
    assert!(
        out.contains("sans_io: 2 messages acked across a goodbye reconnect, matching the emulator's record"),
        "{out}"
    );
}

#[test]
fn custom_transport() {
    let (out, _) = run("custom_transport");
    for n in [1, 2] {
        assert!(out.contains(&format!("transport call {n}: GET /api/rtm.connect -> 200 OK")), "{out}");
    }
    assert!(out.contains("custom_transport: 2 rtm.connect calls went through the custom transport"), "{out}");
}

#[test]
fn blocks_in_thread() {
    let (out, _) = run("blocks_in_thread");
    let answers = lines_after(&out, "answered ");
    assert_eq!(answers.len(), 2, "{out}");
    for a in &answers {
        let (question, reply) = a.split_once(" with blocks in thread: ").expect("question and reply");
        assert!(is_ts(question) && is_ts(reply) && question != reply, "{a}");
    }
    assert!(out.contains("blocks_in_thread: 2 answers with blocks, each in its question's thread"), "{out}");
}

#[test]
fn slash_modal() {
    let (out, err) = run("slash_modal");
    let opened = lines_after(&out, "opened ");
    assert_eq!(opened.len(), 2, "{out}\n{err}");
    let summaries: Vec<&str> = opened.iter().filter_map(|l| l.split_once(" for ").map(|(_, s)| s)).collect();
    assert_eq!(summaries, ["printer on fire", "printer still on fire"], "{out}");
    for l in &opened {
        assert!(l.starts_with('V'), "a view id: {l}");
    }
    assert!(out.contains("checked: 2 modals opened with their commands' triggers"), "{out}");
    assert!(!out.contains("xapp-") && !err.contains("xapp-"), "no app token printed");
}

#[test]
fn ai_agent() {
    let (out, err) = run("ai_agent");
    assert_eq!(lines_after(&out, "prompts "), ["2"], "{out}\n{err}");
    assert_eq!(lines_after(&out, "status "), ["is thinking…"], "{out}");
    let replied = lines_after(&out, "replied ");
    assert_eq!(replied.len(), 1, "{out}");
    // Coalesced: a handful of calls for 120 words, not one per word.
    let calls: u32 =
        replied[0].split(", ").nth(1).and_then(|c| c.strip_suffix(" calls")).unwrap().parse().unwrap();
    assert!(calls < 20, "{out}");
    assert!(out.contains("whole and in order, after the status"), "{out}");
}

/// The contract example: its scene checks each of the 8 behaviours in the emulator's records
/// (acks, `chat.postMessage` calls, the replaced message, the opened view, the options) and
/// fails otherwise; here, each is reported and in order.
#[test]
fn app() {
    let (out, err) = run("app");
    let steps: Vec<&str> = out.lines().filter_map(|l| l.split_once(". ").map(|(n, _)| n)).collect();
    assert_eq!(steps, ["8", "1", "2", "3", "7", "4", "5", "6"], "{out}\n{err}");
    assert!(out.contains("1. /echo hello there -> ack {\"text\":\"hello there\"}"), "{out}");
    assert!(
        out.contains("7. typed E in pick -> options [\"apple\", \"cherry\", \"date\", \"elderberry\"]"),
        "{out}"
    );
    assert!(
        out.contains("app: all 8 behaviours checked in the emulator's records (listeners finished: true)"),
        "{out}"
    );
    assert!(err.contains("asked to panic"), "the panicking listener really panicked: {err}");
}

/// The app's tower service mounted in a plain hyper router: the emulator's handshake and a
/// slash command go through it, and the router's own route still answers.
#[test]
fn http_mount() {
    let (out, _) = run("http_mount");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.starts_with("http://127.0.0.1:") && first.ends_with("/slack/events"), "{out}");
    assert!(!first.contains(":0/"), "the real port is printed: {out}");
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "request URL verified by the emulator",
            "/echo answered: echo: mounted",
            "GET /healthz: HTTP/1.1 200 OK"
        ],
        "{out}"
    );
}
