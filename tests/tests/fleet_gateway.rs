//! Fleet gateways against the emulator (Socket Mode over loopback) and a real `redis-server`:
//! an envelope is acked only once Redis has it, a redelivery reaching another gateway is acked
//! and not appended again, Redis down or a full stream means no ack (Slack redelivers), and
//! workers get every event.

use slack_rtm::SocketModeClient;
use slack_rtm_emulator::{Emulator, EmulatorConfig, RawFrame, SocketModeServerConfig, SocketTarget};
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{EventStream, FleetConfig, FleetEvent, Gateway, Worker, WorkerConfig};
use slack_rtm_test_support::eventually;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

async fn emulator() -> Emulator {
    let sm = SocketModeServerConfig::default().ack_timeout(Duration::from_millis(400)).retry_delays(vec![
        Duration::ZERO,
        Duration::from_millis(300),
        Duration::from_millis(600),
        S,
        S,
        2 * S,
        2 * S,
    ]);
    Emulator::start(EmulatorConfig::default().send_rate(None).socket_mode(sm)).await.unwrap()
}

async fn gateway(emu: &Emulator, fleet: &FleetConfig, sockets: usize) -> Gateway {
    let socket = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .connections(sockets);
    Gateway::builder(socket, fleet.clone()).append_budget(Duration::from_millis(800)).start().await.unwrap()
}

fn message(i: usize) -> serde_json::Value {
    serde_json::json!({"type": "message", "channel": "C1", "user": "U1", "text": format!("m{i}"), "ts": format!("{i}.000100")})
}

