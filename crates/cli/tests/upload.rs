//! `slack-rtm upload` and `send --blocks`' Block Kit check, running the binary against an
//! emulator in the test process (loopback only).

mod common;

use common::*;
use slack_rtm::emulator::{FNV_OFFSET, fnv1a};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_shares_files_in_a_thread_without_a_bar_when_piped() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let parent = emu.post_message(&general, &emu.second_user().user, "logs please").unwrap();
    let dir = std::env::temp_dir().join(format!("slack-rtm-cli-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.log");
    let b = dir.join("b.log");
    let data_a: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&a, &data_a).unwrap();
    std::fs::write(&b, b"second file").unwrap();
    let out = run(cli_for(
        &emu,
        &[
            "upload",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--channel",
            general.as_str(),
            "--thread",
            parent.as_str(),
            "--comment",
            "here they are",
        ],
    ))
    .await;
    assert_exit(&out, 0);
    let files = emu.uploaded_files();
    let ids: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(ids, files.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    assert_eq!(files[0].fnv1a, fnv1a(FNV_OFFSET, &data_a));
    assert!(files.iter().all(|f| f.completed && f.channels == vec![general.clone()]));
    assert_eq!(emu.web_calls_of("files.completeUploadExternal").len(), 1);
    let share = emu.posted_messages().into_iter().find(|m| m.text == "here they are").expect("the share");
    assert_eq!(share.thread_ts.as_ref(), Some(&parent));
    // Piped: no progress bar (no carriage returns, no bar characters) on stderr.
    let err = text(&out.stderr);
    assert!(!err.contains('\r') && !err.contains("=>"), "stderr: {err}");
    no_secret(&out, &emu.token());

    // A missing file is a usage error, before any call.
    let calls = emu.web_calls().len();
    let out = run(cli_for(&emu, &["upload", "/nonexistent/x.bin", "--channel", general.as_str()])).await;
    assert_exit(&out, 2);
    assert_eq!(emu.web_calls().len(), calls);
    // A channel that does not exist: the completion's error, exit 1 (an API error).
    let out = run(cli_for(&emu, &["upload", b.to_str().unwrap(), "--channel", "C0MISSING"])).await;
    assert!(text(&out.stderr).contains("channel_not_found"), "{}", text(&out.stderr));
    assert_ne!(code(&out), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_blocks_checks_block_kit_limits_before_sending() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let dir = std::env::temp_dir().join(format!("slack-rtm-cli-badblocks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("blocks.json");
    let long = "x".repeat(151);
    std::fs::write(
        &file,
        format!(
            r#"[{{"type":"divider"}},{{"type":"header","text":{{"type":"plain_text","text":"{long}"}}}}]"#
        ),
    )
    .unwrap();
    let out =
        run(cli_for(&emu, &["send", "--channel", general.as_str(), "--blocks", file.to_str().unwrap()]))
            .await;
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("blocks[1].text.text: 151 characters, at most 150"),
        "{}",
        text(&out.stderr)
    );
    assert!(emu.web_calls_of("chat.postMessage").is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
