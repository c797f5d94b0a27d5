//! Socket Mode delivery guarantees and faults over real loopback sockets: redelivery of
//! unacked `events_api` envelopes, queueing while no socket is open, `disconnect` warnings and
//! refreshes on a schedule or on demand, `link_disabled`, pings both ways, RTM's socket
//! faults, the 20 KB ack limit, and the socket records.

mod common;

use common::*;

fn fast_retries() -> SocketModeServerConfig {
    sm().ack_timeout(Duration::from_millis(150)).retry_delays(vec![Duration::ZERO; 3])
}

#[tokio::test]
async fn unacked_events_are_redelivered_with_the_same_event_id_up_to_three_times() {
    let emu = start_sm(fast_retries()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "ack me late");
    let first = c.envelope().await;
    let mut seen = vec![first.clone()];
    for attempt in 1..=3 {
        let again = c.envelope().await;
        assert_eq!(again["retry_attempt"], attempt);
        assert_eq!(again["retry_reason"], "timeout");
        assert_eq!(again["payload"]["event_id"], first["payload"]["event_id"]);
        assert!(seen.iter().all(|s| s["envelope_id"] != again["envelope_id"]), "a new envelope id each time");
        seen.push(again);
    }
    // Three retries, then no more.
    assert!(c.quiet_for(Duration::from_millis(400)).await);
    let rec = &emu.envelopes()[0];
    assert_eq!(rec.attempts.len(), 4);
    assert!(rec.gave_up && !rec.acked);
    // A late ack is still recorded, as late.
    c.ack(&first, None).await;
    emu.wait_for_acks(1, WAIT).await.unwrap();
    let ack = &emu.acks()[0];
    assert!(ack.late);
    assert!(ack.delay.unwrap() >= Duration::from_millis(450));
}

#[tokio::test]
async fn an_ack_in_time_stops_redelivery_and_slash_commands_are_never_redelivered() {
    let emu = start_sm(fast_retries()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "ack me");
    let first = c.envelope().await;
    let _skip = c.envelope().await; // redelivery 1: not acked
    let again = c.envelope().await; // redelivery 2: acked
    assert_eq!(again["retry_attempt"], 2);
    c.ack(&again, None).await;
    emu.send_slash_command(&emu.second_user().user, &emu.general_channel(), "/x", "");
    let cmd = c.envelope().await;
    assert_eq!(cmd["type"], "slash_commands");
    assert!(c.quiet_for(Duration::from_millis(400)).await, "no redelivery after the ack, none of a command");
    let recs = emu.envelopes();
    assert_eq!(recs[0].attempts.len(), 3);
    assert!(recs[0].acked && !recs[0].gave_up);
    assert!(recs[0].attempts[2].acked_at.is_some() && recs[0].attempts[0].acked_at.is_none());
    assert_eq!(recs[1].attempts.len(), 1);
    assert_eq!(first["retry_attempt"], 0);
}

#[tokio::test]
async fn a_redelivery_may_land_on_another_socket() {
    let emu = start_sm(fast_retries()).await;
    let (mut a, _) = Client::socket_mode(&emu).await;
    let (mut b, _) = Client::socket_mode(&emu).await;
    emu.send_api_event(json!({"type": "app_home_opened", "user": "U1", "tab": "home"}));
    // Round robin: the first delivery on one socket, the redelivery on the other.
    let (x, y) = tokio::join!(a.envelope(), b.envelope());
    assert_eq!(x["payload"]["event_id"], y["payload"]["event_id"]);
    let mut attempts: Vec<u64> =
        vec![x["retry_attempt"].as_u64().unwrap(), y["retry_attempt"].as_u64().unwrap()];
    attempts.sort();
    assert_eq!(attempts, [0, 1]);
    let rec = &emu.envelopes()[0];
    assert_ne!(rec.attempts[0].socket, rec.attempts[1].socket);
}

