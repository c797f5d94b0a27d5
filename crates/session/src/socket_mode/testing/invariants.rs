//! The promises every sequence of inputs must keep, checked after every step by the property
//! test and the `socket_mode` fuzz target alike.

use crate::common::{ConnId, check_deadlines};
use crate::socket_mode::{
    AckMode, DeliveryAckError, SocketModeEvent, SocketModeInput, SocketModeOutput, SocketModeSession, State,
};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Watches a Socket Mode session from outside and checks, after every step: no output after
/// `Stopped`; at most one `apps.connections.open` in flight; sockets opened once, and acks
/// and pings only on sockets the machine opened; in auto mode every envelope acked
/// before it is handed over and every `event_id` handed over once; in manual mode no event
/// handed over again once the application acked it; the pending acks and the dedupe window
/// within their bounds; [`SocketModeSession::poll_timeout`] the earliest armed deadline, and a
/// due deadline handled by `handle_timeout` (it moves or disarms: none forgotten, none spins).
#[derive(Debug)]
pub struct SocketModeInvariants {
    manual: bool,
    max_pending: usize,
    dedupe_capacity: usize,
    calling: bool,
    opened: Vec<ConnId>,
    known: HashSet<ConnId>,
    handed: HashSet<String>,
    deliveries: Vec<String>,
    acked: HashSet<String>,
    /// Manual mode: envelope id → event id, and the events the application acked.
    event_of: HashMap<String, String>,
    app_acked: HashSet<String>,
    stopped: bool,
}

impl SocketModeInvariants {
    /// A checker for this session. Drain it with [`SocketModeInvariants::drain`] before feeding it
    /// anything, so its first call is counted.
    pub fn new(s: &SocketModeSession) -> Self {
        let c = s.config();
        Self {
            manual: c.ack_mode == AckMode::Manual,
            max_pending: c.max_pending_acks,
            dedupe_capacity: c.dedupe_capacity,
            calling: false,
            opened: Vec::new(),
            known: HashSet::new(),
            handed: HashSet::new(),
            deliveries: Vec::new(),
            acked: HashSet::new(),
            event_of: HashMap::new(),
            app_acked: HashSet::new(),
            stopped: false,
        }
    }

    /// Feeds `input` to the session, noting what it answers.
    pub fn handle(&mut self, s: &mut SocketModeSession, input: SocketModeInput, now: Instant) {
        if matches!(input, SocketModeInput::OpenResult(_)) {
            self.calling = false;
        }
        s.handle(input, now);
    }

    /// Acks (manual mode) the `k`th envelope handed over so far (modulo their count), noting an
    /// accepted ack. `None` if nothing was handed over yet.
    pub fn ack_nth(
        &mut self,
        s: &mut SocketModeSession,
        k: usize,
        now: Instant,
    ) -> Option<Result<ConnId, DeliveryAckError>> {
        let id = self.deliveries.get(k % self.deliveries.len().max(1))?.clone();
        let result = s.ack(&id, None, now);
        if matches!(result, Ok(_) | Err(DeliveryAckError::Unsent))
            && let Some(e) = self.event_of.get(&id)
        {
            self.app_acked.insert(e.clone());
        }
        Some(result)
    }

    /// Releases (manual mode, no ack) the `k`th envelope handed over so far.
    pub fn release_nth(
        &mut self,
        s: &mut SocketModeSession,
        k: usize,
    ) -> Option<Result<(), DeliveryAckError>> {
        let id = self.deliveries.get(k % self.deliveries.len().max(1))?;
        Some(s.release(id))
    }

    /// The sockets the machine opened, oldest first.
    pub fn opened(&self) -> &[ConnId] {
        &self.opened
    }

    /// Distinct `event_id`s handed over so far.
    pub fn handed_over(&self) -> usize {
        self.handed.len()
    }

