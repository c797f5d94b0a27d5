//! Socket Mode end to end: the facade's `SocketModeClient` against the emulator over loopback
//! (real sockets). Timing rules are tested on the sans-IO machine with a virtual clock
//! (`crates/session/src/socket_mode/tests.rs`); here, behaviours.

use serde_json::json;
use slack_rtm::StopReason;
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::DeliveryAckError;
use slack_rtm::socket_mode::SocketModeEvent;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::{ErrorKind, SocketModeClient, SocketModeItems};
use slack_rtm_emulator::{Emulator, EmulatorConfig, Rejection, SocketModeServerConfig as EmuSm};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

async fn emulator(sm: EmuSm) -> Emulator {
    slack_rtm_test_support::socket_mode_emulator(EmulatorConfig::default().send_rate(None), sm).await
}

fn builder(emu: &Emulator) -> slack_rtm::SocketModeClientBuilder {
    SocketModeClient::builder(emu.app_token()).api_url(&emu.api_url()).allow_insecure(true)
}

/// The next envelope (skipping lifecycle items), within [`WAIT`].
async fn next_envelope(items: &mut SocketModeItems) -> slack_rtm::socket_mode::Delivery {
    tokio::time::timeout(WAIT, async {
        loop {
            match items.next().await {
                Some(SocketModeItem::Envelope(d)) => return d,
                Some(_) => {}
                None => panic!("the session ended"),
            }
        }
    })
    .await
    .expect("an envelope in time")
}

#[tokio::test]
async fn connects_with_two_sockets_and_auto_acks_before_the_app_looks() {
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).connect().await.unwrap();
    assert!(client.status().sockets >= 1);
    // The second socket opens a stagger later.
    emu.wait_for_open_sockets(2, WAIT).await.unwrap();
    emu.post_message(&emu.general_channel(), &emu.second_user().user, "hello app");
    let d = next_envelope(&mut items).await;
    assert_eq!(d.envelope_type(), "events_api");
    assert_eq!(d.event_type(), Some("message"));
    assert!(d.event_id().is_some_and(|id| id.starts_with("Ev")));
    assert_eq!(d.retry_attempt(), 0);
    assert!(d.is_acked());
    assert_eq!(d.to_json()["envelope_id"], d.envelope_id());
    // The ack is on the wire already, though the app never acked.
    emu.wait_for_acks(1, WAIT).await.unwrap();
    let acks = emu.acks();
    assert_eq!(acks[0].envelope_id, d.envelope_id());
    assert!(!acks[0].late);
    // Auto mode: a response payload needs manual mode.
    assert_eq!(d.ack_with(json!({"text": "x"})).await, Err(DeliveryAckError::AlreadyAcked));
    client.shutdown().await;
    emu.wait_for_open_sockets(0, WAIT).await.unwrap();
    for s in emu.sockets() {
        assert_eq!(s.close_reason, Some(slack_rtm_emulator::CloseReason::ClientClosed(Some(1000))), "{s:?}");
    }
}

#[tokio::test]
async fn manual_mode_acks_with_a_payload_on_the_socket_the_envelope_came_from() {
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).connections(3).ack_mode(AckMode::Manual).connect().await.unwrap();
    emu.wait_for_open_sockets(3, WAIT).await.unwrap();
    for i in 0..6 {
        emu.send_slash_command(&emu.second_user().user, &emu.general_channel(), "/deploy", &format!("n{i}"));
    }
    for _ in 0..6 {
        let d = next_envelope(&mut items).await;
        assert_eq!(d.envelope_type(), "slash_commands");
        assert!(!d.is_acked());
        assert!(d.accepts_response_payload());
        d.ack_with(json!({"text": "on it"})).await.unwrap();
    }
    emu.wait_for_acks(6, WAIT).await.unwrap();
    for rec in emu.envelopes() {
        let attempt = &rec.attempts[0];
        let ack = emu.acks().into_iter().find(|a| a.envelope_id == attempt.envelope_id).unwrap();
        assert_eq!(ack.socket, attempt.socket, "acked on the socket it came from");
        assert_eq!(ack.payload, Some(json!({"text": "on it"})));
    }
    client.shutdown().await;
}

