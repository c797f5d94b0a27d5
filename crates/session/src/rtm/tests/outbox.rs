//! Sending: wire ids, replies, deadlines, replay, the queue, flow control, typing, presence.

use super::*;

#[test]
fn ids_are_positive_and_unique_per_connection_and_replies_match_in_any_order() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, conn) = H::connected(c);
    let reqs: Vec<RequestId> = (0..5)
        .map(|i| h.session.submit(ClientMessage::message("C1", format!("m{i}")), h.now).unwrap())
        .collect();
    let outs = h.out();
    let s = sends(&outs);
    assert_eq!(s.len(), 5);
    let ids: Vec<u64> = s.iter().map(|x| x.2).collect();
    assert!(ids.iter().all(|i| *i > 0));
    let mut uniq = ids.clone();
    uniq.dedup();
    assert_eq!(uniq.len(), 5);
    for (_, text, id) in &s {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["id"], *id);
    }
    h.write_all(&outs);
    // Replies in reverse order.
    let mut done = Vec::new();
    for (i, id) in ids.iter().enumerate().rev() {
        done.extend(completions(&h.frame(conn, &ack(*id, &format!("9.{i}")))));
    }
    for (i, r) in reqs.iter().enumerate() {
        let (_, result) = done.iter().find(|(x, _)| x == r).unwrap();
        assert_eq!(result, &Ok(RtmAck::Posted { ts: Some(format!("9.{i}").into()), text: Some("t".into()) }));
    }
    assert_eq!(h.session.outstanding(), 0);
    // An unmatched reply is a warning, not a crash.
    let outs = h.frame(conn, &ack(999, "1.1"));
    assert!(matches!(&events(&outs)[..], [SessionEvent::Warning(Warning::UnmatchedReply(_))]));
}

#[test]
fn error_replies_are_typed() {
    let (mut h, conn) = H::connected(config());
    let r = h.session.submit(ClientMessage::message("CBAD", "x"), h.now).unwrap();
    let outs = h.out();
    let id = sends(&outs)[0].2;
    let outs = h.frame(
        conn,
        &format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":0,"msg":"invalid channel id"}}}}"#),
    );
    assert_eq!(
        completions(&outs),
        vec![(r, Err(SendError::Rejected { code: 0, msg: "invalid channel id".into() }))]
    );
}

#[test]
fn ack_deadline_fails_with_may_have_been_posted() {
    let (mut h, conn) = H::connected(config());
    let r = h.session.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let timeout = h.session.config().sending.ack_timeout;
    // Keep the connection alive meanwhile.
    let mut got = Vec::new();
    let end = h.now + timeout;
    while h.now + SEC < end {
        got.extend(completions(&h.advance(SEC)));
        h.frame(conn, r#"{"type":"user_typing","channel":"C1","user":"U2"}"#);
    }
    assert!(got.is_empty());
    let outs = h.at(end);
    assert_eq!(completions(&outs), vec![(r, Err(SendError::AckTimeout))]);
    assert!(SendError::AckTimeout.may_have_been_posted());
    // The late reply is only a warning.
    let id = sends(&outs).first().map(|s| s.2).unwrap_or(1);
    let outs = h.frame(conn, &ack(id, "1.1"));
    assert!(completions(&outs).is_empty());
}

#[test]
fn written_then_socket_died_is_unconfirmed_and_not_resent() {
    let (mut h, conn) = H::connected(config());
    let r = h.session.submit(ClientMessage::message("C1", "maybe"), h.now).unwrap();
    let outs = h.out();
    h.write_all(&outs);
    let outs = h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("reset".into())) });
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Unconfirmed))]);
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    assert!(sends_of(&outs, "message").is_empty(), "an unconfirmed message is never sent twice");
}

