//! The Socket Mode machine's property test: random sequences of socket events, envelopes
//! (redeliveries of a few events on any socket), acks, backpressure and time never panic and
//! keep its promises: those of the shared checker ([`SocketModeInvariants`], also used by the
//! `socket_mode` fuzz target).

use super::testing::{SocketModeInvariants, open_response};
use super::*;
use crate::common::{ConnectFailure, Reason};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Advance(u64),
    OpenOk,
    OpenErr(bool, Option<u64>),
    Opened(u8),
    Hello(u8),
    Disconnect(u8, &'static str),
    Closed(u8),
    /// An events_api envelope of event `n` on socket `s`.
    Event(u8, u8),
    Slash(u8),
    Garbage(u8, String),
    /// Manual ack of the `n`th delivery so far.
    Ack(u16),
    /// Manual release (no ack) of the `n`th delivery so far.
    Release(u16),
    Pause(bool),
    Shutdown(u64),
}

fn steps() -> impl Strategy<Value = Step> {
    let reasons = prop_oneof![
        20 => Just("warning"),
        20 => Just("refresh_requested"),
        10 => Just("too_many_websockets"),
        1 => Just("link_disabled"),
        5 => Just("new_reason"),
    ];
    prop_oneof![
        10 => (0u64..20_000).prop_map(Step::Advance),
        10 => Just(Step::OpenOk),
        3 => (proptest::bool::weighted(0.05), proptest::option::of(0u64..60)).prop_map(|(f, r)| Step::OpenErr(f, r)),
        8 => (0u8..4).prop_map(Step::Opened),
        8 => (0u8..4).prop_map(Step::Hello),
        2 => (0u8..4, reasons).prop_map(|(s, r)| Step::Disconnect(s, r)),
        2 => (0u8..4).prop_map(Step::Closed),
        25 => (0u8..4, 0u8..8).prop_map(|(s, n)| Step::Event(s, n)),
        5 => (0u8..4).prop_map(Step::Slash),
        2 => (0u8..4, ".{0,30}").prop_map(|(s, g)| Step::Garbage(s, g)),
        8 => any::<u16>().prop_map(Step::Ack),
        3 => any::<u16>().prop_map(Step::Release),
        2 => any::<bool>().prop_map(Step::Pause),
        1 => (0u64..10_000).prop_map(Step::Shutdown),
    ]
}

fn run(manual: bool, steps: Vec<Step>) {
    let t0 = Instant::now();
    let mut now = t0;
    let mode = if manual { AckMode::Manual } else { AckMode::Auto };
    let config = SocketModeConfig { connections: 3, ack_mode: mode, ..SocketModeConfig::default() };
    let mut s = SocketModeSession::new(config, now);
    let mut inv = SocketModeInvariants::new(&s);
    let mut next_env = 0u64;
    let ok = |r: Result<Vec<SocketModeOutput>, String>| r.unwrap_or_else(|e| panic!("{e}"));
    ok(inv.drain(&mut s));
    for step in steps {
        let opened = inv.opened();
        let sock = |i: u8| opened.get(usize::from(i) % opened.len().max(1)).copied().unwrap_or(ConnId(99));
        let input = match step {
            Step::Advance(ms) => {
                now += Duration::from_millis(ms);
                s.handle_timeout(now);
                None
            }
            Step::OpenOk => {
                Some(SocketModeInput::OpenResult(Ok(open_response("wss://x/link/?ticket=t", now))))
            }
            Step::OpenErr(fatal, retry) => {
                let mut f =
                    if fatal { ConnectFailure::fatal("no") } else { ConnectFailure::retryable("later") };
                f.retry_after = retry.map(Duration::from_secs);
                Some(SocketModeInput::OpenResult(Err(f)))
            }
            Step::Opened(i) => Some(SocketModeInput::SocketOpened { conn: sock(i) }),
            Step::Hello(i) => Some(SocketModeInput::Frame {
                conn: sock(i),
                frame: SocketModeIncoming::text(r#"{"type":"hello"}"#.into()),
            }),
            Step::Disconnect(i, r) => {
                let text = format!(r#"{{"type":"disconnect","reason":"{r}"}}"#);
                Some(SocketModeInput::Frame { conn: sock(i), frame: SocketModeIncoming::text(text) })
            }
            Step::Closed(i) => {
                Some(SocketModeInput::SocketClosed { conn: sock(i), reason: Reason::Io("x".into()) })
            }
            Step::Event(i, n) => {
                next_env += 1;
                let text = format!(
                    r#"{{"envelope_id":"e{next_env}","type":"events_api","retry_attempt":{},"payload":{{"event_id":"Ev{n}","event":{{"type":"app_mention"}}}}}}"#,
                    next_env % 4
                );
                Some(SocketModeInput::Frame { conn: sock(i), frame: SocketModeIncoming::text(text) })
            }
            Step::Slash(i) => {
                next_env += 1;
                let text =
                    format!(r#"{{"envelope_id":"e{next_env}","type":"slash_commands","payload":{{}}}}"#);
                Some(SocketModeInput::Frame { conn: sock(i), frame: SocketModeIncoming::text(text) })
            }
            Step::Garbage(i, g) => {
                Some(SocketModeInput::Frame { conn: sock(i), frame: SocketModeIncoming::text(g) })
            }
            Step::Ack(k) => {
                inv.ack_nth(&mut s, usize::from(k), now);
                None
            }
            Step::Release(k) => {
                inv.release_nth(&mut s, usize::from(k));
                None
            }
            Step::Pause(on) => Some(SocketModeInput::Backpressure(on)),
            Step::Shutdown(ms) => {
                s.shutdown(now, Duration::from_millis(ms));
                None
            }
        };
        if let Some(input) = input {
            inv.handle(&mut s, input, now);
        }
        ok(inv.drain(&mut s));
        ok(inv.check(&mut s, now));
        assert!(s.poll_timeout().is_none_or(|t| t >= t0));
    }
    DELIVERED.fetch_add(inv.handed_over(), std::sync::atomic::Ordering::Relaxed);
    // The deadlines always end: a stopping session stops within its grace.
    inv.finish(&mut s, now).unwrap_or_else(|e| panic!("{e}"));
}

/// Events handed over across all cases: the test must exercise hand-overs, not only failures.
static DELIVERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn the_property_hands_envelopes_over() {
    let steps = vec![Step::OpenOk, Step::Opened(0), Step::Hello(0), Step::Event(0, 1), Step::Event(0, 1)];
    run(false, steps.clone());
    run(true, steps);
    assert!(DELIVERED.load(std::sync::atomic::Ordering::Relaxed) >= 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_promises_in_auto_mode(steps in proptest::collection::vec(steps(), 0..120)) {
        run(false, steps);
    }

    #[test]
    fn random_sequences_keep_the_promises_in_manual_mode(steps in proptest::collection::vec(steps(), 0..120)) {
        run(true, steps);
    }
}
