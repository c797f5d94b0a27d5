//! The fault-injection suite: every fault Slack or the network can produce, injected by the
//! emulator over loopback while the facade is sending, and judged by the emulator's record.
//!
//! The suite is a table ([`cases`]): each case names the fault, the application-visible outcome
//! it must produce, the sends it must resolve and an extra invariant checked against the
//! emulator. One test per case runs the same driver ([`slack_rtm_tests::faults::run`]), which
//! also checks the invariants every case must keep (no panic, no message vanishes or is posted
//! twice, the backoff is obeyed).

use slack_rtm::rtm::Reason;
use slack_rtm::rtm::SendError;
use slack_rtm::rtm::SessionConfig;
use slack_rtm::rtm::SessionEvent;
use slack_rtm::rtm::Warning;
use slack_rtm::types::ApiError;
use slack_rtm_emulator::{CloseReason, Emulator, EmulatorConfig, SendRateLimit as EmuRate};
use slack_rtm_session::rtm::Timeouts;
use slack_rtm_tests::faults::{Case, Expect, Fault, Log, RejectionKind, Sends, run};
use std::time::Duration;

fn no_check(_: &Emulator, _: &Log) -> Result<(), String> {
    Ok(())
}

fn no_tweak(_: &mut SessionConfig) {}