#[test]
fn unwritten_requests_are_replayed_exactly_once_after_the_next_hello() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, conn) = H::connected(c);
    let reqs: Vec<RequestId> = (0..4)
        .map(|i| h.session.submit(ClientMessage::message("C1", format!("m{i}")), h.now).unwrap())
        .collect();
    let outs = h.out();
    let s = sends(&outs);
    assert_eq!(s.len(), 4);
    // Only the first one reached the socket.
    h.feed(RtmInput::Written { conn, id: s[0].2 });
    let outs = h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("reset".into())) });
    assert_eq!(completions(&outs), vec![(reqs[0], Err(SendError::Unconfirmed))]);
    // Queued while disconnected.
    let r5 = h.session.submit(ClientMessage::message("C1", "m4"), h.now).unwrap();
    assert!(sends(&h.out()).is_empty());
    assert_eq!(h.session.queued(), 4);
    h.run_until(|o| *o == RtmOutput::CallConnect);
    let outs = h.answer_connect();
    let new = opened(&outs).unwrap();
    h.feed(RtmInput::SocketOpened { conn: new });
    let outs = h.frame(new, r#"{"type":"hello"}"#);
    let s2 = sends(&outs);
    let texts: Vec<String> = s2
        .iter()
        .map(|(c, t, _)| {
            assert_eq!(*c, new);
            serde_json::from_str::<serde_json::Value>(t).unwrap()["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(texts, vec!["m1", "m2", "m3", "m4"], "in order, each once, the written one not again");
    assert_eq!(s2.iter().map(|x| x.2).collect::<Vec<_>>(), vec![1, 2, 3, 4], "new ids on the new connection");
    h.write_all(&outs);
    let mut done = Vec::new();
    for (_, _, id) in &s2 {
        done.extend(completions(&h.frame(new, &ack(*id, "2.0"))));
    }
    let ids: Vec<RequestId> = done.iter().map(|x| x.0).collect();
    assert_eq!(ids, vec![reqs[1], reqs[2], reqs[3], r5]);
    // Nothing more is ever sent.
    let outs = h.advance(SEC);
    assert!(sends_of(&outs, "message").is_empty());
}

#[test]
fn queued_too_long_while_disconnected_fails_as_not_sent() {
    let (mut h, conn) = H::connected(config());
    h.feed(RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("x".into())) });
    let r = h.session.submit(ClientMessage::message("C1", "late"), h.now).unwrap();
    let qt = h.session.config().sending.queue_timeout;
    let outs = h.advance(qt);
    assert_eq!(completions(&outs), vec![(r, Err(SendError::QueueTimeout))]);
    assert!(!SendError::QueueTimeout.may_have_been_posted());
}

#[test]
fn validation_happens_before_queueing() {
    let (mut h, _) = H::connected(config());
    let too_long = ClientMessage::message("C1", "x".repeat(4001));
    assert!(matches!(h.session.submit(too_long, h.now), Err(SubmitError::Invalid(_))));
    let ids: Vec<UserId> = (0..501).map(|i| UserId::new(format!("U{i}"))).collect();
    assert!(matches!(
        h.session.submit(ClientMessage::PresenceQuery { ids }, h.now),
        Err(SubmitError::Invalid(_))
    ));
    let big = ClientMessage::message("C1", "\u{1}".repeat(3000));
    assert!(matches!(h.session.submit(big, h.now), Err(SubmitError::Invalid(_))), "over 16 KB once escaped");
    assert!(matches!(
        h.session.submit(ClientMessage::message("C1", ""), h.now),
        Err(SubmitError::Invalid(_))
    ));
    assert!(sends(&h.out()).is_empty());
    assert_eq!(h.session.outstanding(), 0);
}

#[test]
fn the_queue_is_bounded() {
    let mut c = config();
    c.sending.queue_capacity = 5;
    let mut h = H::new(c);
    for i in 0..5 {
        h.session.submit(ClientMessage::message("C1", format!("{i}")), h.now).unwrap();
    }
    assert_eq!(h.session.submit(ClientMessage::message("C1", "x"), h.now), Err(SubmitError::QueueFull));
    assert_eq!(h.session.outstanding(), 5);
}

#[test]
fn token_bucket_allows_a_burst_then_one_per_interval() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 3, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    for i in 0..6 {
        h.session.submit(ClientMessage::message("C1", format!("{i}")), h.now).unwrap();
    }
    let outs = h.out();
    assert_eq!(sends(&outs).len(), 3);
    h.write_all(&outs);
    let t = h.now;
    assert_eq!(h.session.poll_timeout(), Some(t + SEC));
    assert!(sends(&h.advance(SEC - MS)).is_empty());
    assert_eq!(sends(&h.at(t + SEC)).len(), 1);
    assert_eq!(sends(&h.at(t + 2 * SEC)).len(), 1);
    assert_eq!(sends(&h.at(t + 3 * SEC)).len(), 1);
    assert_eq!(h.session.queued(), 0);
    let _ = conn;
}

