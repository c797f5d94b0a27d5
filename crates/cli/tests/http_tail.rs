//! `slack-rtm http tail` end to end: the binary on a free loopback port, signed requests from
//! the test, unsigned ones refused and never printed, the secret never shown.

mod common;
#[path = "../../../tests/tests/http_support/mod.rs"]
mod http_support;

use common::*;
use http_support::{FORM, JSON, SECRET, event_body, form, post, raw};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Starts `http tail` with `args`; returns the child and the Request URL it printed on stderr.
async fn start(args: &[&str], secret_env: bool) -> (Child, String) {
    let mut all = vec!["http", "tail", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut c = cli(&all);
    c.env_remove("SLACK_SIGNING_SECRET");
    if secret_env {
        c.env("SLACK_SIGNING_SECRET", SECRET);
    }
    let mut child = c.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line =
        tokio::time::timeout(LIMIT, stderr.next_line()).await.unwrap().unwrap().expect("a line on stderr");
    let url = line.strip_prefix("slack-rtm: listening on ").unwrap_or_else(|| panic!("{line}")).to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
    (child, url)
}

fn addr_of(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("http://").split('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn http_tail_prints_verified_requests_only() {
    let (child, url) = start(&["--json", "--count", "2"], true).await;
    assert!(url.ends_with("/slack/events"), "{url}");
    let addr = addr_of(&url);
    // Unsigned: refused, not printed.
    let unsigned = raw(addr, "POST", "/slack/events", &[("Content-Type".into(), JSON.into())], b"{}").await;
    assert_eq!(unsigned.status, 401);
    let event =
        event_body("Ev42", serde_json::json!({"type": "reaction_added", "user": "U1", "reaction": "tada"}));
    let retry = [("X-Slack-Retry-Num", "2"), ("X-Slack-Retry-Reason", "http_error")];
    let a = post(addr, "/slack/events", JSON, &event, &retry).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    let cmd = form(&[
        ("command", "/deploy"),
        ("text", "staging"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
    ]);
    assert_eq!(post(addr, "/slack/events", FORM, &cmd, &[]).await.status, 200);
    let out = finish(child).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["kind"], "event");
    assert_eq!(lines[0]["type"], "reaction_added");
    assert_eq!(lines[0]["event_id"], "Ev42");
    assert_eq!(
        (lines[0]["retry_num"].as_u64(), lines[0]["retry_reason"].as_str()),
        (Some(2), Some("http_error"))
    );
    assert_eq!(lines[0]["payload"]["event"]["reaction"], "tada");
    assert_eq!(lines[1]["kind"], "slash_command");
    assert_eq!(lines[1]["payload"]["text"], "staging");
    assert!(!text(&out.stdout).contains(SECRET) && !text(&out.stderr).contains(SECRET));
}

#[tokio::test]
async fn http_tail_exec_gets_each_line_and_the_secret_comes_from_a_file() {
    let dir = std::env::temp_dir().join(format!("slack-rtm-http-tail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let sink = dir.join("exec.out");
    let exec = format!("cat >> {}", sink.display());
    let args = ["--count", "1", "--signing-secret-file", secret_file.to_str().unwrap(), "--exec", &exec];
    let (child, url) = start(&args, false).await;
    let body = form(&[("payload", r#"{"type":"block_actions","actions":[{"action_id":"approve"}]}"#)]);
    assert_eq!(post(addr_of(&url), "/slack/events", FORM, &body, &[]).await.status, 200);
    let out = finish(child).await;
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout).trim(), "interactive block_actions");
    let got: Value = serde_json::from_str(std::fs::read_to_string(&sink).unwrap().trim()).unwrap();
    assert_eq!(got["payload"]["actions"][0]["action_id"], "approve");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn http_tail_without_a_secret_is_a_usage_error() {
    let out = run({
        let mut c = cli(&["http", "tail", "--listen", "127.0.0.1:0"]);
        c.env_remove("SLACK_SIGNING_SECRET");
        c
    })
    .await;
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SLACK_SIGNING_SECRET"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn http_tail_with_a_store_shows_each_workspace_and_gives_exec_its_bot_token() {
    use slack_rtm_oauth::testing::installation;
    use slack_rtm_oauth::{InstallationStore, SqliteInstallationStore};
    let dir = std::env::temp_dir().join(format!("slack-rtm-http-tail-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("installs.db");
    {
        let store = SqliteInstallationStore::open(&db).unwrap();
        store.save(installation(None, Some("T1"), Some("xoxb-secret-t1"), None)).await.unwrap();
        store.save(installation(Some("E1"), None, Some("xoxb-secret-org"), None)).await.unwrap();
    }
    let store_url = format!("sqlite:{}", db.display());
    let exec = format!(
        "id=$(grep -o '\"event_id\":\"[A-Za-z0-9]*\"' | head -1 | cut -d'\"' -f4); printf '%s' \"${{SLACK_BOT_TOKEN:-none}}\" > {}/$id",
        dir.display()
    );
    let args = ["--json", "--count", "3", "--store", &store_url, "--exec", &exec];
    let (child, url) = start(&args, true).await;
    let addr = addr_of(&url);
    let with = |id: &str, team: &str, extra: serde_json::Value| {
        let mut v: Value =
            serde_json::from_slice(&event_body(id, serde_json::json!({"type": "app_mention", "user": "U9"})))
                .unwrap();
        v["team_id"] = team.into();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::to_vec(&v).unwrap()
    };
    let installed = with("EvOne", "T1", serde_json::json!({}));
    let org = with(
        "EvOrg",
        "T5",
        serde_json::json!({"enterprise_id": "E1", "authorizations": [{"is_enterprise_install": true}]}),
    );
    let stranger = with("EvNone", "T2", serde_json::json!({}));
    for body in [&installed, &org, &stranger] {
        assert_eq!(post(addr, "/slack/events", JSON, body, &[]).await.status, 200);
    }
    let out = finish(child).await;
    assert_exit(&out, 0);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let by_id = |id: &str| lines.iter().find(|l| l["event_id"] == id).unwrap().clone();
    let one = by_id("EvOne");
    assert_eq!((one["workspace"]["team_id"].as_str(), one["installed"].as_bool()), (Some("T1"), Some(true)));
    assert_eq!(one["workspace"]["user_id"], "U9");
    let org_line = by_id("EvOrg");
    assert_eq!(
        (org_line["workspace"]["enterprise_id"].as_str(), org_line["workspace"]["team_id"].as_str()),
        (Some("E1"), None),
        "an org-wide install's event is the org's"
    );
    assert_eq!(org_line["installed"], true);
    let none = by_id("EvNone");
    assert_eq!(
        (none["workspace"]["team_id"].as_str(), none["installed"].as_bool()),
        (Some("T2"), Some(false))
    );
    assert!(!text(&out.stdout).contains("secret"), "a token was printed");
    // The --exec commands ran in the background; wait for their files.
    let read = |id: &str| {
        let path = dir.join(id);
        async move {
            for _ in 0..200 {
                if let Ok(s) = std::fs::read_to_string(&path) {
                    return s;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            panic!("--exec did not run for {}", path.display());
        }
    };
    assert_eq!(read("EvOne").await, "xoxb-secret-t1");
    assert_eq!(read("EvOrg").await, "xoxb-secret-org");
    assert_eq!(read("EvNone").await, "none");
    let _ = std::fs::remove_dir_all(&dir);
}
