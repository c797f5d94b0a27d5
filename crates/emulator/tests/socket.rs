//! The RTM socket: messages, acks, fan-out, errors, pings, typing, presence, injected events.

mod common;

use common::*;

#[tokio::test]
async fn message_is_acked_formatted_and_fanned_out_to_other_connections() {
    let emu = start(quick()).await;
    let general = emu.general_channel();
    let alice = emu.second_user();
    let mut bot = Client::connect(&emu, &emu.token()).await;
    let mut other = Client::connect(&emu, &alice.token).await;
    emu.wait_for_connections(2, WAIT).await.unwrap();

    let id = bot.message(general.as_str(), "see https://example.com/x?a=1&b=2. & <b>").await;
    let ack = bot.recv_json().await;
    assert_eq!(ack["ok"], true);
    assert_eq!(ack["reply_to"], id);
    assert_eq!(ack["text"], "see <https://example.com/x?a=1&amp;b=2>. &amp; &lt;b&gt;");
    let ts1 = ack["ts"].as_str().unwrap().to_owned();

    let ev = other.recv_json().await;
    assert_eq!(ev["type"], "message");
    assert_eq!(ev["channel"], general.as_str());
    assert_eq!(ev["user"], emu.bot_user().as_str());
    assert_eq!(ev["text"], ack["text"]);
    assert_eq!(ev["ts"], ts1.as_str());
    assert_eq!(ev["event_ts"], ts1.as_str());
    assert_eq!(ev["team"], emu.team().id.as_str());
    // The sender does not get its own message back.
    assert!(bot.sync().await.is_empty());

    let id2 = other.message(general.as_str(), "second").await;
    let ack2 = other.recv_json().await;
    assert_eq!(ack2["reply_to"], id2);
    let ts2 = ack2["ts"].as_str().unwrap();
    let as_num = |s: &str| -> (u64, u64) {
        let (a, b) = s.split_once('.').unwrap();
        assert_eq!(b.len(), 6);
        (a.parse().unwrap(), b.parse().unwrap())
    };
    assert!(as_num(ts2) > as_num(&ts1), "{ts2} after {ts1}");
    assert_eq!(bot.recv_json().await["text"], "second");

    let posted = emu.posted_messages();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0].ts.as_str(), ts1);
    assert_eq!(posted[0].text, "see https://example.com/x?a=1&b=2. & <b>");
    assert_eq!(posted[0].client_id.as_deref(), Some("1"));
    assert_eq!(posted[1].user, alice.user);
    let frames = emu.received_frames();
    assert!(frames.iter().any(|f| f.message_type().as_deref() == Some("message")));
    assert_eq!(emu.connections().len(), 2);
}

#[tokio::test]
async fn error_replies_for_unknown_channel_and_missing_text() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    let id = c.message("C_NOPE", "hi").await;
    let r = c.recv_json().await;
    assert_eq!(r, json!({"ok": false, "reply_to": id, "error": {"code": 0, "msg": "invalid channel id"}}));
    let id = c.message(emu.general_channel().as_str(), "").await;
    let r = c.recv_json().await;
    assert_eq!(r["error"]["code"], 2);
    assert_eq!(r["error"]["msg"], "message text is missing");
    assert_eq!(r["reply_to"], id);
    let id = c.id();
    c.send(json!({"id": id, "type": "message", "channel": emu.general_channel().as_str()})).await;
    assert_eq!(c.recv_json().await["error"]["code"], 2);
    assert!(emu.posted_messages().is_empty());
}

#[tokio::test]
async fn ping_gets_pong_with_reply_to_and_flat_fields() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    c.send(json!({"id": 42, "type": "ping", "time": 1403299273342u64, "s": "x", "b": true, "n": null, "nested": {"a": 1}, "arr": [1]}))
        .await;
    let pong = c.recv_json().await;
    assert_eq!(
        pong,
        json!({"type": "pong", "reply_to": 42, "time": 1403299273342u64, "s": "x", "b": true, "n": null})
    );
}

