//! The fallback's "logged once per kind" while no subscriber records info events: in a test
//! binary of its own, as the test needs a process where no subscriber was ever set before it
//! sets one (a subscriber set by another test, on any thread, turns info events on for all).

mod app_support;

use app_support::*;
use serde_json::json;
use slack_rtm::app::App;
use tracing::level_filters::LevelFilter;

/// An unhandled kind handled while nothing records info events is logged once they are
/// recorded: the bookkeeping of kinds logged is skipped while the log would be dropped.
#[tokio::test(start_paused = true)]
async fn a_kind_unhandled_while_nothing_records_info_events_is_logged_once_they_are() {
    assert!(LevelFilter::current() < LevelFilter::INFO, "no subscriber yet");
    let d = dispatcher(App::new());
    let acks = Acks::default();
    let pin = || event(json!({"type": "pin_added", "user": "U1", "channel": "C1"}));
    send(&d, pin(), &acks).await;
    settle().await;
    let (logs, _guard) = capture_logs();
    assert!(LevelFilter::current() >= LevelFilter::INFO);
    for _ in 0..3 {
        send(&d, pin(), &acks).await;
        settle().await;
    }
    assert_eq!(acks.all().len(), 4, "each acked");
    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let logged = out.lines().filter(|l| l.contains("no listener for this kind")).count();
    assert_eq!(logged, 1, "{out}");
    assert!(out.contains("events_api/pin_added"), "{out}");
}
