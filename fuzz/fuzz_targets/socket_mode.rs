//! The sans-IO Socket Mode machine driven by an arbitrary sequence of inputs on a virtual
//! clock: `apps.connections.open` answers (good, failed, fatal), socket events, `hello`,
//! `disconnect` with every reason, envelopes (redeliveries of a few events on any socket),
//! arbitrary text and binary messages, manual acks and releases, backpressure, shutdown, time
//! passing; in auto or manual ack mode, with one to four sockets.
//!
//! Invariants: no panic, and every invariant of the shared checker
//! (`slack_rtm_session::socket_mode::testing::SocketModeInvariants`, also used by the machine's property
//! test) after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_session::common::{ConnId, ConnectFailure, Reason, SkippedFrame};
use slack_rtm_session::socket_mode::testing::{SocketModeInvariants, open_response};
use slack_rtm_session::socket_mode::{
    AckMode, SocketModeConfig, SocketModeIncoming, SocketModeInput, SocketModeSession,
};
use std::time::{Duration, Instant};

const REASONS: &[&str] =
    &["warning", "refresh_requested", "too_many_websockets", "link_disabled", "socket_mode_disabled", "new"];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let start = Instant::now();
    let mut config = SocketModeConfig::default();
    config.connections = usize::from(mode % 4) + 1;
    config.ack_mode = if mode & 0x10 == 0 { AckMode::Auto } else { AckMode::Manual };
    let mut s = SocketModeSession::new(config, start);
    let mut inv = SocketModeInvariants::new(&s);
    let mut now = start;
    let mut envelope = 0u64;
    let ok = |r: Result<_, String>| r.unwrap_or_else(|e| panic!("{e}"));
    ok(inv.drain(&mut s));
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let opened = inv.opened();
        let conn = opened.get(usize::from(arg) % opened.len().max(1)).copied().unwrap_or(ConnId(1));
        let text = |t: String| SocketModeInput::Frame { conn, frame: SocketModeIncoming::text(t) };
        let input = match op % 16 {
            0 => {
                now += Duration::from_millis(u64::from(arg) * 50);
                s.handle_timeout(now);
                None
            }
            1 => {
                if let Some(t) = s.poll_timeout() {
                    now = now.max(t);
                    s.handle_timeout(now);
                }
                None
            }
            2 => {
                let url =
                    if arg % 8 == 0 { "ws://insecure.invalid/link" } else { "wss://example.invalid/link" };
                Some(SocketModeInput::OpenResult(Ok(open_response(url, now))))
            }
            3 => {
                let f = if arg % 16 == 0 {
                    ConnectFailure::fatal("fuzz")
                } else {
                    let mut f = ConnectFailure::retryable("fuzz");
                    f.retry_after = (arg % 2 == 0).then(|| Duration::from_secs(u64::from(arg)));
                    f
                };
                Some(SocketModeInput::OpenResult(Err(f)))
            }
            4 => Some(SocketModeInput::SocketOpened { conn }),
            5 => Some(text(format!(r#"{{"type":"hello","num_connections":{arg}}}"#))),
            6 => {
                let reason = REASONS[usize::from(arg) % REASONS.len()];
                Some(text(format!(r#"{{"type":"disconnect","reason":"{reason}"}}"#)))
            }
            7 | 8 => {
                envelope += 1;
                Some(text(format!(
                    r#"{{"envelope_id":"e{envelope}","type":"events_api","retry_attempt":{},"payload":{{"event_id":"Ev{}","event":{{"type":"app_mention"}}}}}}"#,
                    arg % 4,
                    arg % 8
                )))
            }
            9 => {
                envelope += 1;
                let kind = if arg % 2 == 0 { "slash_commands" } else { "interactive" };
                Some(text(format!(
                    r#"{{"envelope_id":"e{envelope}","type":"{kind}","accepts_response_payload":true,"payload":{{}}}}"#
                )))
            }
            10 => {
                // Arbitrary bytes: the next `arg` bytes, as a text or a binary message.
                let raw: Vec<u8> = bytes.by_ref().take(usize::from(arg)).collect();
                Some(SocketModeInput::Frame { conn, frame: SocketModeIncoming::message(arg % 8 != 0, &raw) })
            }
            11 => {
                inv.ack_nth(&mut s, usize::from(arg), now);
                None
            }
            12 => {
                inv.release_nth(&mut s, usize::from(arg));
                None
            }
            13 => match arg % 4 {
                0 => Some(SocketModeInput::Backpressure(true)),
                1 => Some(SocketModeInput::Backpressure(false)),
                2 => Some(SocketModeInput::Frame { conn, frame: SocketModeIncoming::Activity }),
                _ => Some(SocketModeInput::Frame {
                    conn,
                    frame: SocketModeIncoming::Skipped(SkippedFrame::InvalidUtf8 { len: None }),
                }),
            },
            14 => {
                let reason = match arg % 3 {
                    0 => Reason::Closed { code: Some(1006), reason: "fuzz".into() },
                    1 => Reason::Io("fuzz".into()),
                    _ => Reason::OpenFailed("fuzz".into()),
                };
                Some(SocketModeInput::SocketClosed { conn, reason })
            }
            _ => {
                s.shutdown(now, Duration::from_millis(u64::from(arg) * 20));
                None
            }
        };
        if let Some(input) = input {
            inv.handle(&mut s, input, now);
        }
        ok(inv.drain(&mut s));
        ok(inv.check(&mut s, now));
    }
    inv.finish(&mut s, now).unwrap_or_else(|e| panic!("{e}"));
});