/// Manual mode: a delivery dropped unacked is released (Slack's redelivery of its event is
/// handed over again), one kept unacked holds its redelivery back, an acked one is never
/// redelivered; each ack is written once, by the envelope's id.
#[tokio::test]
async fn manual_mode_a_dropped_delivery_is_released_and_a_kept_one_holds_its_redelivery() {
    let emu =
        emulator(EmuSm::default().ack_timeout(Duration::from_millis(300)).retry_delays(vec![Duration::ZERO]))
            .await;
    let (client, mut items) = builder(&emu).connections(1).ack_mode(AckMode::Manual).connect().await.unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let user = emu.second_user().user.clone();
    emu.post_message(&emu.general_channel(), &user, "dropped");
    let dropped = next_envelope(&mut items).await;
    let dropped_event = dropped.event_id().map(str::to_owned);
    drop(dropped);
    // Its redelivery (same event, a new envelope) is handed over: it was released.
    let again = next_envelope(&mut items).await;
    assert_eq!(again.event_id().map(str::to_owned), dropped_event);
    assert_eq!(again.retry_attempt(), 1);
    let again_id = again.envelope_id().to_owned();
    again.ack().await.unwrap();
    // Kept unacked past the deadline: Slack redelivers it, the session holds that back; then
    // acked, nothing more comes.
    emu.post_message(&emu.general_channel(), &user, "kept");
    let kept = next_envelope(&mut items).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let kept_id = kept.envelope_id().to_owned();
    kept.ack().await.unwrap();
    let none = tokio::time::timeout(Duration::from_millis(800), next_envelope(&mut items)).await;
    assert!(none.is_err(), "nothing else handed over: {:?}", none.ok().map(|d| d.as_str().to_owned()));
    let acks = emu.acks();
    for id in [&again_id, &kept_id] {
        assert_eq!(acks.iter().filter(|a| &a.envelope_id == id).count(), 1, "{id}: {acks:?}");
    }
    client.shutdown().await;
}

#[tokio::test]
async fn a_bot_token_and_an_invalid_app_token_fail_fast_with_typed_errors() {
    let emu = emulator(EmuSm::default()).await;
    let e =
        SocketModeClient::builder(emu.token()).api_url(&emu.api_url()).allow_insecure(true).connect().await;
    let e = e.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("app-level token"), "{e}");
    let revoked = emu.add_app_token(true);
    emu.revoke_app_token(&revoked);
    let started = std::time::Instant::now();
    let e = SocketModeClient::builder(revoked.as_str())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(matches!(e, slack_rtm::Error::Stopped(StopReason::TokenRevoked(_))), "{e:?}");
    assert!(!e.to_string().contains(&revoked), "no token in errors");
    assert_eq!(emu.apps_connections_open_calls().len(), 1, "never retried");
    assert!(started.elapsed() < WAIT);
    // A web token that is an app token is refused.
    let e = builder(&emu).web_token(emu.app_token()).connect().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn link_disabled_stops_the_session_with_a_typed_reason_and_no_reconnect() {
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).connections(1).connect().await.unwrap();
    let calls = emu.apps_connections_open_calls().len();
    emu.disable_link(slack_rtm_emulator::SocketTarget::All);
    let reason = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(SocketModeItem::Stopped { reason }) = items.next().await {
                return reason;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(reason, StopReason::LinkDisabled);
    assert!(items.next().await.is_none());
    assert_eq!(emu.apps_connections_open_calls().len(), calls, "no reconnect");
    assert_eq!(client.state(), slack_rtm::rtm::State::Stopped);
}

