//! Machine tests on a virtual clock: every `Instant` is `t0 + something`, nothing sleeps.

use super::*;
use slack_rtm_codec::types::{ApiError, Connected};
use std::time::{Duration, Instant};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

fn config() -> SessionConfig {
    let mut c = SessionConfig::default();
    c.reconnect.jitter_seed = Some(7);
    c
}

fn response(url: &str, at: Instant) -> ConnectResponse {
    ConnectResponse {
        connected: Connected {
            self_: SelfInfo { id: "U1".into(), name: "bot".into() },
            team: TeamInfo {
                id: "T1".into(),
                name: "Team".into(),
                domain: "team".into(),
                enterprise_id: None,
                enterprise_name: None,
            },
            url: url.into(),
        },
        warnings: vec![],
        messages: vec![],
        req_id: None,
        obtained_at: at,
    }
}

/// A session on a virtual clock, with everything it output so far.
struct H {
    s: Session,
    now: Instant,
    urls: u32,
}

impl H {
    fn new(config: SessionConfig) -> Self {
        let t0 = Instant::now();
        Self { s: Session::new(config, t0), now: t0, urls: 0 }
    }

    fn out(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.s.poll_output()).collect()
    }

    fn feed(&mut self, input: Input) -> Vec<Output> {
        self.s.handle(input, self.now);
        self.out()
    }

    fn frame(&mut self, conn: ConnId, json: &str) -> Vec<Output> {
        self.feed(Input::Text { conn, text: json.into() })
    }

    /// Moves the clock to `t` (absolute) and fires timeouts.
    fn at(&mut self, t: Instant) -> Vec<Output> {
        assert!(t >= self.now, "the virtual clock never goes back");
        self.now = t;
        self.s.handle_timeout(t);
        self.out()
    }

    fn advance(&mut self, d: Duration) -> Vec<Output> {
        let t = self.now + d;
        self.at(t)
    }

    /// Advances to the next deadline, repeatedly, until `pred` matches an output (max 1000 steps).
    fn run_until(&mut self, mut pred: impl FnMut(&Output) -> bool) -> Vec<Output> {
        let mut all = Vec::new();
        for _ in 0..1000 {
            let Some(t) = self.s.poll_timeout() else { break };
            let outs = self.at(t.max(self.now));
            let hit = outs.iter().any(&mut pred);
            all.extend(outs);
            if hit {
                return all;
            }
        }
        panic!("condition never met; outputs: {all:#?}");
    }

    fn answer_connect(&mut self) -> Vec<Output> {
        self.urls += 1;
        let url = format!("wss://example.invalid/ws/{}", self.urls);
        let now = self.now;
        self.feed(Input::ConnectResult(Ok(response(&url, now))))
    }

    /// Drives a full connect: expects a pending `CallConnect` to have been issued already.
    fn open_and_hello(&mut self, outs: &[Output]) -> ConnId {
        let conn = opened(outs).expect("an OpenSocket");
        self.feed(Input::SocketOpened { conn });
        let hello = self.frame(conn, r#"{"type":"hello"}"#);
        assert!(events(&hello).iter().any(|e| matches!(e, SessionEvent::Connected { .. })), "{hello:#?}");
        conn
    }

    /// From a fresh session: connect and say hello.
    fn connected(config: SessionConfig) -> (Self, ConnId) {
        let mut h = Self::new(config);
        let first = h.out();
        assert!(first.contains(&Output::CallConnect));
        let outs = h.answer_connect();
        let conn = h.open_and_hello(&outs);
        (h, conn)
    }

    fn write_all(&mut self, outs: &[Output]) -> Vec<Output> {
        let mut more = Vec::new();
        for (conn, _, id) in sends(outs) {
            more.extend(self.feed(Input::Written { conn, id }));
        }
        more
    }
}

fn opened(outs: &[Output]) -> Option<ConnId> {
    outs.iter().find_map(|o| match o {
        Output::OpenSocket { conn, .. } => Some(*conn),
        _ => None,
    })
}

fn sends(outs: &[Output]) -> Vec<(ConnId, String, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { conn, text, id } => Some((*conn, text.clone(), *id)),
            _ => None,
        })
        .collect()
}

fn sends_of(outs: &[Output], kind: &str) -> Vec<(ConnId, String, u64)> {
    let tag = format!(r#""type":"{kind}""#);
    sends(outs).into_iter().filter(|(_, t, _)| t.contains(&tag)).collect()
}

fn events(outs: &[Output]) -> Vec<SessionEvent> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn completions(outs: &[Output]) -> Vec<(RequestId, Result<Ack, SendError>)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Completed { request, result } => Some((*request, result.clone())),
            _ => None,
        })
        .collect()
}

fn reconnecting(outs: &[Output]) -> Vec<(u32, Reason, Duration)> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Reconnecting { attempt, reason, delay } => Some((attempt, reason, delay)),
            _ => None,
        })
        .collect()
}

fn closes(outs: &[Output]) -> Vec<(ConnId, u16)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Close { conn, code } => Some((*conn, *code)),
            _ => None,
        })
        .collect()
}

/// A frame as the driver scans it.
fn scanned(text: &str) -> EventFrame {
    EventFrame::copy_from(text).expect("a frame with a readable type")
}

