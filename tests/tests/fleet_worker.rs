//! Fleet workers against a real `redis-server`: every event handed to the handler and acked,
//! failed handlers retried then dead-lettered, a dead consumer's events taken over, a Redis
//! restart survived.

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, FleetEvent, NewEntry, Worker, WorkerConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

fn entry(i: usize) -> NewEntry {
    let body = format!(
        r#"{{"envelope_id":"e{i}","type":"events_api","payload":{{"event_id":"Ev{i}","event":{{"type":"message","text":"{i}"}}}}}}"#
    );
    NewEntry::from_envelope_text(&body, 1).unwrap()
}

async fn append(s: &EventStream, range: std::ops::Range<usize>) {
    for i in range {
        assert!(matches!(s.append(&entry(i)).await.unwrap(), AppendOutcome::Appended { .. }));
    }
}

fn fast(group: &str, consumer: &str) -> WorkerConfig {
    WorkerConfig::new(group)
        .consumer(consumer)
        .block(Duration::from_millis(50))
        .claim(Duration::from_millis(300), Duration::from_millis(50))
        .retry_delay(Duration::from_millis(20))
        .max_attempts(3)
}

type Seen = Arc<Mutex<Vec<(String, u32)>>>;

/// Runs a worker until `n` handler calls were made; returns what it saw and its counts.
async fn run_until(
    fleet: &FleetConfig,
    config: WorkerConfig,
    n: usize,
    fail: impl Fn(&FleetEvent) -> bool + Send + 'static,
) -> (Vec<(String, u32)>, slack_rtm_fleet::WorkerCounts) {
    let seen: Seen = Arc::default();
    let (tx, rx) = oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut w = Worker::new(fleet, config).unwrap();
    let s2 = seen.clone();
    let handler = move |ev: FleetEvent| {
        let mut s = s2.lock().unwrap();
        s.push((ev.event_id.clone().unwrap(), ev.attempt));
        if s.len() >= n
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
        let r = if fail(&ev) { Err("the handler failed") } else { Ok(()) };
        async move { r }
    };
    let counts = tokio::time::timeout(
        Duration::from_secs(20),
        w.run(handler, async {
            let _ = rx.await;
        }),
    )
    .await
    .expect("the worker stops once it saw enough");
    let seen = seen.lock().unwrap().clone();
    (seen, counts)
}

/// Consumer `consumer` of group `g` reads `n` entries and never acks them (it died).
async fn read_without_ack(r: &RedisServer, stream: &str, consumer: &str, n: usize) {
    let mut c = redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let () =
        redis::cmd("XGROUP").arg("CREATE").arg(stream).arg("g").arg("0").query_async(&mut c).await.unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg(consumer)
        .arg("COUNT")
        .arg(n)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(&mut c)
        .await
        .unwrap();
}

async fn pending(r: &RedisServer, stream: &str, group: &str) -> u64 {
    let mut c = redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let v: (u64, redis::Value, redis::Value, redis::Value) =
        redis::cmd("XPENDING").arg(stream).arg(group).query_async(&mut c).await.unwrap();
    v.0
}

#[tokio::test]
async fn every_event_is_handed_over_once_and_acked() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    // Appended before any worker exists: the group starts at the stream's beginning.
    append(&s, 0..150).await;
    let (seen, counts) = run_until(&fleet, fast("g", "w1"), 150, |_| false).await;
    let mut ids: Vec<&str> = seen.iter().map(|(e, _)| e.as_str()).collect();
    assert!(seen.iter().all(|(_, a)| *a == 1));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 150);
    assert_eq!(counts.handled, 150);
    assert_eq!(pending(&r, &s.keys().stream, "g").await, 0, "all acked when it stopped");
}

#[tokio::test]
async fn a_failing_handler_is_retried_then_dead_lettered() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    append(&s, 0..3).await;
    // Ev1 always fails: three attempts (max_attempts), then the dead-letter stream.
    let (seen, counts) =
        run_until(&fleet, fast("g", "w1"), 5, |ev| ev.event_id.as_deref() == Some("Ev1")).await;
    let attempts: Vec<u32> = seen.iter().filter(|(e, _)| e == "Ev1").map(|(_, a)| *a).collect();
    assert_eq!(attempts, [1, 2, 3]);
    assert_eq!((counts.handled, counts.failures, counts.dead_lettered), (2, 3, 1));
    assert_eq!(s.dead_entries().await.unwrap(), 1);
    let mut c = redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let dead: Vec<(String, HashMap<String, String>)> =
        redis::cmd("XRANGE").arg(&s.keys().dead).arg("-").arg("+").query_async(&mut c).await.unwrap();
    let f = &dead[0].1;
    assert_eq!((f["event_id"].as_str(), f["attempts"].as_str(), f["group"].as_str()), ("Ev1", "3", "g"));
    assert_eq!(f["error"], "the handler failed");
    assert!(f["body"].contains("\"Ev1\""));
    assert_eq!(pending(&r, &s.keys().stream, "g").await, 0);
}

