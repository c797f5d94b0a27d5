//! The Socket Mode machine's timing rules and decisions, on a virtual clock.

use super::testing::{SocketModeHarness as T, calls, closes, delivered, events, sent};
use super::*;
use crate::common::{ConnectFailure, KeepaliveConfig, Reason, ReconnectPolicy, SkippedFrame};
use slack_rtm_codec::types::ApiError;
use slack_rtm_codec::types::RawJson;

const S: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

fn config(connections: usize) -> SocketModeConfig {
    SocketModeConfig {
        connections,
        reconnect: ReconnectPolicy { jitter_seed: Some(7), ..ReconnectPolicy::default() },
        ..SocketModeConfig::default()
    }
}

fn event_env(envelope_id: &str, event_id: &str, retry: u32) -> String {
    format!(
        r#"{{"envelope_id":"{envelope_id}","type":"events_api","accepts_response_payload":false,"retry_attempt":{retry},"retry_reason":"","payload":{{"type":"event_callback","event_id":"{event_id}","event":{{"type":"app_mention","text":"hi"}}}}}}"#
    )
}

fn slash_env(envelope_id: &str) -> String {
    format!(
        r#"{{"envelope_id":"{envelope_id}","type":"slash_commands","accepts_response_payload":true,"payload":{{"command":"/x"}}}}"#
    )
}

#[test]
fn several_sockets_each_from_its_own_call_opened_a_stagger_apart() {
    let mut t = T::new(config(3));
    assert_eq!(calls(&t.out), 1, "one call at a time");
    let a = t.ready();
    assert_eq!(t.s.state(), State::Connected);
    // The second call waits for the stagger.
    assert_eq!(t.s.poll_timeout(), Some(t.now + 2 * S));
    assert_eq!(calls(&t.advance(2 * S - MS)), 0);
    assert_eq!(calls(&t.advance(MS)), 1);
    let b = t.ready();
    assert_eq!(calls(&t.advance(2 * S)), 1);
    let c = t.ready();
    assert_eq!(t.s.serving(), 3);
    assert!(a != b && b != c);
    // Never more than the target: no further call.
    assert_eq!(calls(&t.advance(60 * S)), 0);
}

#[test]
fn connections_are_clamped_to_one_through_ten() {
    assert_eq!(SocketModeSession::new(config(0), Instant::now()).target(), 1);
    assert_eq!(SocketModeSession::new(config(50), Instant::now()).target(), MAX_CONNECTIONS);
}