fn plain_emulator() -> EmulatorConfig {
    EmulatorConfig::default().send_rate(None).goodbye_grace(Some(Duration::from_millis(500)))
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// Exactly `n` socket URLs were refused as expired.
fn one_expired_url(emu: &Emulator, _: &Log) -> Result<(), String> {
    let n = emu.expired_socket_attempts();
    ensure(n == 1, || format!("expired socket attempts: {n}"))
}

/// The call after the 429 came at least `Retry-After` later.
fn waited_retry_after(emu: &Emulator, _: &Log) -> Result<(), String> {
    let calls = emu.rtm_connect_calls();
    let i = calls.iter().position(|c| c.status == 429).ok_or("no 429 recorded")?;
    let next = calls.get(i + 1).ok_or("no call after the 429")?;
    let waited = next.at.duration_since(calls[i].at);
    ensure(waited >= Duration::from_secs(1), || format!("retried {waited:?} after a 429 with Retry-After: 1"))
}

/// The replaced connection was closed by the client, normally, after the new one opened.
fn make_before_break(emu: &Emulator, log: &Log) -> Result<(), String> {
    let conns = emu.connections();
    let (old, new) = match conns.as_slice() {
        [old, new] => (old, new),
        other => return Err(format!("expected 2 connections, got {other:#?}")),
    };
    ensure(old.close_reason == Some(CloseReason::ClientClosed(Some(1000))), || {
        format!("old connection: {:?}", old.close_reason)
    })?;
    let closed = old.closed_at.ok_or("old connection still open")?;
    ensure(new.opened_at < closed, || "the new connection opened after the old one closed".into())?;
    let gaps = log.count(|e| matches!(e, SessionEvent::Gap { .. } | SessionEvent::Disconnected { .. }));
    ensure(gaps == 0, || format!("{gaps} Gap/Disconnected events across a goodbye"))
}

/// The server closed with 1001 after announcing the migration, and the app saw the event.
fn migration_seen(emu: &Emulator, log: &Log) -> Result<(), String> {
    let first = emu.connections().first().and_then(|c| c.close_reason.clone());
    ensure(matches!(first, Some(CloseReason::ServerClosed(1001) | CloseReason::ClientClosed(_))), || {
        format!("first connection ended with {first:?}")
    })?;
    let seen = log.count(|e| matches!(e, SessionEvent::Rtm(slack_rtm::rtm::Event::TeamMigrationStarted(_))));
    ensure(seen == 1, || format!("team_migration_started delivered {seen} times"))
}

/// The storm really happened: the emulator read more messages than it posted.
fn storm_happened(emu: &Emulator, _: &Log) -> Result<(), String> {
    let sent =
        emu.received_frames().iter().filter(|f| f.message_type().as_deref() == Some("message")).count();
    let posted = emu.posted_messages().len();
    ensure(sent > posted, || format!("{sent} message frames read, {posted} posted: no slow-down reply"))?;
    let rate_closed = emu.connections().iter().any(|c| c.close_reason == Some(CloseReason::RateLimited));
    ensure(!rate_closed, || "the client kept sending until the emulator disconnected it".into())
}

/// The withheld replies, released after their deadline, were reported as unmatched.
fn late_replies_unmatched(_: &Emulator, log: &Log) -> Result<(), String> {
    let n = log.count(|e| matches!(e, SessionEvent::Warning(Warning::UnmatchedReply(_))));
    ensure(n >= 1, || "no UnmatchedReply warning for the late replies".into())
}

/// Reversed replies were matched by `reply_to`: the connection never changed.
fn one_connection(emu: &Emulator, _: &Log) -> Result<(), String> {
    let n = emu.connection_count();
    ensure(n == 1, || format!("{n} connections"))
}

/// `invalid_auth` ended the session after exactly the good reconnects: no retry loop.
fn no_loop_after_invalid_auth(emu: &Emulator, _: &Log) -> Result<(), String> {
    let calls = emu.rtm_connect_calls();
    ensure(calls.len() == 5, || format!("expected 1 + 3 good + 1 refused calls, got {calls:#?}"))?;
    let last = calls.last().and_then(|c| c.error.clone());
    ensure(last.as_deref() == Some("invalid_auth"), || format!("last call answered {last:?}"))
}

/// The stalled connection was replaced, and closed by the client once the server read again.
fn stalled_connection_closed(emu: &Emulator, _: &Log) -> Result<(), String> {
    let conns = emu.connections();
    ensure(conns.len() == 2, || format!("{conns:#?}"))?;
    ensure(!conns[0].is_open(), || "the stalled connection is still open".into())
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "tcp_cut_mid_frame",
            fault: Fault::CutMidFrame,
            expect: Expect::Reconnects(|r| matches!(r, Reason::Closed { code: None, .. } | Reason::Io(_))),
            sends: Sends::Any,
            check: no_check,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "close_without_close_frame",
            fault: Fault::DropWithoutClose,
            expect: Expect::Reconnects(|r| matches!(r, Reason::Closed { code: None, .. } | Reason::Io(_))),
            sends: Sends::Any,
            check: no_check,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "server_stops_reading",
            fault: Fault::StopReading,
            expect: Expect::Reconnects(|r| matches!(r, Reason::KeepaliveTimeout | Reason::Io(_))),
            sends: Sends::Any,
            check: stalled_connection_closed,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "server_stops_answering_pings",
            fault: Fault::StopAnswering,
            expect: Expect::Reconnects(|r| matches!(r, Reason::KeepaliveTimeout)),
            sends: Sends::SomeFail(1, |e| matches!(e, SendError::Unconfirmed | SendError::AckTimeout)),
            check: no_check,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "goodbye_during_a_burst",
            fault: Fault::Goodbye,
            expect: Expect::Reconnects(|r| matches!(r, Reason::Goodbye)),
            sends: Sends::AllAcked,
            check: make_before_break,
            messages: 40,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "team_migration_started",
            fault: Fault::TeamMigration,
            expect: Expect::Reconnects(|r| {
                matches!(r, Reason::TeamMigration | Reason::Closed { code: Some(1001), .. })
            }),
            sends: Sends::Any,
            check: migration_seen,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "expired_socket_url",
            fault: Fault::ExpiredUrl,
            expect: Expect::Reconnects(|r| {
                matches!(r, Reason::OpenFailed(_) | Reason::UrlExpired | Reason::ServerError { code: 1, .. })
            }),
            sends: Sends::Any,
            check: one_expired_url,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "rtm_connect_429_retry_after",
            fault: Fault::ConnectRejected(1, RejectionKind::RateLimited1s),
            expect: Expect::Reconnects(|r| {
                matches!(r, Reason::ConnectFailed(f) if f.api_error == Some(ApiError::Ratelimited)
                    && f.retry_after == Some(Duration::from_secs(1)))
            }),
            sends: Sends::Any,
            check: waited_retry_after,
            messages: 20,
            inject_after: 5,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "rtm_connect_500",
            fault: Fault::ConnectRejected(3, RejectionKind::Status500),
            expect: Expect::Reconnects(|r| matches!(r, Reason::ConnectFailed(f) if !f.is_fatal())),
            sends: Sends::Any,
            check: no_check,
            messages: 20,
            inject_after: 5,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "rtm_connect_html_page",
            fault: Fault::ConnectRejected(2, RejectionKind::Html502),
            expect: Expect::Reconnects(|r| matches!(r, Reason::ConnectFailed(f) if !f.is_fatal())),
            sends: Sends::Any,
            check: no_check,
            messages: 20,
            inject_after: 5,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "rtm_connect_truncated_body",
            fault: Fault::ConnectRejected(2, RejectionKind::Truncated),
            expect: Expect::Reconnects(|r| matches!(r, Reason::ConnectFailed(f) if !f.is_fatal())),
            sends: Sends::Any,
            check: no_check,
            messages: 20,
            inject_after: 5,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "invalid_auth_after_good_reconnects",
            fault: Fault::InvalidAuthAfterReconnects(3),
            expect: Expect::StopsWith(ApiError::InvalidAuth),
            sends: Sends::Any,
            check: no_loop_after_invalid_auth,
            messages: 30,
            inject_after: 5,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "slow_down_reply_storm",
            fault: Fault::SlowDownStorm,
            expect: Expect::StaysConnected,
            sends: Sends::Any,
            check: storm_happened,
            messages: 30,
            inject_after: 0,
            // 50 messages/s with a burst of 2, against a client sending every 3 ms.
            emulator: || plain_emulator().send_rate(Some(EmuRate::new(50.0, 2).disconnect_after(1000))),
            session: no_tweak,
        },
        Case {
            name: "replies_withheld_past_the_ack_deadline",
            fault: Fault::WithholdReplies(5),
            expect: Expect::StaysConnected,
            sends: Sends::SomeFail(5, |e| matches!(e, SendError::AckTimeout)),
            check: late_replies_unmatched,
            messages: 15,
            inject_after: 0,
            emulator: plain_emulator,
            session: |c| c.sending.ack_timeout = Duration::from_millis(300),
        },
        Case {
            name: "replies_out_of_order",
            fault: Fault::ReverseReplies(10),
            expect: Expect::StaysConnected,
            sends: Sends::AllAcked,
            check: one_connection,
            messages: 20,
            inject_after: 0,
            emulator: plain_emulator,
            session: no_tweak,
        },
        Case {
            name: "hello_never_comes",
            fault: Fault::HelloNeverComes,
            expect: Expect::Reconnects(|r| matches!(r, Reason::HelloTimeout)),
            sends: Sends::Any,
            check: no_check,
            messages: 30,
            inject_after: 10,
            emulator: plain_emulator,
            session: |c| c.timeouts = Timeouts::new(Duration::from_secs(2), Duration::from_millis(300)),
        },
    ]
}

fn case(name: &str) -> Case {
    cases().into_iter().find(|c| c.name == name).expect("case in the table")
}

macro_rules! fault_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run(case(stringify!($name))).await;
            }
        )*

        #[test]
        fn every_case_has_a_test() {
            let tests = [$(stringify!($name)),*];
            for case in cases() {
                assert!(tests.contains(&case.name), "case {} has no test", case.name);
            }
            assert_eq!(tests.len(), cases().len());
        }
    };
}

fault_tests!(
    tcp_cut_mid_frame,
    close_without_close_frame,
    server_stops_reading,
    server_stops_answering_pings,
    goodbye_during_a_burst,
    team_migration_started,
    expired_socket_url,
    rtm_connect_429_retry_after,
    rtm_connect_500,
    rtm_connect_html_page,
    rtm_connect_truncated_body,
    invalid_auth_after_good_reconnects,
    slow_down_reply_storm,
    replies_withheld_past_the_ack_deadline,
    replies_out_of_order,
    hello_never_comes,
);
