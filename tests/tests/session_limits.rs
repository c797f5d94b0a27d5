//! The session driver against the emulator over loopback, at its limits: bad and oversized
//! frames, a consumer that stops reading, slow-down replies, shutdown with messages in flight,
//! and what a session costs (one task; it stops when its handles and stream are gone).

use slack_rtm_codec::types::{ClientMessage, Event};
use slack_rtm_emulator::{
    CloseReason, EmulatorConfig, RawFrame, ReplyFault, SendRateLimit as EmuRate, Target,
};
use slack_rtm_session::rtm::SendRate;
use slack_rtm_session::{Reason, SendError, SessionEvent, State, Warning, connect};
use slack_rtm_tests::session::{
    Client, MS, WAIT, driver_config, emulator, no_rate_limit, session_config, transport,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_are_reported_and_skipped() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    emu.send_raw_to_connection(Target::All, RawFrame::malformed_json());
    emu.send_raw_to_connection(Target::All, RawFrame::binary());
    emu.send_raw_to_connection(Target::All, RawFrame::invalid_utf8());
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "still here").expect("posted");
    c.until(
        "the message after the bad frames",
        |e| matches!(e, SessionEvent::Rtm(Event::Message(m)) if m.text.as_deref() == Some("still here")),
    )
    .await;
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Warning(Warning::Undecodable(_)))), 1, "{:#?}", c.log);
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Warning(Warning::BinaryFrame { .. }))), 1);
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Warning(Warning::InvalidUtf8 { .. }))), 1);
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Disconnected { .. })), 0);
    assert_eq!(emu.connection_count(), 1);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_message_is_refused_and_the_session_reconnects() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |d| d.common.max_message_bytes = 64 * 1024);
    c.connected().await;
    // Just under the cap: fine.
    emu.send_raw_to_connection(Target::All, RawFrame::oversized(60 * 1024));
    c.until("the big-but-allowed message", |e| matches!(e, SessionEvent::Rtm(Event::Message(_)))).await;
    emu.send_raw_to_connection(Target::All, RawFrame::oversized(100 * 1024));
    c.until("too large", |e| {
        matches!(e, SessionEvent::Disconnected { reason: Reason::MessageTooLarge { limit: 65536 } })
    })
    .await;
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

