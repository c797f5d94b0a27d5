//! The session driver against the emulator over loopback: what the application saw, and what
//! the emulator recorded.

use slack_rtm_codec::types::{ApiError, ClientMessage, Event};
use slack_rtm_codec::{ConnectConfig, DynHttpTransport, Token};
use slack_rtm_emulator::{
    CloseReason, Emulator, EmulatorConfig, HelloMode, RawFrame, Rejection, ReplyFault, SendRate as EmuRate,
    Target,
};
use slack_rtm_hyper::HyperTransport;
use slack_rtm_session::machine::{KeepaliveConfig, ReconnectPolicy, SendRate, Timeouts};
use slack_rtm_session::{
    Ack, DriverConfig, EventStream, Fatal, Reason, SendError, SessionConfig, SessionEvent, SessionHandle,
    State, Warning, connect,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);
const MS: Duration = Duration::from_millis(1);

fn transport(tls: Option<Arc<rustls::ClientConfig>>) -> Arc<dyn DynHttpTransport> {
    let mut b = HyperTransport::builder().allow_http(true);
    if let Some(t) = tls {
        b = b.tls_config(t);
    }
    Arc::new(b.build().expect("transport"))
}

/// A driver config for the emulator's API.
fn driver_config(
    api_url: &str,
    config: SessionConfig,
    token: String,
    transport: Arc<dyn DynHttpTransport>,
) -> DriverConfig {
    let mut dc = DriverConfig::new(config, Token::new(token), transport);
    dc.connect = ConnectConfig::with_api_base(api_url, true).expect("api base");
    dc
}

/// Short intervals so faults are detected in milliseconds.
fn session_config(_emu: &Emulator) -> SessionConfig {
    let mut c = SessionConfig::default();
    let mut r = ReconnectPolicy::new(20 * MS, 200 * MS);
    // Fast tests: no 0.5 s floor between retries.
    r.min_delay = Duration::ZERO;
    r.jitter_seed = Some(11);
    r.healthy_after = Duration::from_secs(1);
    c.reconnect = r;
    c.keepalive = KeepaliveConfig::new(150 * MS, 250 * MS);
    c.timeouts = Timeouts::new(Duration::from_secs(2), Duration::from_secs(2));
    c.send_rate = SendRate::new(MS, 50);
    c.sending.ack_timeout = Duration::from_secs(5);
    c
}

struct Client {
    handle: SessionHandle,
    events: EventStream,
    /// Every event seen so far.
    log: Vec<SessionEvent>,
}

impl Client {
    fn start(emu: &Emulator, config: SessionConfig, tweak: impl FnOnce(&mut DriverConfig)) -> Self {
        let mut dc = driver_config(&emu.api_url(), config, emu.token(), transport(None));
        tweak(&mut dc);
        let (handle, events) = connect(dc).expect("driver starts");
        Self { handle, events, log: Vec::new() }
    }

    /// Waits for an event matching `pred`, logging everything on the way.
    async fn until(&mut self, what: &str, mut pred: impl FnMut(&SessionEvent) -> bool) -> SessionEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => {
                    self.log.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(None) => panic!("stream ended waiting for {what}; log: {:#?}", self.log),
                Err(_) => panic!("timed out waiting for {what}; log: {:#?}", self.log),
            }
        }
    }

    async fn connected(&mut self) -> SessionEvent {
        self.until("Connected", |e| matches!(e, SessionEvent::Connected { .. })).await
    }

    /// Reads everything available for `d`.
    async fn drain_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            self.log.push(e);
        }
    }

    /// Reads until the stream ends.
    async fn drain_to_end(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.events.recv()).await {
                Ok(Some(e)) => self.log.push(e),
                Ok(None) => return,
                Err(_) => panic!("the event stream did not end; log: {:#?}", self.log),
            }
        }
    }

    fn message_texts(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|e| match e {
                SessionEvent::Rtm(Event::Message(m)) => m.text.clone(),
                _ => None,
            })
            .collect()
    }

    fn count(&self, pred: impl Fn(&SessionEvent) -> bool) -> usize {
        self.log.iter().filter(|e| pred(e)).count()
    }
}

/// Polls `cond` until it holds (or fails the test after `WAIT`).
async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < deadline, "condition not met in {WAIT:?}");
        tokio::time::sleep(5 * MS).await;
    }
}

async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

fn no_rate_limit() -> EmulatorConfig {
    EmulatorConfig::default().send_rate(None)
}

