//! The client handle against the emulator over loopback.
#![cfg(feature = "hyper")]

use slack_rtm::Client;
use slack_rtm::transport::HyperTransport;
use slack_rtm_emulator::{Emulator, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A task that only sends (it dropped `Events`) still sees who the bot is after a reconnect:
/// here the second `rtm.connect` answers with another bot name, and `self_info()` follows.
#[tokio::test]
async fn self_info_follows_reconnects_without_reading_events() {
    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let inner = Arc::new(HyperTransport::builder().allow_http(true).build().expect("transport"));
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    // The emulator's answer, with the bot renamed from the second call on.
    let transport = move |req: http::Request<Vec<u8>>| {
        let inner = inner.clone();
        let n = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            let response = inner.send(req).await?;
            if n == 0 {
                return Ok::<_, slack_rtm_hyper::TransportError>(response);
            }
            let (parts, body) = response.into_parts();
            let mut json: serde_json::Value = serde_json::from_slice(&body).expect("json");
            json["self"]["name"] = "renamed-bot".into();
            Ok(http::Response::from_parts(parts, serde_json::to_vec(&json).expect("json")))
        }
    };
    let (client, events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .transport(transport)
        .connect()
        .await
        .expect("connected");
    let first = client.self_info().expect("known after connect");
    assert_ne!(first.name, "renamed-bot");
    drop(events);

    emu.goodbye(Target::All);
    let mut renamed = false;
    for _ in 0..100 {
        if client.self_info().is_some_and(|s| s.name == "renamed-bot") {
            renamed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(calls.load(Ordering::SeqCst) >= 2, "the session reconnected");
    assert!(renamed, "self_info() is stale: {:?}", client.self_info());
    assert_eq!(client.self_info().map(|s| s.id), Some(first.id));
    client.shutdown().await;
    emu.shutdown().await;
}

/// `Events` is a `futures_core::Stream`: polled as one, it yields the same events as `next()`,
/// and ends (`None`) after `Stopped`.
#[tokio::test]
async fn events_is_a_stream_that_ends_after_stopped() {
    use futures_core::Stream;
    use slack_rtm::rtm::Event;
    use slack_rtm::rtm::SessionEvent;
    use std::pin::Pin;

    /// `StreamExt::next` without the extra crate.
    async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
        std::future::poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
    }

    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let (client, mut events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connect()
        .await
        .expect("connected");
    let ts = emu
        .post_message(&emu.general_channel(), &emu.second_user().user, "through the stream")
        .expect("posted");
    let mut seen = Vec::new();
    let message = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = next(&mut events).await {
            if let SessionEvent::Rtm(Event::Message(m)) = &e {
                return Some(m.clone());
            }
            seen.push(e);
        }
        None
    })
    .await
    .expect("in time")
    .expect("a message");
    assert_eq!(message.ts, Some(ts));
    assert_eq!(message.text.as_deref(), Some("through the stream"));
    assert!(matches!(seen.first(), Some(SessionEvent::Connecting)), "from the first event on: {seen:?}");

    client.shutdown().await;
    let mut last = None;
    while let Some(e) = next(&mut events).await {
        last = Some(e);
    }
    assert!(
        matches!(last, Some(SessionEvent::Stopped { reason: slack_rtm::StopReason::Shutdown })),
        "{last:?}"
    );
    assert!(next(&mut events).await.is_none(), "stays ended");
    emu.shutdown().await;
}

/// `SendMessage`'s future (`SendMessageFuture`, unboxed) keeps the queue's guarantees: with a
/// queue of one, a second send waits for room; one dropped before its first poll, or while it
/// waits for room, is never sent; the others are posted once each, in order.
#[tokio::test]
async fn send_message_futures_wait_for_room_and_dropped_ones_send_nothing() {
    use std::future::{Future, IntoFuture};
    use std::pin::Pin;
    use std::task::Poll;

    /// Polls once with the test's own waker.
    async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *f).poll(cx))).await
    }

    let emu = Emulator::start(Default::default()).await.expect("emulator");
    let mut config = slack_rtm::rtm::SessionConfig::default();
    config.sending.queue_capacity = 1;
    let (client, _events) = Client::builder(emu.token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .session_config(config)
        .connect()
        .await
        .expect("connected");
    let ch = emu.general_channel();

    let mut one: slack_rtm::rtm::SendMessageFuture = client.send_message(ch.clone(), "one").into_future();
    let mut two = client.send_message(ch.clone(), "two").into_future();
    let never_polled = client.send_message(ch.clone(), "never polled").into_future();
    // `one` takes the only place in the queue; `two` has to wait for room.
    assert!(poll_once(&mut one).await.is_pending());
    assert!(poll_once(&mut two).await.is_pending());
    drop(two);
    drop(never_polled);
    // The place `one` holds comes back with its ack, and a later send gets it.
    let first = one.await.expect("posted");
    let later = client.send_message(ch.clone(), "later").await.expect("posted");
    assert!(first.ts.is_some() && later.ts.is_some() && first.ts != later.ts);
    // An invalid one fails at once, whatever the queue.
    let invalid = client.send_message(ch.clone(), "").await;
    assert!(matches!(invalid, Err(slack_rtm::rtm::SendError::Invalid(_))), "{invalid:?}");

    let texts: Vec<String> = emu.posted_messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["one", "later"]);
    client.shutdown().await;
    emu.shutdown().await;
}