#[tokio::test]
async fn envelopes_made_while_no_socket_is_open_are_queued_then_delivered() {
    let emu = start_sm(sm()).await;
    // Before the app ever used Socket Mode, messages make no envelopes.
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "before socket mode");
    assert!(emu.envelopes().is_empty());
    // The app connected once, and its socket went away: envelopes now wait for the next one.
    let (mut first, _) = Client::socket_mode(&emu).await;
    first.ws.write_frame(Frame::close(1000, b"")).await.unwrap();
    emu.wait_for_open_sockets(0, WAIT).await.unwrap();
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "while away");
    emu.send_slash_command(&emu.second_user().user, &emu.general_channel(), "/later", "");
    assert!(emu.envelopes().iter().all(|e| e.attempts.is_empty()));
    let (mut c, _) = Client::socket_mode(&emu).await;
    let a = c.envelope().await;
    let b = c.envelope().await;
    assert_eq!(a["payload"]["event"]["text"], "while away");
    assert_eq!(b["payload"]["command"], "/later");
}

#[tokio::test]
async fn sockets_are_refreshed_on_schedule_warning_then_refresh_requested_then_closed() {
    let cfg = sm()
        .socket_lifetime(Some(Duration::from_millis(500)))
        .warning_lead(Duration::from_millis(200))
        .refresh_grace(Duration::from_millis(200));
    let emu = start_sm(cfg).await;
    let (mut c, hello) = Client::socket_mode(&emu).await;
    assert_eq!(hello["debug_info"]["approximate_connection_time"], 0);
    let t0 = Instant::now();
    let w = c.recv_json().await;
    assert_eq!((w["type"].as_str(), w["reason"].as_str()), (Some("disconnect"), Some("warning")));
    assert!(w["debug_info"]["host"].is_string());
    let r = c.recv_json().await;
    assert_eq!(r["reason"], "refresh_requested");
    assert!(t0.elapsed() >= Duration::from_millis(150));
    // No envelope goes to a socket being refreshed.
    emu.send_envelope("slash_commands", json!({"command": "/queued"}));
    assert_eq!(c.expect_close().await, Some(1000));
    emu.wait_for_open_sockets(0, WAIT).await.unwrap();
    let s = &emu.sockets()[0];
    assert_eq!(s.disconnects, ["warning", "refresh_requested"]);
    assert_eq!(s.close_reason, Some(CloseReason::ServerClosed(1000)));
    assert!(s.closed_at.unwrap() > s.opened_at);
    // The envelope waited for the next socket.
    let (mut next, _) = Client::socket_mode(&emu).await;
    assert_eq!(next.envelope().await["payload"]["command"], "/queued");
}

#[tokio::test]
async fn debug_reconnects_shortens_a_sockets_life_and_refresh_works_on_demand() {
    let cfg = sm()
        .debug_reconnects_lifetime(Duration::from_millis(300))
        .warning_lead(Duration::from_millis(100))
        .refresh_grace(Duration::from_secs(5));
    let emu = start_sm(cfg).await;
    let url = format!("{}&debug_reconnects=true", sm_url(&emu).await);
    let mut c = Client::open(&url).await;
    assert_eq!(c.recv_json().await["type"], "hello");
    assert_eq!(c.recv_json().await["reason"], "warning");
    assert_eq!(c.recv_json().await["reason"], "refresh_requested");
    assert!(emu.sockets()[0].debug_reconnects);
    // On demand, on a socket without a schedule.
    let (mut d, _) = Client::socket_mode(&emu).await;
    assert_eq!(emu.refresh_socket(SocketId(2)), 1);
    assert_eq!(d.recv_json().await["reason"], "warning");
    assert_eq!(d.recv_json().await["reason"], "refresh_requested");
    // The client closes first: recorded as its close.
    d.ws.write_frame(Frame::close(1000, b"")).await.unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let s = emu.sockets().into_iter().find(|s| s.id == SocketId(2)).unwrap();
    assert_eq!(s.close_reason, Some(CloseReason::ClientClosed(Some(1000))));
}