/// Texts of the messages delivered, whether as decoded events or as raw pass-through.
fn rtm_texts(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(SessionEvent::Rtm(Event::Message(m))) => m.text.clone(),
            Output::RawEvent { frame } => match decode_event(frame.as_str()) {
                Ok(Event::Message(m)) => m.text,
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn count_call_connect(outs: &[Output]) -> usize {
    outs.iter().filter(|o| **o == Output::CallConnect).count()
}

fn ack(id: u64, ts: &str) -> String {
    format!(r#"{{"ok":true,"reply_to":{id},"ts":"{ts}","text":"t"}}"#)
}

fn fast_rate() -> SendRate {
    SendRate { interval: MS, burst: 1000, ..SendRate::default() }
}

// ----- connecting -----

#[test]
fn connect_flow_reports_connecting_then_connected() {
    let mut h = H::new(config());
    let first = h.out();
    assert_eq!(first, vec![Output::Event(SessionEvent::Connecting), Output::CallConnect]);
    assert_eq!(h.s.state(), State::Connecting);
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    assert!(matches!(&outs[..], [Output::OpenSocket { url, .. }] if url == "wss://example.invalid/ws/1"));
    h.feed(Input::SocketOpened { conn });
    assert_eq!(h.s.state(), State::Connecting);
    let outs = h.frame(conn, r#"{"type":"hello"}"#);
    match &events(&outs)[..] {
        [SessionEvent::Connected { self_, team, conn: c, reconnect: false }] => {
            assert_eq!(self_.id, "U1");
            assert_eq!(team.id, "T1");
            assert_eq!(*c, conn);
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(h.s.state(), State::Connected);
}

#[test]
fn stale_url_is_never_opened_and_a_fresh_one_is_fetched() {
    let mut h = H::new(config());
    h.out();
    h.advance(40 * SEC);
    let stale = response("wss://example.invalid/old", h.now - 31 * SEC);
    let outs = h.feed(Input::ConnectResult(Ok(stale)));
    assert_eq!(opened(&outs), None, "an expired URL must not be opened");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::UrlExpired, _)]));
    let outs = h.run_until(|o| *o == Output::CallConnect);
    assert_eq!(count_call_connect(&outs), 1);
    let outs = h.answer_connect();
    assert!(opened(&outs).is_some());
}

#[test]
fn open_deadline_is_bounded_by_the_url_life() {
    let mut h = H::new(config());
    h.out();
    h.advance(26 * SEC);
    // Obtained 25 s ago: 5 s of life left, less than the 10 s open timeout.
    let r = response("wss://example.invalid/x", h.now - 25 * SEC);
    let expires = r.expires_at();
    let outs = h.feed(Input::ConnectResult(Ok(r)));
    let conn = opened(&outs).unwrap();
    assert_eq!(h.s.poll_timeout(), Some(expires));
    assert!(h.at(expires - MS).is_empty());
    let outs = h.at(expires);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
    assert!(matches!(&reconnecting(&outs)[..], [(_, Reason::OpenTimeout, _)]));
}

#[test]
fn hello_deadline_replaces_the_connection() {
    let mut c = config();
    c.timeouts.hello = 3 * SEC;
    let mut h = H::new(c);
    h.out();
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn });
    assert!(h.advance(3 * SEC - MS).is_empty());
    let outs = h.advance(MS);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::HelloTimeout, _)]));
    // Late frames from the replaced socket are ignored.
    assert!(h.frame(conn, r#"{"type":"hello"}"#).is_empty());
}

#[test]
fn expired_url_error_event_reconnects_with_a_new_url() {
    let mut h = H::new(config());
    h.out();
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn });
    let outs = h.frame(conn, r#"{"type":"error","error":{"code":1,"msg":"Socket URL has expired"}}"#);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_NORMAL)]);
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::ServerError { code: 1, .. }, _)]));
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let second = opened(&outs).unwrap();
    assert_ne!(second, conn);
    assert!(matches!(&outs[..], [Output::OpenSocket { url, .. }] if url.ends_with("/2")));
}

// ----- keepalive -----

