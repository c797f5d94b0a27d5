//! The bodies beside the stream (docs/fleet.md, "Entries and bodies") against a real
//! `redis-server`: a body is written only for an entry that was appended, lives exactly as
//! long as its entry, and a gateway cut off in the middle of its transaction leaves nothing.
//! Workers read entries of every format a gateway ever wrote, and dead-letter (never panic
//! on) an entry whose body is missing.

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, FleetEvent, NewEntry, Worker, WorkerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn entry(event_id: &str, envelope_id: &str) -> NewEntry {
    let body = format!(
        r#"{{"envelope_id":"{envelope_id}","type":"events_api","payload":{{"event_id":"{event_id}","event":{{"type":"message","text":"{envelope_id}"}}}}}}"#
    );
    NewEntry::from_envelope_text(&body, 1).unwrap()
}

async fn conn(r: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

/// The body keys there are, sorted.
async fn bodies(c: &mut redis::aio::MultiplexedConnection, s: &EventStream) -> Vec<String> {
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}:body:*", s.keys().stream)).query_async(c).await.unwrap();
    keys.sort();
    keys
}

/// The body keys the stream's entries name, sorted.
async fn named(c: &mut redis::aio::MultiplexedConnection, s: &EventStream) -> Vec<String> {
    let read: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&s.keys().stream).arg("-").arg("+").query_async(c).await.unwrap();
    let mut keys: Vec<String> = read
        .into_iter()
        .flat_map(|(_, fields)| fields.into_iter().filter(|(k, _)| k == "body_key").map(|(_, v)| v))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_duplicates_or_refused_envelopes_body_is_written_nowhere() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "d").max_backlog(3)).unwrap();
    let mut c = conn(&r).await;
    // A redelivery inside the batch, one before it (another gateway), and one past the limit.
    assert!(matches!(s.append(&entry("Ev0", "e0")).await.unwrap(), AppendOutcome::Appended { .. }));
    let other = EventStream::new(&FleetConfig::new(r.url(), "d").max_backlog(3)).unwrap();
    let batch =
        [entry("Ev1", "e1"), entry("Ev0", "e2"), entry("Ev1", "e3"), entry("Ev2", "e4"), entry("Ev3", "e5")];
    let out = other.append_many(&batch).await.unwrap();
    assert!(matches!(out[0], AppendOutcome::Appended { .. }), "{out:?}");
    assert_eq!(
        out[1..4],
        [
            AppendOutcome::Duplicate,
            AppendOutcome::Duplicate,
            AppendOutcome::Appended {
                id: match &out[3] {
                    AppendOutcome::Appended { id } => id.clone(),
                    o => panic!("{o:?}"),
                }
            }
        ]
    );
    assert_eq!(out[4], AppendOutcome::Full { backlog: 3 });
    // One body per entry, each under the key its entry names, each the envelope appended.
    let keys = bodies(&mut c, &s).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys, named(&mut c, &s).await);
    let read: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&s.keys().stream).arg("-").arg("+").query_async(&mut c).await.unwrap();
    for ((_, fields), want) in read.iter().zip([&entry("Ev0", "e0"), &batch[0], &batch[3]]) {
        let body: String = redis::cmd("GET").arg(&fields[2].1).query_async(&mut c).await.unwrap();
        assert_eq!(body, want.body);
    }
}

#[tokio::test]
async fn a_body_is_deleted_with_its_entry_when_every_group_finished_it() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "t").max_backlog(4)).unwrap();
    let mut c = conn(&r).await;
    let stream = s.keys().stream.clone();
    let () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream)
        .arg("g")
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut c)
        .await
        .unwrap();
    for i in 0..4 {
        assert!(matches!(
            s.append(&entry(&format!("Ev{i}"), &format!("e{i}"))).await.unwrap(),
            AppendOutcome::Appended { .. }
        ));
    }
    let before = named(&mut c, &s).await;
    // The group read all four and acked two: the next append (at the limit) trims those two,
    // and their bodies with them; the others' stay.
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g")
        .arg("c")
        .arg("COUNT")
        .arg(4)
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut c)
        .await
        .unwrap();
    let ids: Vec<String> = read.keys[0].ids.iter().map(|e| e.id.clone()).collect();
    let _: u64 = redis::cmd("XACK").arg(&stream).arg("g").arg(&ids[..2]).query_async(&mut c).await.unwrap();
    assert!(matches!(s.append(&entry("Ev4", "e4")).await.unwrap(), AppendOutcome::Appended { .. }));
    assert_eq!(s.entries().await.unwrap(), 3);
    let after = bodies(&mut c, &s).await;
    assert_eq!(after, named(&mut c, &s).await, "a body for each entry, and no other");
    let kept: Vec<&String> = before.iter().filter(|k| after.contains(k)).collect();
    assert_eq!(kept.len(), 2, "the two still pending keep their bodies: {before:?} {after:?}");
}