#[tokio::test]
async fn server_errors_on_open_are_retried_and_no_token_shows_in_debug_output() {
    let emu = emulator(EmuSm::default()).await;
    emu.reject_next_opens(2, Rejection::Status(500));
    let (client, mut items) = builder(&emu)
        .connections(1)
        .web_token(emu.token())
        .reconnect(slack_rtm::rtm::ReconnectPolicy::new(
            Duration::from_millis(20),
            Duration::from_millis(100),
        ))
        .connect()
        .await
        .unwrap();
    let calls = emu.apps_connections_open_calls();
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(calls.iter().all(|c| !c.token_in_url) && calls[2].bearer, "{calls:?}");
    // The failures were reported before the first hello.
    let mut reconnecting = 0;
    while let Ok(Some(item)) = tokio::time::timeout(Duration::from_millis(200), items.next()).await {
        match item {
            SocketModeItem::Reconnecting { .. } => reconnecting += 1,
            SocketModeItem::Connected { sockets } => assert_eq!(sockets, 1),
            SocketModeItem::Session(SocketModeEvent::Connecting) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reconnecting, 2);
    for shown in
        [format!("{client:?}"), format!("{items:?}"), format!("{:?}", builder(&emu).web_token(emu.token()))]
    {
        assert!(!shown.contains(&emu.app_token()) && !shown.contains(&emu.token()), "{shown}");
    }
    client.shutdown().await;
}

#[tokio::test]
async fn a_slow_handler_never_causes_a_redelivery_in_auto_mode() {
    // The emulator redelivers after 200 ms without an ack; the app takes 500 ms per envelope.
    let emu = emulator(EmuSm::default().ack_timeout(Duration::from_millis(200))).await;
    let (client, mut items) = builder(&emu).connections(1).connect().await.unwrap();
    for i in 0..4 {
        emu.send_api_event(
            json!({"type": "app_mention", "user": "U1", "text": format!("slow {i}"), "channel": "C1"}),
        );
    }
    for _ in 0..4 {
        let d = next_envelope(&mut items).await;
        assert_eq!(d.retry_attempt(), 0);
        tokio::time::sleep(Duration::from_millis(500)).await; // the slow handler
    }
    for rec in emu.envelopes() {
        assert_eq!(rec.attempts.len(), 1, "never redelivered: {rec:?}");
    }
    assert!(emu.acks().iter().all(|a| !a.late), "every ack within the deadline");
    client.shutdown().await;
}

#[tokio::test]
async fn a_message_posted_through_the_web_api_arrives_as_an_events_api_envelope() {
    use slack_rtm::socket_mode::{ApiEvent, Payload};
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).web_token(emu.token()).connect().await.unwrap();
    let web = client.web().expect("a web token was given").clone();
    let posted = web.post_message(emu.general_channel(), "posted over the Web API").await.unwrap();
    let delivery = next_envelope(&mut items).await;
    assert_eq!(delivery.envelope_type(), "events_api");
    let Payload::EventsApi(callback) = delivery.payload() else { panic!("an event callback") };
    let ApiEvent::Rtm(slack_rtm::rtm::Event::Message(m)) = callback.event else { panic!("a message event") };
    assert_eq!(m.text.as_deref(), Some("posted over the Web API"));
    assert_eq!(m.ts.as_ref(), Some(&posted.ts));
    assert_eq!(m.channel.as_ref(), Some(&emu.general_channel()));
    client.shutdown().await;
}

