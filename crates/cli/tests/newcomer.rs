//! What a newcomer meets first, end to end against an emulator in the test process (loopback
//! only): `send` posts through the Web API with any bot token, errors say what to do and exit
//! with the documented codes, `socket tail` speaks in sentences, the standalone emulator hands
//! out the token of an app made today.

mod common;

use common::*;
use slack_rtm::emulator::{SocketModeServerConfig, SocketTarget};

fn granular(emu: &Emulator) -> String {
    emu.add_token(&emu.bot_user(), TokenFlavor::Granular).expect("token")
}

/// The binary pointed at the emulator with `token` in SLACK_BOT_TOKEN.
fn cli_with(emu: &Emulator, token: &str, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env("SLACK_BOT_TOKEN", token).env("SLACK_API_URL", emu.api_url());
    c
}

fn stderr_has(out: &Output, needle: &str) {
    assert!(text(&out.stderr).contains(needle), "{needle:?} not in stderr:\n{}", text(&out.stderr));
}

// ---- send: the Web API by default ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_posts_through_the_web_api_with_a_granular_token_and_rtm_only_when_asked() {
    let emu = emulator().await;
    let (token, general) = (granular(&emu), emu.general_channel());
    let out = run(cli_with(&emu, &token, &["send", "--channel", general.as_str(), "--text", "hi"])).await;
    assert_exit(&out, 0);
    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 1);
    assert_eq!(text(&out.stdout).trim(), posted[0].ts.as_str());
    assert_eq!((posted[0].text.as_str(), &posted[0].channel), ("hi", &general));
    assert_eq!(emu.web_calls_of("chat.postMessage").len(), 1, "posted with chat.postMessage");
    assert_eq!(emu.rtm_connect_call_count(), 0, "no RTM session was opened");
    no_secret(&out, &token);

    // --rtm: RTM refuses this token; the advice is about posting, not "use Socket Mode".
    let out =
        run(cli_with(&emu, &token, &["send", "--rtm", "--channel", general.as_str(), "--text", "hi"])).await;
    assert_exit(&out, 3);
    assert_eq!(emu.rtm_connect_calls()[0].error.as_deref(), Some("not_allowed_token_type"));
    stderr_has(&out, "leave out --rtm");
    assert_eq!(emu.posted_messages().len(), 1);

    // --rtm with a classic token posts over the socket.
    let out =
        run(cli_with(&emu, &emu.token(), &["send", "--rtm", "--channel", general.as_str(), "--text", "rtm"]))
            .await;
    assert_exit(&out, 0);
    assert_eq!(emu.posted_messages().len(), 2);
    assert_eq!(emu.web_calls_of("chat.postMessage").len(), 1, "not through the Web API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_from_stdin_checks_the_token_before_reading_and_reports_refusals_in_words() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let mut cmd = cli_with(&emu, "xoxb-0000-not-a-token", &["send", "--channel", general.as_str()]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    // stdin stays open: the bad token must be found without waiting for input.
    let _stdin = child.stdin.take();
    let out = finish(child).await;
    assert_exit(&out, 3);
    assert_eq!(emu.auth_test_calls(), 1, "the token was checked first");
    assert!(emu.web_calls_of("chat.postMessage").is_empty());
    stderr_has(&out, "invalid_auth: The token is not valid");
    assert_eq!(text(&out.stderr).matches("invalid_auth").count(), 1, "said once:\n{}", text(&out.stderr));

    // A channel that does not exist: exit 6, and what to do.
    let out = run(cli_for(&emu, &["send", "--channel", "C0NOTHERE", "--text", "lost"])).await;
    assert_exit(&out, 6);
    stderr_has(&out, "channel_not_found: No channel with this id");
    stderr_has(&out, "not its name");
}

