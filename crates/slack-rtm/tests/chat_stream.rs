//! `ChatStream` against the emulator over loopback: replies longer than a stream's lifetime
//! and its maximum length, 429s during appends, cancellation, and the assistant methods.

use slack_rtm::rtm::Event;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::types::Ts;
use slack_rtm::types::event::{Message, MessageSubtype};
use slack_rtm::types::web::{RepliesQuery, SuggestedPrompt};
use slack_rtm::web::StreamConfig;
use slack_rtm::{Client, WebClient};
use slack_rtm_emulator::{Emulator, EmulatorConfig, RateLimit, Rejection, StreamLimits};
use std::collections::HashMap;
use std::time::Duration;

fn web(emu: &Emulator) -> WebClient {
    Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .build_web()
        .unwrap()
}

/// Fast pacing so tests run in about a second.
fn fast() -> StreamConfig {
    StreamConfig {
        first_delay: Duration::from_millis(20),
        append_interval: Duration::from_millis(40),
        ..StreamConfig::default()
    }
}

fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("word{i} ")).collect()
}

/// Feeds `pieces` into a new reply, one every `gap`, then finishes it.
async fn stream(
    web: &WebClient,
    emu: &Emulator,
    parent: &Ts,
    config: StreamConfig,
    pieces: &[String],
    gap: Duration,
) -> slack_rtm::web::StreamReport {
    let general = emu.general_channel();
    let mut reply = web
        .chat_stream(general)
        .in_thread(parent.clone())
        .recipient(emu.second_user().user, Some(emu.team().id))
        .config(config)
        .start();
    for p in pieces {
        reply.append(p.clone()).await.unwrap();
        tokio::time::sleep(gap).await;
    }
    reply.finish(None).await.expect("all of it posted")
}

/// The reply's text as history shows it: the thread's replies by the bot, in order.
async fn thread_text(web: &WebClient, emu: &Emulator, parent: &Ts) -> String {
    let mut pages = web.replies(RepliesQuery::new(emu.general_channel(), parent.clone()));
    let mut text = String::new();
    while let Some(page) = pages.next().await {
        for m in page.unwrap().messages {
            if m.user.as_ref() == Some(&emu.bot_user()) {
                text.push_str(m.text.as_deref().unwrap_or(""));
            }
        }
    }
    text
}

#[tokio::test]
async fn a_reply_longer_than_the_streams_lifetime_arrives_whole_and_in_order_everywhere() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.set_stream_limits(StreamLimits::new(Duration::from_millis(400), 40_000));
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .proxy_from_env(false)
        .connect()
        .await
        .unwrap();
    let web = client.web().clone();
    let parent = emu.post_message(&emu.general_channel(), &emu.second_user().user, "explain it all").unwrap();
    let pieces = words(300);
    let report = stream(&web, &emu, &parent, fast(), &pieces, Duration::from_millis(4)).await;
    let expected: String = pieces.concat();
    assert!(report.messages.len() >= 2, "one stream cannot hold it: {report:?}");
    assert_eq!(report.chars, expected.chars().count());
    // Each streamed message as the emulator kept it: ended, and together the whole text.
    let streamed = emu.streamed_messages();
    assert_eq!(
        streamed.iter().map(|m| m.ts.clone()).collect::<Vec<_>>(),
        report.messages.iter().map(|t| t.to_string()).collect::<Vec<_>>()
    );
    assert!(streamed.iter().all(|m| !m.streaming));
    assert!(
        streamed.iter().all(|m| m.recipient_user_id.as_ref() == Some(&emu.second_user().user.to_string()))
    );
    assert_eq!(streamed.iter().map(|m| m.text.as_str()).collect::<String>(), expected);
    // History shows it once, in order.
    assert_eq!(thread_text(&web, &emu, &parent).await, expected);
    // RTM listeners see each message's final text (message_changed).
    let mut finals: HashMap<String, String> = HashMap::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while finals.len() < report.messages.len() {
            if let Some(SessionEvent::Rtm(Event::Message(m))) = events.next().await
                && m.subtype == Some(MessageSubtype::MessageChanged)
                && let Some(inner) = m.message.as_deref()
            {
                let inner: &Message = inner;
                if let (Some(ts), Some(text)) = (&inner.ts, &inner.text) {
                    finals.insert(ts.to_string(), text.clone());
                }
            }
        }
    })
    .await;
    let seen: String =
        report.messages.iter().map(|t| finals.get(t.as_str()).cloned().unwrap_or_default()).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn a_reply_longer_than_the_maximum_length_arrives_whole_and_in_order() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.set_stream_limits(StreamLimits::new(Duration::from_secs(300), 500));
    let web = web(&emu);
    let parent = emu.post_message(&emu.general_channel(), &emu.second_user().user, "a long one").unwrap();
    // Refused (learned from msg_too_long), and proactively (configured) — both whole.
    for config in [fast(), StreamConfig { max_message_chars: 450, ..fast() }] {
        let before = emu.streamed_messages().len();
        let pieces = words(250);
        let report = stream(&web, &emu, &parent, config, &pieces, Duration::from_millis(1)).await;
        let streamed = &emu.streamed_messages()[before..];
        assert!(streamed.len() >= 4, "{}", streamed.len());
        assert!(streamed.iter().all(|m| m.text.chars().count() <= 500));
        assert_eq!(streamed.iter().map(|m| m.text.as_str()).collect::<String>(), pieces.concat());
        assert_eq!(report.messages.len(), streamed.len());
    }
    let refused = emu
        .web_calls_of("chat.appendStream")
        .iter()
        .filter(|c| c.error.as_deref() == Some("msg_too_long"))
        .count();
    assert!(refused >= 1, "the first run learns the limit from Slack's refusal");
}