#[test]
fn ping_after_idle_interval_and_any_frame_counts_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let idle = h.s.config().keepalive.idle_ping;
    assert_eq!(h.s.poll_timeout(), Some(h.now + idle));
    // A frame 3 s in pushes the ping back.
    h.advance(3 * SEC);
    h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    assert!(h.advance(idle - MS).is_empty());
    let outs = h.advance(MS);
    let pings = sends_of(&outs, "ping");
    assert_eq!(pings.len(), 1);
    let (_, text, id) = &pings[0];
    assert!(text.contains(&format!(r#""id":{id}"#)));
    // Not the pong: any frame proves the connection alive.
    h.advance(9 * SEC);
    let outs = h.frame(conn, r#"{"type":"pref_change","name":"x","value":1}"#);
    assert!(closes(&outs).is_empty());
    let outs = h.advance(idle);
    assert_eq!(sends_of(&outs, "ping").len(), 1, "next ping after another idle interval");
    // The pong itself is swallowed (not an application event).
    let id = sends_of(&outs, "ping")[0].2;
    let outs = h.frame(conn, &format!(r#"{{"type":"pong","reply_to":{id},"time":1}}"#));
    assert!(events(&outs).is_empty(), "{outs:#?}");
}

#[test]
fn silence_after_ping_declares_the_connection_dead() {
    let (mut h, conn) = H::connected(config());
    let ka = h.s.config().keepalive;
    let outs = h.advance(ka.idle_ping);
    assert_eq!(sends_of(&outs, "ping").len(), 1);
    assert!(h.advance(ka.pong_timeout - MS).is_empty());
    let outs = h.advance(MS);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
    let ev = events(&outs);
    assert!(ev.contains(&SessionEvent::Disconnected { reason: Reason::KeepaliveTimeout }), "{ev:#?}");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::KeepaliveTimeout, _)]));
    assert_eq!(h.s.state(), State::Reconnecting);
}

#[test]
fn a_consumer_that_stops_reading_never_causes_a_keepalive_timeout() {
    let (mut h, conn) = H::connected(config());
    let ka = h.s.config().keepalive;
    h.advance(ka.idle_ping); // ping out
    h.feed(Input::Backpressure(true));
    // Paused far beyond every deadline: nothing happens.
    let outs = h.advance(10 * 60 * SEC);
    assert!(closes(&outs).is_empty(), "{outs:#?}");
    h.feed(Input::Backpressure(false));
    // The pong deadline resumes where it was: still pong_timeout left.
    assert!(closes(&h.advance(ka.pong_timeout - MS)).is_empty());
    let outs = h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    assert!(closes(&outs).is_empty());
    assert_eq!(h.s.state(), State::Connected);
    // And without frames it is eventually detected.
    h.advance(ka.idle_ping);
    let outs = h.advance(ka.pong_timeout);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
}

// ----- backoff -----

fn fail(h: &mut H, failure: ConnectFailure) -> Vec<Output> {
    h.feed(Input::ConnectResult(Err(failure)))
}

#[test]
fn backoff_grows_with_jitter_under_a_cap() {
    let mut c = config();
    c.reconnect.initial = SEC;
    c.reconnect.max = 8 * SEC;
    let policy = c.reconnect;
    let mut h = H::new(c);
    h.out();
    let mut delays = Vec::new();
    for attempt in 1..=10u32 {
        let outs = fail(&mut h, ConnectFailure::retryable("boom"));
        let r = reconnecting(&outs);
        let (a, _, delay) = r[0].clone();
        assert_eq!(a, attempt);
        assert!(delay <= Backoff::ceiling(&policy, attempt), "attempt {attempt}: {delay:?}");
        delays.push(delay);
        // Exactly when the delay is over, and not before, rtm.connect is called again.
        if delay > Duration::ZERO {
            assert_eq!(count_call_connect(&h.advance(delay - Duration::from_nanos(1))), 0);
        }
        let outs = h.at(h.now + (delay - delay.min(Duration::from_nanos(1))) + Duration::from_nanos(1));
        assert_eq!(count_call_connect(&outs), 1);
    }
    assert!(delays.iter().all(|d| *d <= 8 * SEC));
    assert!(delays[6..].iter().any(|d| *d > SEC), "late attempts reach beyond the first ceiling: {delays:?}");
}

#[test]
fn backoff_resets_only_after_a_healthy_connection() {
    let mut c = config();
    c.reconnect.healthy_after = 30 * SEC;
    let (mut h, conn) = H::connected(c);
    // Connect-then-drop quickly, three times: attempts keep growing.
    let mut conn = conn;
    for expected in 1..=3u32 {
        h.advance(SEC);
        let outs = h.feed(Input::SocketClosed { conn, reason: Reason::Io("reset".into()) });
        assert_eq!(reconnecting(&outs)[0].0, expected, "{outs:#?}");
        h.run_until(|o| *o == Output::CallConnect);
        let outs = h.answer_connect();
        conn = h.open_and_hello(&outs);
    }
    // This one stays up past healthy_after: the next failure starts over at attempt 1.
    h.advance(4 * SEC); // keepalive pings happen; answer nothing but stay under the deadline
    h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    for _ in 0..10 {
        h.advance(3 * SEC);
        h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    }
    let outs = h.feed(Input::SocketClosed { conn, reason: Reason::Io("reset".into()) });
    assert_eq!(reconnecting(&outs)[0].0, 1);
}

#[test]
fn retry_after_is_honoured() {
    let mut h = H::new(config());
    h.out();
    let failure = ConnectFailure {
        retry_after: Some(42 * SEC),
        api_error: Some(ApiError::Ratelimited),
        ..ConnectFailure::retryable("429")
    };
    let outs = fail(&mut h, failure);
    let (_, reason, delay) = reconnecting(&outs)[0].clone();
    assert!(matches!(reason, Reason::ConnectFailed(f) if f.api_error == Some(ApiError::Ratelimited)));
    assert!(delay >= 42 * SEC);
    assert_eq!(count_call_connect(&h.advance(42 * SEC - MS)), 0);
    let outs = h.run_until(|o| *o == Output::CallConnect);
    assert_eq!(count_call_connect(&outs), 1);
}

#[test]
fn every_fatal_api_error_stops_the_session_without_looping() {
    for error in ApiError::ALL.iter().filter(|e| e.is_fatal()) {
        let mut h = H::new(config());
        h.out();
        let r = h.s.submit(ClientMessage::message("C1", "queued"), h.now).unwrap();
        let failure =
            ConnectFailure { api_error: Some(error.clone()), ..ConnectFailure::fatal(error.as_str()) };
        let outs = fail(&mut h, failure);
        assert_eq!(count_call_connect(&outs), 0);
        assert_eq!(completions(&outs), vec![(r, Err(SendError::Stopped))]);
        match events(&outs).last() {
            Some(SessionEvent::Stopped { error: Some(f) }) => assert_eq!(f.api_error(), Some(error)),
            other => panic!("{error:?}: {other:?}"),
        }
        assert_eq!(h.s.state(), State::Stopped);
        assert_eq!(h.s.poll_timeout(), None);
        assert!(h.advance(3600 * SEC).is_empty());
        assert!(matches!(h.s.submit(ClientMessage::message("C1", "x"), h.now), Err(SubmitError::Stopped)));
    }
}

#[test]
fn absurd_durations_from_config_or_server_do_not_overflow() {
    let mut c = config();
    c.keepalive = KeepaliveConfig::new(Duration::MAX, Duration::MAX);
    c.timeouts = Timeouts::new(Duration::MAX, Duration::MAX);
    c.reconnect.initial = Duration::MAX;
    c.reconnect.max = Duration::MAX;
    c.sending.ack_timeout = Duration::MAX;
    c.sending.queue_timeout = Duration::MAX;
    c.send_rate = SendRate { interval: Duration::MAX, burst: u32::MAX, ..SendRate::default() };
    c.dedupe.window = Duration::MAX;
    let (mut h, conn) = H::connected(c);
    h.s.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    h.s.submit(ClientMessage::message("C1", "y"), h.now).unwrap();
    h.out();
    h.frame(conn, r#"{"type":"goodbye"}"#);
    h.feed(Input::SocketClosed { conn, reason: Reason::Io("x".into()) });
    h.advance(Duration::from_secs(3600));
    // A hostile Retry-After.
    let mut h = H::new(config());
    h.out();
    let f = ConnectFailure { retry_after: Some(Duration::MAX), ..ConnectFailure::retryable("429") };
    let outs = fail(&mut h, f);
    let (_, _, delay) = reconnecting(&outs)[0].clone();
    assert_eq!(delay, MAX_RETRY_AFTER);
}

#[test]
fn call_errors_convert_into_failures() {
    let e = slack_rtm_codec::ConnectError::Api {
        error: ApiError::AccountInactive,
        warnings: vec![],
        req_id: Some("r1".into()),
    };
    let f = ConnectFailure::from(&e);
    assert!(f.is_fatal());
    assert_eq!(f.req_id.as_deref(), Some("r1"));
    let e = slack_rtm_codec::ConnectError::RateLimited { retry_after: 9 * SEC, req_id: None };
    let f = ConnectFailure::from(e);
    assert!(!f.is_fatal());
    assert_eq!(f.retry_after, Some(9 * SEC));
    assert_eq!(f.api_error, Some(ApiError::Ratelimited));
    let io = std::io::Error::other("refused");
    let f = ConnectFailure::from(slack_rtm_codec::CallError::Transport(io));
    assert!(!f.is_fatal());
    assert!(f.message.contains("refused"));
}

#[test]
fn never_more_than_one_rtm_connect_in_flight() {
    let (mut h, conn) = H::connected(config());
    let outs = h.feed(Input::SocketClosed { conn, reason: Reason::Io("x".into()) });
    let mut calls = count_call_connect(&outs);
    let outs = h.run_until(|o| *o == Output::CallConnect);
    calls += count_call_connect(&outs);
    assert_eq!(calls, 1);
    // While the call is in flight: hours pass, goodbyes arrive on dead sockets, nothing.
    let outs = h.advance(3600 * SEC);
    assert_eq!(count_call_connect(&outs), 0);
    assert_eq!(h.s.poll_timeout(), None, "nothing to wait for but the call");
    let outs = h.frame(conn, r#"{"type":"goodbye"}"#);
    assert!(outs.is_empty());
    // A duplicate result is ignored.
    h.answer_connect();
    let outs = h.answer_connect();
    assert!(outs.is_empty());
}

#[test]
fn gives_up_after_max_retries() {
    let mut c = config();
    c.reconnect.max_retries = Some(2);
    let mut h = H::new(c);
    h.out();
    for _ in 0..2 {
        fail(&mut h, ConnectFailure::retryable("down"));
        h.run_until(|o| *o == Output::CallConnect);
    }
    let outs = fail(&mut h, ConnectFailure::retryable("down"));
    assert!(matches!(
        events(&outs).last(),
        Some(SessionEvent::Stopped { error: Some(Fatal::GaveUp { attempts: 2, .. }) })
    ));
}

// ----- goodbye, make-before-break, dedupe -----

#[test]
fn goodbye_reconnects_make_before_break_without_duplicates() {
    let (mut h, old) = H::connected(config());
    h.advance(SEC);
    let outs = h.frame(old, r#"{"type":"goodbye"}"#);
    assert!(closes(&outs).is_empty(), "the old socket stays open until the new one is ready");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::Goodbye, _)]));
    assert_eq!(h.s.state(), State::Connected);
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn: new });
    // The old socket keeps delivering.
    let m1 = r#"{"type":"message","channel":"C1","user":"U2","text":"one","ts":"1.000001"}"#;
    let m2 = r#"{"type":"message","channel":"C1","user":"U2","text":"two","ts":"1.000002"}"#;
    let m3 = r#"{"type":"message","channel":"C1","user":"U2","text":"three","ts":"1.000003"}"#;
    let mut texts = rtm_texts(&h.frame(old, m1));
    texts.extend(rtm_texts(&h.frame(old, m2)));
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    assert!(closes(&outs).contains(&(old, CLOSE_NORMAL)), "{outs:#?}");
    let ev = events(&outs);
    assert!(ev.iter().any(|e| matches!(e, SessionEvent::Connected { reconnect: true, .. })));
    assert!(!ev.iter().any(|e| matches!(e, SessionEvent::Gap { .. } | SessionEvent::Disconnected { .. })));
    // The new socket's backlog repeats what the old one delivered.
    for m in [m1, m2, m3] {
        texts.extend(rtm_texts(&h.frame(new, m)));
    }
    assert_eq!(texts, vec!["one", "two", "three"]);
    // After the window, dedupe is off again (and has forgotten everything).
    h.advance(h.s.config().dedupe.window + SEC);
    assert_eq!(rtm_texts(&h.frame(new, m1)), vec!["one"]);
}