    /// Whether the session said `Stopped`.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Drains the session's outputs, checking each; returns them.
    pub fn drain(&mut self, s: &mut SocketModeSession) -> Result<Vec<SocketModeOutput>, String> {
        let mut all = Vec::new();
        while let Some(out) = s.poll_output() {
            if self.stopped {
                return Err(format!("output after Stopped: {out:?}"));
            }
            self.note(&out)?;
            all.push(out);
        }
        Ok(all)
    }

    fn note(&mut self, out: &SocketModeOutput) -> Result<(), String> {
        let on_known = |conn: &ConnId, what: &str| {
            if self.known.contains(conn) { Ok(()) } else { Err(format!("{what} on {conn}, never opened")) }
        };
        match out {
            SocketModeOutput::CallOpen if self.calling => {
                return Err("a second call while one is in flight".into());
            }
            SocketModeOutput::CallOpen => self.calling = true,
            SocketModeOutput::OpenSocket { conn, .. } => {
                if !self.known.insert(*conn) {
                    return Err(format!("{conn} opened twice"));
                }
                self.opened.push(*conn);
            }
            SocketModeOutput::Send { conn, text } => {
                on_known(conn, "an ack")?;
                let v: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| format!("an ack that is not JSON: {e}"))?;
                let id = v["envelope_id"].as_str().ok_or("an ack without an envelope_id")?;
                self.acked.insert(id.to_owned());
            }
            SocketModeOutput::Ping { conn } => on_known(conn, "a ping")?,
            // A close may name a socket the driver reported open after the machine gave up on
            // it (closing it is the answer), so it is not checked.
            SocketModeOutput::Deliver(d) => {
                let id = d.frame.envelope_id().to_owned();
                if d.acked == self.manual {
                    return Err(format!("{id}: acked flag {} in {:?} mode", d.acked, self.manual));
                }
                if !self.manual && !self.acked.contains(&id) {
                    return Err(format!("auto mode: {id} handed over before its ack"));
                }
                if let Some(e) = &d.event_id {
                    if self.manual {
                        if self.app_acked.contains(e) {
                            return Err(format!("{e} handed over after the application acked it"));
                        }
                        self.handed.insert(e.clone());
                        self.event_of.insert(id.clone(), e.clone());
                    } else if !self.handed.insert(e.clone()) {
                        return Err(format!("{e} handed over twice"));
                    }
                }
                self.deliveries.push(id);
            }
            SocketModeOutput::Event(SocketModeEvent::Stopped { .. }) => self.stopped = true,
            _ => {}
        }
        Ok(())
    }

    /// Checks the session after a step at `now` (drain it first). If a deadline is due, fires
    /// it with `handle_timeout(now)` and checks that no due deadline is left; returns the
    /// outputs that produced (already checked).
    pub fn check(
        &mut self,
        s: &mut SocketModeSession,
        now: Instant,
    ) -> Result<Vec<SocketModeOutput>, String> {
        if s.pending_acks() > self.max_pending {
            return Err(format!("{} pending acks, over {}", s.pending_acks(), self.max_pending));
        }
        if s.remembered_events() > self.dedupe_capacity {
            return Err(format!(
                "{} events remembered, over {}",
                s.remembered_events(),
                self.dedupe_capacity
            ));
        }
        if self.stopped != (s.state() == State::Stopped) {
            return Err(format!("state {:?}, Stopped said: {}", s.state(), self.stopped));
        }
        if self.stopped && s.poll_timeout().is_some() {
            return Err("a deadline after Stopped".into());
        }
        check_deadlines(s, now, |s| self.drain(s))
    }

    /// A session shutting down stops within its grace (at most an hour).
    pub fn finish(&mut self, s: &mut SocketModeSession, now: Instant) -> Result<(), String> {
        if s.state() == State::ShuttingDown {
            s.handle_timeout(now + Duration::from_secs(3600));
            self.drain(s)?;
            if s.state() != State::Stopped {
                return Err(format!("not stopped after the grace: {:?}", s.state()));
            }
        }
        Ok(())
    }
}
