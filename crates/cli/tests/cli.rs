//! End-to-end tests of the `slack-rtm` binary against an emulator started in the test process
//! (loopback only). Every expectation is checked against what the emulator recorded or reported
//! on its own, never against a copy of the CLI's output.

mod common;

use common::*;

// ---- connect ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_prints_the_team_and_self_the_emulator_reports() {
    let emu = emulator().await;
    let out = run(cli_for(&emu, &["connect"])).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let team = emu.team();
    let bot = emu.users().into_iter().find(|u| u.id == emu.bot_user()).expect("bot user");
    for needle in
        [team.name.as_str(), team.id.as_str(), team.domain.as_str(), bot.name.as_str(), bot.id.as_str()]
    {
        assert!(stdout.contains(needle), "{needle:?} missing from:\n{stdout}");
    }
    let calls = emu.rtm_connect_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].ok() && calls[0].bearer && !calls[0].token_in_url);
    assert!(stdout.contains("req id"), "the x-slack-req-id is shown:\n{stdout}");
    no_secret(&out, &emu.token());

    let out = run(cli_for(&emu, &["connect", "--json"])).await;
    assert_exit(&out, 0);
    let v = &json_lines(&out)[0];
    assert_eq!(v["self"]["id"], bot.id.as_str());
    assert_eq!(v["self"]["name"], bot.name.as_str());
    assert_eq!(v["team"]["id"], team.id.as_str());
    assert_eq!(v["team"]["domain"], team.domain.as_str());
    let url = v["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("ws://{}/", emu.local_addr())), "{url}");
    assert!(v["expires_in_secs"].as_u64().is_some_and(|s| s <= 30));
    assert_eq!(emu.rtm_connect_call_count(), 2);
    assert_eq!(emu.tokens_seen_in_urls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_exit_code_3_for_auth_failures() {
    let emu = emulator().await;
    let mut cmd = cli_for(&emu, &["connect"]);
    cmd.env("SLACK_TOKEN", "xoxb-0000-not-a-token");
    let out = run(cmd).await;
    assert_exit(&out, 3);
    assert_eq!(emu.rtm_connect_calls()[0].error.as_deref(), Some("invalid_auth"));
    assert!(text(&out.stderr).contains("invalid_auth"), "{}", text(&out.stderr));
    no_secret(&out, "xoxb-0000-not-a-token");

    // A token of a granular-permission app: RTM refuses it.
    let granular = emu.add_token(&emu.bot_user(), TokenFlavor::Granular).expect("token");
    let mut cmd = cli_for(&emu, &["connect"]);
    cmd.env("SLACK_TOKEN", &granular);
    let out = run(cmd).await;
    assert_exit(&out, 3);
    assert_eq!(emu.rtm_connect_calls()[1].error.as_deref(), Some("not_allowed_token_type"));
    no_secret(&out, &granular);

    // `tail` stops on the same fatal error instead of retrying.
    let mut cmd = cli_for(&emu, &["tail"]);
    cmd.env("SLACK_TOKEN", "xoxb-0000-not-a-token");
    let out = run(cmd).await;
    assert_exit(&out, 3);
    assert_eq!(emu.rtm_connect_call_count(), 3, "a fatal error is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_exit_code_4_when_rate_limited() {
    let emu = emulator().await;
    emu.reject_next_connects(1, Rejection::RateLimited { retry_after: Duration::from_secs(7) });
    let out = run(cli_for(&emu, &["connect"])).await;
    assert_exit(&out, 4);
    let call = &emu.rtm_connect_calls()[0];
    assert_eq!(call.status, 429);
    assert!(
        text(&out.stderr).contains("retry after 7s"),
        "the Retry-After is reported: {}",
        text(&out.stderr)
    );
    // The next call succeeds: the rejection was one-off.
    assert_exit(&run(cli_for(&emu, &["connect"])).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_exit_code_5_for_network_failures() {
    // Nothing listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut cmd = cli(&["connect", "--api-url", &format!("http://127.0.0.1:{port}/api/")]);
    cmd.env("SLACK_TOKEN", "xoxb-1-2-abc");
    let out = run(cmd).await;
    assert_exit(&out, 5);

    let emu = emulator().await;
    for (i, rejection) in
        [Rejection::Status(503), Rejection::Html(502), Rejection::Html(200)].into_iter().enumerate()
    {
        emu.reject_next_connects(1, rejection.clone());
        let out = run(cli_for(&emu, &["connect"])).await;
        assert_exit(&out, 5);
        let calls = emu.rtm_connect_calls();
        assert_eq!(calls.len(), i + 1, "{rejection:?}: one call, no retry");
        assert!(!calls[i].ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_is_a_usage_error_and_token_flag_warns() {
    let emu = emulator().await;
    let out = run(cli(&["connect", "--api-url", &emu.api_url()])).await;
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SLACK_BOT_TOKEN"), "{}", text(&out.stderr));
    assert_eq!(emu.rtm_connect_call_count(), 0, "nothing was called without a token");

    let token = emu.token();
    let out = run(cli(&["connect", "--api-url", &emu.api_url(), "--token", &token])).await;
    assert_exit(&out, 0);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--token") && stderr.contains("ps"), "no warning: {stderr}");
    assert!(!stderr.contains(&token), "the warning must not repeat the token");
    assert!(text(&out.stdout).contains(emu.bot_user().as_str()));

    // --token-file: first line, no warning.
    let path = std::env::temp_dir().join(format!("slack-rtm-cli-test-{}.token", std::process::id()));
    std::fs::write(&path, format!("{token}\n")).expect("write token file");
    let out =
        run(cli(&["connect", "--api-url", &emu.api_url(), "--token-file", path.to_str().expect("utf-8")]))
            .await;
    let _ = std::fs::remove_file(&path);
    assert_exit(&out, 0);
    assert!(!text(&out.stderr).contains("--token"), "{}", text(&out.stderr));
    assert_eq!(emu.rtm_connect_calls().iter().filter(|c| c.ok()).count(), 2);
}

// ---- tail ----

/// Starts `tail` and waits until its socket is admitted by the emulator.
async fn start_tail(emu: &Emulator, args: &[&str]) -> Child {
    let before = emu.connection_count();
    let child = cli_for(emu, args).spawn().expect("spawn tail");
    emu.wait_for_connections(before + 1, WAIT).await.expect("tail connects");
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_json_prints_the_events_the_emulator_sent() {
    let emu = emulator().await;
    let alice = emu.second_user();
    let general = emu.general_channel();
    let child = start_tail(&emu, &["tail", "--json", "--count", "3"]).await;
    let texts = ["first <b>", "second & more", "third https://example.com"];
    let sent: Vec<Ts> =
        texts.iter().map(|t| emu.post_message(&general, &alice.user, t).expect("posted")).collect();
    let out = finish(child).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "exactly --count events: {}", text(&out.stdout));
    let record = emu.posted_messages();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["type"], "message");
        assert_eq!(line["ts"], sent[i].as_str());
        assert_eq!(line["channel"], general.as_str());
        assert_eq!(line["user"], alice.user.as_str());
        // As the emulator posted it (link-formatted and escaped).
        assert_eq!(line["text"], record[i].formatted_text.as_str());
    }
    // --count ends with a clean close.
    emu.wait_for_open_connections(0, WAIT).await.expect("closed");
    let conns = emu.connections();
    assert_eq!(conns[0].close_reason, Some(CloseReason::ClientClosed(Some(1000))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_filters_by_type_and_channel() {
    let emu = emulator().await;
    let random = emu.add_channel("random");
    let alice = emu.second_user();
    let general = emu.general_channel();
    let child = start_tail(
        &emu,
        &["tail", "--json", "--type", "message", "--channel", random.as_str(), "--count", "2"],
    )
    .await;
    emu.post_message(&general, &alice.user, "wrong channel").expect("posted");
    let typing = format!(r#"{{"type":"user_typing","channel":"{random}","user":"{}"}}"#, alice.user);
    assert_eq!(emu.send_event_text(slack_rtm::emulator::Target::All, typing), 1);
    let reaction = format!(
        r#"{{"type":"reaction_added","user":"{}","reaction":"+1","item":{{"type":"message","channel":"{random}","ts":"1.000001"}},"event_ts":"1.000002"}}"#,
        alice.user
    );
    assert_eq!(emu.send_event_text(slack_rtm::emulator::Target::All, reaction), 1);
    let a = emu.post_message(&random, &alice.user, "right one").expect("posted");
    let b = emu.post_message(&random, &alice.user, "right two").expect("posted");
    let out = finish(child).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["type"].as_str().unwrap_or(""),
                l["channel"].as_str().unwrap_or(""),
                l["ts"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, vec![("message", random.as_str(), a.as_str()), ("message", random.as_str(), b.as_str())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_human_output() {
    let emu = emulator().await;
    let alice = emu.second_user();
    let general = emu.general_channel();
    let child = start_tail(&emu, &["tail", "--count", "1"]).await;
    emu.post_message(&general, &alice.user, "hello humans").expect("posted");
    let out = finish(child).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let line = stdout.lines().next().expect("one line");
    assert!(!stdout.contains('\x1b'), "no colour when stdout is not a terminal: {stdout:?}");
    for needle in [general.as_str(), alice.user.as_str(), "hello humans"] {
        assert!(line.contains(needle), "{needle:?} missing from {line:?}");
    }
    let stderr = text(&out.stderr);
    assert!(stderr.contains("connected as"), "lifecycle goes to stderr: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_ctrl_c_closes_cleanly() {
    let emu = emulator().await;
    let mut child = start_tail(&emu, &["tail", "--json"]).await;
    // Admitted is not yet connected: a Ctrl-C before `hello` is "interrupted while connecting".
    // Wait until tail prints an event, so the session is surely up.
    let alice = emu.second_user();
    emu.post_message(&emu.general_channel(), &alice.user, "before ctrl-c").expect("posted");
    use tokio::io::AsyncBufReadExt;
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(WAIT, stdout.next_line()).await.expect("an event in time");
    assert!(first.expect("reads").is_some_and(|l| l.contains("before ctrl-c")));
    let pid = child.id().expect("running");
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let out = finish(child).await;
    assert_exit(&out, 0);
    emu.wait_for_open_connections(0, WAIT).await.expect("closed");
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::ClientClosed(Some(1000))));
    assert!(text(&out.stderr).contains("shutting down"), "{}", text(&out.stderr));
}

// ---- send ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_text_prints_the_ack_ts() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let out =
        run(cli_for(&emu, &["send", "--channel", general.as_str(), "--text", "hello from the CLI"])).await;
    assert_exit(&out, 0);
    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 1);
    assert_eq!(text(&out.stdout).trim(), posted[0].ts.as_str());
    assert_eq!(posted[0].text, "hello from the CLI");
    assert_eq!(posted[0].user, emu.bot_user());
    assert_eq!(posted[0].channel, general);

    // A reply in its thread.
    let parent = posted[0].ts.clone();
    let out = run(cli_for(
        &emu,
        &["send", "--channel", general.as_str(), "--text", "a reply", "--thread", parent.as_str()],
    ))
    .await;
    assert_exit(&out, 0);
    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 2);
    assert_eq!(text(&out.stdout).trim(), posted[1].ts.as_str());
    assert_eq!(posted[1].thread_ts.as_ref(), Some(&parent));

    // An unknown channel: refused by the server, exit 6, nothing printed on stdout.
    let out = run(cli_for(&emu, &["send", "--channel", "C0NOTHERE", "--text", "lost"])).await;
    assert_exit(&out, 6);
    assert!(text(&out.stdout).trim().is_empty());
    assert_eq!(emu.posted_messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stdin_posts_each_line_once_in_order() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let lines: Vec<String> = (1..=8).map(|i| format!("line {i} of the input")).collect();
    let mut cmd = cli_for(&emu, &["send", "--channel", general.as_str(), "--rate", "200"]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn send");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = format!("{}\n\n", lines.join("\n")); // a blank line is skipped
    stdin.write_all(input.as_bytes()).await.expect("write stdin");
    drop(stdin);
    let out = finish(child).await;
    assert_exit(&out, 0);
    let printed: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    let posted = emu.posted_messages();
    assert_eq!(posted.len(), lines.len(), "each line posted once, blank lines skipped");
    let posted_ts: Vec<String> = posted.iter().map(|m| m.ts.as_str().to_owned()).collect();
    assert_eq!(printed, posted_ts, "the printed ts are the emulator's, in order");
    let posted_text: Vec<&str> = posted.iter().map(|m| m.text.as_str()).collect();
    // The lines are distinct: equal lists mean each was posted once, in input order.
    assert_eq!(posted_text, lines.iter().map(String::as_str).collect::<Vec<_>>(), "input order");
}

// ---- demo ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_summary_matches_the_emulator_record() {
    let out = run(cli(&["demo", "--rtm", "--seconds", "5", "--json"])).await;
    assert_exit(&out, 0);
    // The live tail comes first (human lines), the JSON summary last.
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().expect("a summary line");
    let summary: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("not a count: {v} in {summary}"));
    let emu = &summary["emulator"];
    let replies = n(&summary["replies_sent"]);
    assert!(replies >= 1, "the bot answered someone: {summary}");
    assert_eq!(n(&summary["acks"]), replies, "{summary}");
    assert_eq!(n(&summary["failed"]), 0, "{summary}");
    assert_eq!(n(&emu["messages_posted_by_bot"]), replies, "{summary}");
    let reconnects = n(&summary["reconnects"]);
    assert!(reconnects >= 1, "the goodbye caused a reconnect: {summary}");
    assert_eq!(n(&emu["rtm_connect_calls_by_bot"]), 1 + reconnects, "{summary}");
    assert_eq!(n(&emu["connections_by_bot"]), 1 + reconnects, "{summary}");
    assert!(n(&emu["rtm_connect_calls"]) >= n(&emu["rtm_connect_calls_by_bot"]) + 2, "3 clients: {summary}");
    assert_eq!(n(&summary["ack_round_trip"]["count"]), replies, "{summary}");
    assert!(n(&summary["ping_round_trip"]["count"]) >= 1, "{summary}");
    let by_type = summary["events_by_type"].as_object().expect("events_by_type");
    assert!(n(&by_type["message"]) >= replies, "{summary}");
    assert_eq!(n(&by_type["goodbye"]), 1, "{summary}");
    assert_eq!(n(&summary["events_total"]), by_type.values().map(n).sum::<u64>());
}

// ---- emulator ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_prints_a_working_app_token_and_the_socket_mode_url() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let mut child = cli(&["emulator"]).spawn().expect("spawn emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut api, mut app_token, mut sm_url) = (None, None, None);
    while sm_url.is_none() {
        let line = tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("in time")
            .expect("read")
            .expect("a line");
        if let Some(v) = line.strip_prefix("api url") {
            api = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("app token") {
            app_token = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("socket mode url") {
            sm_url = Some(v.trim().to_owned());
        }
    }
    let (api, app_token, sm_url) = (api.expect("api url"), app_token.expect("app token"), sm_url.unwrap());
    assert!(app_token.starts_with("xapp-"), "{app_token}");
    // The printed token opens a Socket Mode URL under the printed base.
    let host = api.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&host).await.expect("connect");
    let req = format!(
        "POST /api/apps.connections.open HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {app_token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut resp = String::new();
    tokio::time::timeout(LIMIT, tcp.read_to_string(&mut resp)).await.expect("in time").expect("read");
    let body: Value = serde_json::from_str(resp.split("\r\n\r\n").nth(1).expect("a body")).expect("JSON");
    assert_eq!(body["ok"], true, "{resp}");
    assert!(body["url"].as_str().unwrap().starts_with(&format!("{sm_url}?ticket=")), "{body} vs {sm_url}");
    child.kill().await.expect("kill");
}
