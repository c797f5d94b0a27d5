//! A Socket Mode session on a virtual clock: every `Instant` is `t0 + something`, nothing
//! sleeps; and helpers to read its outputs.

use super::open_response;
use crate::common::ConnId;
use crate::socket_mode::{
    Delivered, SocketModeConfig, SocketModeEvent, SocketModeIncoming, SocketModeInput, SocketModeOutput,
    SocketModeSession,
};
use std::time::{Duration, Instant};

/// A session on a virtual clock, driven by hand.
#[derive(Debug)]
pub struct SocketModeHarness {
    /// The machine.
    pub s: SocketModeSession,
    /// The virtual time.
    pub now: Instant,
    /// Every output so far.
    pub out: Vec<SocketModeOutput>,
    /// Answer every ping at once (a healthy server).
    pub pongs: bool,
}

impl SocketModeHarness {
    /// A new session at a fresh `t0`, its first outputs drained.
    pub fn new(config: SocketModeConfig) -> Self {
        let now = Instant::now();
        let mut t =
            SocketModeHarness { s: SocketModeSession::new(config, now), now, out: Vec::new(), pongs: true };
        t.drain();
        t
    }
    /// Drains every pending output (also kept in `out`).
    pub fn drain(&mut self) -> Vec<SocketModeOutput> {
        let mut v = Vec::new();
        while let Some(o) = self.s.poll_output() {
            v.push(o);
        }
        self.out.extend(v.iter().cloned());
        v
    }
    /// Feeds `i` now and drains the outputs.
    pub fn input(&mut self, i: SocketModeInput) -> Vec<SocketModeOutput> {
        self.s.handle(i, self.now);
        self.drain()
    }
    /// Feeds a text message received on `conn`.
    pub fn frame(&mut self, conn: ConnId, text: &str) -> Vec<SocketModeOutput> {
        self.input(SocketModeInput::Frame { conn, frame: SocketModeIncoming::text(text.to_owned()) })
    }
    /// Advances the clock by `d`, firing every deadline on the way in order.
    pub fn advance(&mut self, d: Duration) -> Vec<SocketModeOutput> {
        let end = self.now + d;
        let mut v = Vec::new();
        while let Some(at) = self.s.poll_timeout().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.s.handle_timeout(self.now);
            let out = self.drain();
            for o in &out {
                if let (SocketModeOutput::Ping { conn }, true) = (o, self.pongs) {
                    self.s.handle(
                        SocketModeInput::Frame { conn: *conn, frame: SocketModeIncoming::Activity },
                        self.now,
                    );
                }
            }
            v.extend(out);
            v.extend(self.drain());
        }
        self.now = end;
        v
    }
    /// Answers a `CallOpen`, and returns the socket it opens.
    pub fn open_ok(&mut self) -> ConnId {
        let resp = open_response("wss://x/link/?ticket=1", self.now);
        let out = self.input(SocketModeInput::OpenResult(Ok(resp)));
        out.iter()
            .find_map(|o| match o {
                SocketModeOutput::OpenSocket { conn, .. } => Some(*conn),
                _ => None,
            })
            .expect("a socket to open")
    }
    /// Opens a socket all the way to `hello`.
    pub fn ready(&mut self) -> ConnId {
        let c = self.open_ok();
        self.input(SocketModeInput::SocketOpened { conn: c });
        self.frame(c, r#"{"type":"hello","num_connections":1}"#);
        c
    }
}

/// How many `CallOpen`s.
pub fn calls(out: &[SocketModeOutput]) -> usize {
    out.iter().filter(|o| matches!(o, SocketModeOutput::CallOpen)).count()
}

/// The events.
pub fn events(out: &[SocketModeOutput]) -> Vec<&SocketModeEvent> {
    out.iter().filter_map(|o| if let SocketModeOutput::Event(e) = o { Some(e) } else { None }).collect()
}

/// The envelopes handed over.
pub fn delivered(out: &[SocketModeOutput]) -> Vec<&Delivered> {
    out.iter().filter_map(|o| if let SocketModeOutput::Deliver(d) = o { Some(d) } else { None }).collect()
}

/// The acks written, as JSON, with their socket.
pub fn sent(out: &[SocketModeOutput]) -> Vec<(ConnId, serde_json::Value)> {
    out.iter()
        .filter_map(|o| match o {
            SocketModeOutput::Send { conn, text } => Some((*conn, serde_json::from_str(text).unwrap())),
            _ => None,
        })
        .collect()
}

/// The sockets closed, with their codes.
pub fn closes(out: &[SocketModeOutput]) -> Vec<(ConnId, u16)> {
    out.iter()
        .filter_map(
            |o| if let SocketModeOutput::Close { conn, code } = o { Some((*conn, *code)) } else { None },
        )
        .collect()
}
