//! The sans-IO session machine driven by an arbitrary sequence of inputs on a virtual clock:
//! connect answers (good, failed, fatal), socket events, arbitrary text frames, replies to
//! what was sent, writes, closes, submissions, backpressure, shutdown, time passing.
//!
//! Invariants: no panic; every request completes at most once; nothing is sent on a connection
//! the machine did not open; after `Stopped` the machine produces no more outputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_codec::types::{ClientMessage, SelfInfo, TeamInfo};
use slack_rtm_codec::{ConnectResponse, Connected};
use slack_rtm_session::machine::{
    ConnId, ConnectFailure, Input, Output, Reason, RequestId, Session, SessionConfig, SessionEvent,
    SkippedFrame,
};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Frames a server plausibly sends; `{id}` is replaced by the last wire id written.
const FRAMES: &[&str] = &[
    r#"{"type":"hello"}"#,
    r#"{"type":"goodbye"}"#,
    r#"{"type":"team_migration_started"}"#,
    r#"{"type":"error","error":{"code":1,"msg":"Socket URL has expired"}}"#,
    r#"{"ok":true,"reply_to":{id},"ts":"1.000001","text":"x"}"#,
    r#"{"ok":false,"reply_to":{id},"error":{"code":-1,"msg":"slow down"}}"#,
    r#"{"type":"pong","reply_to":{id}}"#,
    r#"{"type":"message","channel":"C1","user":"U2","text":"hi","ts":"2.000001"}"#,
    r#"{"type":"message","channel":"C1","user":"U2","text":"hi","ts":"2.000001"}"#,
    r#"{"type":"presence_change","user":"U2","presence":"away"}"#,
];

fn answer(now: Instant, url: &str) -> ConnectResponse {
    ConnectResponse {
        connected: Connected {
            self_: SelfInfo { id: "U1".into(), name: "bot".into() },
            team: TeamInfo {
                id: "T1".into(),
                name: "Team".into(),
                domain: "team".into(),
                enterprise_id: None,
                enterprise_name: None,
            },
            url: url.into(),
        },
        warnings: vec![],
        messages: vec![],
        req_id: None,
        obtained_at: now,
    }
}

struct Driver {
    session: Session,
    now: Instant,
    opened: HashSet<ConnId>,
    last_conn: Option<ConnId>,
    last_id: Option<(ConnId, u64)>,
    completed: HashSet<RequestId>,
    stopped: bool,
}

impl Driver {
    fn drain(&mut self) {
        while let Some(out) = self.session.poll_output() {
            assert!(!self.stopped, "output after Stopped: {out:?}");
            match out {
                Output::OpenSocket { conn, .. } => {
                    self.opened.insert(conn);
                    self.last_conn = Some(conn);
                }
                Output::Send { conn, id, .. } => {
                    assert!(self.opened.contains(&conn), "sent on an unknown {conn}");
                    self.last_id = Some((conn, id));
                }
                Output::Completed { request, .. } => {
                    assert!(self.completed.insert(request), "{request} completed twice");
                }
                Output::Event(SessionEvent::Stopped { .. }) => self.stopped = true,
                _ => {}
            }
        }
    }

    fn conn(&self) -> ConnId {
        self.session.current_conn().or(self.last_conn).unwrap_or(ConnId(1))
    }
}

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut d = Driver {
        session: Session::new(SessionConfig::default(), start),
        now: start,
        opened: HashSet::new(),
        last_conn: None,
        last_id: None,
        completed: HashSet::new(),
        stopped: false,
    };
    d.drain();
    let mut bytes = data.iter().copied();
    while let Some(op) = bytes.next() {
        let arg = bytes.next().unwrap_or(0);
        let now = d.now;
        let conn = d.conn();
        match op % 16 {
            0 => {
                d.now += Duration::from_millis(u64::from(arg) * 50);
                d.session.handle_timeout(d.now);
            }
            1 => {
                if let Some(t) = d.session.poll_timeout() {
                    d.now = d.now.max(t);
                    d.session.handle_timeout(d.now);
                }
            }
            2 => {
                let url = if arg % 4 == 0 { "ws://insecure.invalid/ws" } else { "wss://example.invalid/ws" };
                d.session.handle(Input::ConnectResult(Ok(answer(now, url))), now);
            }
            3 => {
                let f = if arg % 8 == 0 {
                    ConnectFailure::fatal("fuzz")
                } else {
                    let mut f = ConnectFailure::retryable("fuzz");
                    f.retry_after = Some(Duration::from_secs(u64::from(arg)));
                    f
                };
                d.session.handle(Input::ConnectResult(Err(f)), now);
            }
            4 => d.session.handle(Input::SocketOpened { conn }, now),
            5 => {
                let frame = FRAMES[usize::from(arg) % FRAMES.len()];
                let id = d.last_id.map_or(1, |(_, id)| id);
                let text = frame.replace("{id}", &id.to_string());
                d.session.handle(Input::Text { conn, text }, now);
            }
            6 => {
                // Arbitrary text: the next `arg` bytes.
                let raw: Vec<u8> = bytes.by_ref().take(usize::from(arg)).collect();
                let text = String::from_utf8_lossy(&raw).into_owned();
                d.session.handle(Input::Text { conn, text }, now);
            }
            7 => {
                if let Some((c, id)) = d.last_id {
                    d.session.handle(Input::Written { conn: c, id }, now);
                }
            }
            8 => {
                let reason = match arg % 4 {
                    0 => Reason::Closed { code: Some(1006), reason: "fuzz".into() },
                    1 => Reason::Io("fuzz".into()),
                    2 => Reason::OpenFailed("fuzz".into()),
                    _ => Reason::MessageTooLarge { limit: 1 },
                };
                d.session.handle(Input::SocketClosed { conn, reason }, now);
            }
            9 => {
                let msg = match arg % 4 {
                    0 => ClientMessage::message("C1", "hello"),
                    1 => ClientMessage::typing("C1"),
                    2 => ClientMessage::PresenceSub { ids: vec!["U2".into()] },
                    _ => ClientMessage::message("C1", "x".repeat(usize::from(arg) * 20)),
                };
                let _ = d.session.submit(msg, now);
            }
            10 => d.session.handle(Input::Backpressure(arg % 2 == 0), now),
            11 => d.session.handle(Input::Activity { conn }, now),
            12 => {
                let frame = if arg % 2 == 0 {
                    SkippedFrame::Binary { len: usize::from(arg) }
                } else {
                    SkippedFrame::InvalidUtf8 { len: None }
                };
                d.session.handle(Input::Skipped { conn, frame }, now);
            }
            13 => d.session.shutdown(now, Duration::from_millis(u64::from(arg) * 10)),
            14 => {
                // A stale or unknown connection id.
                let other = ConnId(u64::from(arg));
                d.session.handle(Input::Text { conn: other, text: FRAMES[0].into() }, now);
            }
            _ => d.session.handle(
                Input::SocketClosed { conn: ConnId(u64::from(arg)), reason: Reason::HelloTimeout },
                now,
            ),
        }
        d.drain();
    }
});