#[tokio::test]
async fn detached_and_awaited_acks_sent_together_are_each_written_once_and_answered() {
    // The session writes the acks queued by many handles in one turn with one flush, and
    // answers an awaited ack only once that write went out.
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).connections(1).ack_mode(AckMode::Manual).connect().await.unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    for i in 0..20 {
        emu.post_message(&emu.general_channel(), &emu.second_user().user, &format!("m{i}"));
    }
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(next_envelope(&mut items).await);
    }
    let last = held.pop().unwrap();
    let ids: std::collections::HashSet<String> = held.iter().map(|d| d.envelope_id().to_owned()).collect();
    for d in held {
        d.ack_detached().unwrap();
    }
    // Queued behind 19 detached acks: answered once they and it are on the wire.
    let last_id = last.envelope_id().to_owned();
    last.ack().await.unwrap();
    emu.wait_for_acks(20, WAIT).await.unwrap();
    let acks = emu.acks();
    assert_eq!(acks.len(), 20, "each envelope acked once");
    let acked: std::collections::HashSet<String> = acks.iter().map(|a| a.envelope_id.clone()).collect();
    assert!(ids.is_subset(&acked) && acked.contains(&last_id));
    assert!(acks.iter().all(|a| a.delay.is_some() && !a.late));
    client.shutdown().await;
}

#[tokio::test]
async fn detached_acks_in_and_out_of_delivery_order_and_after_a_dropped_socket_each_go_once() {
    // In delivery order a detached ack moves a shared count (no id); out of order it goes by
    // id; either way each envelope is acked once, and a lone ack is sent without another
    // command behind it. An ack whose socket is gone is not sent: Slack redelivers, and the
    // session acks that redelivery itself without handing it over again.
    let emu =
        emulator(EmuSm::default().ack_timeout(Duration::from_millis(300)).retry_delays(vec![Duration::ZERO]))
            .await;
    let (client, mut items) = builder(&emu).connections(1).ack_mode(AckMode::Manual).connect().await.unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let (channel, user) = (emu.general_channel(), emu.second_user().user.clone());
    for i in 0..12 {
        emu.post_message(&channel, &user, &format!("m{i}"));
    }
    let mut held = Vec::new();
    for _ in 0..12 {
        held.push(Some(next_envelope(&mut items).await));
    }
    let ids: Vec<String> = held.iter().flatten().map(|d| d.envelope_id().to_owned()).collect();
    for i in [3, 0, 1, 2, 5, 4, 6, 7, 8, 9, 10, 11] {
        held[i].take().unwrap().ack_detached().unwrap();
    }
    emu.wait_for_acks(12, WAIT).await.unwrap();
    emu.post_message(&channel, &user, "lone");
    let lone = next_envelope(&mut items).await;
    let lone_id = lone.envelope_id().to_owned();
    lone.ack_detached().unwrap();
    emu.wait_for_acks(13, WAIT).await.unwrap();
    let acks = emu.acks();
    for id in ids.iter().chain([&lone_id]) {
        assert_eq!(acks.iter().filter(|a| &a.envelope_id == id).count(), 1, "{id}: {acks:?}");
    }
    // Acked after its socket dropped (the session has opened the next one): not sent.
    emu.post_message(&channel, &user, "dropped");
    let dropped = next_envelope(&mut items).await;
    let dropped_id = dropped.envelope_id().to_owned();
    let sockets = emu.sockets().len();
    emu.drop_socket(slack_rtm_emulator::SocketTarget::All);
    slack_rtm_test_support::eventually_within(WAIT, "a new socket", || emu.sockets().len() > sockets).await;
    dropped.ack_detached().unwrap();
    slack_rtm_test_support::eventually_within(WAIT, "the redelivery acked", || {
        emu.envelopes().iter().all(|r| r.acked || r.gave_up)
    })
    .await;
    assert!(!emu.acks().iter().any(|a| a.envelope_id == dropped_id), "not sent on a socket that is gone");
    let none = tokio::time::timeout(Duration::from_millis(500), next_envelope(&mut items)).await;
    assert!(
        none.is_err(),
        "the redelivery is not handed over: {:?}",
        none.ok().map(|d| d.as_str().to_owned())
    );
    client.shutdown().await;
}