#[tokio::test]
async fn a_gateway_cut_off_before_its_transaction_ran_leaves_nothing_and_the_redelivery_is_appended() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "x")).unwrap();
    // Loads the script (and makes the stream), as a running gateway would have.
    assert!(matches!(s.append(&entry("Ev0", "e0")).await.unwrap(), AppendOutcome::Appended { .. }));
    let mut c = conn(&r).await;
    // A gateway that died after writing the script's call and the body's SET, before `EXEC`:
    // Redis discards what was queued.
    let sha = redis::Script::new(include_str!("../../crates/fleet/src/append.lua")).get_hash().to_owned();
    let (stream, claim) = (s.keys().stream.clone(), s.keys().claim(Some("Ev1"), "e1"));
    let body_key = format!("{stream}:body:cut-1");
    let e = entry("Ev1", "e1");
    let mut wire = Vec::new();
    for args in [
        vec!["MULTI".to_owned()],
        vec![
            "EVALSHA".into(),
            sha,
            "3".into(),
            stream.clone(),
            claim.clone(),
            body_key.clone(),
            "3600".into(),
            "100".into(),
            "3".into(),
            "envelope_id".into(),
            "meta".into(),
            "body_key".into(),
            "e1".into(),
            r#"["Ev1","events_api","message",0,1]"#.into(),
        ],
        vec!["SET".into(), body_key.clone(), e.body.clone(), "XX".into()],
    ] {
        wire.extend(format!("*{}\r\n", args.len()).into_bytes());
        for a in args {
            wire.extend(format!("${}\r\n{a}\r\n", a.len()).into_bytes());
        }
    }
    let addr = r.url().trim_start_matches("redis://").trim_end_matches('/').to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    sock.write_all(&wire).await.unwrap();
    sock.flush().await.unwrap();
    // Redis answered `+OK` and two `+QUEUED`: all three were queued before the cut.
    let mut got = Vec::new();
    while got.len() < "+OK\r\n+QUEUED\r\n+QUEUED\r\n".len() {
        use tokio::io::AsyncReadExt;
        let mut b = [0u8; 64];
        let n = sock.read(&mut b).await.unwrap();
        assert!(n > 0, "Redis closed the connection");
        got.extend_from_slice(&b[..n]);
    }
    assert_eq!(got, b"+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    drop(sock);
    let exists: u64 = redis::cmd("EXISTS").arg(&claim).arg(&body_key).query_async(&mut c).await.unwrap();
    assert_eq!(exists, 0, "no claim and no body");
    assert_eq!(s.entries().await.unwrap(), 1);
    // Slack redelivers (to this gateway or another): appended, not taken for a duplicate.
    assert!(matches!(s.append(&entry("Ev1", "e2")).await.unwrap(), AppendOutcome::Appended { .. }));
    assert_eq!(bodies(&mut c, &s).await, named(&mut c, &s).await);
    assert_eq!(bodies(&mut c, &s).await.len(), 2);
}

#[tokio::test]
async fn a_worker_reads_every_entry_format_and_dead_letters_one_whose_body_is_missing() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "w");
    let s = EventStream::new(&fleet).unwrap();
    let mut c = conn(&r).await;
    // The previous gateways' compact entry (its body inline), this one's, and one of this
    // format whose body someone deleted by hand.
    let old = entry("Ev0", "e0");
    let _: String = redis::cmd("XADD")
        .arg(&s.keys().stream)
        .arg("*")
        .arg(&[
            ("envelope_id", "e0"),
            ("meta", r#"["Ev0","events_api","message",0,3]"#),
            ("body", old.body.as_str()),
        ])
        .query_async(&mut c)
        .await
        .unwrap();
    let new = entry("Ev1", "e1");
    assert!(matches!(s.append(&new).await.unwrap(), AppendOutcome::Appended { .. }));
    assert!(matches!(s.append(&entry("Ev2", "e2")).await.unwrap(), AppendOutcome::Appended { .. }));
    let last = named(&mut c, &s).await;
    let read: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&s.keys().stream).arg("-").arg("+").query_async(&mut c).await.unwrap();
    let gone = read[2].1[2].1.clone();
    assert!(last.contains(&gone));
    let _: u64 = redis::cmd("DEL").arg(&gone).query_async(&mut c).await.unwrap();
    let seen: Arc<Mutex<Vec<FleetEvent>>> = Arc::default();
    let s2 = seen.clone();
    let handler = move |ev: FleetEvent| {
        s2.lock().unwrap().push(ev);
        async { Ok::<(), std::convert::Infallible>(()) }
    };
    let config = WorkerConfig::new("g").consumer("w1").block(Duration::from_millis(50));
    let mut w = Worker::new(&fleet, config).unwrap();
    let stream = s.clone();
    let counts = tokio::time::timeout(
        Duration::from_secs(20),
        w.run(handler, async move {
            while stream.dead_entries().await.unwrap_or(0) < 1 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }),
    )
    .await
    .expect("the worker went through all three");
    assert_eq!((counts.handled, counts.dead_lettered), (2, 1));
    let seen = seen.lock().unwrap();
    let got: Vec<(&str, &str, u64)> =
        seen.iter().map(|e| (e.envelope_id.as_str(), e.body.as_str(), e.received_ms)).collect();
    assert_eq!(got, [("e0", old.body.as_str(), 3), ("e1", new.body.as_str(), 1)]);
}
