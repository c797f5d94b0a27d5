//! The Socket Mode rows of the fault table: each fault injected by the emulator over loopback
//! while envelopes flow through the facade's `SocketModeClient`, and judged against the
//! emulator's record. Every row checks, besides its own outcome:
//!
//! - **no event lost**: every `events_api` event the emulator made was handed to the app;
//! - **none handed twice**: the app saw each `event_id` once, however many times the emulator
//!   delivered it (redeliveries, several sockets, overlapping sockets);
//! - **every delivery acked**: each event has an acked delivery in the emulator's record.
//!
//! (The `tests/tests/faults.rs` table is RTM's; this is its Socket Mode half, kept apart to keep
//! each file under 600 lines.)

use serde_json::json;
use slack_rtm::SocketModeClient;
use slack_rtm::StopReason;
use slack_rtm::rtm::KeepaliveConfig;
use slack_rtm::rtm::ReconnectPolicy;
use slack_rtm::socket_mode::AckMode;
use slack_rtm::socket_mode::SocketModeItem;
use slack_rtm::socket_mode::{SocketModeConfig, SocketModeEvent};
use slack_rtm_emulator::{
    Emulator, EmulatorConfig, Rejection, SocketModeServerConfig as EmuSm, SocketTarget,
};
use slack_rtm_session::rtm::Timeouts;
use slack_rtm_test_support::eventually_within;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const MS: Duration = Duration::from_millis(1);

/// What the emulator does while envelopes flow.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Slack's scheduled refresh of every socket (`warning`, `refresh_requested`, close).
    RefreshOverlap,
    /// Every socket's TCP connection dropped without a close frame.
    Drop,
    /// Every socket stalls (reads, writes and pings nothing) until the client replaced it.
    Stall,
    /// Every socket stops answering the client's pings (half-open).
    HalfOpen,
    /// The app's limit is one socket: the second gets `too_many_websockets`.
    TooManyWebsockets,
    /// `link_disabled` on every socket: the session stops.
    LinkDisabled,
    /// Every socket dropped, and the next `apps.connections.open` calls get 429.
    RateLimitedOpen,
    /// Manual acks that come after the emulator's ack deadline: redelivered, deduplicated.
    LateAckRedelivery,
    /// An ack deadline so short every delivery is redelivered three times, on any socket.
    RetryStorm,
}

struct Case {
    fault: Fault,
    events: usize,
}

fn emu_config(fault: Fault) -> EmuSm {
    let base = EmuSm::default().ping_interval(None);
    match fault {
        Fault::TooManyWebsockets => base.max_sockets(1),
        Fault::RefreshOverlap => {
            base.warning_lead(Duration::from_millis(150)).refresh_grace(Duration::from_millis(300))
        }
        Fault::LateAckRedelivery => {
            base.ack_timeout(Duration::from_millis(150)).retry_delays(vec![Duration::ZERO; 3])
        }
        Fault::RetryStorm => base.ack_timeout(Duration::from_micros(1)).retry_delays(vec![Duration::ZERO; 3]),
        // Held envelopes of a stalled socket come back quickly on another.
        Fault::Stall => {
            base.ack_timeout(Duration::from_millis(300)).retry_delays(vec![Duration::from_millis(50); 3])
        }
        _ => base.ack_timeout(Duration::from_millis(500)).retry_delays(vec![Duration::from_millis(50); 3]),
    }
}

fn client_config(fault: Fault) -> SocketModeConfig {
    let mut c = SocketModeConfig::default();
    c.connections = 2;
    c.stagger = Duration::from_millis(50);
    c.keepalive = KeepaliveConfig::new(Duration::from_millis(150), Duration::from_millis(250));
    c.timeouts = Timeouts::new(Duration::from_secs(2), Duration::from_secs(2));
    c.reconnect = ReconnectPolicy::new(Duration::from_millis(50), Duration::from_millis(400));
    c.reconnect.min_delay = Duration::from_millis(20);
    c.drain = Duration::from_millis(100);
    if matches!(fault, Fault::LateAckRedelivery) {
        c.ack_mode = AckMode::Manual;
    }
    c
}