#[test]
fn slow_down_reply_slows_the_bucket_and_requeues_the_message() {
    let mut c = config();
    c.send_rate = SendRate { interval: SEC, burst: 1, ..SendRate::default() };
    let (mut h, conn) = H::connected(c);
    let r = h.session.submit(ClientMessage::message("C1", "again"), h.now).unwrap();
    let outs = h.out();
    let id = sends(&outs)[0].2;
    h.write_all(&outs);
    let outs = h.frame(
        conn,
        &format!(
            r#"{{"ok":false,"reply_to":{id},"error":{{"code":-1,"msg":"slow down, too many messages..."}}}}"#
        ),
    );
    assert!(completions(&outs).is_empty(), "a -1 is retried, not returned");
    assert_eq!(h.session.send_interval(), 2 * SEC);
    // Resent only after the slower interval.
    let t = h.now;
    assert!(sends(&h.at(t + 2 * SEC - MS)).is_empty());
    let outs = h.at(t + 2 * SEC);
    let s = sends(&outs);
    assert_eq!(s.len(), 1);
    assert!(s[0].1.contains("again"));
    assert_ne!(s[0].2, id, "a new wire id");
    h.write_all(&outs);
    let outs = h.frame(conn, &ack(s[0].2, "3.3"));
    assert!(matches!(&completions(&outs)[..], [(x, Ok(RtmAck::Posted { .. }))] if *x == r));
}

