//! The property test: random input sequences keep every invariant of the shared checker
//! ([`RtmInvariants`](crate::rtm::testing::RtmInvariants), also used by the `machine` fuzz target).

use super::*;
use crate::rtm::testing::RtmInvariants;
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
        (0u32..20).prop_map(|i| format!(r#"{{"type":"message","channel":"C1","ts":"{i}.0","text":"m"}}"#)),
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
        (0u8..3, frames(), any::<bool>()).prop_map(|(c, f, bytes)| Step::Frame(c, f, bytes)),
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
    fn never_panics_and_keeps_every_invariant(seq in proptest::collection::vec(steps(), 1..120)) {
        let mut c = config();
        c.sending.queue_capacity = 8;
        c.send_rate = SendRate { interval: Duration::from_millis(300), burst: 2, ..SendRate::default() };
        let t0 = Instant::now();
        let mut now = t0;
        let mut s = Session::new(c, t0);
        let mut inv = RtmInvariants::new(&s);
        inv.drain(&mut s).map_err(TestCaseError::fail)?;
        let mut conns: Vec<ConnId> = Vec::new();
        for step in seq {
            let input = match step {
                Step::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    s.handle_timeout(now);
                    None
                }
                Step::ConnectOk => Some(RtmInput::ConnectResult(Box::new(Ok(response("wss://h/x", now))))),
                Step::ConnectErr(fatal, ra) => {
                    let mut f = if fatal { ConnectFailure::fatal("x") } else { ConnectFailure::retryable("x") };
                    f.retry_after = ra.map(Duration::from_secs);
                    Some(RtmInput::ConnectResult(Box::new(Err(f))))
                }
                Step::Opened => conns.last().map(|c| RtmInput::SocketOpened { conn: *c }),
                Step::Frame(which, text, bytes) => {
                    conns.iter().rev().nth(which as usize % conns.len().max(1)).map(|c| {
                        // Either path a driver may take: classify the bytes, or an owned text.
                        let frame = if bytes { RtmIncoming::message(true, text.as_bytes()) } else { RtmIncoming::text(text) };
                        RtmInput::Frame { conn: *c, frame }
                    })
                }
                Step::Closed => conns.last().map(|c| RtmInput::SocketClosed { conn: *c, reason: Box::new(Reason::Io("x".into())) }),
                Step::Written(id) => conns.last().map(|c| RtmInput::Written { conn: *c, id }),
                Step::Submit(k) => {
                    let msg = match k {
                        0 => ClientMessage::typing("C1"),
                        1 => ClientMessage::PresenceSub { ids: vec![UserId::new("U1")] },
                        2 => ClientMessage::Ping(Ping::new()),
                        3 => ClientMessage::message("C1", ""),
                        _ => ClientMessage::message("C1", "hi"),
                    };
                    if let Ok(r) = s.submit(msg, now) {
                        inv.submitted(r);
                    }
                    None
                }
                Step::Reply(id, ok, code) => conns.last().map(|c| {
                    let text = if ok { ack(id, "1.1") } else {
                        format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":{code},"msg":"m"}}}}"#)
                    };
                    RtmInput::Frame { conn: *c, frame: RtmIncoming::text(text) }
                }),
                Step::Pause(p) => Some(RtmInput::Backpressure(p)),
                Step::Shutdown(ms) => {
                    s.shutdown(now, Duration::from_millis(ms));
                    None
                }
            };
            if let Some(input) = input {
                inv.handle(&mut s, input, now);
            }
            let mut outs = inv.drain(&mut s).map_err(TestCaseError::fail)?;
            outs.extend(inv.check(&mut s, now).map_err(TestCaseError::fail)?);
            conns.extend(outs.iter().filter_map(|o| match o {
                RtmOutput::OpenSocket { conn, .. } => Some(*conn),
                _ => None,
            }));
        }
        // A final shutdown always resolves everything.
        inv.finish(&mut s, now).map_err(TestCaseError::fail)?;
    }
}