#[tokio::test]
async fn the_events_of_a_dead_worker_are_taken_over() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    append(&s, 0..5).await;
    // A worker read five events and died before acking them.
    let stream = s.keys().stream.clone();
    read_without_ack(&r, &stream, "dead", 5).await;
    append(&s, 5..8).await;
    let (seen, counts) = run_until(&fleet, fast("g", "w2"), 8, |_| false).await;
    let by_id: HashMap<&str, u32> = seen.iter().map(|(e, a)| (e.as_str(), *a)).collect();
    assert_eq!(by_id.len(), 8);
    for i in 0..5 {
        assert_eq!(by_id[format!("Ev{i}").as_str()], 2, "taken over: its second delivery");
    }
    assert_eq!(by_id["Ev6"], 1);
    assert_eq!(counts.taken_over, 5);
    assert_eq!(pending(&r, &stream, "g").await, 0);
}

#[tokio::test]
async fn a_worker_restarted_under_its_name_first_takes_back_what_it_held() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    append(&s, 0..2).await;
    let stream = s.keys().stream.clone();
    read_without_ack(&r, &stream, "w1", 2).await;
    // Long takeover idle: only the restart path can hand them over this fast.
    let config = fast("g", "w1").claim(Duration::from_secs(60), Duration::from_secs(60));
    let (seen, _) = run_until(&fleet, config, 2, |_| false).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(pending(&r, &stream, "g").await, 0);
}

#[tokio::test]
async fn a_worker_survives_a_redis_restart() {
    let mut r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w").response_timeout(Duration::from_millis(500));
    let s = EventStream::new(&fleet).unwrap();
    append(&s, 0..3).await;
    let seen: Seen = Arc::default();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let mut w = Worker::new(&fleet, fast("g", "w1")).unwrap();
    let s2 = seen.clone();
    let task = tokio::spawn(async move {
        w.run(
            move |ev: FleetEvent| {
                s2.lock().unwrap().push((ev.event_id.clone().unwrap(), ev.attempt));
                async { Ok::<(), String>(()) }
            },
            async {
                let _ = stop_rx.await;
            },
        )
        .await
    });
    let wait_for = |n: usize| {
        let seen = seen.clone();
        async move {
            for _ in 0..200 {
                if seen.lock().unwrap().len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("only {} of {n} handled", seen.lock().unwrap().len());
        }
    };
    wait_for(3).await;
    r.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.restart().unwrap();
    append(&s, 3..6).await;
    wait_for(6).await;
    stop_tx.send(()).unwrap();
    let counts = task.await.unwrap();
    assert!(counts.redis_failures >= 1, "{counts:?}");
    let mut ids: Vec<String> = seen.lock().unwrap().iter().map(|(e, _)| e.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["Ev0", "Ev1", "Ev2", "Ev3", "Ev4", "Ev5"]);
}

#[tokio::test]
async fn an_entry_of_an_older_gateway_and_a_compact_one_are_both_handed_over_whole() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    let mut c = redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    // An older gateway wrote one field each.
    let old_body = r#"{"envelope_id":"e0","type":"events_api","retry_attempt":1,"payload":{"event_id":"Ev0","event":{"type":"app_mention"}}}"#;
    let _: String = redis::cmd("XADD")
        .arg(&s.keys().stream)
        .arg("*")
        .arg(&[
            ("event_id", "Ev0"),
            ("envelope_id", "e0"),
            ("type", "events_api"),
            ("event_type", "app_mention"),
            ("retry_attempt", "1"),
            ("received_ms", "7"),
            ("body", old_body),
        ])
        .query_async(&mut c)
        .await
        .unwrap();
    let new_body = r#"{"envelope_id":"e1","type":"events_api","retry_attempt":2,"payload":{"event_id":"Ev1","event":{"type":"message"}}}"#;
    assert!(matches!(
        s.append(&NewEntry::from_envelope_text(new_body, 9).unwrap()).await.unwrap(),
        AppendOutcome::Appended { .. }
    ));
    let seen: Arc<Mutex<Vec<FleetEvent>>> = Arc::default();
    let (tx, rx) = oneshot::channel::<()>();
    let (s2, mut tx) = (seen.clone(), Some(tx));
    let handler = move |ev: FleetEvent| {
        let mut s = s2.lock().unwrap();
        s.push(ev);
        if s.len() == 2
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
        async { Ok::<(), std::convert::Infallible>(()) }
    };
    let mut w = Worker::new(&fleet, fast("g", "w1")).unwrap();
    let counts = tokio::time::timeout(
        Duration::from_secs(20),
        w.run(handler, async {
            let _ = rx.await;
        }),
    )
    .await
    .expect("both handed over");
    assert_eq!((counts.handled, counts.dead_lettered), (2, 0));
    let seen = seen.lock().unwrap();
    let got: Vec<_> = seen
        .iter()
        .map(|e| {
            (
                e.event_id.as_deref(),
                e.envelope_id.as_str(),
                e.envelope_type.as_str(),
                e.event_type.as_deref(),
                e.retry_attempt,
                e.received_ms,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("Ev0"), "e0", "events_api", Some("app_mention"), 1, 7),
            (Some("Ev1"), "e1", "events_api", Some("message"), 2, 9)
        ]
    );
    assert_eq!((seen[0].body.as_str(), seen[1].body.as_str()), (old_body, new_body));
}