#[tokio::test]
async fn send_rate_limit_answers_slow_down_then_disconnects() {
    let rate = SendRateLimit::new(0.5, 3).disconnect_after(2);
    let emu = start(EmulatorConfig::default().send_rate(Some(rate))).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    for _ in 0..3 {
        c.message(ch.as_str(), "ok").await;
        assert_eq!(c.recv_json().await["ok"], true);
    }
    for _ in 0..2 {
        let id = c.message(ch.as_str(), "too fast").await;
        let r = c.recv_json().await;
        assert_eq!(r["ok"], false);
        assert_eq!(r["reply_to"], id);
        assert_eq!(r["error"]["code"], -1);
        assert!(r["error"]["msg"].as_str().unwrap().starts_with("slow down"));
    }
    c.message(ch.as_str(), "still going").await;
    assert_eq!(c.expect_close().await, Some(1008));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::RateLimited));
    assert_eq!(emu.posted_messages().len(), 3);
}

#[tokio::test]
async fn frame_over_16k_disconnects() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    // Exactly 16 KB is fine.
    let ch = emu.general_channel();
    let head = json!({"id": 1, "type": "message", "channel": ch.as_str(), "text": ""}).to_string();
    let fill = 16 * 1024 - head.len();
    let text = "a".repeat(fill);
    let frame = json!({"id": 1, "type": "message", "channel": ch.as_str(), "text": text}).to_string();
    assert_eq!(frame.len(), 16 * 1024);
    c.send_text(frame).await;
    assert_eq!(c.recv_json().await["ok"], true);
    let big =
        json!({"id": 2, "type": "message", "channel": ch.as_str(), "text": "b".repeat(fill + 1)}).to_string();
    c.send_text(big).await;
    assert_eq!(c.expect_close().await, Some(1009));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::FrameTooLarge(16 * 1024 + 1)));
}

#[tokio::test]
async fn typing_is_forwarded_to_others_at_most_once_per_interval() {
    let emu = start(quick().typing_interval(Duration::from_millis(300))).await;
    let ch = emu.general_channel();
    let mut a = Client::connect(&emu, &emu.token()).await;
    let mut b = Client::connect(&emu, &emu.second_user().token).await;
    a.send(json!({"id": 1, "type": "typing", "channel": ch.as_str()})).await;
    a.send(json!({"id": 2, "type": "typing", "channel": ch.as_str()})).await;
    assert!(a.sync().await.is_empty(), "no answer to typing");
    let got = b.sync().await;
    assert_eq!(
        got,
        vec![json!({"type": "user_typing", "channel": ch.as_str(), "user": emu.bot_user().as_str()})]
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    a.send(json!({"id": 3, "type": "typing", "channel": ch.as_str()})).await;
    assert_eq!(b.recv_json().await["type"], "user_typing");
    a.send(json!({"id": 4, "type": "typing", "channel": "C_NOPE"})).await;
    assert_eq!(a.recv_json().await["error"]["code"], 0);
}

#[tokio::test]
async fn presence_single_and_batched_forms_and_subscriptions() {
    let emu = start(quick()).await;
    let alice = emu.second_user();
    let carol = emu.add_user("carol");
    let mut single = Client::connect(&emu, &emu.token()).await;
    let mut batched = Client::connect_with(&emu, &emu.token(), "?batch_presence_aware=1").await;
    let mut unsubscribed_all = Client::connect_with(&emu, &emu.token(), "?presence_sub=false").await;

    // presence_query: answered in each connection's form.
    single.send(json!({"type": "presence_query", "ids": [alice.user.as_str(), "U_UNKNOWN"]})).await;
    assert_eq!(
        single.recv_json().await,
        json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "active"})
    );
    batched.send(json!({"type": "presence_query", "ids": [alice.user.as_str(), carol.user.as_str()]})).await;
    assert_eq!(
        batched.recv_json().await,
        json!({"type": "presence_change", "users": [alice.user.as_str(), carol.user.as_str()], "presence": "active"})
    );

    // No subscription yet: a change reaches only the presence_sub=false connection.
    emu.set_presence(&alice.user, Presence::Away).unwrap();
    assert!(single.sync().await.is_empty());
    assert!(batched.sync().await.is_empty());
    assert_eq!(unsubscribed_all.recv_json().await["presence"], "away");

    // presence_sub sends the current presence of newly added users.
    single.send(json!({"type": "presence_sub", "ids": [alice.user.as_str()]})).await;
    assert_eq!(
        single.recv_json().await,
        json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "away"})
    );
    batched.send(json!({"type": "presence_sub", "ids": [carol.user.as_str()]})).await;
    assert_eq!(batched.recv_json().await["users"], json!([carol.user.as_str()]));

    emu.set_presence(&alice.user, Presence::Active).unwrap();
    emu.set_presence(&carol.user, Presence::Away).unwrap();
    assert_eq!(
        single.sync().await,
        vec![json!({"type": "presence_change", "user": alice.user.as_str(), "presence": "active"})]
    );
    assert_eq!(
        batched.sync().await,
        vec![json!({"type": "presence_change", "users": [carol.user.as_str()], "presence": "away"})]
    );

    // The list replaces the previous one.
    single.send(json!({"type": "presence_sub", "ids": [carol.user.as_str()]})).await;
    assert_eq!(single.recv_json().await["user"], carol.user.as_str());
    emu.set_presence(&alice.user, Presence::Away).unwrap();
    assert!(single.sync().await.is_empty());
}

