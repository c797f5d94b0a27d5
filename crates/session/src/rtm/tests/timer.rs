//! The timer table: every timer, once armed, is reported by `poll_timeout` and handled by
//! `handle_timeout`; the pausing ones freeze under backpressure.

use super::*;
use crate::common::TimerTable;
use crate::rtm::timer::Timer;

/// A session with `timer` armed. The `match` is exhaustive: a new timer without a scenario
/// does not compile.
fn armed(timer: Timer) -> H {
    match timer {
        Timer::Reconnect => {
            let mut h = H::new(config());
            h.out();
            h.feed(RtmInput::ConnectResult(Box::new(Err(ConnectFailure::retryable("down")))));
            h
        }
        Timer::Open => {
            let mut h = H::new(config());
            h.out();
            h.answer_connect();
            h
        }
        Timer::Hello => {
            let mut h = H::new(config());
            h.out();
            let outs = h.answer_connect();
            let conn = opened(&outs).expect("open");
            h.feed(RtmInput::SocketOpened { conn });
            h
        }
        Timer::Keepalive => H::connected(config()).0,
        Timer::Drain => {
            let (mut h, old) = H::connected(config());
            let outs = submit(&mut h, "owed a reply");
            h.write_all(&outs);
            h.frame(old, r#"{"type":"goodbye"}"#);
            let outs = h.run_until(|o| *o == RtmOutput::CallConnect);
            assert_eq!(count_call_connect(&outs), 1);
            let outs = h.answer_connect();
            h.open_and_hello(&outs);
            h
        }
        Timer::Ack => {
            let (mut h, _) = H::connected(config());
            let outs = submit(&mut h, "awaiting its reply");
            h.write_all(&outs);
            h
        }
        Timer::Queue => {
            let mut h = H::new(config());
            h.out();
            submit(&mut h, "queued while disconnected");
            h
        }
        Timer::Shutdown => {
            let (mut h, _) = H::connected(config());
            let outs = submit(&mut h, "in flight at shutdown");
            h.write_all(&outs);
            let now = h.now;
            h.session.shutdown(now, 5 * SEC);
            h.out();
            h
        }
        Timer::SendRate => {
            let mut c = config();
            c.send_rate = SendRate::new(SEC, 1);
            let (mut h, _) = H::connected(c);
            submit(&mut h, "first");
            submit(&mut h, "second, waits for a token");
            h
        }
    }
}

fn submit(h: &mut H, text: &str) -> Vec<RtmOutput> {
    let now = h.now;
    h.session.submit(ClientMessage::message("C1", text), now).expect("accepted");
    h.out()
}

#[test]
fn every_armed_timer_is_reported_and_handled() {
    for timer in Timer::ALL {
        let mut h = armed(timer);
        let at = h.session.deadline(timer).unwrap_or_else(|| panic!("{timer:?} armed by its scenario"));
        assert!(h.session.timers().any(|(t, when)| t == timer && when == at), "{timer:?} listed");
        let next = h.session.poll_timeout().expect("a deadline");
        assert!(next <= at, "{timer:?}: poll_timeout {next:?} later than its deadline {at:?}");
        // Fire everything due up to its deadline: it must move on or disarm.
        h.at(at);
        assert!(
            h.session.deadline(timer).is_none_or(|n| n > at),
            "{timer:?} still due after handle_timeout at its deadline"
        );
        assert!(h.session.poll_timeout().is_none_or(|n| n > at), "{timer:?}: something still due");
    }
}

#[test]
fn backpressure_freezes_exactly_the_pausing_timers_and_shifts_them() {
    for timer in Timer::ALL {
        let mut h = armed(timer);
        let at = h.session.deadline(timer).expect("armed");
        h.feed(RtmInput::Backpressure(true));
        let frozen = h.session.deadline(timer);
        assert_eq!(frozen.is_none(), timer.pauses(), "{timer:?} under backpressure: {frozen:?}");
        // Frozen for half a second (short of every scenario's deadline): paused timers move by it.
        h.now += SEC / 2;
        h.feed(RtmInput::Backpressure(false));
        let expected = if timer.pauses() { at + SEC / 2 } else { at };
        assert_eq!(h.session.deadline(timer), Some(expected), "{timer:?} after backpressure");
    }
}

#[test]
fn the_table_lists_every_timer_once() {
    let mut seen = std::collections::HashSet::new();
    for t in Timer::ALL {
        assert!(seen.insert(t), "{t:?} twice");
    }
    assert_eq!(seen.len(), 9);
}
