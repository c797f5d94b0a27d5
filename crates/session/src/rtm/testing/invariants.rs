//! The invariants every sequence of inputs must keep, checked after every step by the property
//! test and the `machine` fuzz target alike.

use crate::common::check_deadlines;
use crate::rtm::{ConnId, RequestId, RtmInput, RtmOutput, Session, SessionEvent, State};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Watches a session from outside and checks, after every step: no output after `Stopped`;
/// every request completes exactly once; frames go only to connections the machine opened; at
/// most one `rtm.connect` in flight; the queue stays bounded; [`Session::poll_timeout`] is the
/// earliest armed deadline; and a deadline that is due is handled by
/// [`Session::handle_timeout`] (it moves or disarms: no timer is forgotten, none spins).
#[derive(Debug)]
pub struct RtmInvariants {
    capacity: usize,
    opened: HashSet<ConnId>,
    pending: HashSet<RequestId>,
    calls_in_flight: usize,
    stopped: bool,
}

impl RtmInvariants {
    /// A checker for this session. Drain it with [`RtmInvariants::drain`] before feeding it
    /// anything, so its first `rtm.connect` is counted.
    pub fn new(session: &Session) -> Self {
        Self {
            capacity: session.config().sending.queue_capacity,
            opened: HashSet::new(),
            pending: HashSet::new(),
            calls_in_flight: 0,
            stopped: false,
        }
    }

    /// Feeds `input` to the session, noting what it answers.
    pub fn handle(&mut self, s: &mut Session, input: RtmInput, now: Instant) {
        if matches!(input, RtmInput::ConnectResult(_)) {
            self.calls_in_flight = 0;
        }
        s.handle(input, now);
    }

    /// Records a request the session accepted.
    pub fn submitted(&mut self, request: RequestId) {
        self.pending.insert(request);
    }

    /// Drains the session's outputs, checking each; returns them.
    pub fn drain(&mut self, s: &mut Session) -> Result<Vec<RtmOutput>, String> {
        let mut all = Vec::new();
        while let Some(out) = s.poll_output() {
            if self.stopped {
                return Err(format!("output after Stopped: {out:?}"));
            }
            match &out {
                RtmOutput::CallConnect => {
                    if self.calls_in_flight > 0 {
                        return Err("a second rtm.connect while one is in flight".into());
                    }
                    self.calls_in_flight += 1;
                }
                RtmOutput::OpenSocket { conn, .. } if !self.opened.insert(*conn) => {
                    return Err(format!("{conn} opened twice"));
                }
                RtmOutput::Send { conn, .. } if !self.opened.contains(conn) => {
                    return Err(format!("sent on {conn}, which the machine never opened"));
                }
                RtmOutput::Completed { request, .. } if !self.pending.remove(request) => {
                    return Err(format!("{request} completed twice, or never submitted"));
                }
                RtmOutput::Event(e) if matches!(**e, SessionEvent::Stopped { .. }) => self.stopped = true,
                _ => {}
            }
            all.push(out);
        }
        Ok(all)
    }

    /// Checks the session after a step at `now` (drain it first). If a deadline is due, fires
    /// it with `handle_timeout(now)` and checks that no due deadline is left; returns the
    /// outputs that produced (already checked).
    pub fn check(&mut self, s: &mut Session, now: Instant) -> Result<Vec<RtmOutput>, String> {
        if s.outstanding() > self.capacity || s.queued() > self.capacity {
            return Err(format!(
                "queue over capacity: {} outstanding, {} queued",
                s.outstanding(),
                s.queued()
            ));
        }
        if s.outstanding() != self.pending.len() {
            return Err(format!("{} outstanding, {} awaited", s.outstanding(), self.pending.len()));
        }
        if self.stopped && (s.state() != State::Stopped || s.poll_timeout().is_some()) {
            return Err("a deadline or a state after Stopped".into());
        }
        check_deadlines(s, now, |s| self.drain(s))
    }

    /// Shuts the session down and checks that everything was resolved.
    pub fn finish(&mut self, s: &mut Session, now: Instant) -> Result<(), String> {
        s.shutdown(now, Duration::from_secs(1));
        let later = now + Duration::from_secs(2);
        s.handle_timeout(later);
        self.drain(s)?;
        if !self.pending.is_empty() {
            return Err(format!("unresolved after shutdown: {:?}", self.pending));
        }
        if s.state() != State::Stopped {
            return Err(format!("not stopped after shutdown: {:?}", s.state()));
        }
        Ok(())
    }
}