#[test]
fn slow_down_retries_are_bounded() {
    let mut c = config();
    c.send_rate = fast_rate();
    c.sending.slow_down_retries = 1;
    let (mut h, conn) = H::connected(c);
    let r = h.session.submit(ClientMessage::message("C1", "x"), h.now).unwrap();
    let slow = |id: u64| format!(r#"{{"ok":false,"reply_to":{id},"error":{{"code":-1,"msg":"slow down"}}}}"#);
    let outs = h.out();
    h.write_all(&outs);
    h.frame(conn, &slow(sends(&outs)[0].2));
    let outs = h.run_until(|o| matches!(o, RtmOutput::Send { .. }));
    h.write_all(&outs);
    let outs = h.frame(conn, &slow(sends(&outs)[0].2));
    assert_eq!(completions(&outs), vec![(r, Err(SendError::Rejected { code: -1, msg: "slow down".into() }))]);
}

#[test]
fn typing_at_most_once_per_three_seconds_per_channel() {
    let mut c = config();
    c.send_rate = fast_rate();
    let (mut h, _) = H::connected(c);
    let a = h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    let b = h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    let other = h.session.submit(ClientMessage::typing("C2"), h.now).unwrap();
    let outs = h.out();
    assert_eq!(sends_of(&outs, "typing").len(), 2);
    assert!(completions(&outs).contains(&(b, Ok(RtmAck::Throttled))));
    let more = h.write_all(&outs);
    assert!(completions(&more).contains(&(a, Ok(RtmAck::Written))));
    assert!(completions(&more).contains(&(other, Ok(RtmAck::Written))));
    h.advance(2 * SEC);
    let c3 = h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(completions(&h.out()), vec![(c3, Ok(RtmAck::Throttled))]);
    h.advance(SEC);
    h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(sends_of(&h.out(), "typing").len(), 1, "3 s later: allowed again");
}

#[test]
fn typing_is_coalesced_while_one_is_queued() {
    let mut c = config();
    c.send_rate = SendRate { interval: 10 * SEC, burst: 1, ..SendRate::default() };
    let (mut h, _) = H::connected(c);
    h.session.submit(ClientMessage::message("C9", "uses the only token"), h.now).unwrap();
    let queued = h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    h.advance(5 * SEC);
    let dup = h.session.submit(ClientMessage::typing("C1"), h.now).unwrap();
    assert_eq!(completions(&h.out()), vec![(dup, Ok(RtmAck::Throttled))]);
    let outs = h.run_until(|o| matches!(o, RtmOutput::Send { .. }));
    assert_eq!(sends_of(&outs, "typing").len(), 1);
    let done = h.write_all(&outs);
    assert_eq!(completions(&done), vec![(queued, Ok(RtmAck::Written))]);
}

#[test]
fn presence_sub_is_sent_again_after_every_hello() {
    let (mut h, conn) = H::connected(config());
    let ids = vec![UserId::new("U2"), UserId::new("W3")];
    let r = h.session.submit(ClientMessage::PresenceSub { ids: ids.clone() }, h.now).unwrap();
    let outs = h.out();
    let subs = sends_of(&outs, "presence_sub");
    assert_eq!(subs.len(), 1);
    assert_eq!(completions(&h.write_all(&outs)), vec![(r, Ok(RtmAck::Written))]);
    for round in 0..2 {
        let current = h.session.current_conn().unwrap();
        h.feed(RtmInput::SocketClosed { conn: current, reason: Box::new(Reason::Io("x".into())) });
        h.run_until(|o| *o == RtmOutput::CallConnect);
        let outs = h.answer_connect();
        let new = opened(&outs).unwrap();
        h.feed(RtmInput::SocketOpened { conn: new });
        let outs = h.frame(new, r#"{"type":"hello"}"#);
        let subs = sends_of(&outs, "presence_sub");
        assert_eq!(subs.len(), 1, "round {round}");
        let v: serde_json::Value = serde_json::from_str(&subs[0].1).unwrap();
        assert_eq!(v["ids"], serde_json::json!(["U2", "W3"]));
        h.write_all(&outs);
    }
    // Both presence_change forms arrive as the same typed event.
    let conn2 = h.session.current_conn().unwrap();
    assert_ne!(conn2, conn);
    let a = events(&h.frame(conn2, r#"{"type":"presence_change","user":"U2","presence":"away"}"#));
    let b = events(&h.frame(conn2, r#"{"type":"presence_change","users":["U2","W3"],"presence":"active"}"#));
    assert!(matches!(&a[..], [SessionEvent::Rtm(Event::PresenceChange(p))] if p.users.len() == 1));
    assert!(matches!(&b[..], [SessionEvent::Rtm(Event::PresenceChange(p))] if p.users.len() == 2));
}

#[test]
fn presence_query_goes_through_the_queue() {
    let (mut h, _) = H::connected(config());
    let r = h.session.submit(ClientMessage::PresenceQuery { ids: vec![UserId::new("U2")] }, h.now).unwrap();
    let outs = h.out();
    assert_eq!(sends_of(&outs, "presence_query").len(), 1);
    assert_eq!(completions(&h.write_all(&outs)), vec![(r, Ok(RtmAck::Written))]);
}

#[test]
fn application_ping_resolves_with_the_pong() {
    let (mut h, conn) = H::connected(config());
    let r = h.session.submit(ClientMessage::Ping(Ping::new().field("probe", "x")), h.now).unwrap();
    let outs = h.out();
    let id = sends_of(&outs, "ping")[0].2;
    h.write_all(&outs);
    let outs = h.frame(conn, &format!(r#"{{"type":"pong","reply_to":{id},"probe":"x"}}"#));
    match &completions(&outs)[..] {
        [(x, Ok(RtmAck::Pong { extra }))] => {
            assert_eq!(*x, r);
            assert_eq!(extra["probe"], "x");
        }
        other => panic!("{other:#?}"),
    }
}

/// Replies the driver reads in one pass (`RtmIncoming::Reply`) and the same replies with a field
/// it does not model (`RtmIncoming::Text`, decoded by the machine) complete and warn alike:
/// posted, refused with and without an error object, slow down, unknown and repeated ids.
#[test]
fn odd_replies_behave_the_same_whether_read_in_one_pass_or_decoded() {
    let with_extra = |text: &str| format!("{},\"extra\":1}}", &text[..text.len() - 1]);
    for slow_path in [false, true] {
        let mut c = config();
        c.send_rate = fast_rate();
        c.sending.slow_down_retries = 0;
        let (mut h, conn) = H::connected(c);
        let reply = |h: &mut H, text: String| {
            let text = if slow_path { with_extra(&text) } else { text };
            let frame = RtmIncoming::text(text.clone());
            assert_eq!(matches!(frame, RtmIncoming::Reply(_)), !slow_path, "{text}");
            h.feed(RtmInput::Frame { conn, frame })
        };
        let reqs: Vec<RequestId> = (0..4)
            .map(|i| h.session.submit(ClientMessage::message("C1", format!("m{i}")), h.now).unwrap())
            .collect();
        let outs = h.out();
        h.write_all(&outs);
        let ids: Vec<u64> = sends(&outs).iter().map(|s| s.2).collect();
        let mut done = Vec::new();
        done.extend(completions(&reply(
            &mut h,
            format!(r#"{{"ok":true,"reply_to":{},"ts":"1.5","text":"m0"}}"#, ids[0]),
        )));
        done.extend(completions(&reply(
            &mut h,
            format!(r#"{{"ok":false,"reply_to":{},"error":{{"code":2,"msg":"no text"}}}}"#, ids[1]),
        )));
        done.extend(completions(&reply(&mut h, format!(r#"{{"ok":false,"reply_to":{}}}"#, ids[2]))));
        done.extend(completions(&reply(
            &mut h,
            format!(r#"{{"ok":false,"reply_to":{},"error":{{"code":-1,"msg":"slow down"}}}}"#, ids[3]),
        )));
        assert_eq!(
            done,
            vec![
                (reqs[0], Ok(RtmAck::Posted { ts: Some("1.5".into()), text: Some("m0".into()) })),
                (reqs[1], Err(SendError::Rejected { code: 2, msg: "no text".into() })),
                (
                    reqs[2],
                    Err(SendError::Rejected { code: 0, msg: "error reply without an error object".into() })
                ),
                (reqs[3], Err(SendError::Rejected { code: -1, msg: "slow down".into() })),
            ],
            "slow path: {slow_path}"
        );
        // The same id again, and one never sent: warnings carrying the whole reply.
        for id in [ids[0], 999] {
            let text = format!(r#"{{"ok":true,"reply_to":{id},"ts":"1.5"}}"#);
            let outs = reply(&mut h, text.clone());
            let [SessionEvent::Warning(Warning::UnmatchedReply(event))] = &events(&outs)[..] else {
                panic!("{outs:?}")
            };
            let Event::Reply(r) = &**event else { panic!("{event:?}") };
            assert_eq!((r.ok, r.reply_to, r.ts.as_ref().map(|t| t.as_str())), (true, id, Some("1.5")));
            assert_eq!(r.extra.contains_key("extra"), slow_path);
            assert!(completions(&outs).is_empty());
        }
        assert_eq!(h.session.outstanding(), 0);
    }
}
