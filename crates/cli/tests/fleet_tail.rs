//! `slack-rtm fleet tail` end to end: the binary against a real `redis-server`, its events
//! appended with the fleet crate: `--exec` as the handler (retries, dead letters), `--count`,
//! a tail killed mid-batch, a closed stdout.

mod common;
mod fleet_support;

use common::*;
use fleet_support::*;
use slack_rtm_fleet::testing::RedisServer;
use std::collections::HashMap;

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
async fn a_tail_whose_stdout_is_closed_stops_and_acks_nothing_it_did_not_print() {
    let r = RedisServer::start().unwrap();
    append_events(&r.url(), 3).await;
    let mut c = fleet_cli(&["fleet", "tail", "--redis", &r.url(), "--app", "t", "--group", "g"]);
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    let out = tokio::time::timeout(LIMIT, child.wait_with_output()).await.unwrap().unwrap();
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("stdout is closed"), "{}", text(&out.stderr));
    // Nothing acked: all three still pending, for another tail to take over.
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(STREAM)
        .arg("g")
        .query_async(&mut redis_conn(&r.url()).await)
        .await
        .unwrap();
    assert_eq!(pending.0, 3);
}