#[test]
fn raw_events_pass_through_untouched_and_count_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let m = r#"{"type":"message","channel":"C1","user":"U2","text":"raw","ts":"1.000001"}"#;
    h.advance(h.s.config().keepalive.idle_ping / 2);
    let outs = h.feed(Input::RawEvent { conn, frame: scanned(m) });
    assert_eq!(outs, vec![Output::RawEvent { frame: scanned(m) }]);
    // It reset the idle timer: no ping until a full idle interval after it.
    let outs = h.advance(h.s.config().keepalive.idle_ping - MS);
    assert!(sends(&outs).is_empty(), "{outs:#?}");
    // From an unknown connection it is ignored.
    assert!(h.feed(Input::RawEvent { conn: ConnId(999), frame: scanned(m) }).is_empty());
}

#[test]
fn raw_session_events_are_handled_not_passed_through() {
    let (mut h, conn) = H::connected(config());
    // A caller that hands the machine a `goodbye` undecoded still gets a reconnect.
    let outs = h.feed(Input::RawEvent { conn, frame: scanned(r#"{"type":"goodbye"}"#) });
    assert!(!outs.iter().any(|o| matches!(o, Output::RawEvent { .. })), "{outs:#?}");
    h.run_until(|o| *o == Output::CallConnect);
}

#[test]
fn raw_events_are_decoded_and_deduplicated_across_make_before_break() {
    let (mut h, old) = H::connected(config());
    h.frame(old, r#"{"type":"goodbye"}"#);
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn: new });
    let m1 = r#"{"type":"message","channel":"C1","user":"U2","text":"one","ts":"1.000001"}"#;
    let m2 = r#"{"type":"message","channel":"C1","user":"U2","text":"two","ts":"1.000002"}"#;
    let mut texts = rtm_texts(&h.feed(Input::RawEvent { conn: old, frame: scanned(m1) }));
    h.frame(new, r#"{"type":"hello"}"#);
    for m in [m1, m2] {
        let outs = h.feed(Input::RawEvent { conn: new, frame: scanned(m) });
        // While the window is open the machine decodes to check: no raw pass-through.
        assert!(!outs.iter().any(|o| matches!(o, Output::RawEvent { .. })), "{outs:#?}");
        texts.extend(rtm_texts(&outs));
    }
    assert_eq!(texts, vec!["one", "two"]);
    h.advance(h.s.config().dedupe.window + SEC);
    let outs = h.feed(Input::RawEvent { conn: new, frame: scanned(m1) });
    assert_eq!(outs, vec![Output::RawEvent { frame: scanned(m1) }]);
}

#[test]
fn goodbye_waits_for_replies_owed_by_the_old_socket() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, old) = H::connected(c);
    let r = h.s.submit(ClientMessage::message("C1", "hi"), h.now).unwrap();
    let outs = h.out();
    let (_, _, wire) = sends(&outs)[0].clone();
    h.write_all(&outs);
    h.frame(old, r#"{"type":"goodbye"}"#);
    // Submitted after goodbye: waits for the new connection.
    let r2 = h.s.submit(ClientMessage::message("C1", "after"), h.now).unwrap();
    assert!(sends(&h.out()).is_empty());
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    assert!(closes(&outs).is_empty(), "old still owes a reply");
    let s = sends(&outs);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, new);
    assert!(s[0].1.contains("after"));
    let outs = h.frame(old, &ack(wire, "5.5"));
    assert!(matches!(&completions(&outs)[..], [(id, Ok(Ack::Posted { .. }))] if *id == r));
    assert_eq!(closes(&outs), vec![(old, CLOSE_NORMAL)]);
    let outs = h.frame(new, &ack(s[0].2, "5.6"));
    assert!(matches!(&completions(&outs)[..], [(id, Ok(_))] if *id == r2));
}

#[test]
fn old_socket_closing_before_the_new_hello_is_a_gap() {
    let (mut h, old) = H::connected(config());
    h.frame(old, r#"{"type":"goodbye"}"#);
    let outs = h.feed(Input::SocketClosed {
        conn: old,
        reason: Reason::Closed { code: Some(1000), reason: "bye".into() },
    });
    assert!(events(&outs).iter().any(|e| matches!(e, SessionEvent::Disconnected { .. })));
    assert_eq!(h.s.state(), State::Reconnecting);
    let down_at = h.now;
    h.run_until(|o| *o == Output::CallConnect);
    h.advance(SEC);
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn });
    let outs = h.frame(conn, r#"{"type":"hello"}"#);
    let ev = events(&outs);
    assert!(
        matches!(ev.last(), Some(SessionEvent::Gap { from, to }) if *from == down_at && *to == h.now),
        "{ev:#?}"
    );
}

#[test]
fn reconnect_url_is_recorded_but_never_used() {
    let (mut h, conn) = H::connected(config());
    let outs = h.frame(conn, r#"{"type":"reconnect_url","url":"wss://elsewhere.invalid/x"}"#);
    assert!(matches!(&events(&outs)[..], [SessionEvent::Rtm(Event::ReconnectUrl(_))]));
    assert_eq!(h.s.last_reconnect_url(), Some("wss://elsewhere.invalid/x"));
    // Slack's documented example has no `url`: still an event, and the last URL stays.
    let outs = h.frame(conn, r#"{"type":"reconnect_url"}"#);
    assert!(matches!(&events(&outs)[..], [SessionEvent::Rtm(Event::ReconnectUrl(u))] if u.url.is_none()));
    assert_eq!(h.s.last_reconnect_url(), Some("wss://elsewhere.invalid/x"));
    h.feed(Input::SocketClosed { conn, reason: Reason::Io("x".into()) });
    let outs = h.run_until(|o| *o == Output::CallConnect);
    assert!(opened(&outs).is_none(), "never opens the reconnect_url: asks rtm.connect");
    let outs = h.answer_connect();
    assert!(matches!(&outs[..], [Output::OpenSocket { url, .. }] if !url.contains("elsewhere")));
}

#[test]
fn team_migration_reconnects() {
    let (mut h, conn) = H::connected(config());
    let outs = h.frame(conn, r#"{"type":"team_migration_started"}"#);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_NORMAL)]);
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::TeamMigration, _)]));
}