#[test]
fn warning_opens_the_replacement_first_and_closes_the_old_socket_after_the_new_hello() {
    let mut t = T::new(config(1));
    let old = t.ready();
    let out = t.frame(old, r#"{"type":"disconnect","reason":"warning"}"#);
    assert_eq!(calls(&out), 1, "the replacement is opened at once, no stagger");
    assert!(closes(&out).is_empty());
    let new = t.open_ok();
    t.input(SocketModeInput::SocketOpened { conn: new });
    // Until the new socket said hello, the old one still serves, and envelopes on it are acked
    // and delivered.
    let out = t.frame(old, &event_env("e1", "Ev1", 0));
    assert_eq!(sent(&out)[0].0, old);
    assert_eq!(delivered(&out).len(), 1);
    t.frame(new, r#"{"type":"hello"}"#);
    assert_eq!(t.s.serving(), 2);
    // The old one drains briefly (in-flight envelopes are still read), then is closed.
    let out = t.frame(old, &event_env("e2", "Ev2", 0));
    assert_eq!(delivered(&out).len(), 1);
    let out = t.advance(S);
    assert_eq!(closes(&out), [(old, 1000)]);
    assert_eq!(calls(&out), 0, "a routine replacement: no reconnect");
    assert!(!events(&out).iter().any(|e| matches!(e, SocketModeEvent::Reconnecting { .. })));
    assert_eq!(t.s.serving(), 1);
    // refresh_requested does the same.
    let out = t.frame(new, r#"{"type":"disconnect","reason":"refresh_requested"}"#);
    assert_eq!(calls(&out), 1);
}

#[test]
fn a_replaced_socket_closed_by_slack_before_the_new_hello_is_not_a_failure() {
    let mut t = T::new(config(1));
    let old = t.ready();
    t.frame(old, r#"{"type":"disconnect","reason":"warning"}"#);
    let out = t.input(SocketModeInput::SocketClosed {
        conn: old,
        reason: Reason::Closed { code: Some(1000), reason: String::new() },
    });
    assert!(!events(&out).iter().any(|e| matches!(e, SocketModeEvent::Reconnecting { .. })), "{out:?}");
    assert_eq!(calls(&out), 0, "the replacement call is already in flight");
    let new = t.ready();
    assert!(events(&t.out).iter().any(|e| matches!(e, SocketModeEvent::Gap { .. })));
    assert_eq!(t.s.serving(), 1);
    assert_ne!(old, new);
}

#[test]
fn too_many_websockets_lowers_the_target_for_a_while_and_never_loops() {
    let mut t = T::new(config(2));
    let a = t.ready();
    t.advance(2 * S);
    let b = t.ready();
    let out = t.frame(b, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
    assert_eq!(closes(&out), [(b, 1000)]);
    assert!(events(&out).iter().any(|e| matches!(e, SocketModeEvent::TooManyWebsockets { target: 1, .. })));
    assert_eq!(t.s.target(), 1);
    // No call for the whole cooldown.
    let out = t.advance(300 * S - MS);
    assert_eq!(calls(&out), 0, "{out:?}");
    let out = t.advance(MS);
    assert_eq!(calls(&out), 1, "back to two after the cooldown");
    assert_eq!(t.s.target(), 2);
    // The only socket refused: hold one, with growing backoff between attempts.
    let mut t = T::new(config(1));
    let mut delays = Vec::new();
    for _ in 0..5 {
        let c = t.ready();
        let out = t.frame(c, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
        let Some(SocketModeEvent::Reconnecting { delay, .. }) =
            events(&out).into_iter().find(|e| matches!(e, SocketModeEvent::Reconnecting { .. }))
        else {
            panic!("{out:?}")
        };
        delays.push(*delay);
        assert_eq!(calls(&t.advance(*delay - MS)), 0);
        assert_eq!(calls(&t.advance(MS)), 1);
    }
    // A capacity answer: never under the 5 s floor; the backoff still grows past it.
    assert!(delays.iter().all(|d| *d >= 5 * S), "{delays:?}");
    let mut t = T::new(config(1));
    for _ in 0..8 {
        let c = t.ready();
        t.frame(c, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
        let out = t.advance(60 * S);
        assert_eq!(calls(&out), 1, "{out:?}");
    }
    let c = t.ready();
    let out = t.frame(c, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
    let Some(SocketModeEvent::Reconnecting { delay, .. }) =
        events(&out).into_iter().find(|e| matches!(e, SocketModeEvent::Reconnecting { .. }))
    else {
        panic!("{out:?}")
    };
    assert!(*delay > 15 * S, "the backoff keeps growing: {delay:?}");
    let _ = a;
}

#[test]
fn too_many_websockets_is_a_capacity_answer_wait_at_least_five_seconds_jittered() {
    // The only socket, refused (healthy or not): the next call waits 5 s to 7.5 s, spread
    // across sessions, instead of the backoff's first step (under a second).
    let mut waits = Vec::new();
    for seed in 0..40u64 {
        for served in [S, 120 * S] {
            let mut t = T::new(SocketModeConfig {
                reconnect: ReconnectPolicy { jitter_seed: Some(seed), ..ReconnectPolicy::default() },
                ..config(1)
            });
            let c = t.ready();
            t.advance(served);
            t.frame(c, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
            let out = t.advance(5 * S - MS);
            assert_eq!(calls(&out), 0, "seed {seed}, served {served:?}: {out:?}");
            let mut waited = 5 * S - MS;
            while calls(&t.advance(10 * MS)) == 0 {
                waited += 10 * MS;
                assert!(waited < 7500 * MS, "seed {seed}: no call by 7.5 s");
            }
            waits.push(waited);
        }
    }
    waits.sort();
    assert!(waits[waits.len() - 1] - waits[0] > S, "jittered: {waits:?}");
}

#[test]
fn too_many_websockets_never_aims_above_the_sockets_slack_accepted() {
    let mut t = T::new(config(3));
    let a = t.ready();
    t.advance(2 * S);
    let b = t.open_ok(); // still opening: Slack has not accepted it
    t.advance(2 * S);
    let c = t.ready();
    let out = t.frame(c, r#"{"type":"disconnect","reason":"too_many_websockets"}"#);
    assert!(
        events(&out).iter().any(|e| matches!(e, SocketModeEvent::TooManyWebsockets { target: 1, .. })),
        "only `a` said hello: {out:?}"
    );
    assert_eq!(t.s.target(), 1);
    // `b` opens and is accepted: the session holds two then, and asks for no third.
    t.input(SocketModeInput::SocketOpened { conn: b });
    t.frame(b, r#"{"type":"hello","num_connections":2}"#);
    assert_eq!(t.s.serving(), 2);
    let out = t.advance(299 * S);
    assert_eq!(calls(&out), 0, "{out:?}");
    let _ = a;
}

#[test]
fn link_disabled_stops_with_a_typed_reason_and_closes_every_socket() {
    let mut t = T::new(config(2));
    let a = t.ready();
    t.advance(2 * S);
    let b = t.ready();
    let out = t.frame(a, r#"{"type":"disconnect","reason":"link_disabled"}"#);
    let mut c = closes(&out);
    c.sort();
    assert_eq!(c, [(a, 1000), (b, 1000)]);
    assert!(matches!(
        events(&out).last(),
        Some(SocketModeEvent::Stopped { reason: StopReason::LinkDisabled })
    ));
    assert_eq!(t.s.state(), State::Stopped);
    assert_eq!(t.s.poll_timeout(), None);
    assert!(t.advance(3600 * S).is_empty(), "never again");
}

#[test]
fn fatal_open_errors_stop_and_retryable_ones_back_off_honouring_retry_after() {
    let mut t = T::new(config(1));
    let fatal =
        ConnectFailure { api_error: Some(ApiError::InvalidAuth), ..ConnectFailure::fatal("invalid_auth") };
    let out = t.input(SocketModeInput::OpenResult(Err(fatal)));
    assert!(
        matches!(events(&out)[0], SocketModeEvent::Stopped { reason: StopReason::InvalidAuth(f) } if f.api_error == Some(ApiError::InvalidAuth))
    );
    assert!(t.advance(3600 * S).is_empty());

    let mut t = T::new(config(1));
    let limited = ConnectFailure { retry_after: Some(30 * S), ..ConnectFailure::retryable("ratelimited") };
    let out = t.input(SocketModeInput::OpenResult(Err(limited)));
    assert!(
        matches!(events(&out)[0], SocketModeEvent::Reconnecting { attempt: 1, delay, .. } if *delay == 30 * S)
    );
    assert_eq!(calls(&t.advance(30 * S - MS)), 0);
    assert_eq!(calls(&t.advance(MS)), 1);
    // A server error: backoff (≥ the 0.5 s floor), then a retry.
    let out = t.input(SocketModeInput::OpenResult(Err(ConnectFailure::retryable("HTTP 500"))));
    let SocketModeEvent::Reconnecting { attempt: 2, delay, .. } = events(&out)[0] else { panic!("{out:?}") };
    assert!(*delay >= S && *delay <= 2 * S, "{delay:?}");
}

#[test]
fn max_retries_gives_up_with_the_last_reason() {
    let policy = ReconnectPolicy { max_retries: Some(2), jitter_seed: Some(1), ..ReconnectPolicy::default() };
    let mut t = T::new(SocketModeConfig { reconnect: policy, ..config(1) });
    for _ in 0..2 {
        t.input(SocketModeInput::OpenResult(Err(ConnectFailure::retryable("down"))));
        assert_eq!(calls(&t.advance(120 * S)), 1);
    }
    let out = t.input(SocketModeInput::OpenResult(Err(ConnectFailure::retryable("down"))));
    assert!(
        matches!(
            events(&out)[0],
            SocketModeEvent::Stopped { reason: StopReason::GaveUp { attempts: 2, .. } }
        ),
        "{out:?}"
    );
}

#[test]
fn an_idle_socket_is_pinged_and_a_half_open_one_replaced() {
    let keepalive = KeepaliveConfig::new(5 * S, 10 * S);
    let mut t = T::new(SocketModeConfig { keepalive, ..config(1) });
    t.pongs = false;
    let c = t.ready();
    // Any frame counts as life.
    t.advance(4 * S);
    t.input(SocketModeInput::Frame { conn: c, frame: SocketModeIncoming::Activity });
    assert!(!t.advance(4 * S).iter().any(|o| matches!(o, SocketModeOutput::Ping { .. })));
    let out = t.advance(S);
    assert_eq!(out, [SocketModeOutput::Ping { conn: c }]);
    // Half-open: nothing comes back within the pong deadline.
    let out = t.advance(10 * S);
    assert_eq!(closes(&out), [(c, 4000)]);
    assert!(
        events(&out)
            .iter()
            .any(|e| matches!(e, SocketModeEvent::Disconnected { reason: Reason::KeepaliveTimeout, .. }))
    );
    let out = t.advance(2 * S);
    assert_eq!(calls(&out), 1, "replaced after a backoff");
}

#[test]
fn a_socket_that_never_opens_or_never_says_hello_is_replaced() {
    let mut t = T::new(config(1));
    let c = t.open_ok();
    let out = t.advance(10 * S);
    assert!(
        events(&out)
            .iter()
            .any(|e| matches!(e, SocketModeEvent::Disconnected { reason: Reason::OpenTimeout, .. }))
    );
    t.advance(2 * S);
    let c2 = t.open_ok();
    t.input(SocketModeInput::SocketOpened { conn: c2 });
    let out = t.advance(10 * S);
    assert_eq!(closes(&out), [(c2, 4000)]);
    assert!(
        events(&out)
            .iter()
            .any(|e| matches!(e, SocketModeEvent::Disconnected { reason: Reason::HelloTimeout, .. }))
    );
    assert_ne!(c, c2);
}

#[test]
fn backpressure_freezes_liveness() {
    let keepalive = KeepaliveConfig::new(5 * S, 10 * S);
    let mut t = T::new(SocketModeConfig { keepalive, ..config(1) });
    t.pongs = false;
    let c = t.ready();
    t.advance(5 * S);
    t.input(SocketModeInput::Backpressure(true));
    assert!(closes(&t.advance(60 * S)).is_empty(), "the app is slow, the socket is fine");
    t.input(SocketModeInput::Backpressure(false));
    let out = t.advance(9 * S);
    assert!(closes(&out).is_empty());
    assert_eq!(closes(&t.advance(S)), [(c, 4000)]);
}

#[test]
fn auto_mode_acks_before_handing_over_on_the_same_socket() {
    let mut t = T::new(config(1));
    let c = t.ready();
    let out = t.frame(c, &slash_env("s1"));
    assert!(
        matches!(&out[0], SocketModeOutput::Send { conn, text } if *conn == c && text == r#"{"envelope_id":"s1"}"#),
        "{out:?}"
    );
    assert!(
        matches!(&out[1], SocketModeOutput::Deliver(d) if d.acked && d.frame.envelope_id() == "s1" && d.event_id.is_none())
    );
    // Unknown envelope types are handed over (and acked) too; unknown frames are reported.
    let out = t.frame(c, r#"{"envelope_id":"u1","type":"brand_new","payload":{}}"#);
    assert_eq!(delivered(&out).len(), 1);
    let out = t.frame(c, r#"{"type":"something_else"}"#);
    assert!(matches!(events(&out)[0], SocketModeEvent::Unknown { raw } if raw.contains("something_else")));
    // An envelope id the light scan cannot read (escapes) is still acked, and handed over raw.
    let out = t.frame(c, r#"{"envelope_id":"a\"b","type":"slash_commands","payload":{}}"#);
    assert_eq!(sent(&out), [(c, serde_json::json!({"envelope_id": "a\"b"}))]);
    assert!(matches!(events(&out)[..], [SocketModeEvent::Unknown { raw }] if raw.contains("slash_commands")));
    let out = t.input(SocketModeInput::Frame {
        conn: c,
        frame: SocketModeIncoming::Skipped(SkippedFrame::Binary { len: 3 }),
    });
    assert_eq!(events(&out).len(), 1);
    assert_eq!(t.s.pending_acks(), 0);
}

#[test]
fn redeliveries_are_acked_and_not_handed_over_twice_on_any_socket() {
    let mut t = T::new(config(2));
    let a = t.ready();
    t.advance(2 * S);
    let b = t.ready();
    let out = t.frame(a, &event_env("e1", "Ev1", 0));
    assert_eq!(delivered(&out)[0].event_id.as_deref(), Some("Ev1"));
    // The same event on the other socket, as a retry: acked there, not handed over.
    let out = t.frame(b, &event_env("e2", "Ev1", 1));
    assert_eq!(sent(&out), [(b, serde_json::json!({"envelope_id": "e2"}))]);
    assert!(delivered(&out).is_empty());
    assert!(
        matches!(events(&out)[0], SocketModeEvent::Duplicate { event_id, retry_attempt: 1, .. } if event_id == "Ev1")
    );
    // Five minutes later (Slack's last retry) it is still recognised.
    t.advance(300 * S);
    assert!(delivered(&t.frame(a, &event_env("e3", "Ev1", 3))).is_empty());
    // A redelivery of an event never handed over is handed over, whatever its retry_attempt.
    let out = t.frame(a, &event_env("e4", "Ev2", 2));
    assert_eq!(delivered(&out).len(), 1);
}

#[test]
fn the_dedupe_window_covers_slacks_retries_and_is_bounded() {
    let mut t = T::new(SocketModeConfig { dedupe_capacity: 100, ..config(1) });
    assert!(t.s.config().dedupe_window >= 360 * S);
    let c = t.ready();
    t.frame(c, &event_env("e0", "Ev0", 0));
    t.advance(t.s.config().dedupe_window);
    // Past the window it is forgotten (and handed over again).
    assert_eq!(delivered(&t.frame(c, &event_env("e1", "Ev0", 1))).len(), 1);
    for i in 0..1000 {
        t.frame(c, &event_env(&format!("x{i}"), &format!("EvX{i}"), 0));
        assert!(t.s.remembered_events() <= 100);
    }
    // Past the cap, the oldest are forgotten first; the newest still recognised.
    assert!(delivered(&t.frame(c, &event_env("y", "EvX999", 1))).is_empty());
    assert_eq!(delivered(&t.frame(c, &event_env("z", "EvX0", 1))).len(), 1);
}

#[test]
fn manual_mode_tracks_the_deadline_warns_and_reports_late_acks() {
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(1) });
    let c = t.ready();
    let out = t.frame(c, &slash_env("s1"));
    assert!(sent(&out).is_empty(), "the app acks");
    assert!(!delivered(&out)[0].acked);
    assert_eq!(t.s.pending_acks(), 1);
    // On time, with a payload, on the socket it came from.
    t.advance(S);
    let payload = RawJson::from_json(r#"{"text":"ok"}"#);
    assert_eq!(t.s.ack("s1", payload, t.now), Ok(c));
    assert_eq!(
        sent(&t.drain_after()),
        [(c, serde_json::json!({"envelope_id": "s1", "payload": {"text": "ok"}}))]
    );
    assert_eq!(t.s.ack("s1", None, t.now), Err(DeliveryAckError::Unknown), "only once");
    // Late: due at 2 s, missed at 3 s, the late ack still sent and reported.
    t.frame(c, &slash_env("s2"));
    let out = t.advance(2 * S);
    assert!(
        matches!(events(&out)[..], [SocketModeEvent::AckDue { envelope_id, remaining }] if envelope_id == "s2" && *remaining == S)
    );
    let out = t.advance(S);
    assert!(matches!(events(&out)[..], [SocketModeEvent::AckMissed { envelope_id }] if envelope_id == "s2"));
    t.advance(500 * MS);
    assert_eq!(t.s.ack("s2", None, t.now), Ok(c));
    let out = t.drain_after();
    assert!(matches!(events(&out)[..], [SocketModeEvent::AckLate { late_by, .. }] if *late_by == 500 * MS));
    assert_eq!(sent(&out).len(), 1);
    // Too large: refused before anything is sent, and can be tried again.
    t.frame(c, &slash_env("s3"));
    let big = RawJson::from_json(&format!(r#"{{"text":"{}"}}"#, "x".repeat(21_000)));
    assert!(matches!(t.s.ack("s3", big, t.now), Err(DeliveryAckError::Invalid(_))));
    assert_eq!(t.s.ack("s3", None, t.now), Ok(c));
    // Forgotten after ack_forget: bounded memory.
    t.frame(c, &slash_env("s4"));
    t.advance(60 * S);
    assert_eq!(t.s.pending_acks(), 0);
    assert_eq!(t.s.ack("s4", None, t.now), Err(DeliveryAckError::Unknown));
}

#[test]
fn an_ack_whose_socket_died_is_reported_unsent_and_the_redelivery_is_deduplicated() {
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(1) });
    let c = t.ready();
    t.frame(c, &event_env("e1", "Ev1", 0));
    t.input(SocketModeInput::SocketClosed { conn: c, reason: Reason::Io("reset".into()) });
    assert_eq!(t.s.ack("e1", None, t.now), Err(DeliveryAckError::Unsent));
    t.advance(2 * S);
    let c2 = t.ready();
    // Slack redelivers on the new socket: acked by the session, not handed over again.
    let out = t.frame(c2, &event_env("e2", "Ev1", 1));
    assert_eq!(sent(&out), [(c2, serde_json::json!({"envelope_id": "e2"}))]);
    assert!(delivered(&out).is_empty());
}

#[test]
fn manual_mode_holds_a_redelivery_while_the_app_handles_the_event_and_hands_it_over_once_released() {
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(1) });
    let c = t.ready();
    t.frame(c, &event_env("e1", "Ev1", 0));
    // The app is still at it (a slow handler): the redelivery is neither handed over nor acked.
    t.advance(4 * S);
    let out = t.frame(c, &event_env("e2", "Ev1", 1));
    assert!(sent(&out).is_empty() && delivered(&out).is_empty(), "{out:?}");
    assert!(
        matches!(&events(&out)[..], [SocketModeEvent::RedeliveryHeld { event_id, retry_attempt: 1, .. }] if event_id == "Ev1")
    );
    // The app gives up (its store was down): Slack's next redelivery is handed over.
    assert_eq!(t.s.release("e1"), Ok(()));
    assert_eq!(t.s.release("e1"), Err(DeliveryAckError::Unknown));
    let out = t.frame(c, &event_env("e3", "Ev1", 2));
    assert!(sent(&out).is_empty(), "the session must not ack it for the app");
    assert_eq!(delivered(&out).len(), 1);
    assert_eq!(t.s.ack("e3", None, t.now), Ok(c));
    assert_eq!(sent(&t.drain_after()), [(c, serde_json::json!({"envelope_id": "e3"}))]);
    assert_eq!(t.s.remembered_events(), 1, "recorded once, at the ack");
    // Once acked, later redeliveries are acked by the session and not handed over.
    let out = t.frame(c, &event_env("e4", "Ev1", 3));
    assert_eq!(sent(&out), [(c, serde_json::json!({"envelope_id": "e4"}))]);
    assert!(delivered(&out).is_empty());
    // A delivery the app never acks nor releases is forgotten after `ack_forget`; then a
    // redelivery is handed over again.
    t.frame(c, &event_env("f1", "Ev2", 0));
    t.advance(t.s.config().ack_forget + S);
    assert_eq!(delivered(&t.frame(c, &event_env("f2", "Ev2", 1))).len(), 1);
}

#[test]
fn the_pending_acks_are_bounded() {
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, max_pending_acks: 10, ..config(1) });
    let c = t.ready();
    for i in 0..100 {
        t.frame(c, &slash_env(&format!("s{i}")));
        assert!(t.s.pending_acks() <= 10);
    }
    assert_eq!(t.s.ack("s0", None, t.now), Err(DeliveryAckError::Unknown), "the oldest was forgotten");
    assert_eq!(t.s.ack("s99", None, t.now), Ok(c));
    // Acked envelopes do not pile up while their deadlines are still ahead: at a high rate,
    // everything acked at once, the bookkeeping stays small.
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(1) });
    let c = t.ready();
    for i in 0..10_000 {
        let id = format!("e{i}");
        t.frame(c, &slash_env(&id));
        if i % 10 != 0 {
            assert_eq!(t.s.ack(&id, None, t.now), Ok(c));
        }
        assert!(t.s.pending.remembered() <= 2 * t.s.pending_acks() + 64 + 1);
    }
    assert_eq!(t.s.pending_acks(), 1000);
    // The ones left still get their warnings, in order, and are forgotten in time.
    let out = t.advance(2 * S);
    let due: Vec<_> =
        events(&out).into_iter().filter(|e| matches!(e, SocketModeEvent::AckDue { .. })).collect();
    assert_eq!(due.len(), 1000);
    assert!(matches!(due[0], SocketModeEvent::AckDue { envelope_id, .. } if envelope_id == "e0"));
    t.advance(60 * S);
    assert_eq!((t.s.pending_acks(), t.s.pending.remembered()), (0, 0));
}

#[test]
fn shutdown_stops_taking_envelopes_waits_for_owed_acks_then_closes_every_socket() {
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(2) });
    let a = t.ready();
    t.advance(2 * S);
    let b = t.ready();
    t.frame(a, &slash_env("s1"));
    t.s.shutdown(t.now, 5 * S);
    let out = t.drain();
    assert!(closes(&out).is_empty(), "an ack is owed");
    assert_eq!(t.s.state(), State::ShuttingDown);
    // Not taken: no ack, no delivery (Slack delivers it elsewhere or again).
    let out = t.frame(b, &slash_env("s2"));
    assert!(sent(&out).is_empty() && delivered(&out).is_empty());
    assert_eq!(calls(&t.advance(S)), 0, "no new socket while stopping");
    assert_eq!(t.s.ack("s1", None, t.now), Ok(a));
    let out = t.drain_after();
    assert_eq!(sent(&out).len(), 1);
    let mut c = closes(&out);
    c.sort();
    assert_eq!(c, [(a, 1000), (b, 1000)]);
    assert!(matches!(events(&out).last(), Some(SocketModeEvent::Stopped { reason: StopReason::Shutdown })));
    // With nothing owed, or when the grace runs out, it stops at once / at the deadline.
    let mut t = T::new(SocketModeConfig { ack_mode: AckMode::Manual, ..config(1) });
    let c = t.ready();
    t.frame(c, &slash_env("never"));
    t.s.shutdown(t.now, 5 * S);
    t.drain();
    let out = t.advance(5 * S);
    assert_eq!(closes(&out), [(c, 1000)]);
    assert_eq!(t.s.state(), State::Stopped);
}

impl T {
    /// What the last direct call (`ack`, `shutdown`) output.
    fn drain_after(&mut self) -> Vec<SocketModeOutput> {
        self.drain()
    }
}
