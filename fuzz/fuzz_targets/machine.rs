//! The sans-IO session machine driven by an arbitrary sequence of inputs on a virtual clock:
//! connect answers (good, failed, fatal), socket events, arbitrary text frames, replies to
//! what was sent, writes, closes, submissions, backpressure, shutdown, time passing.
//!
//! Invariants: no panic, and every invariant of the shared checker
//! (`slack_rtm_session::rtm::testing::RtmInvariants`, also used by the machine's property
//! test) after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slack_rtm_codec::types::ClientMessage;
use slack_rtm_session::rtm::testing::{RtmInvariants, connect_response};
use slack_rtm_session::rtm::{
    ConnId, ConnectFailure, Reason, RtmIncoming, RtmInput, RtmOutput, Session, SessionConfig, SkippedFrame,
};
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

struct Driver {
    session: Session,
    inv: RtmInvariants,
    now: Instant,
    last_conn: Option<ConnId>,
    last_id: Option<(ConnId, u64)>,
}

impl Driver {
    fn feed(&mut self, input: RtmInput) {
        self.inv.handle(&mut self.session, input, self.now);
    }

    fn frame(&mut self, conn: ConnId, frame: RtmIncoming) {
        self.feed(RtmInput::Frame { conn, frame });
    }

    fn drain(&mut self) {
        let mut outs = self.inv.drain(&mut self.session).unwrap_or_else(|e| panic!("{e}"));
        outs.extend(self.inv.check(&mut self.session, self.now).unwrap_or_else(|e| panic!("{e}")));
        for out in outs {
            match out {
                RtmOutput::OpenSocket { conn, .. } => self.last_conn = Some(conn),
                RtmOutput::Send { conn, id, .. } => self.last_id = Some((conn, id)),
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
    let session = Session::new(SessionConfig::default(), start);
    let inv = RtmInvariants::new(&session);
    let mut d = Driver { session, inv, now: start, last_conn: None, last_id: None };
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
                d.feed(RtmInput::ConnectResult(Box::new(Ok(connect_response(url, now)))));
            }
            3 => {
                let f = if arg % 8 == 0 {
                    ConnectFailure::fatal("fuzz")
                } else {
                    let mut f = ConnectFailure::retryable("fuzz");
                    f.retry_after = Some(Duration::from_secs(u64::from(arg)));
                    f
                };
                d.feed(RtmInput::ConnectResult(Box::new(Err(f))));
            }
            4 => d.feed(RtmInput::SocketOpened { conn }),
            5 => {
                let frame = FRAMES[usize::from(arg) % FRAMES.len()];
                let id = d.last_id.map_or(1, |(_, id)| id);
                let text = frame.replace("{id}", &id.to_string());
                d.frame(conn, RtmIncoming::text(text));
            }
            6 => {
                // Arbitrary bytes: the next `arg` bytes, as a text or a binary message.
                let raw: Vec<u8> = bytes.by_ref().take(usize::from(arg)).collect();
                d.frame(conn, RtmIncoming::message(arg % 8 != 0, &raw));
            }
            7 => {
                if let Some((c, id)) = d.last_id {
                    d.feed(RtmInput::Written { conn: c, id });
                }
            }
            8 => {
                let reason = match arg % 4 {
                    0 => Reason::Closed { code: Some(1006), reason: "fuzz".into() },
                    1 => Reason::Io("fuzz".into()),
                    2 => Reason::OpenFailed("fuzz".into()),
                    _ => Reason::MessageTooLarge { limit: 1 },
                };
                d.feed(RtmInput::SocketClosed { conn, reason: Box::new(reason) });
            }
            9 => {
                let msg = match arg % 4 {
                    0 => ClientMessage::message("C1", "hello"),
                    1 => ClientMessage::typing("C1"),
                    2 => ClientMessage::PresenceSub { ids: vec!["U2".into()] },
                    _ => ClientMessage::message("C1", "x".repeat(usize::from(arg) * 20)),
                };
                if let Ok(request) = d.session.submit(msg, now) {
                    d.inv.submitted(request);
                }
            }
            10 => d.feed(RtmInput::Backpressure(arg % 2 == 0)),
            11 => d.frame(conn, RtmIncoming::Activity),
            12 => {
                let frame = if arg % 2 == 0 {
                    SkippedFrame::Binary { len: usize::from(arg) }
                } else {
                    SkippedFrame::InvalidUtf8 { len: None }
                };
                d.frame(conn, RtmIncoming::Skipped(frame));
            }
            13 => d.session.shutdown(now, Duration::from_millis(u64::from(arg) * 10)),
            14 => {
                // A stale or unknown connection id.
                d.frame(ConnId(u64::from(arg)), RtmIncoming::text(FRAMES[0].into()));
            }
            _ => {
                d.feed(RtmInput::SocketClosed { conn: ConnId(u64::from(arg)), reason: Box::new(Reason::HelloTimeout) })
            }
        }
        d.drain();
    }
});