fn each_once(list: &[String], expected: impl IntoIterator<Item = String>) {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in list {
        *counts.entry(t.as_str()).or_default() += 1;
    }
    for e in expected {
        assert_eq!(
            counts.get(e.as_str()).copied().unwrap_or(0),
            1,
            "{e:?} must appear exactly once in {list:?}"
        );
    }
}

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
            Ok(Ack::Posted { ts: Some(t), text }) => {
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
    assert!(matches!(pending.await.expect("task"), Ok(Ack::Posted { .. })));
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
    assert_eq!(emu.stall(Target::All, true), 1);
    c.until("keepalive timeout", |e| {
        matches!(e, SessionEvent::Disconnected { reason: Reason::KeepaliveTimeout })
    })
    .await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "detected in {took:?}");
    c.connected().await;
    assert_eq!(emu.connection_count(), 2);
    // Once the server reads again, it finds the stalled connection closed by the client.
    emu.stall(Target::All, false);
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
        SessionEvent::Stopped { error: Some(f @ Fatal::Connect(_)) } => {
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
async fn bad_frames_are_reported_and_skipped() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |_| {});
    c.connected().await;
    emu.send_raw(Target::All, RawFrame::malformed_json());
    emu.send_raw(Target::All, RawFrame::binary());
    emu.send_raw(Target::All, RawFrame::invalid_utf8());
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
    let mut c = Client::start(&emu, session_config(&emu), |d| d.max_message_bytes = 64 * 1024);
    c.connected().await;
    // Just under the cap: fine.
    emu.send_raw(Target::All, RawFrame::oversized(60 * 1024));
    c.until("the big-but-allowed message", |e| matches!(e, SessionEvent::Rtm(Event::Message(_)))).await;
    emu.send_raw(Target::All, RawFrame::oversized(100 * 1024));
    c.until("too large", |e| {
        matches!(e, SessionEvent::Disconnected { reason: Reason::MessageTooLarge { limit: 65536 } })
    })
    .await;
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    c.handle.shutdown(Duration::from_secs(1)).await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_stops_reading_slows_the_reader_without_reconnecting() {
    let emu = emulator(no_rate_limit()).await;
    let mut c = Client::start(&emu, session_config(&emu), |d| d.event_capacity = 64);
    c.connected().await;
    let channel = emu.general_channel();
    let other = emu.second_user();
    const N: usize = 3000;
    for i in 0..N {
        emu.post_message(&channel, &other.user, &format!("flood {i}")).expect("posted");
    }
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
    assert!(matches!(c.log.last(), Some(SessionEvent::Stopped { error: None })), "{:#?}", c.log);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_over_tls() {
    let emu = emulator(no_rate_limit().tls(true)).await;
    let tls = Arc::new(emu.tls_client_config().expect("tls config"));
    let config = session_config(&emu);
    let mut dc = driver_config(&emu.api_url(), config, emu.token(), transport(Some(tls.clone())));
    dc.tls = Some(tls);
    let (handle, events) = connect(dc).expect("driver");
    let mut c = Client { handle, events, log: Vec::new() };
    c.connected().await;
    let ack = c.handle.send(ClientMessage::message(emu.general_channel(), "over tls")).await;
    assert!(matches!(ack, Ok(Ack::Posted { .. })), "{ack:?}");
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
    assert_eq!(ack, Ok(Ack::Written));
    let subs = || -> Vec<_> {
        emu.received_frames()
            .into_iter()
            .filter(|f| f.message_type().as_deref() == Some("presence_sub"))
            .map(|f| f.conn)
            .collect()
    };
    // "Written" means handed to the kernel: wait until the emulator has read it.
    eventually(|| subs().len() == 1).await;
    emu.drop_connection(Target::All);
    c.until("the reconnect", |e| matches!(e, SessionEvent::Connected { reconnect: true, .. })).await;
    eventually(|| subs().len() >= 2).await;
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
    let mut c = Client::start(&emu, session_config(&emu), |d| d.max_message_bytes = LIMIT);
    c.connected().await;
    type MakeFrame = fn(String) -> RawFrame;
    let cases: [(&str, MakeFrame); 2] = [
        ("single frame", RawFrame::text),
        ("fragments", |m| RawFrame::Fragmented { payload: m.into(), chunk: 1000 }),
    ];
    for (what, frame) in cases {
        let at_limit = message_of_len(LIMIT);
        emu.send_raw(Target::All, frame(at_limit.clone()));
        c.until(&format!("{what}: a message of exactly the limit"), |e| {
            matches!(e, SessionEvent::Rtm(Event::Message(m)) if m.text.as_ref().is_some_and(|t| t.len() + 71 == LIMIT))
        })
        .await;
        emu.send_raw(Target::All, frame(message_of_len(LIMIT + 1)));
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