#[tokio::test]
async fn link_disabled_then_close() {
    let emu = start_sm(sm()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    assert_eq!(emu.disable_link(SocketTarget::All), 1);
    let v = c.recv_json().await;
    assert_eq!((v["type"].as_str(), v["reason"].as_str()), (Some("disconnect"), Some("link_disabled")));
    assert_eq!(c.expect_close().await, Some(1000));
}

#[tokio::test]
async fn server_pings_client_pings_and_a_server_that_stops_answering_them() {
    let emu = start_sm(sm().ping_interval(Some(Duration::from_millis(50)))).await;
    let url = sm_url(&emu).await;
    let mut raw = Client::open_with(&url, None, false).await;
    assert_eq!(raw.recv_json().await["type"], "hello");
    assert!(matches!(raw.recv().await, Recv::Raw(OpCode::Ping, _)));
    // The client pings: the server answers, until told not to.
    raw.ws.write_frame(Frame::new(true, OpCode::Ping, None, Payload::Borrowed(b"p1"))).await.unwrap();
    loop {
        match raw.recv().await {
            Recv::Raw(OpCode::Pong, p) => {
                assert_eq!(p, b"p1");
                break;
            }
            Recv::Raw(OpCode::Ping, _) => continue,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(emu.answer_pings(SocketTarget::All, false), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    raw.ws.write_frame(Frame::new(true, OpCode::Ping, None, Payload::Borrowed(b"p2"))).await.unwrap();
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        if let Ok(Ok(f)) = tokio::time::timeout(Duration::from_millis(50), raw.ws.read_frame()).await {
            assert_ne!(f.opcode, OpCode::Pong, "no pong once pongs are off");
        }
    }
    let s = &emu.sockets()[0];
    assert_eq!(s.client_pings, 2);
}

#[tokio::test]
async fn rtm_socket_faults_apply_to_socket_mode_sockets() {
    let emu = start_sm(sm()).await;
    // Garbage, then a 1011 close.
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.send_raw_to_socket(SocketTarget::All, RawFrame::malformed_json());
    assert!(matches!(c.recv().await, Recv::Raw(OpCode::Text, _)));
    assert_eq!(emu.close_socket(SocketId(1), 1011, "internal error"), 1);
    assert_eq!(c.expect_close().await, Some(1011));
    // A stall holds envelopes until it ends.
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.stall_socket(SocketTarget::All, true);
    emu.send_envelope("slash_commands", json!({"command": "/held"}));
    assert!(c.quiet_for(Duration::from_millis(200)).await);
    emu.stall_socket(SocketTarget::All, false);
    assert_eq!(c.envelope().await["payload"]["command"], "/held");
    // A dropped connection: no close frame.
    emu.drop_socket(SocketTarget::All);
    assert!(matches!(c.recv().await, Recv::Error(_)));
    // A cut in the middle of a frame.
    let (mut c, _) = Client::socket_mode(&emu).await;
    emu.send_raw_to_socket(
        SocketTarget::All,
        RawFrame::text("{\"type\":\"hello\",\"padding\":\"xxxxxxxx\"}"),
    );
    c.recv_json().await;
    emu.send_raw_to_socket(
        SocketTarget::All,
        RawFrame::CutMidFrame(Bytes::from_static(b"{\"envelope_id\":\"cut\"}")),
    );
    assert!(matches!(c.recv().await, Recv::Error(_)));
    emu.wait_for_open_sockets(0, WAIT).await.unwrap();
    let reasons: Vec<Option<CloseReason>> = emu.sockets().into_iter().map(|s| s.close_reason).collect();
    assert_eq!(
        reasons,
        [Some(CloseReason::ServerClosed(1011)), Some(CloseReason::Dropped), Some(CloseReason::Dropped)]
    );
}

#[tokio::test]
async fn an_ack_of_20kb_or_more_closes_the_socket_with_1009() {
    let emu = start_sm(sm()).await;
    let (mut c, _) = Client::socket_mode(&emu).await;
    let frame = json!({"envelope_id": "e", "payload": {"text": "a".repeat(20 * 1024)}}).to_string();
    c.send_text(frame).await;
    assert_eq!(c.expect_close().await, Some(1009));
    emu.wait_for_open_sockets(0, WAIT).await.unwrap();
    assert!(matches!(emu.sockets()[0].close_reason, Some(CloseReason::FrameTooLarge(_))));
    assert!(emu.acks().is_empty());
}