/// A connected session whose events channel holds `capacity`, and `n` messages ("flood 0", …)
/// posted to it.
async fn flooded(capacity: usize, n: usize) -> (slack_rtm_emulator::Emulator, Client) {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |d| d.common.capacity = capacity);
    c.connected().await;
    let channel = emu.general_channel();
    let other = emu.second_user();
    for i in 0..n {
        emu.post_message(&channel, &other.user, &format!("flood {i}")).expect("posted");
    }
    (emu, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_stops_reading_slows_the_reader_without_reconnecting() {
    const N: usize = 3000;
    let (emu, mut c) = flooded(64, N).await;
    // Not reading for far longer than the keepalive deadlines (150 + 250 ms).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut got = 0;
    while got < N {
        let e = c.until("the flood", |e| matches!(e, SessionEvent::Rtm(Event::Message(_)))).await;
        if let SessionEvent::Rtm(Event::Message(m)) = e {
            assert_eq!(m.text, Some(format!("flood {got}")), "in order");
        }
        got += 1;
    }
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Disconnected { .. })), 0, "no spurious reconnect");
    assert_eq!(emu.connection_count(), 1);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_messages_in_flight_resolves_everything() {
    let emu = emulator(no_rate_limit()).await;
    let mut config = session_config(&emu);
    config.send_rate = SendRate::new(Duration::from_secs(1), 2);
    let mut c = Client::start(&emu, config, |_| {});
    c.connected().await;
    emu.set_reply_fault(Target::All, ReplyFault::Withhold(100));
    let ch = emu.general_channel();
    let mut pending = Vec::new();
    for i in 0..5 {
        pending.push(
            c.handle.submit(ClientMessage::message(ch.clone(), format!("m{i}"))).await.expect("queued"),
        );
    }
    emu.wait_for_posted_messages(2, WAIT).await.expect("two written");
    let started = Instant::now();
    c.handle.shutdown(Duration::from_millis(300)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(c.handle.state(), State::Stopped);
    let mut outcomes = Vec::new();
    for p in pending {
        outcomes.push(tokio::time::timeout(WAIT, p).await.expect("resolved"));
    }
    // Two were written without an ack: unconfirmed. Three never left: not sent.
    assert_eq!(
        outcomes.iter().filter(|o| matches!(o, Err(SendError::Unconfirmed))).count(),
        2,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Err(SendError::Stopped))).count(), 3, "{outcomes:?}");
    assert_eq!(emu.posted_messages().len(), 2);
    c.drain_to_end().await;
    assert!(
        matches!(
            c.log.last(),
            Some(SessionEvent::Stopped { reason: slack_rtm_session::StopReason::Shutdown })
        ),
        "{:#?}",
        c.log
    );
    emu.wait_for_open_connections(0, WAIT).await.expect("closed");
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::ClientClosed(Some(1000))));
    // Shutting down again is harmless and immediate.
    c.handle.shutdown(Duration::from_secs(5)).await;
    assert!(matches!(c.handle.try_submit(ClientMessage::message(ch, "late")), Err(SendError::Stopped)));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_down_replies_are_absorbed() {
    // The emulator allows 20/s with a burst of 5; we try to send much faster.
    let emu =
        emulator(EmulatorConfig::default().send_rate(Some(EmuRate::new(20.0, 5).disconnect_after(50)))).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    let ch = emu.general_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let h = c.handle.clone();
        let ch = ch.clone();
        tasks.spawn(async move { h.send(ClientMessage::message(ch, format!("s{i}"))).await });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(SendError::Rejected { code: -1, .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(ok >= 15, "most messages eventually went through after slowing down: {ok}");
    let posted: Vec<String> = emu.posted_messages().into_iter().map(|m| m.text).collect();
    assert_eq!(posted.len(), ok);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

/// A program that exits right after `shutdown().await` must still have closed its socket with
/// a close frame: the client runs on its own runtime, dropped (killing every task) as soon as
/// `shutdown` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_only_after_the_close_frame_is_written() {
    let emu = emulator(no_rate_limit()).await;
    let config = session_config(&emu);
    let token = emu.token();
    let api_url = emu.api_url();
    let client_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        rt.block_on(async move {
            let driver = driver_config(&api_url, config, token, transport(None));
            let (handle, mut events) = slack_rtm_session::connect(driver).expect("driver");
            while let Some(ev) = events.recv().await {
                if matches!(ev, SessionEvent::Connected { .. }) {
                    break;
                }
            }
            handle.shutdown(Duration::from_secs(1)).await;
        });
        // Dropping the runtime here aborts whatever the session had not finished.
        drop(rt);
    });
    tokio::task::spawn_blocking(move || client_thread.join().expect("client thread")).await.expect("join");
    emu.wait_for_open_connections(0, WAIT).await.expect("closed");
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::ClientClosed(Some(1000))));
    emu.shutdown().await;
}

/// A `message` frame of exactly `len` bytes.
fn message_of_len(len: usize) -> String {
    let head = r#"{"type":"message","channel":"C1","user":"U1","ts":"1.000001","text":""#;
    let tail = r#""}"#;
    let pad = len - head.len() - tail.len();
    format!("{head}{}{tail}", "x".repeat(pad))
}

