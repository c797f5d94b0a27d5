//! Bad frames, and shutdown.

use super::*;

#[test]
fn bad_frames_are_warnings_and_count_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let idle = h.session.config().keepalive.idle_ping;
    h.advance(idle - SEC);
    let outs = h.frame(conn, "{not json");
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::Undecodable(_))]));
    h.advance(idle - SEC);
    let outs = h.feed(RtmInput::Frame { conn, frame: RtmIncoming::Skipped(SkippedFrame::Binary { len: 3 }) });
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::BinaryFrame { len: 3 })]));
    h.advance(idle - SEC);
    let frame = RtmIncoming::Skipped(SkippedFrame::InvalidUtf8 { len: Some(4) });
    let outs = h.feed(RtmInput::Frame { conn, frame });
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::InvalidUtf8 { len: Some(4) })]));
    h.advance(idle - SEC);
    h.feed(RtmInput::Frame { conn, frame: RtmIncoming::Activity });
    let outs = h.advance(idle - SEC);
    assert!(sends_of(&outs, "ping").is_empty(), "every kind of frame reset the idle timer");
    // Unknown events are delivered, typed as Unknown, never dropped.
    let outs = h.frame(conn, r#"{"type":"brand_new_event","x":1}"#);
    assert!(matches!(&events(&outs)[..], [SessionEvent::Rtm(Event::Unknown { .. })]));
}

#[test]
fn shutdown_flushes_the_queue_then_closes_and_stops() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let r1 = h.session.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let r2 = h.session.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let id1 = sends(&outs)[0].2;
    h.session.shutdown(h.now, 10 * SEC);
    assert_eq!(h.session.state(), State::ShuttingDown);
    assert_eq!(h.session.submit(ClientMessage::message("C1", "c"), h.now), Err(SubmitError::Stopped));
    h.frame(conn, &ack(id1, "1.1"));
    let outs = h.run_until(|o| matches!(o, RtmOutput::Send { .. }));
    h.write_all(&outs);
    let id2 = sends(&outs)[0].2;
    let outs = h.frame(conn, &ack(id2, "1.2"));
    assert!(matches!(&completions(&outs)[..], [(x, Ok(_))] if *x == r2));
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    let ev = events(&outs);
    assert_eq!(
        &ev[ev.len() - 2..],
        &[
            SessionEvent::Disconnected { reason: Reason::Shutdown },
            SessionEvent::Stopped { reason: StopReason::Shutdown }
        ]
    );
    assert_eq!(h.session.state(), State::Stopped);
    let _ = r1;
}

#[test]
fn shutdown_deadline_resolves_everything() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let written = h.session.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let queued = h.session.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    h.session.shutdown(h.now, 2 * SEC);
    h.out();
    let outs = h.advance(2 * SEC);
    let done = completions(&outs);
    assert!(done.contains(&(written, Err(SendError::Unconfirmed))));
    assert!(done.contains(&(queued, Err(SendError::Stopped))));
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { reason: StopReason::Shutdown })));
    assert_eq!(h.session.outstanding(), 0);
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn a_second_shutdown_can_only_bring_the_deadline_closer() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, _conn) = H::connected(c);
    let _written = h.session.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    let queued = h.session.submit(ClientMessage::message("C1", "b"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    h.session.shutdown(h.now, 30 * SEC);
    h.out();
    // A longer grace is ignored...
    h.session.shutdown(h.now, 60 * SEC);
    assert!(h.session.poll_timeout().is_some_and(|t| t <= h.now + 30 * SEC));
    // ...a shorter one wins.
    h.session.shutdown(h.now, SEC);
    let outs = h.advance(SEC);
    assert!(completions(&outs).contains(&(queued, Err(SendError::Stopped))), "{outs:#?}");
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { reason: StopReason::Shutdown })));
    assert_eq!(h.session.outstanding(), 0);
}

#[test]
fn shutdown_while_disconnected_stops_at_once() {
    let mut h = H::new(config());
    h.out();
    let r = h.session.submit(ClientMessage::message("C1", "a"), h.now).unwrap();
    h.session.shutdown(h.now, 10 * SEC);
    let outs = h.out();
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Stopped))]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { reason: StopReason::Shutdown })));
    // The rtm.connect answer that arrives later is ignored: no socket is opened.
    assert!(h.answer_connect().is_empty());
    // Shutting down twice is harmless.
    h.session.shutdown(h.now, SEC);
    assert!(h.out().is_empty());
}

#[test]
fn shutdown_while_opening_closes_the_socket() {
    let mut h = H::new(config());
    h.out();
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.session.shutdown(h.now, SEC);
    let outs = h.out();
    assert_eq!(closes(&outs), vec![(conn, 1000)]);
    assert!(matches!(events(&outs).last(), Some(SessionEvent::Stopped { reason: StopReason::Shutdown })));
}