#[tokio::test]
async fn unknown_client_messages_are_ignored_but_recorded() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    c.send(json!({"id": 9, "type": "no_such_thing", "x": 1})).await;
    c.send_text("not json at all".into()).await;
    c.ws.write_frame(Frame::binary(Payload::Owned(vec![1, 2, 3]))).await.unwrap();
    assert!(c.sync().await.is_empty());
    let frames = emu.received_frames();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].message_type().as_deref(), Some("no_such_thing"));
    assert_eq!(frames[1].text(), Some("not json at all"));
    assert_eq!(frames[2].kind, slack_rtm_emulator::FrameKind::Binary);
    assert!(emu.connections()[0].is_open());
}

#[tokio::test]
async fn websocket_ping_frames_at_the_configured_interval() {
    let emu = start(quick().ws_ping_interval(Some(Duration::from_millis(50)))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut raw = Client::open_with(&url, None, false).await;
    assert_eq!(raw.recv_json().await["type"], "hello");
    let start = Instant::now();
    for _ in 0..2 {
        match raw.recv().await {
            Recv::Raw(OpCode::Ping, _) => {}
            other => panic!("expected a ping frame, got {other:?}"),
        }
    }
    assert!(start.elapsed() >= Duration::from_millis(90));
    // A client that answers: the emulator counts the pongs.
    let mut c = Client::connect(&emu, &emu.token()).await;
    let id = emu.open_connections()[1];
    let deadline = Instant::now() + WAIT;
    while emu.connections().iter().find(|i| i.id == id).unwrap().ws_pongs < 2 {
        assert!(Instant::now() < deadline, "no pongs counted");
        // Reading drives fastwebsockets' automatic pong.
        c.sync().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn events_injected_from_the_handle() {
    let emu = start(quick()).await;
    let mut a = Client::connect(&emu, &emu.token()).await;
    let mut b = Client::connect(&emu, &emu.second_user().token).await;
    let ev = Event::from_json(r#"{"type":"reaction_added","user":"U1","reaction":"tada","item":{"type":"message","channel":"C1","ts":"1.000001"}}"#).unwrap();
    assert_eq!(emu.send_event(Target::All, &ev), 2);
    for c in [&mut a, &mut b] {
        let v = c.recv_json().await;
        assert_eq!(v["type"], "reaction_added");
        assert_eq!(v["reaction"], "tada");
    }
    let first = emu.open_connections()[0];
    assert_eq!(first, ConnectionId(1));
    assert_eq!(emu.send_event_text(first, r#"{"type":"custom","n":1}"#), 1);
    assert_eq!(a.recv_json().await, json!({"type": "custom", "n": 1}));
    assert!(b.sync().await.is_empty());
    assert_eq!(emu.send_event_text(Target::User(emu.second_user().user), r#"{"type":"x"}"#), 1);
    assert_eq!(b.recv_json().await["type"], "x");
    // A message posted "elsewhere" reaches every connection.
    let ts = emu.post_message(&emu.general_channel(), &emu.second_user().user, "from elsewhere").unwrap();
    assert_eq!(a.recv_json().await["ts"], ts.as_str());
    assert_eq!(b.recv_json().await["ts"], ts.as_str());
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_as_a_slow_consumer() {
    let emu = start(quick().queue_capacity(16).write_timeout(Duration::from_millis(300))).await;
    let _idle = Client::connect(&emu, &emu.token()).await;
    // Far more than the socket buffers hold, and the client never reads.
    let big = RawFrame::oversized(256 * 1024);
    for _ in 0..200 {
        emu.send_raw_to_connection(Target::All, big.clone());
        tokio::task::yield_now().await;
    }
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::SlowConsumer));
}
