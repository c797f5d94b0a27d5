//! The contract example (`examples/app.rs`) on HTTP: `--http 127.0.0.1:0` with
//! `SLACK_SIGNING_SECRET` prints its Request URL first, then answers signed requests with its
//! unchanged listeners' acks, and refuses the rest.

mod example_process;
#[path = "../../../tests/tests/http_support/mod.rs"]
mod http_support;

use example_process::{example, spawn_first_line};

use http_support::{FORM, JSON, SECRET, event_body, form, post, raw, signature, unix_now};
use serde_json::json;
use slack_rtm_emulator::{Emulator, EmulatorConfig};

#[tokio::test]
async fn the_example_serves_http_with_its_listeners() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (mut child, first) = spawn_first_line(
        tokio::process::Command::new(example("app"))
            .args(["--http", "127.0.0.1:0"])
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_BOT_TOKEN", emu.token())
            .env("SLACK_API_URL", emu.api_url())
            .env_remove("SLACK_APP_TOKEN"),
    )
    .await;
    let addr: std::net::SocketAddr = first
        .strip_prefix("http://")
        .and_then(|r| r.strip_suffix("/slack/events"))
        .expect(&first)
        .parse()
        .unwrap();
    assert_ne!(addr.port(), 0, "the real port is printed");
    let path = "/slack/events";

    let a =
        post(addr, path, JSON, br#"{"token":"t","challenge":"c-9","type":"url_verification"}"#, &[]).await;
    assert_eq!((a.status, a.text().as_str()), (200, "c-9"));
    let cmd = form(&[
        ("command", "/echo"),
        ("text", "hi there"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
    ]);
    let a = post(addr, path, FORM, &cmd, &[]).await;
    assert_eq!((a.status, a.json()), (200, json!({"text": "hi there"})));
    let view = json!({"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "form",
        "state": {"values": {"name": {"value": {"type": "plain_text_input", "value": ""}}}}}});
    let a = post(addr, path, FORM, &form(&[("payload", &view.to_string())]), &[]).await;
    assert_eq!(a.json(), json!({"response_action": "errors", "errors": {"name": "Please enter a name"}}));
    let options = json!({"type": "block_suggestion", "action_id": "pick", "block_id": "b", "value": "an", "user": {"id": "U1"}});
    let a = post(addr, path, FORM, &form(&[("payload", &options.to_string())]), &[]).await;
    assert_eq!(a.json()["options"][0]["value"], "banana");
    let event = event_body(
        "Ev1",
        json!({"type": "app_mention", "user": "U1", "text": "hi", "ts": "1.000001", "channel": "C1"}),
    );
    let a = post(addr, path, JSON, &event, &[]).await;
    assert_eq!((a.status, a.body.len()), (200, 0));
    // Refused: a bad signature, a stale timestamp.
    let mut bad = signature(unix_now(), b"x");
    bad.push(("Content-Type".into(), JSON.into()));
    assert_eq!(raw(addr, "POST", path, &bad, &event).await.status, 401);
    let mut stale = signature(unix_now() - 600, &event);
    stale.push(("Content-Type".into(), JSON.into()));
    assert_eq!(raw(addr, "POST", path, &stale, &event).await.status, 401);
    let _ = child.kill().await;
}