#[tokio::test]
async fn rate_limited_appends_lose_nothing_and_coalescing_keeps_calls_few() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu).without_pacing();
    let parent = emu.post_message(&emu.general_channel(), &emu.second_user().user, "go").unwrap();
    // A tight limit: 5 appends a second, and two scripted 429s on top.
    emu.set_web_rate_limit("chat.appendStream", Some(RateLimit::new(5, Duration::from_secs(1))));
    emu.reject_next_web_calls(
        "chat.appendStream",
        2,
        Rejection::RateLimited { retry_after: Duration::from_secs(1) },
    );
    let pieces = words(400);
    let config = StreamConfig { append_interval: Duration::from_millis(10), ..fast() };
    let report = stream(&web, &emu, &parent, config, &pieces, Duration::from_millis(2)).await;
    let limited = emu.web_calls_of("chat.appendStream").iter().filter(|c| c.status == 429).count();
    assert!(limited >= 1, "the limit was hit");
    assert_eq!(thread_text(&web, &emu, &parent).await, pieces.concat());
    assert_eq!(report.chars, pieces.concat().chars().count());
    // Coalesced: far fewer appends than pieces, each recorded with its time.
    let appends = emu.web_calls_of("chat.appendStream");
    assert!(appends.len() < pieces.len() / 4, "{} appends", appends.len());
    assert!(appends.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn a_cancelled_or_dropped_reply_stops_cleanly_with_what_was_sent() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu);
    let parent = emu.post_message(&emu.general_channel(), &emu.second_user().user, "go").unwrap();
    let mut reply = web.chat_stream(emu.general_channel()).in_thread(parent.clone()).config(fast()).start();
    reply.append("The first part of the answer is here. ").await.unwrap();
    let ts = reply.wait_ts().await.expect("started");
    assert_eq!(reply.ts(), Some(ts.clone()));
    let report = reply.cancel().await.unwrap();
    assert!(report.cancelled);
    let m = emu.streamed_messages().into_iter().find(|m| m.ts == ts.as_str()).unwrap();
    assert!(!m.streaming, "stopped");
    assert_eq!(m.text, "The first part of the answer is here. ");

    // Dropped: its task stops the message by itself.
    let mut reply = web.chat_stream(emu.general_channel()).in_thread(parent).config(fast()).start();
    reply.append("Half an answer, then the task was aborted").await.unwrap();
    let ts = reply.wait_ts().await.unwrap();
    drop(reply);
    let stopped = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if emu.streamed_messages().iter().any(|m| m.ts == ts.as_str() && !m.streaming) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(stopped.is_ok(), "a dropped reply is stopped");
    assert_eq!(emu.web_calls_of("chat.stopStream").len(), 2);
}

#[tokio::test]
async fn a_piped_stream_and_finishing_blocks_and_the_assistant_methods() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let web = web(&emu);
    let user = emu.second_user().user;
    let dm = emu.general_channel();
    let thread = emu.start_assistant_thread(&user, &dm, None);
    web.set_status(dm.clone(), thread.clone(), "is thinking…", &["Reading", "Writing"]).await.unwrap();
    let t = emu.assistant_thread(&dm, &thread).unwrap();
    assert_eq!(t.status.as_deref(), Some("is thinking…"));
    assert_eq!(t.loading_messages, ["Reading", "Writing"]);
    web.set_suggested_prompts(dm.clone(), thread.clone(), vec![SuggestedPrompt::new("Hi", "Say hi")], None)
        .await
        .unwrap();
    web.set_title(dm.clone(), thread.clone(), "Greetings").await.unwrap();
    let pieces = words(50);
    let mut reply = web.chat_stream(dm.clone()).in_thread(thread.clone()).config(fast()).start();
    reply.pipe(SliceStream(pieces.clone().into())).await.unwrap();
    let blocks = serde_json::json!([{"type": "context_actions", "elements": []}]);
    let report = reply.finish(Some(blocks.clone())).await.unwrap();
    let m = emu.streamed_messages().into_iter().find(|m| m.ts == report.messages[0].as_str()).unwrap();
    assert_eq!(m.text, pieces.concat());
    assert_eq!(m.blocks, Some(blocks));
    let t = emu.assistant_thread(&dm, &thread).unwrap();
    assert_eq!(t.status, None, "replying clears the status");
    assert_eq!(t.prompts, [("Hi".to_owned(), "Say hi".to_owned())]);
    assert_eq!(t.title.as_deref(), Some("Greetings"));
    // Too many prompts is Slack's error.
    let five = (0..5).map(|i| SuggestedPrompt::new(format!("{i}"), "x")).collect();
    let err = web.set_suggested_prompts(dm, thread, five, None).await.unwrap_err();
    assert_eq!(err.api_error().map(|e| e.as_str().to_owned()), Some("invalid_arguments".into()));
}

/// A minimal `Stream` over owned strings, as an LLM client's stream would be.
struct SliceStream(std::collections::VecDeque<String>);

impl futures_core::Stream for SliceStream {
    type Item = String;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<String>> {
        std::task::Poll::Ready(self.0.pop_front())
    }
}