#[tokio::test]
async fn a_long_run_of_acks_in_delivery_order_each_goes_once_with_its_own_text() {
    // 150 envelopes held, then acked in delivery order at once: the loop takes them as one run,
    // written out 32 at a time, each ack written from a buffer an earlier ack gave back (masked
    // in place on the wire). Each id is acked once, with its own id, none late.
    const N: usize = 150;
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu).connections(1).ack_mode(AckMode::Manual).connect().await.unwrap();
    emu.wait_for_open_sockets(1, WAIT).await.unwrap();
    let (channel, user) = (emu.general_channel(), emu.second_user().user.clone());
    for i in 0..N {
        emu.post_message(&channel, &user, &format!("m{i}"));
    }
    let mut held = Vec::new();
    for _ in 0..N {
        held.push(next_envelope(&mut items).await);
    }
    let ids: Vec<String> = held.iter().map(|d| d.envelope_id().to_owned()).collect();
    for d in held {
        d.ack_detached().unwrap();
    }
    emu.wait_for_acks(N as u64, WAIT).await.unwrap();
    let acks = emu.acks();
    assert_eq!(acks.len(), N, "{acks:?}");
    for id in &ids {
        assert_eq!(acks.iter().filter(|a| &a.envelope_id == id).count(), 1, "{id}: {acks:?}");
    }
    assert!(acks.iter().all(|a| !a.late));
    client.shutdown().await;
}

/// The envelopes waiting for the application are bounded in bytes as well as in items: with
/// room for 4,096 envelopes but only 32 KiB, a consumer that stops reading has at most 32 KiB
/// of envelope frames waiting, plus one reader batch (64 frames) the loop had already read —
/// not the megabytes of 2,000 large messages; then every envelope arrives, in order, and the
/// bytes waiting stay within that bound the whole time.
async fn envelope_bytes_waiting_stay_within_the_byte_budget() {
    const BUDGET: usize = 32 * 1024;
    const N: usize = 2000;
    const TEXT: usize = 1000;
    // An envelope is the text and the event callback around it: 1,724 bytes here.
    const FRAME_MAX: usize = TEXT + 900;
    const BOUND: usize = BUDGET + 64 * FRAME_MAX;
    let emu = emulator(EmuSm::default()).await;
    let (client, mut items) = builder(&emu)
        .ack_mode(AckMode::Auto)
        .connections(1)
        .capacity(4096)
        .capacity_bytes(BUDGET)
        .connect()
        .await
        .unwrap();
    let (channel, other) = (emu.general_channel(), emu.second_user());
    let pad = "x".repeat(TEXT);
    for i in 0..N {
        emu.post_message(&channel, &other.user, &format!("{i:05} {pad}")).expect("posted");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let waiting = items.queued_bytes();
    assert!(waiting >= BUDGET, "the loop filled the budget: {waiting} bytes waiting");
    assert!(waiting <= BOUND, "{waiting} bytes waiting for a budget of {BUDGET} (bound {BOUND})");
    for i in 0..N {
        let d = next_envelope(&mut items).await;
        let slack_rtm::socket_mode::Payload::EventsApi(callback) = d.payload() else { panic!("an event") };
        let slack_rtm::socket_mode::ApiEvent::Rtm(slack_rtm::rtm::Event::Message(m)) = callback.event else {
            panic!("a message event")
        };
        assert_eq!(m.text.as_deref().map(|t| &t[..5]), Some(format!("{i:05}").as_str()), "in order");
        let waiting = items.queued_bytes();
        assert!(waiting <= BOUND, "{waiting} bytes waiting after {i} envelopes (bound {BOUND})");
    }
    client.shutdown().await;
}

#[tokio::test]
async fn envelope_bytes_waiting_stay_within_the_byte_budget_on_the_current_thread_runtime() {
    envelope_bytes_waiting_stay_within_the_byte_budget().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_bytes_waiting_stay_within_the_byte_budget_on_the_multi_thread_runtime() {
    envelope_bytes_waiting_stay_within_the_byte_budget().await;
}
