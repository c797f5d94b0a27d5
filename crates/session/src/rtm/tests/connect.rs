//! Connecting: rtm.connect answers, URL life, open and hello deadlines, backoff, fatal errors.

use super::*;

#[test]
fn connect_flow_reports_connecting_then_connected() {
    let mut h = H::new(config());
    let first = h.out();
    assert_eq!(first, vec![RtmOutput::Event(Box::new(SessionEvent::Connecting)), RtmOutput::CallConnect]);
    assert_eq!(h.session.state(), State::Connecting);
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    assert!(matches!(&outs[..], [RtmOutput::OpenSocket { url, .. }] if url == "wss://example.invalid/ws/1"));
    h.feed(RtmInput::SocketOpened { conn });
    assert_eq!(h.session.state(), State::Connecting);
    let outs = h.frame(conn, r#"{"type":"hello"}"#);
    match &events(&outs)[..] {
        [SessionEvent::Connected { self_, team, conn: c, reconnect: false }] => {
            assert_eq!(self_.id, "U1");
            assert_eq!(team.id, "T1");
            assert_eq!(*c, conn);
        }
        other => panic!("{other:#?}"),
    }
    assert_eq!(h.session.state(), State::Connected);
}

#[test]
fn stale_url_is_never_opened_and_a_fresh_one_is_fetched() {
    let mut h = H::new(config());
    h.out();
    h.advance(40 * SEC);
    let stale = response("wss://example.invalid/old", h.now - 31 * SEC);
    let outs = h.feed(RtmInput::ConnectResult(Box::new(Ok(stale))));
    assert_eq!(opened(&outs), None, "an expired URL must not be opened");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::UrlExpired, _)]));
    let outs = h.run_until(|o| *o == RtmOutput::CallConnect);
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
    let outs = h.feed(RtmInput::ConnectResult(Box::new(Ok(r))));
    let conn = opened(&outs).unwrap();
    assert_eq!(h.session.poll_timeout(), Some(expires));
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
    h.feed(RtmInput::SocketOpened { conn });
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
    h.feed(RtmInput::SocketOpened { conn });
    let outs = h.frame(conn, r#"{"type":"error","error":{"code":1,"msg":"Socket URL has expired"}}"#);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_NORMAL)]);
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::ServerError { code: 1, .. }, _)]));
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let second = opened(&outs).unwrap();
    assert_ne!(second, conn);
    assert!(matches!(&outs[..], [RtmOutput::OpenSocket { url, .. }] if url.ends_with("/2")));
}

fn fail(h: &mut H, failure: ConnectFailure) -> Vec<RtmOutput> {
    h.feed(RtmInput::ConnectResult(Box::new(Err(failure))))
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
        let outs = h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("reset".into())) });
        assert_eq!(reconnecting(&outs)[0].0, expected, "{outs:#?}");
        h.run_until(|o| *o == RtmOutput::CallConnect);
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
    let outs = h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("reset".into())) });
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
    let outs = h.run_until(|o| *o == RtmOutput::CallConnect);
    assert_eq!(count_call_connect(&outs), 1);
}

#[test]
fn every_fatal_api_error_stops_the_session_without_looping() {
    for error in ApiError::ALL.iter().filter(|e| e.is_fatal()) {
        let mut h = H::new(config());
        h.out();
        let r = h.session.submit(ClientMessage::message("C1", "queued"), h.now).unwrap();
        let failure =
            ConnectFailure { api_error: Some(error.clone()), ..ConnectFailure::fatal(error.as_str()) };
        let outs = fail(&mut h, failure);
        assert_eq!(count_call_connect(&outs), 0);
        assert_eq!(completions(&outs), vec![(r, Err(SendError::Stopped))]);
        match events(&outs).last() {
            Some(SessionEvent::Stopped { reason }) => assert_eq!(reason.api_error(), Some(error)),
            other => panic!("{error:?}: {other:?}"),
        }
        assert_eq!(h.session.state(), State::Stopped);
        assert_eq!(h.session.poll_timeout(), None);
        assert!(h.advance(3600 * SEC).is_empty());
        assert!(matches!(
            h.session.submit(ClientMessage::message("C1", "x"), h.now),
            Err(SubmitError::Stopped)
        ));
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
    h.session.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    h.session.submit(ClientMessage::message("C1", "y"), h.now).unwrap();
    h.out();
    h.frame(conn, r#"{"type":"goodbye"}"#);
    h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("x".into())) });
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
    use slack_rtm_codec::{ApiCallError, ApiFailure, Reach, TransportFailure};
    let failure = ApiFailure::Api { error: ApiError::AccountInactive, warnings: vec![], detail: None };
    let e = ApiCallError::new("rtm.connect", Some("r1".into()), failure);
    let f = ConnectFailure::from(&e);
    assert!(f.is_fatal());
    assert_eq!(f.req_id.as_deref(), Some("r1"));
    let e = ApiCallError::new("rtm.connect", None, ApiFailure::RateLimited { retry_after: 9 * SEC });
    let f = ConnectFailure::from(e);
    assert!(!f.is_fatal());
    assert_eq!(f.retry_after, Some(9 * SEC));
    assert_eq!(f.api_error, Some(ApiError::Ratelimited));
    let io = std::io::Error::other("refused");
    let t = TransportFailure::new(Reach::NotSent, Box::new(io));
    let f = ConnectFailure::from(ApiCallError::new("rtm.connect", None, ApiFailure::Transport(t)));
    assert!(!f.is_fatal());
    assert!(f.message.contains("refused"));
}