// ----- sending -----

#[test]
fn ids_are_positive_and_unique_per_connection_and_replies_match_in_any_order() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, conn) = H::connected(c);
    let reqs: Vec<RequestId> =
        (0..5).map(|i| h.s.submit(ClientMessage::message("C1", format!("m{i}")), h.now).unwrap()).collect();
    let outs = h.out();
    let s = sends(&outs);
    assert_eq!(s.len(), 5);
    let ids: Vec<u64> = s.iter().map(|x| x.2).collect();
    assert!(ids.iter().all(|i| *i > 0));
    let mut uniq = ids.clone();
    uniq.dedup();
    assert_eq!(uniq.len(), 5);
    for (_, text, id) in &s {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["id"], *id);
    }
    h.write_all(&outs);
    // Replies in reverse order.
    let mut done = Vec::new();
    for (i, id) in ids.iter().enumerate().rev() {
        done.extend(completions(&h.frame(conn, &ack(*id, &format!("9.{i}")))));
    }
    for (i, r) in reqs.iter().enumerate() {
        let (_, result) = done.iter().find(|(x, _)| x == r).unwrap();
        assert_eq!(result, &Ok(Ack::Posted { ts: Some(format!("9.{i}").into()), text: Some("t".into()) }));
    }
    assert_eq!(h.s.outstanding(), 0);
    // An unmatched reply is a warning, not a crash.
    let outs = h.frame(conn, &ack(999, "1.1"));
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::UnmatchedReply(_))]));
}

#[test]
fn error_replies_are_typed() {
    let (mut h, conn) = H::connected(config());
    let r = h.s.submit(ClientMessage::message("CBAD", "x"), h.now).unwrap();
    let outs = h.out();
    let id = sends(&outs)[0].2;
    let outs = h.frame(
        conn,
        &format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":0,"msg":"invalid channel id"}}}}"#),
    );
    assert_eq!(
        completions(&outs),
        vec![(r, Err(SendError::Rejected { code: 0, msg: "invalid channel id".into() }))]
    );
}

#[test]
fn ack_deadline_fails_with_may_have_been_posted() {
    let (mut h, conn) = H::connected(config());
    let r = h.s.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let timeout = h.s.config().sending.ack_timeout;
    // Keep the connection alive meanwhile.
    let mut got = Vec::new();
    let end = h.now + timeout;
    while h.now + SEC < end {
        got.extend(completions(&h.advance(SEC)));
        h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    }
    assert!(got.is_empty());
    let outs = h.at(end);
    assert_eq!(completions(&outs), vec![(r, Err(SendError::AckTimeout))]);
    assert!(SendError::AckTimeout.may_have_been_posted());
    // The late reply is only a warning.
    let id = sends(&outs).first().map(|s| s.2).unwrap_or(1);
    let outs = h.frame(conn, &ack(id, "1.1"));
    assert!(completions(&outs).is_empty());
}

#[test]
fn written_then_socket_died_is_unconfirmed_and_not_resent() {
    let (mut h, conn) = H::connected(config());
    let r = h.s.submit(ClientMessage::message("C1", "maybe"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let outs = h.feed(Input::SocketClosed { conn, reason: Reason::Io("reset".into()) });
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Unconfirmed))]);
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    assert!(sends_of(&outs, "message").is_empty(), "an unconfirmed message is never sent twice");
}

