//! `slack-rtm socket tail` and `demo --socket-mode` end to end: the binary against an emulator
//! over loopback.

mod common;

use common::*;
use slack_rtm::emulator::SocketModeServerConfig;

/// The binary pointed at the emulator with its app-level token in `SLACK_APP_TOKEN`.
fn socket_cli(emu: &Emulator, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env_remove("SLACK_APP_TOKEN")
        .env("SLACK_APP_TOKEN", emu.app_token())
        .env("SLACK_API_URL", emu.api_url());
    c
}

async fn start_sm(sm: SocketModeServerConfig) -> Emulator {
    slack_rtm_test_support::socket_mode_emulator(EmulatorConfig::default(), sm).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_tail_json_prints_one_line_per_envelope_with_its_fields() {
    let emu = start_sm(SocketModeServerConfig::default()).await;
    let child = socket_cli(&emu, &["socket", "tail", "--json", "--count", "3"]).spawn().unwrap();
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    let (channel, alice) = (emu.general_channel(), emu.second_user().user);
    emu.send_slash_command(&alice, &channel, "/deploy", "staging");
    emu.send_api_event(
        serde_json::json!({"type": "reaction_added", "user": alice.as_str(), "reaction": "tada"}),
    );
    emu.send_block_action(&alice, &channel, "approve", "b1", "yes");
    let out = finish(child).await;
    assert_exit(&out, 0);
    no_secret(&out, &emu.app_token());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    // Two sockets: the envelopes may be handed over in another order than they were made.
    let records = emu.envelopes();
    assert_eq!(records.len(), 3);
    for record in &records {
        let id = record.attempts[0].envelope_id.as_str();
        let line =
            lines.iter().find(|l| l["envelope_id"] == id).unwrap_or_else(|| panic!("{id} not printed"));
        assert_eq!(line["type"], record.envelope_type.as_str());
        assert_eq!(line["retry_attempt"], 0);
        assert_eq!(line["payload"], record.payload);
        assert_eq!(line["event_id"].as_str(), record.event_id.as_deref());
    }
    let of_type = |t: &str| lines.iter().find(|l| l["type"] == t).unwrap_or_else(|| panic!("no {t} line"));
    let slash = of_type("slash_commands");
    assert_eq!(slash["payload"]["command"], "/deploy");
    assert_eq!(slash["event_id"], Value::Null);
    assert_eq!(slash["accepts_response_payload"], true);
    assert_eq!(of_type("events_api")["event_type"], "reaction_added");
    assert_eq!(of_type("interactive")["event_type"], "block_actions");
    // Auto ack mode: every envelope acked, once, in time.
    emu.wait_for_acks(3, WAIT).await.unwrap();
    assert!(emu.acks().iter().all(|a| !a.late && a.payload.is_none()));
    // The sockets were closed by the client with a close frame.
    assert!(emu.sockets().iter().all(|s| !s.is_open()));
    assert!(text(&out.stderr).contains("connected"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_exec_command_never_delays_the_ack_and_runs_one_at_a_time() {
    // A 1 s ack deadline, and CMD takes 1.5 s per envelope, one at a time: if the ack waited
    // for CMD, the second and third envelopes would be redelivered.
    let emu = start_sm(SocketModeServerConfig::default().ack_timeout(Duration::from_secs(1))).await;
    let dir = std::env::temp_dir().join(format!("slack-rtm-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (log, input) = (dir.join("log"), dir.join("input"));
    let cmd = format!(
        "IFS= read -r line; printf '%s\\n' \"$line\" >> {input}; echo start >> {log}; sleep 1.5; echo end >> {log}",
        input = input.display(),
        log = log.display()
    );
    let args = ["socket", "tail", "--json", "--count", "3", "--exec", &cmd, "--exec-concurrency", "1"];
    let child = socket_cli(&emu, &args).spawn().unwrap();
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    for i in 0..3 {
        emu.send_api_event(serde_json::json!({"type": "app_mention", "text": format!("job {i}")}));
    }
    let out = finish(child).await;
    assert_exit(&out, 0);
    // Every envelope was delivered once and acked before its deadline.
    let records = emu.envelopes();
    assert_eq!(records.len(), 3);
    for r in &records {
        assert_eq!(r.attempts.len(), 1, "redelivered: {r:?}");
        assert!(r.acked);
    }
    assert!(emu.acks().iter().all(|a| !a.late), "{:?}", emu.acks());
    // `socket tail` waits for the running commands before it exits: all three ran, with the
    // envelope's JSON line on stdin, never two at once.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged, "start\nend\n".repeat(3));
    let inputs: Vec<Value> =
        std::fs::read_to_string(&input).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut got: Vec<&str> = inputs.iter().map(|v| v["envelope_id"].as_str().unwrap()).collect();
    let mut want: Vec<&str> = records.iter().map(|r| r.attempts[0].envelope_id.as_str()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(inputs.iter().all(|v| v["event_type"] == "app_mention"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_tail_exit_codes_and_no_token_in_output() {
    let emu = start_sm(SocketModeServerConfig::default()).await;
    // No token: usage error.
    let out = run(cli(&["socket", "tail", "--json"])).await;
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SLACK_APP_TOKEN"), "{}", text(&out.stderr));
    // Out-of-range limits: usage errors, before any call.
    for bad in [["--connections", "11"], ["--exec-concurrency", "0"]] {
        let out = run(socket_cli(&emu, &["socket", "tail", bad[0], bad[1]])).await;
        assert_exit(&out, 2);
    }
    assert!(emu.apps_connections_open_calls().is_empty());
    // A bot token where an app-level token belongs: refused before any call, exit 2.
    let mut c = cli(&["socket", "tail", "--json"]);
    c.env("SLACK_APP_TOKEN", emu.token()).env("SLACK_API_URL", emu.api_url());
    let out = run(c).await;
    assert_exit(&out, 2);
    no_secret(&out, &emu.token());
    // A revoked app token: fatal auth failure, exit 3, the token nowhere in the output.
    let revoked = emu.add_app_token(true);
    emu.revoke_app_token(&revoked);
    let token_file = std::env::temp_dir().join(format!("slack-rtm-app-token-{}", std::process::id()));
    std::fs::write(&token_file, format!("{revoked}\n")).unwrap();
    let mut c = cli(&["socket", "tail", "--json", "--token-file", token_file.to_str().unwrap()]);
    c.env("SLACK_API_URL", emu.api_url());
    let out = run(c).await;
    let _ = std::fs::remove_file(&token_file);
    assert_exit(&out, 3);
    no_secret(&out, &revoked);
    // link_disabled while tailing: exit 3 as well.
    let child = socket_cli(&emu, &["socket", "tail", "--json"]).spawn().unwrap();
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    emu.disable_link(slack_rtm::emulator::SocketTarget::All);
    let out = finish(child).await;
    assert_exit(&out, 3);
    assert!(text(&out.stderr).contains("link_disabled"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_socket_mode_answers_a_slash_command_in_the_ack_and_a_mention_through_the_web_api() {
    let out = run(cli(&["demo", "--socket-mode", "--seconds", "6", "--json"])).await;
    assert_exit(&out, 0);
    let summary = json_lines(&out).pop().expect("a summary line");
    let (bot, emu) = (&summary["bot"], &summary["emulator"]);
    assert!(bot["envelopes"]["slash_commands"].as_u64().unwrap() >= 1, "{summary}");
    assert!(bot["acks_with_payload"].as_u64().unwrap() >= 1, "{summary}");
    assert!(bot["web_replies"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(bot["acks_failed"], 0, "{summary}");
    assert_eq!(bot["web_failed"], 0, "{summary}");
    // What the bot says it did is what the emulator recorded.
    assert_eq!(emu["acks_with_payload"], bot["acks_with_payload"], "{summary}");
    assert_eq!(emu["chat_post_message_calls"], bot["web_replies"], "{summary}");
    assert_eq!(emu["acks"], bot["acks"], "{summary}");
    assert_eq!(emu["late_acks"], 0, "{summary}");
    assert_eq!(emu["unacked"], 0, "{summary}");
}
