//! The Socket Mode machine's property test: random sequences of socket events, envelopes
//! (redeliveries of a few events on any socket), acks, backpressure and time never panic and
//! keep its promises.

use super::*;
use crate::common::{ConnectFailure, Reason};
use proptest::prelude::*;
use slack_rtm_codec::OpenResponse;
use std::collections::{HashMap, HashSet};

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

/// What the test saw of the outputs.
#[derive(Default)]
struct Watch {
    manual: bool,
    opened: Vec<ConnId>,
    handed: HashSet<String>,
    deliveries: Vec<String>,
    acked: HashSet<String>,
    /// Manual mode: envelope id → event id, and the events the application acked.
    event_of: HashMap<String, String>,
    app_acked: HashSet<String>,
    open: HashMap<ConnId, bool>,
    stopped: bool,
}

impl Watch {
    fn drain(&mut self, s: &mut SocketModeSession) {
        while let Some(o) = s.poll_output() {
            assert!(!self.stopped, "nothing after Stopped: {o:?}");
            match o {
                Output::OpenSocket { conn, .. } => {
                    self.opened.push(conn);
                    self.open.insert(conn, true);
                }
                Output::Close { conn, .. } => {
                    self.open.remove(&conn);
                }
                Output::Send { text, .. } => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    self.acked.insert(v["envelope_id"].as_str().unwrap().to_owned());
                }
                Output::Deliver(d) => {
                    let id = d.frame.envelope_id().to_owned();
                    assert_eq!(d.acked, !self.manual);
                    if !self.manual {
                        assert!(self.acked.contains(&id), "auto mode: acked before it was handed over");
                    }
                    if let Some(e) = &d.event_id {
                        if self.manual {
                            // Handed over again only while no delivery of it was acked.
                            assert!(!self.app_acked.contains(e), "{e} handed over after it was acked");
                            self.handed.insert(e.clone());
                            self.event_of.insert(id.clone(), e.clone());
                        } else {
                            assert!(self.handed.insert(e.clone()), "{e} handed over twice");
                        }
                    }
                    self.deliveries.push(id);
                }
                Output::Event(Event::Stopped { .. }) => self.stopped = true,
                _ => {}
            }
        }
    }
}

fn run(manual: bool, steps: Vec<Step>) {
    let t0 = Instant::now();
    let mut now = t0;
    let mode = if manual { AckMode::Manual } else { AckMode::Auto };
    let config = SocketModeConfig { connections: 3, ack_mode: mode, ..SocketModeConfig::default() };
    let mut s = SocketModeSession::new(config, now);
    let mut w = Watch { manual, ..Watch::default() };
    let mut next_env = 0u64;
    w.drain(&mut s);
    for step in steps {
        let opened = &w.opened;
        let sock = |i: u8| opened.get(usize::from(i) % opened.len().max(1)).copied().unwrap_or(ConnId(99));
        match step {
            Step::Advance(ms) => {
                now += Duration::from_millis(ms);
                s.handle_timeout(now);
            }
            Step::OpenOk => s.handle(
                Input::OpenResult(Ok(OpenResponse {
                    url: "wss://x/link/?ticket=t".into(),
                    warnings: vec![],
                    req_id: None,
                    obtained_at: now,
                })),
                now,
            ),
            Step::OpenErr(fatal, retry) => {
                let mut f =
                    if fatal { ConnectFailure::fatal("no") } else { ConnectFailure::retryable("later") };
                f.retry_after = retry.map(Duration::from_secs);
                s.handle(Input::OpenResult(Err(f)), now);
            }
            Step::Opened(i) => s.handle(Input::SocketOpened { conn: sock(i) }, now),
            Step::Hello(i) => s.handle(
                Input::Frame { conn: sock(i), frame: Incoming::text(r#"{"type":"hello"}"#.into()) },
                now,
            ),
            Step::Disconnect(i, r) => {
                let text = format!(r#"{{"type":"disconnect","reason":"{r}"}}"#);
                s.handle(Input::Frame { conn: sock(i), frame: Incoming::text(text) }, now);
            }
            Step::Closed(i) => {
                s.handle(Input::SocketClosed { conn: sock(i), reason: Reason::Io("x".into()) }, now)
            }
            Step::Event(i, n) => {
                next_env += 1;
                let text = format!(
                    r#"{{"envelope_id":"e{next_env}","type":"events_api","retry_attempt":{},"payload":{{"event_id":"Ev{n}","event":{{"type":"app_mention"}}}}}}"#,
                    next_env % 4
                );
                s.handle(Input::Frame { conn: sock(i), frame: Incoming::text(text) }, now);
            }
            Step::Slash(i) => {
                next_env += 1;
                let text =
                    format!(r#"{{"envelope_id":"e{next_env}","type":"slash_commands","payload":{{}}}}"#);
                s.handle(Input::Frame { conn: sock(i), frame: Incoming::text(text) }, now);
            }
            Step::Garbage(i, g) => s.handle(Input::Frame { conn: sock(i), frame: Incoming::text(g) }, now),
            Step::Ack(k) => {
                if let Some(id) = w.deliveries.get(usize::from(k) % w.deliveries.len().max(1))
                    && matches!(s.ack(id, None, now), Ok(_) | Err(AckError::Unsent))
                    && let Some(e) = w.event_of.get(id)
                {
                    w.app_acked.insert(e.clone());
                }
            }
            Step::Release(k) => {
                if let Some(id) = w.deliveries.get(usize::from(k) % w.deliveries.len().max(1)) {
                    let _ = s.release(id);
                }
            }
            Step::Pause(on) => s.handle(Input::Backpressure(on), now),
            Step::Shutdown(ms) => s.shutdown(now, Duration::from_millis(ms)),
        }
        w.drain(&mut s);
        assert!(s.pending_acks() <= s.config().max_pending_acks);
        assert!(s.remembered_events() <= s.config().dedupe_capacity);
        assert!(s.poll_timeout().is_none_or(|t| t >= t0));
        assert_eq!(w.stopped, s.state() == State::Stopped);
    }
    DELIVERED.fetch_add(w.handed.len(), std::sync::atomic::Ordering::Relaxed);
    // The deadlines always end: a stopping session stops within its grace.
    if s.state() == State::ShuttingDown {
        now += Duration::from_secs(3600);
        s.handle_timeout(now);
        w.drain(&mut s);
        assert_eq!(s.state(), State::Stopped);
    }
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
