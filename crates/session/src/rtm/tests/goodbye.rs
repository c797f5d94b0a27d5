//! `goodbye`, make-before-break, duplicate suppression, raw pass-through.

use super::*;

#[test]
fn goodbye_reconnects_make_before_break_without_duplicates() {
    let (mut h, old) = H::connected(config());
    h.advance(SEC);
    let outs = h.frame(old, r#"{"type":"goodbye"}"#);
    assert!(closes(&outs).is_empty(), "the old socket stays open until the new one is ready");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::Goodbye, _)]));
    assert_eq!(h.session.state(), State::Connected);
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn: new });
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
    h.advance(h.session.config().dedupe.window + SEC);
    assert_eq!(rtm_texts(&h.frame(new, m1)), vec!["one"]);
}

#[test]
fn raw_events_pass_through_untouched_and_count_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let m = r#"{"type":"message","channel":"C1","user":"U2","text":"raw","ts":"1.000001"}"#;
    h.advance(h.session.config().keepalive.idle_ping / 2);
    let outs = h.feed(raw(conn, scanned(m)));
    assert_eq!(outs, vec![RtmOutput::RawEvent { frame: scanned(m) }]);
    // It reset the idle timer: no ping until a full idle interval after it.
    let outs = h.advance(h.session.config().keepalive.idle_ping - MS);
    assert!(sends(&outs).is_empty(), "{outs:#?}");
    // From an unknown connection it is ignored.
    assert!(h.feed(raw(ConnId(999), scanned(m))).is_empty());
}

#[test]
fn raw_session_events_are_handled_not_passed_through() {
    let (mut h, conn) = H::connected(config());
    // A caller that hands the machine a `goodbye` undecoded still gets a reconnect.
    let outs = h.feed(raw(conn, scanned(r#"{"type":"goodbye"}"#)));
    assert!(!outs.iter().any(|o| matches!(o, RtmOutput::RawEvent { .. })), "{outs:#?}");
    h.run_until(|o| *o == RtmOutput::CallConnect);
}

#[test]
fn raw_events_are_decoded_and_deduplicated_across_make_before_break() {
    let (mut h, old) = H::connected(config());
    h.frame(old, r#"{"type":"goodbye"}"#);
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn: new });
    let m1 = r#"{"type":"message","channel":"C1","user":"U2","text":"one","ts":"1.000001"}"#;
    let m2 = r#"{"type":"message","channel":"C1","user":"U2","text":"two","ts":"1.000002"}"#;
    let mut texts = rtm_texts(&h.feed(raw(old, scanned(m1))));
    h.frame(new, r#"{"type":"hello"}"#);
    for m in [m1, m2] {
        let outs = h.feed(raw(new, scanned(m)));
        // While the window is open the machine decodes to check: no raw pass-through.
        assert!(!outs.iter().any(|o| matches!(o, RtmOutput::RawEvent { .. })), "{outs:#?}");
        texts.extend(rtm_texts(&outs));
    }
    assert_eq!(texts, vec!["one", "two"]);
    h.advance(h.session.config().dedupe.window + SEC);
    let outs = h.feed(raw(new, scanned(m1)));
    assert_eq!(outs, vec![RtmOutput::RawEvent { frame: scanned(m1) }]);
}

#[test]
fn goodbye_waits_for_replies_owed_by_the_old_socket() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, old) = H::connected(c);
    let r = h.session.submit(ClientMessage::message("C1", "hi"), h.now).unwrap();
    let outs = h.out();
    let (_, _, wire) = sends(&outs)[0].clone();
    h.write_all(&outs);
    h.frame(old, r#"{"type":"goodbye"}"#);
    // Submitted after goodbye: waits for the new connection.
    let r2 = h.session.submit(ClientMessage::message("C1", "after"), h.now).unwrap();
    assert!(sends(&h.out()).is_empty());
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    assert!(closes(&outs).is_empty(), "old still owes a reply");
    let s = sends(&outs);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, new);
    assert!(s[0].1.contains("after"));
    let outs = h.frame(old, &ack(wire, "5.5"));
    assert!(matches!(&completions(&outs)[..], [(id, Ok(RtmAck::Posted { .. }))] if *id == r));
    assert_eq!(closes(&outs), vec![(old, CLOSE_NORMAL)]);
    let outs = h.frame(new, &ack(s[0].2, "5.6"));
    assert!(matches!(&completions(&outs)[..], [(id, Ok(_))] if *id == r2));
}

#[test]
fn old_socket_closing_before_the_new_hello_is_a_gap() {
    let (mut h, old) = H::connected(config());
    h.frame(old, r#"{"type":"goodbye"}"#);
    let outs = h.feed(RtmInput::SocketClosed {
        conn: old,
        reason: Box::new(Reason::Closed { code: Some(1000), reason: "bye".into() }),
    });
    assert!(events(&outs).iter().any(|e| matches!(e, SessionEvent::Disconnected { .. })));
    assert_eq!(h.session.state(), State::Reconnecting);
    let down_at = h.now;
    h.run_until(|o| *o == RtmOutput::CallConnect);
    h.advance(SEC);
    let outs = h.answer_connect();
    let conn = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn });
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
    assert_eq!(h.session.last_reconnect_url(), Some("wss://elsewhere.invalid/x"));
    // Slack's documented example has no `url`: still an event, and the last URL stays.
    let outs = h.frame(conn, r#"{"type":"reconnect_url"}"#);
    assert!(matches!(&events(&outs)[..], [SessionEvent::Rtm(Event::ReconnectUrl(u))] if u.url.is_none()));
    assert_eq!(h.session.last_reconnect_url(), Some("wss://elsewhere.invalid/x"));
    h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("x".into())) });
    let outs = h.run_until(|o| *o == RtmOutput::CallConnect);
    assert!(opened(&outs).is_none(), "never opens the reconnect_url: asks rtm.connect");
    let outs = h.answer_connect();
    assert!(matches!(&outs[..], [RtmOutput::OpenSocket { url, .. }] if !url.contains("elsewhere")));
}

#[test]
fn team_migration_reconnects() {
    let (mut h, conn) = H::connected(config());
    let outs = h.frame(conn, r#"{"type":"team_migration_started"}"#);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_NORMAL)]);
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::TeamMigration, _)]));
}
