//! The fleet's stream against a real `redis-server` (started per test on a free loopback
//! port): the atomic append with its dedupe claim, back-pressure, trimming only what every
//! consumer group finished, and Redis failures.

use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, FleetError, NewEntry};
use std::time::Duration;

fn entry(event_id: Option<&str>, envelope_id: &str) -> NewEntry {
    let body = match event_id {
        Some(ev) => format!(
            r#"{{"envelope_id":"{envelope_id}","type":"events_api","payload":{{"event_id":"{ev}","event":{{"type":"message"}}}}}}"#
        ),
        None => format!(r#"{{"envelope_id":"{envelope_id}","type":"slash_commands","payload":{{}}}}"#),
    };
    NewEntry::from_envelope_text(&body, 1).expect("an envelope")
}

async fn redis_conn(r: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(r.url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

#[tokio::test]
async fn an_event_is_appended_once_however_often_it_is_delivered() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "t")).unwrap();
    let first = s.append(&entry(Some("Ev1"), "e1")).await.unwrap();
    assert!(matches!(first, AppendOutcome::Appended { .. }), "{first:?}");
    // Slack's redelivery: another envelope id, the same event id (to any gateway).
    assert_eq!(s.append(&entry(Some("Ev1"), "e2")).await.unwrap(), AppendOutcome::Duplicate);
    let other = EventStream::new(&FleetConfig::new(r.url(), "t")).unwrap();
    assert_eq!(other.append(&entry(Some("Ev1"), "e3")).await.unwrap(), AppendOutcome::Duplicate);
    // Envelopes without an event id are claimed by envelope id.
    assert!(matches!(s.append(&entry(None, "s1")).await.unwrap(), AppendOutcome::Appended { .. }));
    assert_eq!(s.append(&entry(None, "s1")).await.unwrap(), AppendOutcome::Duplicate);
    assert_eq!(s.entries().await.unwrap(), 2);
    // The claim expires after its lifetime (longer than Slack's retries).
    let mut c = redis_conn(&r).await;
    let key = s.keys().claim(Some("Ev1"), "e1");
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut c).await.unwrap();
    assert!((3500..=3600).contains(&ttl), "{ttl}");
    // Another app's fleet on the same Redis is apart.
    let app2 = EventStream::new(&FleetConfig::new(r.url(), "t2")).unwrap();
    assert!(matches!(app2.append(&entry(Some("Ev1"), "e1")).await.unwrap(), AppendOutcome::Appended { .. }));
}

