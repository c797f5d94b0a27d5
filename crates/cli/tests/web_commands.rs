//! End-to-end tests of `slack-rtm api`, `send --blocks` and `history` against an emulator in
//! the test process (loopback only); expectations come from the emulator's own records.

mod common;

use common::*;
use std::time::Duration;

fn stdout_json(out: &Output) -> Value {
    let t = text(&out.stdout);
    assert_eq!(t.trim_end().lines().count(), 1, "compact JSON on one line when piped:\n{t}");
    serde_json::from_str(t.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {t}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_any_method_and_prints_the_answer() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let out = run(cli_for(&emu, &["api", "conversations.info", &format!("channel={general}")])).await;
    assert_exit(&out, 0);
    let v = stdout_json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["channel"]["id"], general.as_str());
    no_secret(&out, &emu.token());
    let call = &emu.web_calls_of("conversations.info")[0];
    assert_eq!(call.user.as_ref(), Some(&emu.bot_user()));

    // A JSON body, with key=value pairs added to it.
    let body = format!(r#"{{"channel":"{general}","blocks":[{{"type":"divider"}}]}}"#);
    let out = run(cli_for(&emu, &["api", "chat.postMessage", "--json", &body, "text=from the cli"])).await;
    assert_exit(&out, 0);
    let v = stdout_json(&out);
    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].text, "from the cli");
    assert_eq!(v["ts"], posted[0].ts.as_str());
    assert_eq!(v["message"]["blocks"][0]["type"], "divider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_exit_codes() {
    let emu = emulator().await;
    // A Slack error: exit 1, the code on stderr.
    let out = run(cli_for(&emu, &["api", "users.info", "user=U404"])).await;
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("user_not_found"), "{}", text(&out.stderr));
    // A bad token: exit 3.
    let mut cmd = cli_for(&emu, &["api", "users.info", "user=U1"]);
    cmd.env("SLACK_TOKEN", "xoxb-not-valid");
    assert_exit(&run(cmd).await, 3);
    // Usage errors: exit 2.
    assert_exit(&run(cli_for(&emu, &["api", "users.info", "user"])).await, 2);
    assert_exit(&run(cli_for(&emu, &["api", "users.info", "--json", "[1]"])).await, 2);
    let mut cmd = cli_for(&emu, &["api", "auth.test"]);
    cmd.env("SLACK_TOKEN", "xapp-1-A1-1-secret");
    let out = run(cmd).await;
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("an app-level token (xapp-) cannot call the Web API"));
    no_secret(&out, "xapp-1-A1-1-secret");
    // A 429 that lasts longer than the client waits: exit 4, one call.
    emu.reject_next_web_calls(
        "users.info",
        1,
        Rejection::RateLimited { retry_after: Duration::from_secs(3600) },
    );
    assert_exit(&run(cli_for(&emu, &["api", "users.info", &format!("user={}", emu.bot_user())])).await, 4);
    // HTML 503s on a read: retried a bounded number of times, then exit 5.
    emu.reject_next_web_calls("conversations.info", 10, Rejection::Html(503));
    let before = emu.web_calls_of("conversations.info").len();
    let out =
        run(cli_for(&emu, &["api", "conversations.info", &format!("channel={}", emu.general_channel())]))
            .await;
    assert_exit(&out, 5);
    assert_eq!(emu.web_calls_of("conversations.info").len() - before, 4, "one call and three retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_waits_out_a_429_then_answers() {
    let emu = emulator().await;
    emu.reject_next_web_calls(
        "users.info",
        1,
        Rejection::RateLimited { retry_after: Duration::from_secs(1) },
    );
    let out = run(cli_for(&emu, &["api", "users.info", &format!("user={}", emu.bot_user())])).await;
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["user"]["id"], emu.bot_user().as_str());
    let calls = emu.web_calls_of("users.info");
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [429, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_blocks_from_a_file_or_stdin_in_a_thread() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let parent = emu.post_message(&general, &emu.second_user().user, "status?").unwrap();
    let dir = std::env::temp_dir().join(format!("slack-rtm-cli-blocks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("blocks.json");
    std::fs::write(&file, r#"[{"type":"section","text":{"type":"mrkdwn","text":"*all green*"}}]"#).unwrap();
    let out = run(cli_for(
        &emu,
        &[
            "send",
            "--channel",
            general.as_str(),
            "--blocks",
            file.to_str().unwrap(),
            "--thread",
            parent.as_str(),
        ],
    ))
    .await;
    assert_exit(&out, 0);
    let posted = emu.posted_messages();
    let reply = posted.iter().find(|m| m.thread_ts.as_ref() == Some(&parent)).expect("a reply in the thread");
    assert_eq!(text(&out.stdout).trim(), reply.ts.as_str());
    assert_eq!(reply.text, "*all green*", "the fallback comes from the blocks");
    let call = &emu.web_calls_of("chat.postMessage")[0];
    assert!(call.arg("blocks").unwrap().contains("all green"));

    // From stdin, as Block Kit Builder exports it, with an explicit fallback.
    let mut child =
        cli_for(&emu, &["send", "--channel", general.as_str(), "--blocks", "-", "--text", "fallback"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(br#"{"blocks":[{"type":"divider"}]}"#).await.unwrap();
    drop(stdin);
    let out = finish(child).await;
    assert_exit(&out, 0);
    let last = emu.posted_messages().pop().unwrap();
    assert_eq!(last.text, "fallback");
    assert_eq!(text(&out.stdout).trim(), last.ts.as_str());
    std::fs::remove_dir_all(&dir).ok();
    // Not a list of blocks: a usage error, nothing posted.
    let mut child = cli_for(&emu, &["send", "--channel", general.as_str(), "--blocks", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{}").await.unwrap();
    drop(stdin);
    assert_exit(&finish(child).await, 2);
    assert_eq!(emu.web_calls_of("chat.postMessage").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_blocks_with_an_unknown_outcome_is_not_resent() {
    let emu = emulator().await;
    emu.reject_next_web_calls("chat.postMessage", 5, Rejection::Html(502));
    let mut child = cli_for(&emu, &["send", "--channel", emu.general_channel().as_str(), "--blocks", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(br#"[{"type":"divider"}]"#).await.unwrap();
    drop(stdin);
    let out = finish(child).await;
    assert_exit(&out, 6);
    assert!(text(&out.stderr).contains("may have been posted"), "{}", text(&out.stderr));
    assert_eq!(emu.web_calls_of("chat.postMessage").len(), 1, "never sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_prints_oldest_first_since_and_limit() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let alice = emu.second_user().user;
    let ts: Vec<Ts> = (0..4).map(|i| emu.post_message(&general, &alice, &format!("m{i}")).unwrap()).collect();
    let out = run(cli_for(&emu, &["history", "--channel", general.as_str(), "--json"])).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    let got: Vec<&str> = lines.iter().map(|m| m["ts"].as_str().unwrap()).collect();
    assert_eq!(got, ts.iter().map(|t| t.as_str()).collect::<Vec<_>>());
    assert!(lines.iter().all(|m| m["channel"] == general.as_str() && m["user"] == alice.as_str()));

    let out =
        run(cli_for(&emu, &["history", "--channel", general.as_str(), "--since", ts[1].as_str(), "--json"]))
            .await;
    let got: Vec<String> = json_lines(&out).iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, ["m2", "m3"]);
    let out = run(cli_for(&emu, &["history", "--channel", general.as_str(), "--limit", "3", "--json"])).await;
    let got: Vec<String> = json_lines(&out).iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, ["m1", "m2", "m3"], "the most recent three, oldest first");
    // Human output: one line per message.
    let out = run(cli_for(&emu, &["history", "--channel", general.as_str()])).await;
    assert_exit(&out, 0);
    let t = text(&out.stdout);
    assert_eq!(t.lines().count(), 4);
    assert!(t.lines().last().unwrap().contains("m3"));
    // Unknown channel: exit 1 with Slack's code.
    let out = run(cli_for(&emu, &["history", "--channel", "C404"])).await;
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("channel_not_found"));
}