/// What the app saw.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    duplicates: usize,
    stopped: Option<StopReason>,
}

async fn run(case: Case) {
    let fault = case.fault;
    let emu = Emulator::start(EmulatorConfig::default().send_rate(None).socket_mode(emu_config(fault)))
        .await
        .unwrap();
    let (client, mut items) = SocketModeClient::builder(emu.app_token())
        .api_url(&emu.api_url())
        .allow_insecure(true)
        .session_config(client_config(fault))
        .connect()
        .await
        .unwrap();
    let want = if matches!(fault, Fault::TooManyWebsockets) { 1 } else { 2 };
    emu.wait_for_open_sockets(want, WAIT).await.unwrap();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(item) = items.next().await {
                match item {
                    SocketModeItem::Envelope(d) => {
                        seen.lock().unwrap().events.push(d.event_id().unwrap_or_default().to_owned());
                        if matches!(fault, Fault::LateAckRedelivery) {
                            // A handler slower than the deadline, acking itself.
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_millis(250)).await;
                                let _ = d.ack().await;
                            });
                        }
                    }
                    SocketModeItem::Session(
                        SocketModeEvent::Duplicate { .. } | SocketModeEvent::RedeliveryHeld { .. },
                    ) => seen.lock().unwrap().duplicates += 1,
                    SocketModeItem::Stopped { reason } => seen.lock().unwrap().stopped = Some(reason),
                    _ => {}
                }
            }
        })
    };

    let send = |from: usize, to: usize| {
        for i in from..to {
            emu.send_api_event(
                json!({"type": "app_mention", "user": "U1", "text": format!("n{i}"), "channel": "C1"}),
            );
        }
    };
    let half = case.events / 2;
    send(0, half);
    wait_all_acked(&emu).await;
    let sockets_before = emu.sockets().len();
    let calls_before = emu.apps_connections_open_calls().len();
    match fault {
        Fault::RefreshOverlap => {
            emu.refresh_socket(SocketTarget::All);
            // Envelopes keep coming while both generations of sockets overlap.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Fault::Drop => {
            emu.drop_socket(SocketTarget::All);
        }
        Fault::Stall => {
            emu.stall_socket(SocketTarget::All, true);
            send(half, half + 5); // held by the stalled sockets
            eventually_within(WAIT, "replacement sockets", || emu.sockets().len() >= sockets_before + 2)
                .await;
            emu.stall_socket(SocketTarget::All, false);
        }
        Fault::HalfOpen => {
            emu.answer_pings(SocketTarget::All, false);
            eventually_within(WAIT, "replacement sockets", || emu.sockets().len() >= sockets_before + 2)
                .await;
        }
        Fault::TooManyWebsockets => {
            // The client asked for two; the emulator allows one. It must settle, not loop.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let refused = emu
                .sockets()
                .iter()
                .filter(|s| s.disconnects.iter().any(|d| d == "too_many_websockets"))
                .count();
            assert!(refused >= 1, "the second socket was refused");
            assert!(emu.apps_connections_open_calls().len() <= calls_before + 2, "no reconnect loop");
        }
        Fault::LinkDisabled => {
            emu.disable_link(SocketTarget::All);
        }
        Fault::RateLimitedOpen => {
            emu.reject_next_opens(2, Rejection::RateLimited { retry_after: Duration::from_secs(1) });
            emu.drop_socket(SocketTarget::All);
        }
        Fault::LateAckRedelivery | Fault::RetryStorm => {}
    }
    let extra = if matches!(fault, Fault::Stall) { 5 } else { 0 };
    if matches!(fault, Fault::LinkDisabled) {
        tokio::time::timeout(WAIT, app).await.expect("the stream ends").unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.stopped, Some(StopReason::LinkDisabled));
        assert_eq!(emu.apps_connections_open_calls().len(), calls_before, "never reconnects");
        check(&emu, &seen.events, half);
        return;
    }
    send(half + extra, case.events + extra);
    wait_all_acked(&emu).await;
    eventually_within(WAIT, "the app to see every event", || {
        seen.lock().unwrap().events.len() >= case.events + extra
    })
    .await;
    // A little longer: nothing more may arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    client.shutdown().await;
    let _ = tokio::time::timeout(WAIT, app).await;
    let seen = seen.lock().unwrap();
    check(&emu, &seen.events, case.events + extra);

    match fault {
        Fault::RateLimitedOpen => {
            let calls = emu.apps_connections_open_calls();
            let after: Vec<&slack_rtm_emulator::ConnectCall> = calls[calls_before..].iter().collect();
            assert!(after.iter().filter(|c| c.status == 429).count() == 2, "{after:?}");
            // Retry-After honoured: the call after a 429 came no sooner than 1 s later.
            for w in after.windows(2).filter(|w| w[0].status == 429) {
                assert!(w[1].at.duration_since(w[0].at) >= Duration::from_secs(1) - 50 * MS, "{after:?}");
            }
        }
        Fault::LateAckRedelivery | Fault::RetryStorm => {
            let redelivered = emu.envelopes().iter().filter(|e| e.attempts.len() > 1).count();
            assert!(redelivered > 0, "the emulator redelivered");
            assert!(seen.duplicates > 0, "the session recognised the redeliveries");
        }
        Fault::RefreshOverlap => {
            let sockets = emu.sockets();
            let refreshed: Vec<_> =
                sockets.iter().filter(|s| s.disconnects.iter().any(|d| d == "warning")).collect();
            assert!(refreshed.len() >= 2);
            for old in refreshed {
                // Make-before-break: a replacement was open before the old socket closed, and
                // the client closed the old one itself (before Slack's grace ran out).
                let closed = old.closed_at.expect("closed");
                assert!(
                    sockets
                        .iter()
                        .any(|n| n.id != old.id && n.opened_at > old.opened_at && n.opened_at < closed),
                    "{old:?}"
                );
                assert_eq!(
                    old.close_reason,
                    Some(slack_rtm_emulator::CloseReason::ClientClosed(Some(1000))),
                    "{old:?}"
                );
            }
        }
        _ => {}
    }
}

