//! The gateways' dedupe claims against a real `redis-server`: one set per claim period
//! (written once per batch, expiring as a whole) instead of a key per event, seen for at least
//! one lifetime, and shared both ways with the per-event keys of older gateways and of
//! `RedisEventDedupe`.

use slack_rtm::app::http::EventDedupe;
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{AppendOutcome, EventStream, FleetConfig, NewEntry, RedisEventDedupe};
use std::collections::BTreeSet;
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

/// Redis's clock, in seconds (the clock the append script reads).
async fn redis_now(c: &mut redis::aio::MultiplexedConnection) -> u64 {
    let t: Vec<String> = redis::cmd("TIME").query_async(c).await.unwrap();
    t[0].parse().unwrap()
}

fn appended(o: &AppendOutcome) -> bool {
    matches!(o, AppendOutcome::Appended { .. })
}

#[tokio::test]
async fn a_batchs_claims_are_members_of_one_set_per_period_that_expires_as_a_whole() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "c")).unwrap();
    let mut c = redis_conn(&r).await;
    let out = s
        .append_many(&[entry(Some("Ev1"), "e1"), entry(None, "s1"), entry(Some("Ev1"), "e2")])
        .await
        .unwrap();
    assert!(appended(&out[0]) && appended(&out[1]), "{out:?}");
    assert_eq!(out[2], AppendOutcome::Duplicate);
    let period = redis_now(&mut c).await / 3600;
    let set = s.keys().claim_set(period);
    let members: BTreeSet<String> = redis::cmd("SMEMBERS").arg(&set).query_async(&mut c).await.unwrap();
    assert_eq!(members, BTreeSet::from(["ev:Ev1".to_owned(), "env:s1".to_owned()]));
    // No key per event; the set lives until the end of the next period: 1 to 2 lifetimes.
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", s.keys().claim_prefix)).query_async(&mut c).await.unwrap();
    assert_eq!(keys, [set.clone()]);
    let ttl: i64 = redis::cmd("TTL").arg(&set).query_async(&mut c).await.unwrap();
    assert!((3599..=7200).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn a_claim_is_seen_in_the_next_period_and_forgotten_after_it() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "p").claim_ttl(Duration::from_secs(2))).unwrap();
    let mut c = redis_conn(&r).await;
    assert!(appended(&s.append(&entry(Some("Ev1"), "e1")).await.unwrap()));
    let first = redis_now(&mut c).await / 2;
    let wait_for = |period: u64| {
        let mut c = c.clone();
        async move {
            while redis_now(&mut c).await / 2 < period {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // The next period: the claim is in the set before it, still a duplicate.
    wait_for(first + 1).await;
    assert_eq!(s.append(&entry(Some("Ev1"), "e2")).await.unwrap(), AppendOutcome::Duplicate);
    // Two periods on, the claim has lived at least its lifetime: forgotten, appended again.
    wait_for(first + 2).await;
    assert!(appended(&s.append(&entry(Some("Ev1"), "e3")).await.unwrap()));
    assert_eq!(s.entries().await.unwrap(), 2);
}

#[tokio::test]
async fn an_older_gateways_claim_key_makes_a_duplicate_and_a_full_stream_still_sees_claims() {
    let r = RedisServer::start().unwrap();
    let s = EventStream::new(&FleetConfig::new(r.url(), "o").max_backlog(1)).unwrap();
    let mut c = redis_conn(&r).await;
    // What a gateway of the previous version wrote for an event it appended.
    let () = redis::cmd("SET")
        .arg(s.keys().claim(Some("EvOld"), ""))
        .arg(1)
        .arg("EX")
        .arg(3600)
        .query_async(&mut c)
        .await
        .unwrap();
    let out = s.append_many(&[entry(Some("EvOld"), "e1"), entry(Some("Ev1"), "e2")]).await.unwrap();
    assert_eq!(out[0], AppendOutcome::Duplicate);
    assert!(appended(&out[1]), "{out:?}");
    // Full (no consumer group: nothing is trimmed): claimed events are still duplicates, the
    // others refused and left unclaimed.
    let out = s
        .append_many(&[entry(Some("Ev1"), "e3"), entry(Some("EvOld"), "e4"), entry(Some("Ev2"), "e5")])
        .await
        .unwrap();
    assert_eq!(out, [AppendOutcome::Duplicate, AppendOutcome::Duplicate, AppendOutcome::Full { backlog: 1 }]);
    let _: i64 = redis::cmd("DEL").arg(&s.keys().stream).query_async(&mut c).await.unwrap();
    assert!(appended(&s.append(&entry(Some("Ev2"), "e6")).await.unwrap()));
}

#[tokio::test]
async fn http_mode_and_gateways_see_each_others_claims() {
    let r = RedisServer::start().unwrap();
    let fleet = FleetConfig::new(r.url(), "h");
    let s = EventStream::new(&fleet).unwrap();
    let http = RedisEventDedupe::new(&fleet).unwrap();
    assert!(appended(&s.append(&entry(Some("Ev1"), "e1")).await.unwrap()));
    assert!(!http.claim("Ev1".into()).await.unwrap(), "a gateway's claim must count in HTTP mode");
    assert!(http.claim("Ev2".into()).await.unwrap());
    assert!(!http.claim("Ev2".into()).await.unwrap());
    assert_eq!(s.append(&entry(Some("Ev2"), "e2")).await.unwrap(), AppendOutcome::Duplicate);
    // A released HTTP claim (its listeners did not take the event) is free again.
    http.release("Ev2".into()).await;
    assert!(http.claim("Ev2".into()).await.unwrap());
}