#[tokio::test]
async fn a_batch_is_appended_in_order_with_a_claim_each_and_a_redelivery_inside_it_is_a_duplicate() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "b")).unwrap();
    let batch =
        [entry(Some("Ev1"), "e1"), entry(Some("Ev2"), "e2"), entry(Some("Ev1"), "e3"), entry(None, "s1")];
    let out = s.append_many(&batch).await.unwrap();
    assert_eq!(out.len(), 4, "{out:?}");
    let ids: Vec<&str> = out
        .iter()
        .filter_map(|o| match o {
            AppendOutcome::Appended { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 3, "{out:?}");
    assert_eq!(out[2], AppendOutcome::Duplicate);
    // In order: each entry's id after the one before, and its fields from its own envelope.
    let mut c = redis_conn(&r).await;
    let read: redis::streams::StreamRangeReply =
        redis::cmd("XRANGE").arg(&s.keys().stream).arg("-").arg("+").query_async(&mut c).await.unwrap();
    let envelopes: Vec<String> =
        read.ids.iter().map(|e| e.get::<String>("envelope_id").unwrap_or_default()).collect();
    assert_eq!(envelopes, ["e1", "e2", "s1"]);
    assert_eq!(read.ids.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ids);
    // Each claimed: a later delivery of any of them is a duplicate.
    let again = s.append_many(&[entry(Some("Ev2"), "e4"), entry(None, "s1")]).await.unwrap();
    assert_eq!(again, [AppendOutcome::Duplicate, AppendOutcome::Duplicate]);
    assert!(s.append_many(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_full_stream_refuses_and_trims_only_what_every_group_finished() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "t").max_backlog(4)).unwrap();
    let mut c = redis_conn(&r).await;
    let stream = s.keys().stream.clone();
    for g in ["a", "b"] {
        let () = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(g)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut c)
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..4 {
        match s.append(&entry(Some(&format!("Ev{i}")), &format!("e{i}"))).await.unwrap() {
            AppendOutcome::Appended { id } => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    // Nobody handled anything: full, and nothing was trimmed.
    assert_eq!(s.append(&entry(Some("Ev4"), "e4")).await.unwrap(), AppendOutcome::Full { backlog: 4 });
    // Group a read and acked all four; group b read two and acked one: three are still needed.
    let read = |g: &'static str, n: usize| {
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(g)
            .arg("c")
            .arg("COUNT")
            .arg(n)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .clone()
    };
    let _: redis::Value = read("a", 4).query_async(&mut c).await.unwrap();
    let _: u64 = redis::cmd("XACK").arg(&stream).arg("a").arg(&ids).query_async(&mut c).await.unwrap();
    let _: redis::Value = read("b", 2).query_async(&mut c).await.unwrap();
    let _: u64 = redis::cmd("XACK").arg(&stream).arg("b").arg(&ids[0]).query_async(&mut c).await.unwrap();
    assert!(matches!(s.append(&entry(Some("Ev4"), "e4")).await.unwrap(), AppendOutcome::Appended { .. }));
    // Exactly the entry every group finished was trimmed: b's pending one and the unread stay.
    let left: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut c).await.unwrap();
    let left: Vec<&str> = left.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(left[..3], [ids[1].as_str(), ids[2].as_str(), ids[3].as_str()]);
    assert_eq!(left.len(), 4);
    // A refused event was not claimed: once there is room, its redelivery is appended.
    let _: redis::Value = read("b", 3).query_async(&mut c).await.unwrap();
    let rest: Vec<&str> = left.to_vec();
    let _: u64 = redis::cmd("XACK").arg(&stream).arg("b").arg(&rest).query_async(&mut c).await.unwrap();
    let _: redis::Value = read("a", 3).query_async(&mut c).await.unwrap();
    let _: u64 = redis::cmd("XACK").arg(&stream).arg("a").arg(&rest).query_async(&mut c).await.unwrap();
    for i in 5..9 {
        let out = s.append(&entry(Some(&format!("Ev{i}")), &format!("e{i}"))).await.unwrap();
        assert!(matches!(out, AppendOutcome::Appended { .. }), "Ev{i}: {out:?}");
    }
}

#[tokio::test]
async fn without_a_consumer_group_nothing_is_trimmed() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "t").max_backlog(2)).unwrap();
    for i in 0..2 {
        assert!(matches!(
            s.append(&entry(Some(&format!("Ev{i}")), "e")).await.unwrap(),
            AppendOutcome::Appended { .. }
        ));
    }
    assert_eq!(s.append(&entry(Some("Ev2"), "e")).await.unwrap(), AppendOutcome::Full { backlog: 2 });
    assert_eq!(s.entries().await.unwrap(), 2);
}

#[tokio::test]
async fn redis_down_is_a_typed_error_and_redis_back_is_used_again() {
    let mut r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "t").response_timeout(Duration::from_millis(500)))
        .unwrap();
    assert!(matches!(s.append(&entry(Some("Ev1"), "e1")).await.unwrap(), AppendOutcome::Appended { .. }));
    r.kill();
    let err = s.append(&entry(Some("Ev2"), "e2")).await.unwrap_err();
    assert!(matches!(err, FleetError::Redis(_) | FleetError::Timeout(_)), "{err:?}");
    r.restart().unwrap();
    // The AOF kept the first entry and its claim; the connection comes back by itself.
    let mut out = Err(err);
    for _ in 0..20 {
        out = s.append(&entry(Some("Ev2"), "e2")).await;
        if out.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(out.unwrap(), AppendOutcome::Appended { .. }));
    assert_eq!(s.append(&entry(Some("Ev1"), "e9")).await.unwrap(), AppendOutcome::Duplicate);
    assert_eq!(s.entries().await.unwrap(), 2);
}