#[test]
fn never_more_than_one_rtm_connect_in_flight() {
    let (mut h, conn) = H::connected(config());
    let outs = h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("x".into())) });
    let mut calls = count_call_connect(&outs);
    let outs = h.run_until(|o| *o == RtmOutput::CallConnect);
    calls += count_call_connect(&outs);
    assert_eq!(calls, 1);
    // While the call is in flight: hours pass, goodbyes arrive on dead sockets, nothing.
    let outs = h.advance(3600 * SEC);
    assert_eq!(count_call_connect(&outs), 0);
    assert_eq!(h.session.poll_timeout(), None, "nothing to wait for but the call");
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
        h.run_until(|o| *o == RtmOutput::CallConnect);
    }
    let outs = fail(&mut h, ConnectFailure::retryable("down"));
    assert!(matches!(
        events(&outs).last(),
        Some(SessionEvent::Stopped { reason: StopReason::GaveUp { attempts: 2, .. } })
    ));
}

/// An `rtm.connect` failure as the codec judges this HTTP answer.
fn judged(status: u16, body: &str) -> ConnectFailure {
    let response = http::Response::builder().status(status).body(body.as_bytes().to_vec()).expect("response");
    let error = slack_rtm_codec::ConnectConfig::default()
        .parse_response(&response, Instant::now())
        .expect_err("a failure");
    ConnectFailure::from(error)
}

/// After a 5xx, a `migration_in_progress` answer or a `team_migration_started` event, no seed
/// brings the next `rtm.connect` sooner than 0.5 s (a fleet does not hammer Slack right after
/// an outage), and each comes exactly when its announced delay is over.
#[test]
fn retries_never_come_sooner_than_the_floor_over_many_seeds() {
    let floor = Duration::from_millis(500);
    let mut shortest = Duration::MAX;
    for seed in 0..300u64 {
        let mut c = config();
        c.reconnect.jitter_seed = Some(seed);
        for cause in 0..3 {
            let mut h = H::new(c.clone());
            h.out();
            let outs = match cause {
                0 => fail(&mut h, judged(503, "upstream unavailable")),
                1 => fail(&mut h, judged(200, r#"{"ok":false,"error":"migration_in_progress"}"#)),
                _ => {
                    let outs = h.answer_connect();
                    let conn = h.open_and_hello(&outs);
                    h.frame(conn, r#"{"type":"team_migration_started"}"#)
                }
            };
            let [(1, _, delay)] = reconnecting(&outs)[..] else {
                panic!("seed {seed} cause {cause}: {outs:#?}")
            };
            assert!(delay >= floor && delay <= SEC, "seed {seed} cause {cause}: {delay:?}");
            shortest = shortest.min(delay);
            assert_eq!(count_call_connect(&h.advance(floor - MS)), 0, "seed {seed} cause {cause}");
            let due = h.now + (delay - (floor - MS));
            assert_eq!(count_call_connect(&h.at(due)), 1, "seed {seed} cause {cause}");
        }
    }
    assert!(shortest < Duration::from_millis(520), "the jitter reaches down to the floor: {shortest:?}");
}