// ---- errors that say what to do ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_described_and_exit_with_the_documented_codes() {
    let emu = emulator().await;
    // A method the server does not know: a wrong call (1), not an auth failure (3).
    let out = run(cli_for(&emu, &["api", "no.suchMethod"])).await;
    assert_exit(&out, 1);
    stderr_has(&out, "unknown_method: There is no Web API method of this name");
    let out = run(cli_for(&emu, &["api", "users.info", "user=U404"])).await;
    assert_exit(&out, 1);
    stderr_has(&out, "user_not_found: No user with this id");
    assert!(!text(&out.stderr).contains("does not know"), "{}", text(&out.stderr));
    // One line per failure.
    assert_eq!(text(&out.stderr).trim_end().lines().count(), 1, "{}", text(&out.stderr));
}

/// The binary's stderr on a terminal: run under `script` (util-linux), which gives it a pty.
async fn on_a_terminal(no_color: bool) -> String {
    let bin = env!("CARGO_BIN_EXE_slack-rtm");
    // --token logs a warning; nothing listens on port 1, so the command ends at once.
    let line = format!("'{bin}' api auth.test --token xoxb-not-real --api-url http://127.0.0.1:1/api/");
    let mut c = Command::new("script");
    c.args(["-qec", &line, "/dev/null"]).stdin(Stdio::null()).kill_on_drop(true);
    for var in ["SLACK_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL", "SLACK_RTM_LOG", "NO_COLOR"] {
        c.env_remove(var);
    }
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let out = run(c).await;
    text(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_colour_codes_with_no_color_even_on_a_terminal() {
    let coloured = on_a_terminal(false).await;
    assert!(coloured.contains("--token puts the token"), "the warning is shown:\n{coloured}");
    assert!(coloured.contains('\x1b'), "a terminal gets colours (the pty works):\n{coloured}");
    let plain = on_a_terminal(true).await;
    assert!(plain.contains("--token puts the token"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR: no colour codes:\n{plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_web_api_errors_are_described_in_plain_words() {
    let emu = emulator().await;
    let general = emu.general_channel();
    let channel = format!("channel={general}");
    let long = format!("text={}", "x".repeat(40_001));
    for (args, words) in [
        (vec!["api", "chat.postMessage", channel.as_str()], "no_text: The message is empty"),
        (
            vec!["api", "chat.postMessage", channel.as_str(), long.as_str()],
            "msg_too_long: The message text is too long",
        ),
        (
            vec!["api", "conversations.info", "channel=C0NOTHERE"],
            "channel_not_found: No channel with this id",
        ),
    ] {
        let out = run(cli_for(&emu, &args)).await;
        assert_exit(&out, 1);
        stderr_has(&out, words);
        assert!(!text(&out.stderr).contains("does not know"), "{}", text(&out.stderr));
        assert_eq!(text(&out.stderr).trim_end().lines().count(), 1, "{}", text(&out.stderr));
    }
    assert!(emu.posted_messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_url_or_token_kind_is_explained_before_anything_is_sent() {
    let emu = emulator().await;
    let root = format!("http://{}", emu.local_addr());
    // No /api/ at all: the suggestion, exit 2 (bad --api-url), nothing called.
    let mut cmd = cli(&["api", "auth.test", "--api-url", &root]);
    cmd.env("SLACK_BOT_TOKEN", emu.token());
    let out = run(cmd).await;
    assert_exit(&out, 2);
    stderr_has(&out, &format!("did you mean {root}/api/?"));
    // Another path: the server answers 404; the question instead of the page, still exit 2.
    let mut cmd = cli(&["connect", "--api-url", &format!("{root}/v1/")]);
    cmd.env("SLACK_BOT_TOKEN", emu.token());
    let out = run(cmd).await;
    assert_exit(&out, 2);
    stderr_has(&out, "HTTP 404 (not found): is the API URL right?");
    assert_eq!(emu.rtm_connect_call_count(), 0);
    // Plain http:// to another host: the flag that allows it.
    let mut cmd = cli(&["api", "auth.test", "--api-url", "http://slack.example.invalid/api/"]);
    cmd.env("SLACK_BOT_TOKEN", emu.token());
    let out = run(cmd).await;
    assert_exit(&out, 2);
    stderr_has(&out, "pass --insecure");
    // An app-level token given to an RTM command: explained, nothing called.
    let out = run(cli_with(&emu, "xapp-1-A1-1-secret", &["connect"])).await;
    assert_exit(&out, 2);
    stderr_has(&out, "an app-level token (xapp-) cannot call rtm.connect");
    no_secret(&out, "xapp-1-A1-1-secret");
    assert_eq!(emu.rtm_connect_call_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_token_variables_work_and_logs_have_no_colour_codes_on_a_pipe() {
    let emu = emulator().await;
    let out = run(cli_with(&emu, &emu.token(), &["connect"])).await;
    assert_exit(&out, 0);
    let mut cmd = cli(&["connect", "--api-url", &emu.api_url()]);
    cmd.env("SLACK_TOKEN", emu.token());
    assert_exit(&run(cmd).await, 0);
    // --token logs a warning: plain text when stderr is not a terminal.
    let out = run(cli(&["connect", "--api-url", &emu.api_url(), "--token", &emu.token()])).await;
    assert_exit(&out, 0);
    stderr_has(&out, "WARN");
    assert!(!text(&out.stderr).contains('\u{1b}'), "colour codes on a pipe: {:?}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_command_lists_no_rtm_flags() {
    let out = run(cli(&["api", "--help"])).await;
    assert_exit(&out, 0);
    assert!(!text(&out.stdout).contains("--batch-presence"), "{}", text(&out.stdout));
    let out = run(cli(&["tail", "--help"])).await;
    assert!(text(&out.stdout).contains("--batch-presence"), "{}", text(&out.stdout));
}

// ---- socket tail in sentences ----

fn socket_cli(emu: &Emulator, token: &str, args: &[&str]) -> Command {
    let mut c = cli(args);
    c.env("SLACK_APP_TOKEN", token).env("SLACK_API_URL", emu.api_url());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_tail_says_who_said_what_where_and_a_refresh_is_a_refresh() {
    let sm = SocketModeServerConfig::default()
        .ping_interval(None)
        .warning_lead(Duration::from_millis(50))
        .refresh_grace(Duration::from_secs(20));
    let emu = Emulator::start(EmulatorConfig::default().socket_mode(sm)).await.expect("emulator");
    let child = socket_cli(&emu, &emu.app_token(), &["socket", "tail", "--count", "3", "--connections", "1"])
        .spawn()
        .unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let (channel, alice) = (emu.general_channel(), emu.second_user().user);
    emu.refresh_socket(SocketTarget::All);
    emu.wait_for_sockets(2, WAIT).await.unwrap();
    // The client lets the old socket go once its replacement serves.
    let deadline = std::time::Instant::now() + WAIT;
    while emu.sockets().iter().filter(|s| s.is_open()).count() != 1 {
        assert!(std::time::Instant::now() < deadline, "the old socket was not closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emu.send_slash_command(&alice, &channel, "/deploy", "staging");
    emu.send_api_event(serde_json::json!({"type": "message", "user": alice.as_str(),
        "channel": channel.as_str(), "text": "hello bot", "ts": "1700000000.000100"}));
    emu.send_block_action(&alice, &channel, "approve", "b1", "yes");
    let out = finish(child).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let line = |needle: &str| {
        stdout.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} line:\n{stdout}"))
    };
    for l in [line("/deploy staging"), line("hello bot"), line("clicked approve (value yes)")] {
        assert!(l.contains(&format!("#{channel}")) && l.contains(alice.as_str()), "who and where: {l}");
    }
    let stderr = text(&out.stderr);
    for debug in ["Session(", "ConnId", "Replacing {", "1 sockets"] {
        assert!(!stderr.contains(debug), "{debug:?} in:\n{stderr}");
    }
    assert!(stderr.contains("Slack will refresh socket"), "{stderr}");
    assert!(!stderr.contains("said goodbye"), "a refresh is not a goodbye:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_tail_failures_are_one_line_and_name_the_missing_scope() {
    let emu = Emulator::start(EmulatorConfig::default()).await.expect("emulator");
    let out = run(socket_cli(&emu, &emu.add_app_token(false), &["socket", "tail"])).await;
    assert_exit(&out, 3);
    stderr_has(&out, "The scope needed: connections:write.");
    assert_eq!(text(&out.stderr).matches("missing_scope").count(), 1, "said once:\n{}", text(&out.stderr));
    let out = run(socket_cli(&emu, "xapp-1-A0-1-nope", &["socket", "tail"])).await;
    assert_exit(&out, 3);
    assert_eq!(text(&out.stderr).matches("invalid_auth").count(), 1, "said once:\n{}", text(&out.stderr));
}

// ---- the standalone emulator ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_hands_out_a_granular_bot_token_and_a_classic_one_for_rtm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = cli(&["emulator"]).spawn().expect("spawn emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut api, mut bot, mut classic, mut channel) = (None, None, None, None);
    while channel.is_none() {
        let line = tokio::time::timeout(LIMIT, lines.next_line()).await.expect("in time").expect("read");
        let line = line.expect("a line");
        let value = |prefix: &str| line.strip_prefix(prefix).map(|v| v.trim().to_owned());
        api = api.or(value("api url"));
        bot = bot.or(value("bot token"));
        classic = classic.or(value("classic token"));
        channel = channel.or(value("channel"));
    }
    let (api, bot, classic, channel) = (api.unwrap(), bot.unwrap(), classic.unwrap(), channel.unwrap());
    let with = |token: &str, args: &[&str]| {
        let mut c = cli(args);
        c.env("SLACK_BOT_TOKEN", token).env("SLACK_API_URL", &api);
        c
    };
    // The default token is refused by RTM, as Slack refuses an app made today…
    let out = run(with(&bot, &["connect"])).await;
    assert_exit(&out, 3);
    stderr_has(&out, "not_allowed_token_type");
    // … and posts through the Web API; the classic one opens RTM.
    assert_exit(&run(with(&bot, &["send", "--channel", &channel, "--text", "hi"])).await, 0);
    assert_exit(&run(with(&classic, &["connect"])).await, 0);
    child.kill().await.expect("kill");
}

// ---- the Socket Mode demo ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_mode_demo_shows_the_bots_replies_and_a_table() {
    let out = run(cli(&["demo", "--socket-mode", "--seconds", "5"])).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    // The bot's answers, in the live stream.
    assert!(stdout.contains("bot, in the ack: Deploying staging"), "{stdout}");
    assert!(stdout.contains("bot, in the thread (chat.postMessage): Hi <@"), "{stdout}");
    // The summary: one row per measure, the bot's count beside the emulator's, no JSON dump.
    let row = |name: &str| -> Vec<String> {
        let line =
            stdout.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name}"));
        line.trim_start()[name.len()..].split_whitespace().map(str::to_owned).collect()
    };
    let acks = row("acks ");
    assert_eq!(acks.len(), 2, "{acks:?}");
    assert_eq!(acks[0], acks[1], "the bot's acks and the emulator's");
    assert!(acks[0].parse::<u64>().is_ok_and(|n| n > 0), "{acks:?}");
    assert!(!stdout.contains("\"emulator\""), "a table, not JSON:\n{stdout}");
    for debug in ["Session(", "ConnId", "sockets serving"] {
        assert!(!stdout.contains(debug), "{debug:?} in:\n{stdout}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_both_protocols_by_default() {
    let out = run(cli(&["demo", "--seconds", "6"])).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let (rtm, socket) = (stdout.find("── RTM"), stdout.find("── Socket Mode"));
    assert!(rtm.is_some() && socket.is_some() && rtm < socket, "both parts, RTM first:\n{stdout}");
    assert!(stdout.contains("replies sent by the bot"), "the RTM summary:\n{stdout}");
    assert!(stdout.contains("the emulator"), "the Socket Mode table:\n{stdout}");

    let out = run(cli(&["demo", "--seconds", "6", "--json"])).await;
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let last: Vec<Value> = stdout
        .lines()
        .rev()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (socket, rtm) = (&last[0], &last[1]);
    assert!(rtm["replies_sent"].as_u64().is_some_and(|n| n >= 1), "{rtm}");
    assert_eq!(socket["bot"]["acks"], socket["emulator"]["acks"], "{socket}");
}
