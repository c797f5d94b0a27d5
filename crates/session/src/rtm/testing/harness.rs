//! A session on a virtual clock: every `Instant` is `t0 + something`, nothing sleeps.

use super::connect_response;
use crate::rtm::{
    ConnId, Reason, RequestId, RtmAck, RtmIncoming, RtmInput, RtmOutput, SendError, Session, SessionConfig,
    SessionEvent,
};
use slack_rtm_codec::types::Event;
use std::time::{Duration, Instant};

/// A session on a virtual clock, driven by hand.
#[derive(Debug)]
pub struct RtmHarness {
    /// The machine.
    pub session: Session,
    /// The virtual time: only ever moved forward by [`RtmHarness::at`] and [`RtmHarness::advance`].
    pub now: Instant,
    /// `rtm.connect` answers given so far (each gets a distinct URL).
    pub urls: u32,
}

impl RtmHarness {
    /// A new session at a fresh `t0`.
    pub fn new(config: SessionConfig) -> Self {
        let t0 = Instant::now();
        Self { session: Session::new(config, t0), now: t0, urls: 0 }
    }

    /// Drains every pending output.
    pub fn out(&mut self) -> Vec<RtmOutput> {
        std::iter::from_fn(|| self.session.poll_output()).collect()
    }

    /// Feeds `input` now and drains the outputs.
    pub fn feed(&mut self, input: RtmInput) -> Vec<RtmOutput> {
        self.session.handle(input, self.now);
        self.out()
    }

    /// Feeds a text message received on `conn`, classified as a driver would.
    pub fn frame(&mut self, conn: ConnId, json: &str) -> Vec<RtmOutput> {
        self.feed(RtmInput::Frame { conn, frame: RtmIncoming::text(json.into()) })
    }

    /// Moves the clock to `t` (absolute, never backwards) and fires the timeouts.
    pub fn at(&mut self, t: Instant) -> Vec<RtmOutput> {
        assert!(t >= self.now, "the virtual clock never goes back");
        self.now = t;
        self.session.handle_timeout(t);
        self.out()
    }

    /// Moves the clock `d` forward and fires the timeouts.
    pub fn advance(&mut self, d: Duration) -> Vec<RtmOutput> {
        let t = self.now + d;
        self.at(t)
    }

    /// Jumps from deadline to deadline until an output matches `pred` (at most 1000 jumps;
    /// panics if none does).
    pub fn run_until(&mut self, mut pred: impl FnMut(&RtmOutput) -> bool) -> Vec<RtmOutput> {
        let mut all = Vec::new();
        for _ in 0..1000 {
            let Some(t) = self.session.poll_timeout() else { break };
            let outs = self.at(t.max(self.now));
            let hit = outs.iter().any(&mut pred);
            all.extend(outs);
            if hit {
                return all;
            }
        }
        panic!("condition never met; outputs: {all:#?}");
    }

    /// Answers the pending `rtm.connect` with a fresh URL.
    pub fn answer_connect(&mut self) -> Vec<RtmOutput> {
        self.urls += 1;
        let url = format!("wss://example.invalid/ws/{}", self.urls);
        let now = self.now;
        self.feed(RtmInput::ConnectResult(Box::new(Ok(connect_response(&url, now)))))
    }

    /// Opens the socket `outs` asked for and says `hello` on it.
    pub fn open_and_hello(&mut self, outs: &[RtmOutput]) -> ConnId {
        let conn = opened(outs).expect("an OpenSocket");
        self.feed(RtmInput::SocketOpened { conn });
        let hello = self.frame(conn, r#"{"type":"hello"}"#);
        assert!(events(&hello).iter().any(|e| matches!(e, SessionEvent::Connected { .. })), "{hello:#?}");
        conn
    }

    /// A fresh session, connected (`hello` received).
    pub fn connected(config: SessionConfig) -> (Self, ConnId) {
        let mut h = Self::new(config);
        let first = h.out();
        assert!(first.contains(&RtmOutput::CallConnect));
        let outs = h.answer_connect();
        let conn = h.open_and_hello(&outs);
        (h, conn)
    }

    /// Reports every frame of `outs` written.
    pub fn write_all(&mut self, outs: &[RtmOutput]) -> Vec<RtmOutput> {
        let mut more = Vec::new();
        for (conn, _, id) in sends(outs) {
            more.extend(self.feed(RtmInput::Written { conn, id }));
        }
        more
    }
}

/// The first connection `outs` asks to open.
pub fn opened(outs: &[RtmOutput]) -> Option<ConnId> {
    outs.iter().find_map(|o| match o {
        RtmOutput::OpenSocket { conn, .. } => Some(*conn),
        _ => None,
    })
}

/// Every frame to send: connection, text, wire id.
pub fn sends(outs: &[RtmOutput]) -> Vec<(ConnId, String, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            RtmOutput::Send { conn, text, id } => Some((*conn, text.clone(), *id)),
            _ => None,
        })
        .collect()
}

/// The frames to send of this `type`.
pub fn sends_of(outs: &[RtmOutput], kind: &str) -> Vec<(ConnId, String, u64)> {
    let tag = format!(r#""type":"{kind}""#);
    sends(outs).into_iter().filter(|(_, t, _)| t.contains(&tag)).collect()
}

/// Every event the application gets, raw events decoded as a driver does.
pub fn events(outs: &[RtmOutput]) -> Vec<SessionEvent> {
    outs.iter()
        .filter_map(|o| match o {
            RtmOutput::Event(e) => Some(SessionEvent::clone(e)),
            RtmOutput::RawEvent { frame } => Some(SessionEvent::from_raw(frame)),
            _ => None,
        })
        .collect()
}

/// Every completed request with its outcome.
pub fn completions(outs: &[RtmOutput]) -> Vec<(RequestId, Result<RtmAck, SendError>)> {
    outs.iter()
        .filter_map(|o| match o {
            RtmOutput::Completed { request, result } => Some((*request, result.clone())),
            _ => None,
        })
        .collect()
}

/// Every `Reconnecting`: attempt, reason, delay.
pub fn reconnecting(outs: &[RtmOutput]) -> Vec<(u32, Reason, Duration)> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Reconnecting { attempt, reason, delay } => Some((attempt, reason, delay)),
            _ => None,
        })
        .collect()
}

/// Every socket to close, with its code.
pub fn closes(outs: &[RtmOutput]) -> Vec<(ConnId, u16)> {
    outs.iter()
        .filter_map(|o| match o {
            RtmOutput::Close { conn, code } => Some((*conn, *code)),
            _ => None,
        })
        .collect()
}

/// Texts of the messages delivered, whether as decoded events or as raw pass-through.
pub fn rtm_texts(outs: &[RtmOutput]) -> Vec<String> {
    events(outs)
        .into_iter()
        .filter_map(|e| match e {
            SessionEvent::Rtm(Event::Message(m)) => m.text,
            _ => None,
        })
        .collect()
}

/// How many `rtm.connect` calls `outs` asks for.
pub fn count_call_connect(outs: &[RtmOutput]) -> usize {
    outs.iter().filter(|o| **o == RtmOutput::CallConnect).count()
}
