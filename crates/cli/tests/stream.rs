//! `slack-rtm stream` end to end: the binary pipes its standard input into a streamed reply
//! on an emulator in the test process (loopback only).

mod common;

use common::*;
use slack_rtm::emulator::StreamLimits;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_arriving_over_several_stream_lifetimes_is_posted_whole_in_order() {
    let emu = emulator().await;
    // Streams die after 700 ms: the input (about 2.5 s) outlives several.
    emu.set_stream_limits(StreamLimits::new(Duration::from_millis(700), 40_000));
    let general = emu.general_channel();
    let user = emu.second_user().user;
    let parent = emu.post_message(&general, &user, "tell me a story").unwrap();
    let mut cmd = cli_for(
        &emu,
        &["stream", "--channel", general.as_str(), "--thread", parent.as_str(), "--recipient", user.as_str()],
    );
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut expected = String::new();
    for i in 0..25 {
        // Pieces that do not end on word or character boundaries.
        let piece = format!("línea {i} del cuento ✓\n");
        let bytes = piece.as_bytes();
        stdin.write_all(&bytes[..bytes.len() - 2]).await.unwrap();
        stdin.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stdin.write_all(&bytes[bytes.len() - 2..]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        expected.push_str(&piece);
    }
    drop(stdin);
    let out = finish(child).await;
    assert_exit(&out, 0);
    no_secret(&out, &emu.token());
    let streamed = emu.streamed_messages();
    assert!(streamed.len() >= 2, "outlived a stream: {}", streamed.len());
    let printed: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(printed, streamed.iter().map(|m| m.ts.clone()).collect::<Vec<_>>());
    assert_eq!(streamed.iter().map(|m| m.text.as_str()).collect::<String>(), expected);
    assert!(streamed.iter().all(|m| !m.streaming && m.thread_ts.as_deref() == Some(parent.as_str())));
    assert_eq!(streamed[0].recipient_user_id.as_deref(), Some(user.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_exits_non_zero_when_the_text_could_not_be_posted() {
    let emu = emulator().await;
    let mut cmd = cli_for(&emu, &["stream", "--channel", "C404"]);
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"nobody will read this, the channel does not exist").await.unwrap();
    drop(stdin);
    let out = finish(child).await;
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("channel_not_found"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty());
}
