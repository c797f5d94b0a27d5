//! Socket URLs (single use, expiry) and the scriptable faults.

mod common;

use common::*;

#[tokio::test]
async fn socket_url_is_single_use() {
    let emu = start(quick()).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut first = Client::open(&url).await;
    assert_eq!(first.recv_json().await["type"], "hello");
    let mut second = Client::open(&url).await;
    assert_eq!(
        second.recv_json().await,
        json!({"type": "error", "error": {"code": 1, "msg": "Socket URL has expired"}})
    );
    assert!(second.expect_close().await.is_some());
    assert_eq!(emu.expired_socket_attempts(), 1);
    assert_eq!(emu.connection_count(), 1);
}

#[tokio::test]
async fn socket_url_expires() {
    let emu = start(quick().url_lifetime(Duration::from_millis(100))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut late = Client::open(&url).await;
    assert_eq!(late.recv_json().await["error"]["code"], 1);
    assert!(late.expect_close().await.is_some());
    assert_eq!(emu.connection_count(), 0);
    // A scripted rejection can also hand out an already expired URL.
    emu.reject_next_connects(1, Rejection::ExpiredUrl);
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut c = Client::open(&url).await;
    assert_eq!(c.recv_json().await["error"]["code"], 1);
}

#[tokio::test]
async fn goodbye_then_server_closes_after_grace() {
    let emu = start(quick().goodbye_grace(Some(Duration::from_millis(100)))).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    assert_eq!(emu.goodbye(Target::All), 1);
    assert_eq!(c.recv_json().await, json!({"type": "goodbye"}));
    let t = Instant::now();
    assert_eq!(c.expect_close().await, Some(1001));
    assert!(t.elapsed() >= Duration::from_millis(60));
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::ServerClosed(1001)));
}

#[tokio::test]
async fn team_migration_then_close_and_scripted_close() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.team_migration(Target::All);
    assert_eq!(c.recv_json().await, json!({"type": "team_migration_started"}));
    assert_eq!(c.expect_close().await, Some(1001));
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.close_connection(Target::All, 4000, "bye");
    assert_eq!(c.expect_close().await, Some(4000));
}

#[tokio::test]
async fn drop_connection_cuts_tcp_without_close_frame() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.drop_connection(Target::All);
    match c.recv().await {
        Recv::Error(e) => assert!(e.contains("EOF") || e.contains("reset"), "{e}"),
        other => panic!("expected EOF without close frame, got {other:?}"),
    }
    emu.wait_for_open_connections(0, WAIT).await.unwrap();
    assert_eq!(emu.connections()[0].close_reason, Some(CloseReason::Dropped));
}

#[tokio::test]
async fn stall_stops_answering_until_resumed() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    assert_eq!(emu.stall_connection(Target::All, true), 1);
    c.send(json!({"id": 1, "type": "ping"})).await;
    emu.send_event_text(Target::All, r#"{"type":"held"}"#);
    let quiet = tokio::time::timeout(Duration::from_millis(200), c.ws.read_frame()).await;
    assert!(quiet.is_err(), "a stalled server sends nothing");
    emu.stall_connection(Target::All, false);
    // The held event and the pong both arrive once resumed.
    let mut got = vec![c.recv_json().await, c.recv_json().await];
    got.sort_by_key(|v| v["type"].as_str().unwrap_or("").to_owned());
    assert_eq!(got, vec![json!({"type": "held"}), json!({"type": "pong", "reply_to": 1})]);
}

#[tokio::test]
async fn replies_withheld_then_released_in_order() {
    let emu = start(quick()).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.set_reply_fault(Target::All, ReplyFault::Withhold(2));
    let a = c.message(ch.as_str(), "a").await;
    let b = c.message(ch.as_str(), "b").await;
    let third = c.message(ch.as_str(), "c").await;
    assert_eq!(c.recv_json().await["reply_to"], third);
    assert_eq!(emu.posted_messages().len(), 3, "withheld replies are still posted");
    emu.release_withheld(Target::All);
    assert_eq!(c.recv_json().await["reply_to"], a);
    assert_eq!(c.recv_json().await["reply_to"], b);
}

#[tokio::test]
async fn replies_delayed_and_reversed() {
    let emu = start(quick()).await;
    let ch = emu.general_channel();
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.set_reply_fault(Target::All, ReplyFault::Delay(Duration::from_millis(150)));
    let t = Instant::now();
    let id = c.message(ch.as_str(), "slow").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
    assert!(t.elapsed() >= Duration::from_millis(140));
    emu.set_reply_fault(Target::All, ReplyFault::Reverse(3));
    let ids = [
        c.message(ch.as_str(), "1").await,
        c.message(ch.as_str(), "2").await,
        c.message(ch.as_str(), "3").await,
    ];
    for expected in ids.iter().rev() {
        assert_eq!(c.recv_json().await["reply_to"], *expected);
    }
    // Back to normal.
    let id = c.message(ch.as_str(), "4").await;
    assert_eq!(c.recv_json().await["reply_to"], id);
}

#[tokio::test]
async fn raw_fault_frames() {
    let emu = start(quick()).await;
    let mut c = Client::connect(&emu, &emu.token()).await;
    emu.send_raw_to_connection(Target::All, RawFrame::malformed_json());
    match c.recv().await {
        Recv::Raw(OpCode::Text, b) => assert!(serde_json::from_slice::<Value>(&b).is_err()),
        other => panic!("{other:?}"),
    }
    emu.send_raw_to_connection(Target::All, RawFrame::binary());
    assert!(matches!(c.recv().await, Recv::Raw(OpCode::Binary, _)));
    emu.send_raw_to_connection(Target::All, RawFrame::oversized(100_000));
    match c.recv().await {
        Recv::Text(v) => assert_eq!(v["type"], "message"),
        other => panic!("{other:?}"),
    }
    let frame_len = match RawFrame::oversized(100_000) {
        RawFrame::Text(b) => b.len(),
        _ => unreachable!(),
    };
    assert_eq!(frame_len, 100_000);
    emu.send_raw_to_connection(Target::All, RawFrame::invalid_utf8());
    match c.recv().await {
        Recv::Error(e) => assert!(e.contains("UTF-8"), "{e}"),
        other => panic!("expected a UTF-8 error, got {other:?}"),
    }
}

#[tokio::test]
async fn hello_delayed_or_never_sent() {
    let emu = start(quick().hello(HelloMode::Delay(Duration::from_millis(150)))).await;
    let url = socket_url(&emu, &emu.token(), "").await;
    let t = Instant::now();
    let mut c = Client::open(&url).await;
    emu.wait_for_connections(1, WAIT).await.unwrap();
    emu.send_event_text(Target::All, r#"{"type":"early"}"#);
    assert_eq!(c.recv_json().await["type"], "hello", "events wait for hello");
    assert!(t.elapsed() >= Duration::from_millis(140));
    assert_eq!(c.recv_json().await["type"], "early");

    emu.set_hello(HelloMode::Never);
    let url = socket_url(&emu, &emu.token(), "").await;
    let mut c = Client::open(&url).await;
    assert_eq!(c.sync().await, Vec::<Value>::new(), "no hello");
}
