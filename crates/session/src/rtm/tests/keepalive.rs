//! Keepalive and backpressure.

use super::*;

#[test]
fn ping_after_idle_interval_and_any_frame_counts_as_liveness() {
    let (mut h, conn) = H::connected(config());
    let idle = h.session.config().keepalive.idle_ping;
    assert_eq!(h.session.poll_timeout(), Some(h.now + idle));
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
    h.advance(h.session.config().keepalive.pong_timeout - MS);
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
fn by_default_a_silent_connection_is_pinged_after_10_s_and_replaced_at_15_s() {
    let (mut h, conn) = H::connected(config());
    assert!(h.advance(10 * SEC - MS).is_empty(), "no ping before 10 s of silence");
    let outs = h.advance(MS);
    assert_eq!(sends_of(&outs, "ping").len(), 1);
    assert!(h.advance(5 * SEC - MS).is_empty(), "5 s for an answer");
    let outs = h.advance(MS);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
}

#[test]
fn silence_after_ping_declares_the_connection_dead() {
    let (mut h, conn) = H::connected(config());
    let ka = h.session.config().keepalive;
    let outs = h.advance(ka.idle_ping);
    assert_eq!(sends_of(&outs, "ping").len(), 1);
    assert!(h.advance(ka.pong_timeout - MS).is_empty());
    let outs = h.advance(MS);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
    let ev = events(&outs);
    assert!(ev.contains(&SessionEvent::Disconnected { reason: Reason::KeepaliveTimeout }), "{ev:#?}");
    assert!(matches!(&reconnecting(&outs)[..], [(1, Reason::KeepaliveTimeout, _)]));
    assert_eq!(h.session.state(), State::Reconnecting);
}

#[test]
fn a_consumer_that_stops_reading_never_causes_a_keepalive_timeout() {
    let (mut h, conn) = H::connected(config());
    let ka = h.session.config().keepalive;
    h.advance(ka.idle_ping); // ping out
    h.feed(RtmInput::Backpressure(true));
    // Paused far beyond every deadline: nothing happens.
    let outs = h.advance(10 * 60 * SEC);
    assert!(closes(&outs).is_empty(), "{outs:#?}");
    h.feed(RtmInput::Backpressure(false));
    // The pong deadline resumes where it was: still pong_timeout left.
    assert!(closes(&h.advance(ka.pong_timeout - MS)).is_empty());
    let outs = h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    assert!(closes(&outs).is_empty());
    assert_eq!(h.session.state(), State::Connected);
    // And without frames it is eventually detected.
    h.advance(ka.idle_ping);
    let outs = h.advance(ka.pong_timeout);
    assert_eq!(closes(&outs), vec![(conn, CLOSE_REPLACED)]);
}

#[test]
fn the_keepalive_pong_is_matched_by_reply_to_and_an_application_ping_still_gets_its_fields() {
    let (mut h, conn) = H::connected(config());
    let ka = h.session.config().keepalive;
    let outs = h.advance(ka.idle_ping);
    let (_, text, ping) = sends_of(&outs, "ping").remove(0);
    assert!(text.contains(r#""time":"#), "the keepalive ping carries its time: {text}");
    h.write_all(&outs);
    // An application's own ping, in flight beside the keepalive's.
    let r = h.session.submit(ClientMessage::Ping(Ping::new().field("probe", "x")), h.now).unwrap();
    let outs = h.out();
    let app = sends_of(&outs, "ping")[0].2;
    h.write_all(&outs);
    // The application's pong is not the keepalive's: it is decoded and completes the request.
    let app_pong = EventFrame::new(format!(r#"{{"type":"pong","reply_to":{app},"probe":"x"}}"#)).unwrap();
    assert!(!h.session.on_keepalive_pong(conn, &app_pong, h.now));
    let outs = h.frame(conn, app_pong.as_str());
    assert!(
        matches!(&completions(&outs)[..], [(x, Ok(RtmAck::Pong { extra }))] if *x == r && extra["probe"] == "x")
    );
    // The keepalive's pong is recognised by its reply_to, whatever it echoes, and swallowed.
    let pong = format!(r#"{{"time":{{"nested":[1,2]}},"reply_to":{ping},"type":"pong"}}"#);
    let keepalive_pong = EventFrame::new(pong.clone()).unwrap();
    assert!(h.session.on_keepalive_pong(conn, &keepalive_pong, h.now), "matched without decoding");
    // Fed as a driver does: nothing for the application, and it was proof of life (no pong
    // deadline left: the next ping comes a full idle interval later, no close).
    h.advance(SEC);
    let at = h.now;
    let outs = h.frame(conn, &pong);
    assert!(events(&outs).is_empty() && completions(&outs).is_empty(), "{outs:#?}");
    let outs = h.advance(ka.idle_ping - MS);
    assert!(closes(&outs).is_empty() && sends_of(&outs, "ping").is_empty(), "{outs:#?}");
    let outs = h.advance(MS);
    assert_eq!(h.now, at + ka.idle_ping);
    assert_eq!(sends_of(&outs, "ping").len(), 1);
    // Once answered, the same pong again is no longer the keepalive's (decoded, harmless).
    assert!(!h.session.on_keepalive_pong(conn, &keepalive_pong, h.now));
}