/// A worker task that records every event it handles until the returned stop is sent.
fn spawn_worker(
    fleet: &FleetConfig,
    name: &str,
) -> (Arc<Mutex<Vec<FleetEvent>>>, tokio::sync::oneshot::Sender<()>) {
    let seen: Arc<Mutex<Vec<FleetEvent>>> = Arc::default();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = WorkerConfig::new("g").consumer(name).block(Duration::from_millis(50));
    let mut w = Worker::new(fleet, config).unwrap();
    let s = seen.clone();
    tokio::spawn(async move {
        w.run(
            move |ev| {
                s.lock().unwrap().push(ev);
                async { Ok::<(), String>(()) }
            },
            async {
                let _ = rx.await;
            },
        )
        .await
    });
    (seen, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_a_worker_once_and_is_acked_after_the_append() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "gw");
    let gw = gateway(&emu, &fleet, 2).await;
    emu.wait_for_open_sockets(2, 5 * S).await.unwrap();
    let (seen, stop) = spawn_worker(&fleet, "w1");
    for i in 0..40 {
        emu.send_api_event(message(i));
    }
    eventually("40 events handled", || seen.lock().unwrap().len() >= 40).await;
    eventually("every envelope acked", || emu.envelopes().iter().all(|e| e.acked)).await;
    let mut ids: Vec<String> = seen.lock().unwrap().iter().filter_map(|e| e.event_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut sent: Vec<String> = emu.envelopes().iter().filter_map(|e| e.event_id.clone()).collect();
    sent.sort();
    assert_eq!(ids, sent, "every event, once");
    let c = gw.counts();
    // A redelivery (a busy machine can miss the emulator's short deadline) is acked as a
    // duplicate: every event appended once, every delivery acked.
    assert_eq!(
        (c.appended, c.received - c.duplicates, c.acked, c.redis_failures),
        (40, 40, c.received, 0),
        "{c:?}"
    );
    let ev = seen.lock().unwrap()[0].clone();
    assert_eq!(
        (ev.envelope_type.as_str(), ev.event_type.as_deref(), ev.attempt),
        ("events_api", Some("message"), 1)
    );
    stop.send(()).unwrap();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_with_one_append_in_flight_still_takes_every_envelope() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "one");
    let socket = SocketModeClient::builder(emu.app_token()).api_url(&emu.api_url()).allow_insecure(true);
    let gw = Gateway::builder(socket, fleet.clone())
        .max_in_flight(1)
        .append_budget(Duration::from_millis(800))
        .start()
        .await
        .unwrap();
    emu.wait_for_open_sockets(1, 5 * S).await.unwrap();
    // Sent at once, so they wait together: batches never take more permits than there are.
    for i in 0..30 {
        emu.send_api_event(message(i));
    }
    eventually("30 appended", || gw.counts().appended == 30).await;
    eventually("every envelope acked", || emu.envelopes().iter().all(|e| e.acked)).await;
    assert_eq!(EventStream::new(&fleet).unwrap().entries().await.unwrap(), 30);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_on_another_gateway_is_acked_and_not_appended_again() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "gw");
    let a = gateway(&emu, &fleet, 1).await;
    emu.wait_for_open_sockets(1, 5 * S).await.unwrap();
    let sa = emu.open_sockets()[0];
    let b = gateway(&emu, &fleet, 1).await;
    emu.wait_for_open_sockets(2, 5 * S).await.unwrap();
    let sb = *emu.open_sockets().iter().find(|s| **s != sa).unwrap();
    // The same event (one event_id) in two envelopes, one on each gateway's socket.
    let env = |id: &str, retry: u32| {
        let text = format!(
            r#"{{"envelope_id":"{id}","type":"events_api","accepts_response_payload":false,"retry_attempt":{retry},"retry_reason":"","payload":{{"event_id":"EvSame","type":"event_callback","event":{{"type":"app_mention","text":"hi"}}}}}}"#
        );
        RawFrame::Text(text.into())
    };
    emu.send_raw_to_socket(SocketTarget::Socket(sa), env("env-a", 0));
    eventually("gateway a appended", || a.counts().appended == 1).await;
    emu.send_raw_to_socket(SocketTarget::Socket(sb), env("env-b", 1));
    eventually("gateway b acked the redelivery", || b.counts().acked == 1).await;
    assert_eq!((b.counts().appended, b.counts().duplicates), (0, 1));
    // The gateway counts an ack once it is queued to its session; the emulator sees it when the
    // session has written it.
    let acked_both = || {
        let acked: Vec<String> = emu.acks().iter().map(|a| a.envelope_id.clone()).collect();
        acked.contains(&"env-a".to_owned()) && acked.contains(&"env-b".to_owned())
    };
    eventually("the emulator received both acks", acked_both).await;
    assert_eq!(EventStream::new(&fleet).unwrap().entries().await.unwrap(), 1);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_nothing_is_acked_and_the_redelivery_is_appended_once_it_is_back() {
    let mut redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "gw").response_timeout(Duration::from_millis(300));
    let gw = gateway(&emu, &fleet, 1).await;
    emu.wait_for_open_sockets(1, 5 * S).await.unwrap();
    redis.kill();
    emu.send_api_event(message(1));
    eventually("the append failed", || gw.counts().redis_failures >= 1).await;
    assert!(gw.last_fault().is_some());
    assert_eq!(gw.counts().acked, 0);
    assert!(emu.acks().is_empty(), "acked while Redis was down: {:?}", emu.acks());
    redis.restart().unwrap();
    // Slack's next redelivery is appended and acked.
    eventually("appended after Redis came back", || gw.counts().appended == 1).await;
    eventually("acked", || emu.envelopes()[0].acked).await;
    let (seen, stop) = spawn_worker(&fleet, "w1");
    eventually("handled", || seen.lock().unwrap().len() == 1).await;
    assert!(seen.lock().unwrap()[0].retry_attempt >= 1, "it was a redelivery");
    stop.send(()).unwrap();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_stream_pushes_back_until_workers_catch_up() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "gw").max_backlog(3);
    let gw = gateway(&emu, &fleet, 1).await;
    emu.wait_for_open_sockets(1, 5 * S).await.unwrap();
    for i in 0..5 {
        emu.send_api_event(message(i));
    }
    eventually("two refused", || gw.counts().refused_full >= 2).await;
    assert_eq!(gw.counts().appended, 3);
    assert!(gw.last_fault().unwrap().contains("full"));
    // Workers drain the stream; Slack's redeliveries of the refused two are appended then.
    let (seen, stop) = spawn_worker(&fleet, "w1");
    eventually("all five handled", || seen.lock().unwrap().len() == 5).await;
    eventually("all acked", || emu.envelopes().iter().all(|e| e.acked)).await;
    assert!(EventStream::new(&fleet).unwrap().entries().await.unwrap() <= 3);
    stop.send(()).unwrap();
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_api_entry_carries_the_fields_serde_reads_also_when_they_are_escaped() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    let fleet = FleetConfig::new(redis.url(), "esc");
    let gw = gateway(&emu, &fleet, 1).await;
    emu.wait_for_open_sockets(1, 5 * S).await.unwrap();
    let socket = SocketTarget::Socket(emu.open_sockets()[0]);
    let (seen, stop) = spawn_worker(&fleet, "w1");
    // The gateway takes an Events API envelope's fields from the session's scan; with escapes in
    // them the scan is unsure and they are read by serde: the entries are the same either way.
    let env = |id: &str, event_id: &str, event_type: &str, retry: u32| {
        RawFrame::Text(format!(
            r#"{{"envelope_id":"{id}","type":"events_api","retry_attempt":{retry},"payload":{{"event_id":"{event_id}","type":"event_callback","event":{{"type":"{event_type}","text":"a \"quoted\" text"}}}}}}"#
        ).into())
    };
    emu.send_raw_to_socket(socket, env("env-1", "Ev01", "app_mention", 0));
    emu.send_raw_to_socket(socket, env("env-2", r"Ev\u0030\u0032", r"reaction_\u0061dded", 2));
    eventually("both handled", || seen.lock().unwrap().len() == 2).await;
    let mut got: Vec<(Option<String>, String, Option<String>, u32)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| (e.event_id.clone(), e.envelope_type.clone(), e.event_type.clone(), e.retry_attempt))
        .collect();
    got.sort();
    let want = |ev: &str, ty: &str, retry| {
        (Some(ev.to_owned()), "events_api".to_owned(), Some(ty.to_owned()), retry)
    };
    assert_eq!(got, [want("Ev01", "app_mention", 0), want("Ev02", "reaction_added", 2)]);
    stop.send(()).unwrap();
    gw.shutdown().await;
}
