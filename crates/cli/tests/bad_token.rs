//! A bad bot token is found at start-up by every command that takes one, reported once in plain
//! words with exit 3 (the documented authentication-failure code), and nothing is read or sent
//! first. The commands that read their input before their first call (`send` from stdin,
//! `send --blocks -`, `stream`) try the token with `auth.test` first; the others make their
//! first call at start-up, and that call is the check. Each runs the binary against an
//! emulator in the test process (loopback only), with stdin left open where the command reads
//! it: a command that waited for input before checking would hang and fail the test.

mod common;

use common::*;

const BAD: &str = "xoxb-0000-not-a-token";

/// The binary pointed at the emulator with the bad token in SLACK_BOT_TOKEN.
fn bad(emu: &Emulator, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env("SLACK_BOT_TOKEN", BAD).env("SLACK_API_URL", emu.api_url());
    c
}

/// Runs `cmd` with its stdin open and unwritten until it exits.
async fn run_with_open_stdin(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let stdin = child.stdin.take();
    let out = finish(child).await;
    drop(stdin);
    out
}

/// Exit 3, and the refusal said once, in words, on one line.
fn refused_in_words(out: &Output, what: &str) {
    assert_exit(out, 3);
    let err = text(&out.stderr);
    assert!(err.contains("invalid_auth: The token is not valid"), "{what}: not in words:\n{err}");
    assert_eq!(err.matches("invalid_auth").count(), 1, "{what}: said once:\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: one line:\n{err}");
    assert!(text(&out.stdout).is_empty(), "{what}: nothing on stdout");
    no_secret(out, BAD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_reading_their_input_first_check_the_token_before_reading_it() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let commands: [(&str, Vec<&str>); 3] = [
        ("send (stdin)", vec!["send", "--channel", general.as_str()]),
        ("send --blocks -", vec!["send", "--channel", general.as_str(), "--blocks", "-"]),
        ("stream", vec!["stream", "--channel", general.as_str()]),
    ];
    for (i, (what, args)) in commands.iter().enumerate() {
        let out = run_with_open_stdin(bad(&emu, args)).await;
        refused_in_words(&out, what);
        assert!(text(&out.stderr).contains("refused at start-up"), "{what}: {}", text(&out.stderr));
        assert_eq!(emu.auth_test_calls(), i as u64 + 1, "{what}: the token was tried with auth.test");
    }
    assert!(emu.web_calls_of("chat.postMessage").is_empty());
    assert!(emu.web_calls_of("chat.startStream").is_empty());
    assert!(emu.posted_messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_whose_first_call_is_at_start_up_stop_there() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let file = std::env::temp_dir().join(format!("slack-rtm-bad-token-{}.txt", std::process::id()));
    std::fs::write(&file, b"never uploaded").expect("temp file");
    let file_arg = file.to_str().expect("utf-8 path");
    // RTM: rtm.connect is the first call (stdin open for `send --rtm`, which reads it after).
    for (what, args) in [
        ("connect", vec!["connect"]),
        ("tail", vec!["tail"]),
        ("send --rtm", vec!["send", "--rtm", "--channel", general.as_str()]),
    ] {
        let before = emu.rtm_connect_call_count();
        let out = run_with_open_stdin(bad(&emu, &args)).await;
        refused_in_words(&out, what);
        assert_eq!(emu.rtm_connect_call_count(), before + 1, "{what}: one rtm.connect, not retried");
    }
    // The Web API: the command's one call (or its first, for upload) is the check.
    for (what, args, method) in [
        ("send --text", vec!["send", "--channel", general.as_str(), "--text", "hi"], "chat.postMessage"),
        ("api", vec!["api", "conversations.list"], "conversations.list"),
        ("history", vec!["history", "--channel", general.as_str()], "conversations.history"),
        ("upload", vec!["upload", file_arg, "--channel", general.as_str()], "files.getUploadURLExternal"),
    ] {
        let out = run_with_open_stdin(bad(&emu, &args)).await;
        refused_in_words(&out, what);
        assert_eq!(emu.web_calls_of(method).len(), 1, "{what}: refused at its first call, not retried");
    }
    let _ = std::fs::remove_file(&file);
    assert_eq!(emu.auth_test_calls(), 0, "no extra call where the first call is the check");
    assert!(emu.web_calls_of("files.completeUploadExternal").is_empty());
    assert!(emu.posted_messages().is_empty());
}
