//! `slack-rtm fleet gateway` (with `fleet tail`) end to end: the binary, as separate
//! processes, against an emulator started in the test process and a real `redis-server` (a
//! throwaway one on a free loopback port). Every expectation is checked against what the
//! emulator or Redis recorded, never against a copy of the CLI's output.

mod common;
mod fleet_support;

use common::*;
use fleet_support::*;
use slack_rtm::emulator::SocketModeServerConfig;
use slack_rtm_fleet::testing::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_and_two_tails_print_every_event_once_and_every_envelope_is_acked() {
    let r = RedisServer::start().unwrap();
    let emu = start_sm(SocketModeServerConfig::default()).await;
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
    emu.send_slash_command(&alice, &channel, "/deploy", "staging");
    let total = |t1: &Proc, t2: &Proc| t1.lines().len() + t2.lines().len();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while total(&t1, &t2) < 9 {
        assert!(tokio::time::Instant::now() < deadline, "{}\n{}", t1.stderr(), t2.stderr());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emu.wait_for_acks(9, WAIT).await.unwrap();
    // SIGTERM (a process manager) or Ctrl-C (SIGINT): a clean stop either way.
    for (p, sig) in [(&t1, "-TERM"), (&t2, "-INT"), (&g1, "-INT"), (&g2, "-TERM")] {
        p.signal(sig);
    }
    let ((l1, e1), (l2, e2)) = (t1.stopped().await, t2.stopped().await);
    let ((_, ge1), (_, ge2)) = (g1.stopped().await, g2.stopped().await);
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
    // Two gateways of one socket each, both frozen (SIGSTOP) while the envelopes arrive: none
    // is acked within the 500 ms deadline, so Slack delivers each a second time, round robin:
    // to the other gateway's socket. Once thawed, each gateway has one delivery of every event.
    let r = RedisServer::start().unwrap();
    let sm = SocketModeServerConfig::default()
        .ack_timeout(Duration::from_millis(500))
        .retry_delays(vec![Duration::ZERO]);
    let emu = start_sm(sm).await;
    let g1 = gateway(&emu, &r.url(), &["--connections", "1"]);
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let g2 = gateway(&emu, &r.url(), &["--connections", "1"]);
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    g1.signal("-STOP");
    g2.signal("-STOP");
    for i in 0..3 {
        emu.send_api_event(serde_json::json!({"type": "app_mention", "text": format!("job {i}")}));
    }
    emu.wait_for_envelope_deliveries(6, WAIT).await.unwrap();
    g1.signal("-CONT");
    g2.signal("-CONT");
    let (code, lines, stderr) = tail(&r.url(), &["--count", "3"]).exit().await;
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
        assert_ne!(record.attempts[0].socket, record.attempts[1].socket, "to both gateways: {record:?}");
    }
    // Both deliveries of every event were acked; the second one was not appended again.
    emu.wait_for_acks(6, WAIT).await.unwrap();
    assert!(emu.envelopes().iter().all(|r| r.attempts.iter().all(|a| a.acked_at.is_some())));
    assert_eq!(xlen(&r.url(), STREAM).await, 3, "each event appended once");
    g1.signal("-TERM");
    let ((_, ge1), (_, ge2)) = (g1.stopped().await, g2.stop().await);
    let (c1, c2) = (gateway_counts(&ge1), gateway_counts(&ge2));
    assert_eq!((c1["received"], c2["received"]), (3, 3), "{ge1}\n{ge2}");
    assert_eq!(c1["appended"] + c2["appended"], 3, "{ge1}\n{ge2}");
    assert_eq!(c1["duplicates"] + c2["duplicates"], 3, "{ge1}\n{ge2}");
    assert_eq!(c1["acked"] + c2["acked"], 6, "{ge1}\n{ge2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_the_gateway_does_not_ack_and_says_so_then_recovers() {
    let mut r = RedisServer::start().unwrap();
    // Slack redelivers at once after each missed 1 s deadline, ten times.
    let sm = SocketModeServerConfig::default()
        .ack_timeout(Duration::from_secs(1))
        .retry_delays(vec![Duration::ZERO; 10]);
    let emu = start_sm(sm).await;
    let g = gateway(&emu, &r.url(), &["--connections", "1"]);
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    r.kill();
    emu.send_api_event(serde_json::json!({"type": "app_mention", "text": "while Redis is down"}));
    g.wait_for("the gateway reports the fault", |g| g.stderr().contains("not acked")).await;
    emu.wait_for_envelope_deliveries(2, WAIT).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_or_unreachable_redis_is_a_clear_error_without_its_password() {
    let emu = start_sm(SocketModeServerConfig::default()).await;
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
    // A Unix socket URL carries its password in the query.
    let unix = format!("redis+unix:///nonexistent/fleet-redis.sock?db=1&pass={PASSWORD}");
    let out = tail(&unix, &[]).exit().await;
    assert_eq!(out.0, 5, "{}", out.2);
    assert!(
        out.2.contains("Redis at redis+unix:///nonexistent/fleet-redis.sock does not answer"),
        "{}",
        out.2
    );
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
    let emu = start_sm(SocketModeServerConfig::default()).await;
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
async fn past_max_backlog_the_gateway_stops_acking_until_a_tail_catches_up() {
    let r = RedisServer::start().unwrap();
    let sm = SocketModeServerConfig::default()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_whose_session_stops_on_an_error_exits_with_its_code() {
    let r = RedisServer::start().unwrap();
    let emu = start_sm(SocketModeServerConfig::default()).await;
    // A revoked token: apps.connections.open refuses it for good.
    let revoked = emu.add_app_token(true);
    emu.revoke_app_token(&revoked);
    let mut c = fleet_cli(&["fleet", "gateway", "--redis", &r.url()]);
    c.env("SLACK_APP_TOKEN", &revoked).env("SLACK_API_URL", emu.api_url());
    let (code, _, stderr) = Proc::spawn(c).exit().await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("token_revoked"), "{stderr}");
    assert!(!stderr.contains(&revoked));
    // Socket Mode turned off while it runs.
    let g = gateway(&emu, &r.url(), &[]);
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    emu.disable_link(slack_rtm::emulator::SocketTarget::All);
    let (code, _, stderr) = g.exit().await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("link_disabled"), "{stderr}");
    assert!(stderr.contains("fleet gateway: received 0"), "the counts are printed: {stderr}");
}