/// No event lost, none handed twice: the app's view against the emulator's record.
fn check(emu: &Emulator, app_events: &[String], expected: usize) {
    let records = emu.envelopes();
    let made: HashSet<String> = records.iter().filter_map(|r| r.event_id.clone()).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in app_events {
        *counts.entry(e.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handed to the app more than once: {twice:?}");
    assert_eq!(made.len(), expected, "the emulator made every event");
    let lost: Vec<_> = made.iter().filter(|e| !counts.contains_key(e.as_str())).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(app_events.iter().all(|e| made.contains(e)), "the app saw only real events");
    for r in &records {
        assert!(r.acked, "every event has an acked delivery: {r:?}");
    }
}

/// Until every envelope made so far has an ack (or the emulator gave up on it).
async fn wait_all_acked(emu: &Emulator) {
    eventually_within(WAIT, "every envelope acked", || emu.envelopes().iter().all(|r| r.acked || r.gave_up))
        .await;
}

macro_rules! row {
    ($name:ident, $fault:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            run(Case { fault: $fault, events: 40 }).await;
        }
    };
}

row!(refresh_overlap, Fault::RefreshOverlap);
row!(drop_without_close, Fault::Drop);
row!(stalled_sockets, Fault::Stall);
row!(half_open_sockets, Fault::HalfOpen);
row!(too_many_websockets, Fault::TooManyWebsockets);
row!(link_disabled, Fault::LinkDisabled);
row!(rate_limited_open, Fault::RateLimitedOpen);
row!(late_ack_redelivery, Fault::LateAckRedelivery);
row!(retry_storm, Fault::RetryStorm);