/// The cap on a message applies to the whole reassembled message, at the exact byte: a message
/// of exactly the limit is delivered, one byte more is refused — whether it came in one frame or
/// in many fragments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_size_limit_is_exact_for_single_and_fragmented_messages() {
    const LIMIT: usize = 32 * 1024;
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |d| d.common.max_message_bytes = LIMIT);
    c.connected().await;
    type MakeFrame = fn(String) -> RawFrame;
    let cases: [(&str, MakeFrame); 2] = [
        ("single frame", RawFrame::text),
        ("fragments", |m| RawFrame::Fragmented { payload: m.into(), chunk: 1000 }),
    ];
    for (what, frame) in cases {
        let at_limit = message_of_len(LIMIT);
        emu.send_raw_to_connection(Target::All, frame(at_limit.clone()));
        c.until(&format!("{what}: a message of exactly the limit"), |e| {
            matches!(e, SessionEvent::Rtm(Event::Message(m)) if m.text.as_ref().is_some_and(|t| t.len() + 71 == LIMIT))
        })
        .await;
        emu.send_raw_to_connection(Target::All, frame(message_of_len(LIMIT + 1)));
        c.until(&format!("{what}: one byte over"), |e| {
            matches!(e, SessionEvent::Disconnected { reason: Reason::MessageTooLarge { limit } } if *limit == LIMIT)
        })
        .await;
        c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    }
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

/// A connected session is one task on the application's runtime: the socket reader is a
/// future the loop task polls, not a task of its own. (The emulator and the HTTP transport's
/// connection pool run on another runtime, so they are not counted.)
#[test]
fn a_connected_session_is_one_task() {
    let other = tokio::runtime::Runtime::new().expect("runtime");
    let emu = other.block_on(emulator(no_rate_limit()));
    let hyper = transport(None);
    let pool = other.handle().clone();
    let remote = move |request: http::Request<Vec<u8>>| {
        let (hyper, pool) = (hyper.clone(), pool.clone());
        async move {
            match pool.spawn(async move { hyper.send_boxed(request).await }).await {
                Ok(result) => result.map_err(std::io::Error::other),
                Err(join) => Err(std::io::Error::other(join)),
            }
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        let dc = driver_config(&emu.api_url(), session_config(&emu), emu.token(), Arc::new(remote));
        let (handle, mut events) = connect(dc).expect("driver starts");
        let connected = tokio::time::timeout(WAIT, async {
            while let Some(e) = events.recv().await {
                if matches!(e, SessionEvent::Connected { .. }) {
                    return true;
                }
            }
            false
        });
        assert!(connected.await.expect("connected in time"));
        // An event through the socket: the reader is running.
        emu.send_event_text(Target::All, r#"{"type":"user_typing","channel":"C1","user":"U1"}"#);
        let typing = tokio::time::timeout(WAIT, async {
            while let Some(e) = events.recv().await {
                if matches!(e, SessionEvent::Rtm(Event::UserTyping(_))) {
                    return true;
                }
            }
            false
        });
        assert!(typing.await.expect("event in time"));
        assert_eq!(metrics.num_alive_tasks() - before, 1, "tasks alive for one connected session");
        handle.shutdown(Duration::from_secs(1)).await;
    });
    drop(emu);
}

/// The session stops when every handle and the event stream are gone, whichever goes last:
/// here the handle first, then (later, while connected) the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_then_the_stream_stops_the_session() {
    for stream_first in [false, true] {
        let emu = emulator(no_rate_limit()).await;
        let mut c = Client::start(&emu, session_config(&emu), |_| {});
        c.connected().await;
        emu.wait_for_open_connections(1, WAIT).await.expect("connected");
        let Client { handle, events, .. } = c;
        if stream_first {
            drop(events);
            tokio::time::sleep(50 * MS).await;
            drop(handle);
        } else {
            drop(handle);
            tokio::time::sleep(50 * MS).await;
            drop(events);
        }
        emu.wait_for_open_connections(0, WAIT).await.expect("the session closed its socket");
    }
}

