//! `slack-rtm emulator`'s control API and the commands over it, end to end: a standalone
//! emulator process, an app (`socket tail`) in another, and a shell making users act.

mod common;

use common::*;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The lines `slack-rtm emulator` prints, by label.
struct Printed {
    api: String,
    bot: String,
    app: String,
    channel: String,
    control: String,
}

async fn start_emulator() -> (Child, Printed) {
    let mut child = cli(&["emulator"]).spawn().expect("spawn emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = std::collections::HashMap::new();
    while !seen.contains_key("control url") {
        let line = tokio::time::timeout(LIMIT, lines.next_line()).await.expect("in time").expect("read");
        let line = line.expect("a line");
        for label in ["api url", "bot token", "app token", "channel", "control url"] {
            if let Some(v) = line.strip_prefix(label) {
                seen.insert(label, v.trim().to_owned());
            }
        }
    }
    // Keep reading: the emulator goes on printing.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let get = |k: &str| seen.get(k).cloned().unwrap_or_else(|| panic!("no {k} line"));
    let printed = Printed {
        api: get("api url"),
        bot: get("bot token"),
        app: get("app token"),
        channel: get("channel"),
        control: get("control url"),
    };
    (child, printed)
}

fn control(p: &Printed, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env("SLACK_RTM_EMULATOR", &p.control);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_act_from_the_shell_and_the_app_sees_it() {
    let (mut emulator, p) = start_emulator().await;
    // The app: a Socket Mode tail in its own process.
    let mut app = cli(&["socket", "tail", "--json", "--count", "3", "--connections", "1"]);
    app.env("SLACK_APP_TOKEN", &p.app).env("SLACK_API_URL", &p.api);
    let mut app = app.spawn().expect("spawn socket tail");
    let mut app_err = BufReader::new(app.stderr.take().expect("stderr")).lines();
    loop {
        let line = tokio::time::timeout(LIMIT, app_err.next_line()).await.expect("in time").expect("read");
        if line.expect("the app connects").contains("connected") {
            break;
        }
    }

    // A mention (a `message` and an `app_mention`) and a slash command.
    let out = run(control(&p, &["emulator", "mention", "hello bot"])).await;
    assert_exit(&out, 0);
    let mention: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    assert_eq!(mention["channel"], p.channel.as_str());
    assert_eq!(mention["envelopes"].as_array().map(Vec::len), Some(2), "{mention}");
    let out = run(control(&p, &["emulator", "command", "/deploy", "staging"])).await;
    assert_exit(&out, 0);
    let command: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    assert!(command["response_url"].as_str().is_some_and(|u| u.starts_with("http://")), "{command}");

    let out = finish(app).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    let types: Vec<&str> = lines.iter().filter_map(|l| l["event_type"].as_str()).collect();
    assert!(types.contains(&"app_mention") && types.contains(&"message"), "{types:?}");
    let slash = lines.iter().find(|l| l["type"] == "slash_commands").expect("the command reached the app");
    assert_eq!(
        (slash["payload"]["command"].as_str(), slash["payload"]["text"].as_str()),
        (Some("/deploy"), Some("staging"))
    );

    // What the app acked, as the emulator saw it.
    let out = run(control(&p, &["emulator", "acks"])).await;
    assert_exit(&out, 0);
    let acks = json_lines(&out);
    assert_eq!(acks.len(), 3, "{acks:?}");
    for l in &lines {
        assert!(acks.iter().any(|a| a["envelope_id"] == l["envelope_id"] && a["late"] == false), "{l}");
    }

    // What the app posted.
    let mut send = cli(&["send", "--channel", &p.channel, "--text", "deployed"]);
    send.env("SLACK_BOT_TOKEN", &p.bot).env("SLACK_API_URL", &p.api);
    let out = run(send).await;
    assert_exit(&out, 0);
    let ts = text(&out.stdout).trim().to_owned();
    let out = run(control(&p, &["emulator", "posted"])).await;
    assert_exit(&out, 0);
    let posted = json_lines(&out);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!((posted[0]["ts"].as_str(), posted[0]["text"].as_str()), (Some(ts.as_str()), Some("deployed")));

    // A click on a button that is not there: refused in words, exit 1.
    let out = run(control(&p, &["emulator", "click", "approve", "--ts", &ts])).await;
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("the emulator refused: no element with action_id"),
        "{}",
        text(&out.stderr)
    );
    emulator.kill().await.expect("kill");

    // No emulator there: the network failure code and what to do.
    let out = run(cli(&["emulator", "posted", "--control", "http://127.0.0.1:1/"])).await;
    assert_exit(&out, 5);
    assert!(text(&out.stderr).contains("start `slack-rtm emulator`"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_answers_bad_requests_with_a_400() {
    let (mut emulator, p) = start_emulator().await;
    let host = p.control.trim_start_matches("http://").trim_end_matches('/').to_owned();
    for (request, want) in [
        ("POST /say HTTP/1.1\r\ncontent-length: 5\r\n\r\n{nope".to_owned(), "400"),
        ("POST /say HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}".to_owned(), "400"),
        ("POST /dance HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}".to_owned(), "400"),
        ("DELETE /posted HTTP/1.1\r\n\r\n".to_owned(), "404"),
        (format!("POST /say HTTP/1.1\r\ncontent-length: {}\r\n\r\n", 10 * 1024 * 1024), "400"),
    ] {
        let answer = exchange(&host, &request).await;
        assert!(answer.starts_with(&format!("HTTP/1.1 {want}")), "{request:?} -> {answer}");
        assert!(answer.contains(r#""ok":false"#), "{answer}");
    }
    emulator.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_closes_the_apps_sockets_with_a_close_frame() {
    let (emulator, p) = start_emulator().await;
    let mut app = cli(&["socket", "tail", "--connections", "1"]);
    app.env("SLACK_APP_TOKEN", &p.app).env("SLACK_API_URL", &p.api);
    let mut app = app.spawn().expect("spawn socket tail");
    let mut app_err = BufReader::new(app.stderr.take().expect("stderr")).lines();
    let mut next = async || {
        tokio::time::timeout(LIMIT, app_err.next_line())
            .await
            .expect("in time")
            .expect("read")
            .expect("a line")
    };
    while !next().await.contains("connected") {}
    // The control API is in use when Ctrl-C comes: the emulator still closes cleanly.
    assert_exit(&run(control(&p, &["emulator", "posted"])).await, 0);
    let pid = emulator.id().expect("pid");
    let status = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    assert_exit(&finish(emulator).await, 0);
    // The app saw a close frame (a code), not a dropped connection.
    let closed = loop {
        let line = next().await;
        if line.contains("a socket closed") {
            break line;
        }
    };
    assert!(closed.contains("closed by the server (10"), "{closed}");
    let _ = app.kill().await;
}

/// Writes one raw HTTP request to `host` and reads the whole answer (the server closes).
async fn exchange(host: &str, request: &str) -> String {
    let mut sock = tokio::net::TcpStream::connect(host).await.expect("connect");
    sock.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    tokio::time::timeout(LIMIT, tokio::io::AsyncReadExt::read_to_string(&mut sock, &mut answer))
        .await
        .expect("in time")
        .expect("read");
    answer
}

/// One JSON request (a control API action, a response_url): the status line and the answer.
async fn post(host: &str, path: &str, body: &Value) -> (String, Value) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = exchange(host, &request).await;
    let (head, json) = answer.split_once("\r\n\r\n").expect("a head and a body");
    (head.lines().next().unwrap_or("").to_owned(), serde_json::from_str(json).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_takes_names_and_the_actions_of_the_emulator_binary() {
    let (mut emulator, p) = start_emulator().await;
    let host = p.control.trim_start_matches("http://").trim_end_matches('/').to_owned();
    // A user and a channel by name, as `--actions` takes them (one translation for both).
    let (status, said) =
        post(&host, "/say", &serde_json::json!({"user": "alice", "channel": "general", "text": "hi"})).await;
    assert!(status.contains("200"), "{status} {said}");
    assert_eq!(said["channel"], p.channel.as_str(), "{said}");
    let seq = said["seq"].as_u64().expect("the envelope's seq");
    // No app is connected: nothing acks, and waiting says so (bounded by timeout_ms).
    let (status, waited) =
        post(&host, "/wait_ack", &serde_json::json!({"seq": seq, "timeout_ms": 200})).await;
    assert!(status.contains("400") && waited["ok"] == false, "{status} {waited}");
    let (status, views) = post(&host, "/views", &serde_json::json!({})).await;
    assert!(status.contains("200"), "{status} {views}");
    assert_eq!(views["views"], serde_json::json!([]));
    let (status, select) = post(&host, "/select", &serde_json::json!({"action_id": "pick"})).await;
    assert!(status.contains("400"), "{status} {select}");
    assert!(
        select["error"].as_str().is_some_and(|e| e.contains("`ts` (a message) or `view_id`")),
        "{select}"
    );
    let (_, unknown) = post(&host, "/dance", &serde_json::json!({})).await;
    assert!(unknown["error"].as_str().is_some_and(|e| e.contains("wait_ack, views")), "{unknown}");
    emulator.kill().await.expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slash_commands_response_url_works_and_the_first_calls_answer() {
    let (mut emulator, p) = start_emulator().await;
    let api = |args: &[&str]| {
        let mut c = cli(args);
        c.env("SLACK_BOT_TOKEN", &p.bot).env("SLACK_API_URL", &p.api);
        c
    };
    // A newcomer's first calls: the channels and the users of the workspace.
    let out = run(api(&["api", "conversations.list"])).await;
    assert_exit(&out, 0);
    let list: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    let channels = list["channels"].as_array().expect("channels");
    assert!(channels.iter().any(|c| c["id"] == p.channel.as_str() && c["name"] == "general"), "{list}");
    let out = run(api(&["api", "users.list"])).await;
    assert_exit(&out, 0);
    let users: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    assert!(users["members"].as_array().expect("members").iter().any(|u| u["name"] == "alice"), "{users}");

    // The response_url of a slash command: answering on it posts in the channel.
    let out = run(control(&p, &["emulator", "command", "/deploy", "staging"])).await;
    assert_exit(&out, 0);
    let command: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    let url = command["response_url"].as_str().expect("a response_url").to_owned();
    let rest = url.strip_prefix("http://").expect("http");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let (status, answer) =
        post(host, path, &serde_json::json!({"response_type": "in_channel", "text": "deployed to staging"}))
            .await;
    assert!(status.contains("200") && answer["ok"] == true, "{status} {answer}");
    let out = run(api(&["history", "--channel", &p.channel, "--json"])).await;
    assert_exit(&out, 0);
    assert!(json_lines(&out).iter().any(|m| m["text"] == "deployed to staging"), "{}", text(&out.stdout));
    emulator.kill().await.expect("kill");
}