#[test]
fn unwritten_requests_are_replayed_exactly_once_after_the_next_hello() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, conn) = H::connected(c);
    let reqs: Vec<RequestId> =
        (0..4).map(|i| h.s.submit(ClientMessage::message("C1", format!("m{i}")), h.now).unwrap()).collect();
    let outs = h.out();
    let s = sends(&outs);
    assert_eq!(s.len(), 4);
    // Only the first one reached the socket.
    h.feed(Input::Written { conn, id: s[0].2 });
    let outs = h.feed(Input::SocketClosed { conn, reason: Reason::Io("reset".into()) });
    assert_eq!(completions(&outs), vec![(reqs[0], Err(SendError::Unconfirmed))]);
    // Queued while disconnected.
    let r5 = h.s.submit(ClientMessage::message("C1", "m4"), h.now).unwrap();
    assert!(sends(&h.out()).is_empty());
    assert_eq!(h.s.queued(), 4);
    h.run_until(|o| *o == Output::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(Input::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    let s2 = sends(&outs);
    let texts: Vec<String> = s2
        .iter()
        .map(|(c, t, _)| {
            assert_eq!(*c, new);
            serde_json::from_str::<serde_json::Value>(t).unwrap()["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(texts, vec!["m1", "m2", "m3", "m4"], "in order, each once, the written one not again");
    assert_eq!(s2.iter().map(|x| x.2).collect::<Vec<_>>(), vec![1, 2, 3, 4], "new ids on the new connection");
    h.write_all(&outs);
    let mut done = Vec::new();
    for (_, _, id) in &s2 {
        done.extend(completions(&h.frame(new, &ack(*id, "2.0"))));
    }
    let ids: Vec<RequestId> = done.iter().map(|x| x.0).collect();
    assert_eq!(ids, vec![reqs[1], reqs[2], reqs[3], r5]);
    // Nothing more is ever sent.
    let outs = h.advance(SEC);
    assert!(sends_of(&outs, "message").is_empty());
}

#[test]
fn queued_too_long_while_disconnected_fails_as_not_sent() {
    let (mut h, conn) = H::connected(config());
    h.feed(Input::SocketClosed { conn, reason: Reason::Io("x".into()) });
    let r = h.s.submit(ClientMessage::message("C1", "late"), h.now).unwrap();
    let qt = h.s.config().sending.queue_timeout;
    let outs = h.advance(qt);
    assert_eq!(completions(&outs), vec![(r, Err(SendError::QueueTimeout))]);
    assert!(!SendError::QueueTimeout.may_have_been_posted());
}

#[test]
fn validation_happens_before_queueing() {
    let (mut h, _) = H::connected(config());
    let too_long = ClientMessage::message("C1", "x".repeat(4001));
    assert!(matches!(h.s.submit(too_long, h.now), Err(SubmitError::Invalid(_))));
    let ids: Vec<UserId> = (0..501).map(|i| UserId::new(format!("U{i}"))).collect();
    assert!(matches!(h.s.submit(ClientMessage::PresenceQuery { ids }, h.now), Err(SubmitError::Invalid(_))));
    let big = ClientMessage::message("C1", "\u{1}".repeat(3000));
    assert!(matches!(h.s.submit(big, h.now), Err(SubmitError::Invalid(_))), "over 16 KB once escaped");
    assert!(matches!(h.s.submit(ClientMessage::message("C1", ""), h.now), Err(SubmitError::Invalid(_))));
    assert!(sends(&h.out()).is_empty());
    assert_eq!(h.s.outstanding(), 0);
}

#[test]
fn the_queue_is_bounded() {
    let mut c = config();
    c.sending.queue_capacity = 5;
    let mut h = H::new(c);
    for i in 0..5 {
        h.s.submit(ClientMessage::message("C1", format!("{i}")), h.now).unwrap();
    }
    assert_eq!(h.s.submit(ClientMessage::message("C1", "x"), h.now), Err(SubmitError::QueueFull));
    assert_eq!(h.s.outstanding(), 5);
}

// ----- flow control -----

#[test]
fn token_bucket_allows_a_burst_then_one_per_interval() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 3, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    for i in 0..6 {
        h.s.submit(ClientMessage::message("C1", format!("{i}")), h.now).unwrap();
    }
    let outs = h.out();
    assert_eq!(sends(&outs).len(), 3);
    h.write_all(&outs);
    let t = h.now;
    assert_eq!(h.s.poll_timeout(), Some(t + SEC));
    assert!(sends(&h.advance(SEC - MS)).is_empty());
    assert_eq!(sends(&h.at(t + SEC)).len(), 1);
    assert_eq!(sends(&h.at(t + 2 * SEC)).len(), 1);
    assert_eq!(sends(&h.at(t + 3 * SEC)).len(), 1);
    assert_eq!(h.s.queued(), 0);
    let _ = conn;
}

#[test]
fn slow_down_reply_slows_the_bucket_and_requeues_the_message() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let r = h.s.submit(ClientMessage::message("C1", "again"), h.now).unwrap();
    let outs = h.out();
    let id = sends(&outs)[0].2;
    h.write_all(&outs);
    let outs = h.frame(
        conn,
        &format!(
            r#"{{"ok":false,"reply_to":{id},"error":{{"code":-1,"msg":"slow down, too many messages..."}}}}"#
        ),
    );
    assert!(completions(&outs).is_empty(), "a -1 is retried, not returned");
    assert_eq!(h.s.send_interval(), 2 * SEC);
    // Resent only after the slower interval.
    let t = h.now;
    assert!(sends(&h.at(t + 2 * SEC - MS)).is_empty());
    let outs = h.at(t + 2 * SEC);
    let s = sends(&outs);
    assert_eq!(s.len(), 1);
    assert!(s[0].1.contains("again"));
    assert_ne!(s[0].2, id, "a new wire id");
    h.write_all(&outs);
    let outs = h.frame(conn, &ack(s[0].2, "3.3"));
    assert!(matches!(&completions(&outs)[..], [(x, Ok(Ack::Posted { .. }))] if *x == r));
}

#[test]
fn slow_down_retries_are_bounded() {
    let mut c = config();
    c.send_rate = fast_rate();
    c.sending.slow_down_retries = 1;
    let (mut h, conn) = H::connected(c);
    let r = h.s.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    let slow = |id: u64| format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":-1,"msg":"slow down"}}}}"#);
    let outs = h.out();
    h.write_all(&outs);
    h.frame(conn, &slow(sends(&outs)[0].2));
    let outs = h.run_until(|o| matches!(o, Output::Send { .. }));
    h.write_all(&outs);
    let outs = h.frame(conn, &slow(sends(&outs)[0].2));
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Rejected { code: -1, msg: "slow down".into() }))]);
}

#[test]
fn typing_at_most_once_per_three_seconds_per_channel() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, _) = H::connected(c);
    let a = h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    let b = h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    let other = h.s.submit(ClientMessage::typing("C2"), h.now).unwrap();
    let outs = h.out();
    assert_eq!(sends_of(&outs, "typing").len(), 2);
    assert!(completions(&outs).contains(&(b, Ok(Ack::Throttled))));
    let more = h.write_all(&outs);
    assert!(completions(&more).contains(&(a, Ok(Ack::Written))));
    assert!(completions(&more).contains(&(other, Ok(Ack::Written))));
    h.advance(2 * SEC);
    let c3 = h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(completions(&h.out()), vec![(c3, Ok(Ack::Throttled))]);
    h.advance(SEC);
    h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(sends_of(&h.out(), "typing").len(), 1, "3 s later: allowed again");
}

#[test]
fn typing_is_coalesced_while_one_is_queued() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, _) = H::connected(c);
    h.s.submit(ClientMessage::message("C9", "uses the only token"), h.now).unwrap();
    let queued = h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    h.advance(5 * SEC);
    let dup = h.s.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(completions(&h.out()), vec![(dup, Ok(Ack::Throttled))]);
    let outs = h.run_until(|o| matches!(o, Output::Send { .. }));
    assert_eq!(sends_of(&outs, "typing").len(), 1);
    let done = h.write_all(&outs);
    assert_eq!(completions(&done), vec![(queued, Ok(Ack::Written))]);
}

// ----- presence -----

