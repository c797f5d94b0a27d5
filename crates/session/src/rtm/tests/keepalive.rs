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
