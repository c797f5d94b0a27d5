//! A fleet worker's stop against a real `redis-server`: once `stop` resolved, no further event
//! reaches the handler (not the rest of a batch already read), and what was read but not
//! handled is given back, so another worker takes it over at once.

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, FleetEvent, NewEntry, Worker, WorkerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

fn entry(i: usize) -> NewEntry {
    let body = format!(
        r#"{{"envelope_id":"e{i}","type":"events_api","payload":{{"event_id":"Ev{i}","event":{{"type":"message"}}}}}}"#
    );
    NewEntry::from_envelope_text(&body, 1).unwrap()
}

#[tokio::test]
async fn no_event_is_handed_over_after_stop_and_the_rest_of_the_batch_is_taken_over_at_once() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "stop");
    let s = EventStream::new(&fleet).unwrap();
    for i in 0..6 {
        assert!(matches!(s.append(&entry(i)).await.unwrap(), AppendOutcome::Appended { .. }));
    }
    // One batch holds all six; the stop comes while the second is handled. A takeover idle
    // time of 60 s: without the give-back, the second worker would see nothing for a minute.
    let config = |name: &str| {
        WorkerConfig::new("g")
            .consumer(name)
            .batch(64)
            .block(Duration::from_millis(50))
            .claim(Duration::from_secs(60), Duration::from_millis(50))
    };
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(Notify::new());
    let mut first = Worker::new(&fleet, config("w1")).unwrap();
    let (seen1, stop1) = (seen.clone(), stop.clone());
    let counts = first
        .run(
            move |ev: FleetEvent| {
                let mut s = seen1.lock().unwrap();
                s.push(ev.event_id.unwrap());
                if s.len() == 2 {
                    stop1.notify_one();
                }
                async { Ok::<(), String>(()) }
            },
            async move { stop.notified().await },
        )
        .await;
    assert_eq!(counts.handled, 2, "{:?}", seen.lock().unwrap());
    assert_eq!(*seen.lock().unwrap(), ["Ev0", "Ev1"]);

    // The four read and not handled are still pending (never lost), now idle past the
    // takeover time.
    let mut c = redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(&s.keys().stream)
        .arg("g")
        .arg("-")
        .arg("+")
        .arg(10)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(pending.len(), 4, "{pending:?}");
    assert!(pending.iter().all(|(_, who, idle, n)| who == "w1" && *idle >= 60_000 && *n == 1), "{pending:?}");
    let rest = Arc::new(Mutex::new(Vec::<(String, u32)>::new()));
    let done = Arc::new(Notify::new());
    let mut second = Worker::new(&fleet, config("w2")).unwrap();
    let (rest2, done2) = (rest.clone(), done.clone());
    let counts = tokio::time::timeout(
        Duration::from_secs(10),
        second.run(
            move |ev: FleetEvent| {
                let mut s = rest2.lock().unwrap();
                s.push((ev.event_id.unwrap(), ev.attempt));
                if s.len() == 4 {
                    done2.notify_one();
                }
                async { Ok::<(), String>(()) }
            },
            async move { done.notified().await },
        ),
    )
    .await
    .expect("the events read but not handled are taken over long before the 60 s idle time");
    let mut ids: Vec<String> = rest.lock().unwrap().iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["Ev2", "Ev3", "Ev4", "Ev5"]);
    // Read once by the first worker, then taken over: the second delivery.
    assert!(rest.lock().unwrap().iter().all(|(_, attempt)| *attempt == 2), "{:?}", rest.lock().unwrap());
    assert_eq!((counts.handled, counts.taken_over), (4, 4));
}