#[test]
fn presence_sub_is_sent_again_after_every_hello() {
    let (mut h, conn) = H::connected(config());
    let ids = vec![UserId::new("U2"), UserId::new("W3")];
    let r = h.s.submit(ClientMessage::PresenceSub { ids: ids.clone() }, h.now).unwrap();
    let outs = h.out();
    let subs = sends_of(&outs, "presence_sub");
    assert_eq!(subs.len(), 1);
    assert_eq!(completions(&h.write_all(&outs)), vec![(r, Ok(Ack::Written))]);
    for round in 0..2 {
        let current = h.s.current_conn().unwrap();
        h.feed(Input::SocketClosed { conn: current, reason: Reason::Io("x".into()) });
        h.run_until(|o| *o == Output::CallConnect);
        let outs = h.answer_connect();
        let new = opened(&outs).unwrap();
        h.feed(Input::SocketOpened { conn: new });
        let outs = h.frame(new, r#"{"type":"hello"}"#);
        let subs = sends_of(&outs, "presence_sub");
        assert_eq!(subs.len(), 1, "round {round}");
        let v: serde_json::Value = serde_json::from_str(&subs[0].1).unwrap();
        assert_eq!(v["ids"], serde_json::json!(["U2", "W3"]));
        h.write_all(&outs);
    }
    // Both presence_change forms arrive as the same typed event.
    let conn2 = h.s.current_conn().unwrap();
    assert_ne!(conn2, conn);
    let a = events(&h.frame(conn2, r#"{"type":"presence_change","user":"U2","presence":"away"}"#));
    let b = events(&h.frame(conn2, r#"{"type":"presence_change","users":["U2","W3"],"presence":"active"}"#));
    assert!(matches!(&a[..], [SessionEvent::Rtm(Event::PresenceChange(p))] if p.users.len() == 1));
    assert!(matches!(&b[..], [SessionEvent::Rtm(Event::PresenceChange(p))] if p.users.len() == 2));
}

#[test]
fn presence_query_goes_through_the_queue() {
    let (mut h, _) = H::connected(config());
    let r = h.s.submit(ClientMessage::PresenceQuery { ids: vec![UserId::new("U2")] }, h.now).unwrap();
    let outs = h.out();
    assert_eq!(sends_of(&outs, "presence_query").len(), 1);
    assert_eq!(completions(&h.write_all(&outs)), vec![(r, Ok(Ack::Written))]);
}

#[test]
fn application_ping_resolves_with_the_pong() {
    let (mut h, conn) = H::connected(config());
    let r = h.s.submit(ClientMessage::Ping(Ping::new().field("probe", "x")), h.now).unwrap();
    let outs = h.out();
    let id = sends_of(&outs, "ping")[0].2;
    h.write_all(&outs);
    let outs = h.frame(conn, &format!(r#"{{"type":"pong","reply_to":{id},"probe":"x"}}"#));
    match &completions(&outs)[..] {
        [(x, Ok(Ack::Pong { extra }))] => {
            assert_eq!(*x, r);
            assert_eq!(extra["probe"], "x");
        }
        other => panic!("{other:#?}"),
    }
}

// ----- frames -----

#[test]
fn bad_frames_are_warnings_and_count_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let idle = h.s.config().keepalive.idle_ping;
    h.advance(idle - SEC);
    let outs = h.frame(conn, "{not json");
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::Undecodable(_))]));
    h.advance(idle - SEC);
    let outs = h.feed(Input::Skipped { conn, frame: SkippedFrame::Binary { len: 3 } });
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::BinaryFrame { len: 3 })]));
    h.advance(idle - SEC);
    let outs = h.feed(Input::Skipped { conn, frame: SkippedFrame::InvalidUtf8 { len: Some(4) } });
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::InvalidUtf8 { len: Some(4) })]));
    h.advance(idle - SEC);
    h.feed(Input::Activity { conn });
    let outs = h.advance(idle - SEC);
    assert!(sends_of(&outs, "ping").is_empty(), "every kind of frame reset the idle timer");
    // Unknown events are delivered, typed as Unknown, never dropped.
    let outs = h.frame(conn, r#"{"type":"brand_new_event","x":1}"#);
    assert!(matches!(&events(&outs)[..], [SessionEvent::Rtm(Event::Unknown { .. })]));
}

// ----- shutdown -----

#[test]
fn shutdown_flushes_the_queue_then_closes_and_stops() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let r1 = h.s.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let r2 = h.s.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let id1 = sends(&outs)[0].2;
    h.s.shutdown(h.now, 10 * SEC);
    assert_eq!(h.s.state(), State::ShuttingDown);
    assert_eq!(h.s.submit(ClientMessage::message("C1", "c"), h.now), Err(SubmitError::Stopped));
    h.frame(conn, &ack(id1, "1.1"));
    let outs = h.run_until(|o| matches!(o, Output::Send { .. }));
    h.write_all(&outs);
    let id2 = sends(&outs)[0].2;
    let outs = h.frame(conn, &ack(id2, "1.2"));
    assert!(matches!(&completions(&outs)[..], [(x, Ok(_))] if *x == r2));
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    let ev = events(&outs);
    assert_eq!(
        &ev[ev.len() - 2..],
        &[SessionEvent::Disconnected { reason: Reason::Shutdown }, SessionEvent::Stopped { error: None }]
    );
    assert_eq!(h.s.state(), State::Stopped);
    let _ = r1;
}

#[test]
fn shutdown_deadline_resolves_everything() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let written = h.s.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let queued = h.s.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    h.s.shutdown(h.now, 2 * SEC);
    h.out();
    let outs = h.advance(2 * SEC);
    let done = completions(&outs);
    assert!(done.contains(&(written, Err(SendError::Unconfirmed))));
    assert!(done.contains(&(queued, Err(SendError::Stopped))));
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { error: None })));
    assert_eq!(h.s.outstanding(), 0);
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn a_second_shutdown_can_only_bring_the_deadline_closer() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, _conn) = H::connected(c);
    let _written = h.s.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let queued = h.s.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    h.s.shutdown(h.now, 30 * SEC);
    h.out();
    // A longer grace is ignored...
    h.s.shutdown(h.now, 60 * SEC);
    assert!(h.s.poll_timeout().is_some_and(|t| t <= h.now + 30 * SEC));
    // ...a shorter one wins.
    h.s.shutdown(h.now, SEC);
    let outs = h.advance(SEC);
    assert!(completions(&outs).contains(&(queued, Err(SendError::Stopped))), "{outs:#?}");
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { error: None })));
    assert_eq!(h.s.outstanding(), 0);
}

#[test]
fn shutdown_while_disconnected_stops_at_once() {
    let mut h = H::new(config());
    h.out();
    let r = h.s.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    h.s.shutdown(h.now, 10 * SEC);
    let outs = h.out();
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Stopped))]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { error: None })));
    // The rtm.connect answer that arrives later is ignored: no socket is opened.
    assert!(h.answer_connect().is_empty());
    // Shutting down twice is harmless.
    h.s.shutdown(h.now, SEC);
    assert!(h.out().is_empty());
}

#[test]
fn shutdown_while_opening_closes_the_socket() {
    let mut h = H::new(config());
    h.out();
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.s.shutdown(h.now, SEC);
    let outs = h.out();
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { error: None })));
}