#[test]
fn a_bad_redis_url_is_refused_without_showing_its_password() {
    let err = EventStream::new(&FleetConfig::new("http://:pw@host", "t")).unwrap_err();
    assert!(matches!(err, FleetError::BadRedisUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("pw"), "{err}");
}

#[tokio::test]
async fn an_entry_is_three_fields_on_the_wire() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "w")).unwrap();
    assert!(matches!(s.append(&entry(Some("Ev1"), "e1")).await.unwrap(), AppendOutcome::Appended { .. }));
    let mut c = redis_conn(&r).await;
    let read: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&s.keys().stream).arg("-").arg("+").query_async(&mut c).await.unwrap();
    let fields: Vec<&str> = read[0].1.iter().map(|(k, _)| k.as_str()).collect();
    // `envelope_id` and `body` under their own names (what a worker of an older version
    // needs), the small fields in one.
    assert_eq!(fields, ["envelope_id", "meta", "body"]);
    assert_eq!(read[0].1[1].1, r#"["Ev1","events_api","message",0,1]"#);
}

#[tokio::test]
async fn an_append_that_fails_leaves_no_claim_so_the_redelivery_is_appended() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "x")).unwrap();
    let mut c = redis_conn(&r).await;
    let stream = s.keys().stream.clone();
    // A stream whose last id is the largest there is: every `XADD … *` fails.
    let _: String = redis::cmd("XADD")
        .arg(&stream)
        .arg("18446744073709551615-18446744073709551615")
        .arg("f")
        .arg("v")
        .query_async(&mut c)
        .await
        .unwrap();
    let err = s.append_many(&[entry(Some("Ev1"), "e1")]).await.unwrap_err();
    assert!(matches!(err, FleetError::Redis(_)), "{err:?}");
    let claimed: bool =
        redis::cmd("EXISTS").arg(s.keys().claim(Some("Ev1"), "e1")).query_async(&mut c).await.unwrap();
    assert!(!claimed, "a failed append must not leave its claim behind");
    // Once the stream takes appends again, Slack's redelivery is appended, not dropped as a duplicate.
    let _: i64 = redis::cmd("DEL").arg(&stream).query_async(&mut c).await.unwrap();
    assert!(matches!(s.append(&entry(Some("Ev1"), "e2")).await.unwrap(), AppendOutcome::Appended { .. }));
    assert_eq!(s.entries().await.unwrap(), 1);
}

#[tokio::test]
async fn the_append_script_refuses_another_field_count_without_writing() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "f")).unwrap();
    let mut c = redis_conn(&r).await;
    // The script passes each entry's three fields to `XADD` as they are; a caller passing
    // another count gets an error, not entries with fields shifted.
    let script = redis::Script::new(include_str!("../../crates/fleet/src/append.lua"));
    let err = script
        .key(&s.keys().stream)
        .key(s.keys().claim(Some("Ev1"), "e1"))
        .arg(3600)
        .arg(100)
        .arg(2)
        .arg("envelope_id")
        .arg("body")
        .arg("e1")
        .arg("{}")
        .invoke_async::<redis::Value>(&mut c)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("3 fields per entry"), "{err}");
    assert_eq!(s.entries().await.unwrap(), 0);
    let claims: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", s.keys().claim_prefix)).query_async(&mut c).await.unwrap();
    assert!(claims.is_empty(), "{claims:?}");
}

#[tokio::test]
async fn an_append_after_the_script_was_flushed_loads_it_again() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "l")).unwrap();
    // The first append loads the script (a new server does not have it).
    assert!(matches!(s.append(&entry(Some("Ev1"), "e1")).await.unwrap(), AppendOutcome::Appended { .. }));
    // A `SCRIPT FLUSH` (or a Redis restarted without its scripts): the next append answers
    // `NOSCRIPT` first, loads the script and runs it, once.
    let mut c = redis_conn(&r).await;
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut c).await.unwrap();
    let batch = [entry(Some("Ev2"), "e2"), entry(Some("Ev1"), "e3")];
    let out = s.append_many(&batch).await.unwrap();
    assert!(matches!(out[0], AppendOutcome::Appended { .. }), "{out:?}");
    assert_eq!(out[1], AppendOutcome::Duplicate);
    assert_eq!(s.entries().await.unwrap(), 2);
}
