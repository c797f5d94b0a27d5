//! The session driver against the emulator over loopback: what the application saw, and what
//! the emulator recorded — traffic, reconnects (goodbye, drops, stalls, expired URLs, 429s),
//! fatal errors, TLS, presence subscriptions, the token. Bad and oversized frames, a slow
//! consumer, slow-down replies and shutdown are in `session_limits.rs`.

use slack_rtm_codec::types::{ApiError, ClientMessage};
use slack_rtm_emulator::{CloseReason, HelloMode, Rejection, Target};
use slack_rtm_session::{Reason, RtmAck, SendError, SessionEvent, State, StopReason, connect};
use slack_rtm_tests::session::{
    Client, MS, WAIT, driver_config, each_once, emulator, eventually, no_rate_limit, session_config,
    transport,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_conversation_every_message_acked_and_posted_once() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    let channel = emu.general_channel();
    const N: usize = 300;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..N {
        let h = c.handle.clone();
        let ch = channel.clone();
        tasks.spawn(async move { (i, h.send(ClientMessage::message(ch, format!("msg {i}"))).await) });
    }
    let mut ts = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (i, result) = r.expect("task");
        match result {
            Ok(RtmAck::Posted { ts: Some(t), text }) => {
                assert_eq!(text.as_deref(), Some(format!("msg {i}").as_str()));
                ts.push(t);
            }
            other => panic!("message {i}: {other:?}"),
        }
    }
    ts.sort();
    ts.dedup();
    assert_eq!(ts.len(), N, "every ack has its own ts");
    let posted: Vec<String> = emu.posted_messages().into_iter().map(|m| m.text).collect();
    assert_eq!(posted.len(), N);
    each_once(&posted, (0..N).map(|i| format!("msg {i}")));
    // Wire ids on the connection: positive and unique.
    let ids: Vec<u64> = emu.received_frames().iter().filter_map(|f| f.json()?["id"].as_u64()).collect();
    assert!(ids.iter().all(|i| *i > 0));
    let mut uniq = ids.clone();
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(uniq.len(), ids.len());
    assert_eq!(emu.connection_count(), 1);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goodbye_reconnects_without_losing_or_duplicating() {
    let emu = emulator(no_rate_limit().goodbye_grace(Some(Duration::from_millis(500)))).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    let channel = emu.general_channel();
    let other = emu.second_user();
    // Traffic both ways across the goodbye.
    let sender = {
        let h = c.handle.clone();
        let ch = channel.clone();
        tokio::spawn(async move {
            let mut results = Vec::new();
            for i in 0..40 {
                results.push((i, h.send(ClientMessage::message(ch.clone(), format!("out {i}"))).await));
                tokio::time::sleep(5 * MS).await;
            }
            results
        })
    };
    let mut expected = Vec::new();
    for i in 0..40 {
        if i == 15 {
            // The new connection's hello comes late: events meanwhile reach both sockets.
            emu.set_hello(HelloMode::Delay(Duration::from_millis(100)));
            assert_eq!(emu.goodbye(Target::All), 1);
        }
        let text = format!("in {i}");
        emu.post_message(&channel, &other.user, &text).expect("posted");
        expected.push(text);
        tokio::time::sleep(5 * MS).await;
    }
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    let results = sender.await.expect("sender");
    c.drain_for(Duration::from_millis(500)).await;

    // Events: each once, none lost (the old socket served until the new one said hello).
    let texts: Vec<String> = c.message_texts().into_iter().filter(|t| t.starts_with("in ")).collect();
    assert_eq!(texts.len(), expected.len(), "{texts:?}");
    each_once(&texts, expected);
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Gap { .. })), 0, "make-before-break: no gap");
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Disconnected { .. })), 0);
    assert!(c.log.iter().any(|e| matches!(e, SessionEvent::Reconnecting { reason: Reason::Goodbye, .. })));
    // Sends: every one resolved; posted ones exactly once.
    let posted: Vec<String> = emu.posted_messages().into_iter().map(|m| m.text).collect();
    for (i, r) in &results {
        let text = format!("out {i}");
        let n = posted.iter().filter(|p| **p == text).count();
        match r {
            Ok(_) => assert_eq!(n, 1, "{text}"),
            Err(e) if e.may_have_been_posted() => assert!(n <= 1, "{text}"),
            Err(e) => panic!("{text}: {e:?}"),
        }
    }
    // The old connection was closed by us, normally, after the new one was up.
    let conns = emu.connections();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0].close_reason, Some(CloseReason::ClientClosed(Some(1000))), "{conns:#?}");
    assert!(conns[1].is_open());
    assert!(conns[1].opened_at < conns[0].closed_at.expect("closed"));
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_tcp_reconnects_and_replays_what_was_not_written() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    assert_eq!(emu.drop_connection(Target::All), 1);
    c.until("Disconnected", |e| matches!(e, SessionEvent::Disconnected { .. })).await;
    // Sent while down: queued, then written once after the next hello.
    let h = c.handle.clone();
    let ch = emu.general_channel();
    let pending = tokio::spawn(async move { h.send(ClientMessage::message(ch, "while down")).await });
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    c.until("the gap marker", |e| matches!(e, SessionEvent::Gap { .. })).await;
    assert!(matches!(pending.await.expect("task"), Ok(RtmAck::Posted { .. })));
    let posted: Vec<String> = emu.posted_messages().into_iter().map(|m| m.text).collect();
    assert_eq!(posted, vec!["while down".to_owned()]);
    assert_eq!(emu.connection_count(), 2);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_server_is_detected_by_the_keepalive() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    // Healthy keepalive first: pings are answered, nothing happens for a while.
    c.drain_for(Duration::from_millis(600)).await;
    assert_eq!(c.count(|e| matches!(e, SessionEvent::Disconnected { .. })), 0, "{:#?}", c.log);
    let pings = emu.received_frames().iter().filter(|f| f.message_type().as_deref() == Some("ping")).count();
    assert!(pings >= 2, "idle pings were sent: {pings}");
    let started = Instant::now();
    assert_eq!(emu.stall_connection(Target::All, true), 1);
    c.until("keepalive timeout", |e| {
        matches!(e, SessionEvent::Disconnected { reason: Reason::KeepaliveTimeout })
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "detected in {took:?}");
    c.connected().await;
    assert_eq!(emu.connection_count(), 2);
    // Once the server reads again, it finds the stalled connection closed by the client.
    emu.stall_connection(Target::All, false);
    emu.wait_for_open_connections(1, WAIT).await.expect("the stalled connection was closed by the client");
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_url_gets_a_fresh_one() {
    let emu = emulator(no_rate_limit()).await;
    emu.reject_next_connects(1, Rejection::ExpiredUrl);
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    assert!(
        c.log.iter().any(|e| matches!(
            e,
            SessionEvent::Reconnecting {
                reason: Reason::ServerError { code: 1, .. } | Reason::Closed { .. },
                ..
            }
        )),
        "{:#?}",
        c.log
    );
    assert_eq!(emu.rtm_connect_call_count(), 2);
    assert_eq!(emu.expired_socket_attempts(), 1);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_reconnect_waits_for_retry_after() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    emu.reject_next_connects(1, Rejection::RateLimited { retry_after: Duration::from_secs(1) });
    emu.drop_connection(Target::All);
    let e = c
        .until("the 429", |e| {
            matches!(e, SessionEvent::Reconnecting { reason: Reason::ConnectFailed(_), .. })
        })
        .await;
    match e {
        SessionEvent::Reconnecting { reason: Reason::ConnectFailed(f), delay, .. } => {
            assert_eq!(f.api_error, Some(ApiError::Ratelimited));
            assert!(delay >= Duration::from_secs(1));
        }
        other => panic!("{other:?}"),
    }
    c.connected().await;
    let calls = emu.rtm_connect_calls();
    let n = calls.len();
    assert_eq!(n, 3, "{calls:#?}");
    assert_eq!(calls[1].status, 429);
    let waited = calls[2].at.duration_since(calls[1].at);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_error_stops_without_looping() {
    let emu = emulator(no_rate_limit()).await;
    assert!(emu.set_token_active(&emu.token(), false));
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    let e = c.until("Stopped", |e| matches!(e, SessionEvent::Stopped { .. })).await;
    match e {
        SessionEvent::Stopped { reason: f @ StopReason::InvalidAuth(_) } => {
            assert_eq!(f.api_error(), Some(&ApiError::AccountInactive));
        }
        other => panic!("{other:?}"),
    }
    c.drain_to_end().await;
    assert_eq!(c.handle.state(), State::Stopped);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(emu.rtm_connect_call_count(), 1, "no retry loop after account_inactive");
    assert!(matches!(c.handle.send(ClientMessage::message("C1", "x")).await, Err(SendError::Stopped)));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_over_tls() {
    let emu = emulator(no_rate_limit().tls(true)).await;
    let tls = Arc::new(emu.tls_client_config().expect("tls config"));
    let config = session_config(&emu);
    let mut dc = driver_config(&emu.api_url(), config, emu.token(), transport(Some(tls.clone())));
    dc.common.tls = Some(tls);
    let (handle, events) = connect(dc).expect("driver");
    let mut c = Client { handle, events, log: Vec::new() };
    c.connected().await;
    let ack = c.handle.send(ClientMessage::message(emu.general_channel(), "over tls")).await;
    assert!(matches!(ack, Ok(RtmAck::Posted { .. })), "{ack:?}");
    c.handle.shutdown(Duration::from_secs(1)).await;
    c.drain_to_end().await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_subscription_survives_reconnects() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    let other = emu.second_user().user;
    let ack = c.handle.send(ClientMessage::PresenceSub { ids: vec![other.clone()] }).await;
    assert_eq!(ack, Ok(RtmAck::Written));
    let subs = || -> Vec<_> {
        emu.received_frames()
            .into_iter()
            .filter(|f| f.message_type().as_deref() == Some("presence_sub"))
            .map(|f| f.conn)
            .collect()
    };
    // "Written" means handed to the kernel: wait until the emulator has read it.
    eventually("one presence subscription", || subs().len() == 1).await;
    emu.drop_connection(Target::All);
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    eventually("a second presence subscription", || subs().len() >= 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let subs = subs();
    assert_eq!(subs.len(), 2, "once per connection: {subs:?}");
    assert_ne!(subs[0], subs[1]);
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_urls_or_events() {
    let emu = emulator(no_rate_limit()).await;
    let token = emu.token();
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    emu.drop_connection(Target::All);
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    c.handle.shutdown(Duration::from_secs(1)).await;
    c.drain_to_end().await;
    assert_eq!(emu.tokens_seen_in_urls(), 0);
    assert!(emu.rtm_connect_calls().iter().all(|call| call.bearer && !call.token_in_url));
    let secret_part = token.split('-').next_back().expect("token");
    assert!(!format!("{:?}", c.log).contains(secret_part));
    emu.shutdown().await;
}