// ----- property test -----

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        Advance(u64),
        ConnectOk,
        ConnectErr(bool, Option<u64>),
        Opened,
        Frame(u8, String, bool),
        Closed,
        Written(u64),
        Submit(u8),
        Reply(u64, bool, i64),
        Pause(bool),
        Shutdown(u64),
    }

    fn frames() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#"{"type":"hello"}"#.to_owned()),
            Just(r#"{"type":"goodbye"}"#.to_owned()),
            Just(r#"{"type":"team_migration_started"}"#.to_owned()),
            Just(r#"{"type":"error","error":{"code":1,"msg":"expired"}}"#.to_owned()),
            Just(r#"{"type":"reconnect_url","url":"wss://x/y"}"#.to_owned()),
            (0u32..20)
                .prop_map(|i| format!(r#"{{"type":"message","channel":"C1","ts":"{i}.0","text":"m"}}"#)),
            (0u64..30).prop_map(|i| format!(r#"{{"type":"pong","reply_to":{i}}}"#)),
            ".{0,40}",
        ]
    }

    fn steps() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..40_000).prop_map(Step::Advance),
            Just(Step::ConnectOk),
            (any::<bool>(), proptest::option::of(0u64..100)).prop_map(|(f, r)| Step::ConnectErr(f, r)),
            Just(Step::Opened),
            (0u8..3, frames(), any::<bool>()).prop_map(|(c, f, raw)| Step::Frame(c, f, raw)),
            Just(Step::Closed),
            (0u64..30).prop_map(Step::Written),
            (0u8..6).prop_map(Step::Submit),
            (0u64..30, any::<bool>(), -2i64..5).prop_map(|(i, ok, c)| Step::Reply(i, ok, c)),
            any::<bool>().prop_map(Step::Pause),
            (0u64..20_000).prop_map(Step::Shutdown),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn never_panics_and_stays_bounded(seq in proptest::collection::vec(steps(), 1..120)) {
            let mut c = config();
            c.sending.queue_capacity = 8;
            c.send_rate = SendRate { interval: Duration::from_millis(300), burst: 2, ..SendRate::default() };
            let t0 = Instant::now();
            let mut now = t0;
            let mut s = Session::new(c, t0);
            let mut conns: Vec<ConnId> = Vec::new();
            let mut pending_requests = std::collections::HashSet::new();
            let mut stopped = false;
            for step in seq {
                match step {
                    Step::Advance(ms) => {
                        now += Duration::from_millis(ms);
                        s.handle_timeout(now);
                    }
                    Step::ConnectOk => s.handle(Input::ConnectResult(Ok(response("wss://h/x", now))), now),
                    Step::ConnectErr(fatal, ra) => {
                        let mut f = if fatal { ConnectFailure::fatal("x") } else { ConnectFailure::retryable("x") };
                        f.retry_after = ra.map(Duration::from_secs);
                        s.handle(Input::ConnectResult(Err(f)), now)
                    }
                    Step::Opened => if let Some(c) = conns.last() { s.handle(Input::SocketOpened { conn: *c }, now) },
                    Step::Frame(which, text, raw) => {
                        if let Some(c) = conns.iter().rev().nth(which as usize % conns.len().max(1)) {
                            // As the driver does: events may arrive undecoded (session event
                            // types included: the machine decodes those itself).
                            match EventFrame::new(text) {
                                Ok(frame) if raw => s.handle(Input::RawEvent { conn: *c, frame }, now),
                                Ok(frame) => s.handle(Input::Text { conn: *c, text: frame.into_string() }, now),
                                Err(text) => s.handle(Input::Text { conn: *c, text }, now),
                            }
                        }
                    }
                    Step::Closed => if let Some(c) = conns.last() {
                        s.handle(Input::SocketClosed { conn: *c, reason: Reason::Io("x".into()) }, now)
                    },
                    Step::Written(id) => if let Some(c) = conns.last() { s.handle(Input::Written { conn: *c, id }, now) },
                    Step::Submit(k) => {
                        let msg = match k {
                            0 => ClientMessage::typing("C1"),
                            1 => ClientMessage::PresenceSub { ids: vec![UserId::new("U1")] },
                            2 => ClientMessage::Ping(Ping::new()),
                            3 => ClientMessage::message("C1", ""),
                            _ => ClientMessage::message("C1", "hi"),
                        };
                        if let Ok(r) = s.submit(msg, now) {
                            pending_requests.insert(r);
                        }
                    }
                    Step::Reply(id, ok, code) => if let Some(c) = conns.last() {
                        let text = if ok { ack(id, "1.1") } else {
                            format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":{code},"msg":"m"}}}}"#)
                        };
                        s.handle(Input::Text { conn: *c, text }, now)
                    },
                    Step::Pause(p) => s.handle(Input::Backpressure(p), now),
                    Step::Shutdown(ms) => s.shutdown(now, Duration::from_millis(ms)),
                }
                let mut calls_in_flight = 0;
                while let Some(o) = s.poll_output() {
                    match o {
                        Output::OpenSocket { conn, .. } => conns.push(conn),
                        Output::CallConnect => calls_in_flight += 1,
                        Output::Completed { request, .. } => {
                            prop_assert!(pending_requests.remove(&request), "completed twice or unknown: {request:?}");
                        }
                        Output::Event(SessionEvent::Stopped { .. }) => {
                            prop_assert!(!stopped, "Stopped twice");
                            stopped = true;
                        }
                        _ => {}
                    }
                }
                prop_assert!(calls_in_flight <= 1);
                prop_assert!(s.outstanding() <= 8);
                prop_assert_eq!(s.outstanding(), pending_requests.len());
                prop_assert!(s.queued() <= 8);
                if let Some(t) = s.poll_timeout() {
                    // A deadline in the past is fine (fire now), but firing it must make progress
                    // rather than spin: after handle_timeout(t) the next deadline is later.
                    if t <= now {
                        s.handle_timeout(now);
                        while let Some(o) = s.poll_output() {
                            if let Output::Completed { request, .. } = o {
                                prop_assert!(pending_requests.remove(&request));
                            }
                            if let Output::OpenSocket { conn, .. } = o {
                                conns.push(conn);
                            }
                            if let Output::Event(SessionEvent::Stopped { .. }) = o {
                                prop_assert!(!stopped);
                                stopped = true;
                            }
                        }
                        prop_assert!(s.poll_timeout().is_none_or(|n| n > now), "deadline did not move");
                    }
                }
            }
            // A final shutdown always resolves everything.
            s.shutdown(now, Duration::from_secs(1));
            now += Duration::from_secs(2);
            s.handle_timeout(now);
            while let Some(o) = s.poll_output() {
                if let Output::Completed { request, .. } = o {
                    prop_assert!(pending_requests.remove(&request));
                }
            }
            prop_assert!(pending_requests.is_empty(), "unresolved: {pending_requests:?}");
            prop_assert_eq!(s.state(), State::Stopped);
        }
    }
}