/// The hand-off to the application holds what its capacity says, in events: a turn reads up to
/// 256 frames, and before the batches were cut at 64 the channel (counted in batches) held four
/// times its capacity — megabytes of Slack-shaped events in a busy session. Current-thread
/// runtime: while the test counts without yielding, the loop cannot refill the channel.
#[tokio::test]
async fn a_consumer_that_stops_reading_has_at_most_capacity_events_waiting() {
    const CAPACITY: usize = 128;
    const N: usize = 3000;
    let (emu, mut c) = flooded(CAPACITY, N).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut texts = Vec::new();
    let mut waiting = 0;
    while let Some(e) = c.events.try_recv() {
        waiting += 1;
        if let SessionEvent::Rtm(Event::Message(m)) = e {
            texts.push(m.text.unwrap_or_default());
        }
    }
    let flood = texts.len();
    assert!(waiting >= flood);
    assert!(flood >= CAPACITY / 2, "the loop filled the channel: {flood}");
    assert!(flood <= CAPACITY, "{flood} messages waiting for a capacity of {CAPACITY}");
    // Nothing was lost meanwhile: the rest arrives, in order.
    while texts.len() < N {
        if let SessionEvent::Rtm(Event::Message(m)) =
            c.until("the flood", |e| matches!(e, SessionEvent::Rtm(Event::Message(_)))).await
        {
            texts.push(m.text.unwrap_or_default());
        }
    }
    let expected: Vec<String> = (0..N).map(|i| format!("flood {i}")).collect();
    assert_eq!(texts, expected);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

/// The hand-off is bounded in bytes as well as in events: with room for 4,096 events but only
/// 32 KiB, a consumer that stops reading has at most 32 KiB of frames waiting, plus what the
/// loop had already read when it got there (one reader batch, at most 64 frames) — never the
/// megabytes 3,000 large messages weigh; then everything arrives, in order, and the bytes
/// waiting stay within that bound the whole time.
async fn bytes_waiting_stay_within_the_byte_budget() {
    const BUDGET: usize = 32 * 1024;
    const N: usize = 3000;
    const TEXT: usize = 1000;
    // A frame is the text and the message's other fields (type, channel, user, ts, …):
    // 1,153 bytes here.
    const FRAME_MAX: usize = TEXT + 300;
    const BOUND: usize = BUDGET + 64 * FRAME_MAX;
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |d| {
        d.common.capacity = 4096;
        d.common.capacity_bytes = BUDGET;
    });
    c.connected().await;
    let (channel, other) = (emu.general_channel(), emu.second_user());
    let pad = "x".repeat(TEXT);
    for i in 0..N {
        emu.post_message(&channel, &other.user, &format!("{i:05} {pad}")).expect("posted");
    }
    // Not reading for far longer than the keepalive deadlines (150 + 250 ms).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = c.events.queued_bytes();
    assert!(waiting >= BUDGET, "the loop filled the budget: {waiting} bytes waiting");
    assert!(waiting <= BOUND, "{waiting} bytes waiting for a budget of {BUDGET} (bound {BOUND})");
    let mut got = 0;
    while got < N {
        let e = c.until("the flood", |e| matches!(e, SessionEvent::Rtm(Event::Message(_)))).await;
        if let SessionEvent::Rtm(Event::Message(m)) = e {
            assert_eq!(m.text.as_deref().map(|t| &t[..5]), Some(format!("{got:05}").as_str()), "in order");
        }
        let waiting = c.events.queued_bytes();
        assert!(waiting <= BOUND, "{waiting} bytes waiting after {got} messages (bound {BOUND})");
        got += 1;
    }
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Disconnected { .. })), 0, "no spurious reconnect");
    assert_eq!(emu.connection_count(), 1);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test]
async fn bytes_waiting_stay_within_the_byte_budget_on_the_current_thread_runtime() {
    bytes_waiting_stay_within_the_byte_budget().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_waiting_stay_within_the_byte_budget_on_the_multi_thread_runtime() {
    bytes_waiting_stay_within_the_byte_budget().await;
}
