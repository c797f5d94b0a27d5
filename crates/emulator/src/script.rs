//! Scripting and faults: events, raw frames, closes, stalls, tampered replies, rejections.

use crate::faults::Cmd;
use crate::{Emulator, HelloMode, RawFrame, Rejection, ReplyFault, Target};
use bytes::Bytes;
use slack_rtm_types::Event;

impl Emulator {
    // ---- Scripting and faults ----
    //
    // Each returns how many open connections the action was queued for.

    /// Sends an event (serialized with `slack_rtm_types`) to the targets. Events wait for a
    /// delayed `hello` and for the end of a stall.
    pub fn send_event(&self, target: impl Into<Target>, event: &Event) -> usize {
        match serde_json::to_vec(event) {
            Ok(v) => self.send_event_text(target, v),
            Err(e) => {
                tracing::warn!(error = %e, "cannot serialize the event to inject");
                0
            }
        }
    }

    /// Sends a JSON text as an event (not checked) to the targets, like [`Emulator::send_event`].
    pub fn send_event_text(&self, target: impl Into<Target>, text: impl Into<Bytes>) -> usize {
        let bytes: Bytes = text.into();
        self.shared.command(&target.into(), || Cmd::Event(bytes.clone()))
    }

    /// Sends a raw frame right away (malformed JSON, invalid UTF-8, binary, oversized, ping,
    /// close: see [`RawFrame`]).
    pub fn send_raw_to_connection(&self, target: impl Into<Target>, frame: RawFrame) -> usize {
        self.shared.command(&target.into(), || Cmd::Raw(frame.clone()))
    }

    /// Sends `{"type":"goodbye"}`; the server closes (code 1001) after
    /// [`crate::EmulatorConfig::goodbye_grace`] unless the client closes first.
    pub fn goodbye(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::Goodbye)
    }

    /// Sends `{"type":"team_migration_started"}` then closes (code 1001).
    pub fn team_migration(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::TeamMigration)
    }

    /// Closes with a close frame.
    pub fn close_connection(&self, target: impl Into<Target>, code: u16, reason: &str) -> usize {
        self.shared.command(&target.into(), || Cmd::Close(code, reason.to_owned()))
    }

    /// Drops the TCP connection without a close frame.
    pub fn drop_connection(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::Drop)
    }

    /// Stalls (`true`: stop reading, answering and sending — WebSocket pings included — as a
    /// hung server would) or resumes.
    pub fn stall_connection(&self, target: impl Into<Target>, stalled: bool) -> usize {
        self.shared.command(&target.into(), || Cmd::Stall(stalled))
    }

    /// Tampers with replies (acks, error replies, pongs); see [`ReplyFault`].
    pub fn set_reply_fault(&self, target: impl Into<Target>, fault: ReplyFault) -> usize {
        self.shared.command(&target.into(), || Cmd::ReplyFault(fault))
    }

    /// Sends the replies held back by [`ReplyFault::Withhold`], in order.
    pub fn release_withheld(&self, target: impl Into<Target>) -> usize {
        self.shared.command(&target.into(), || Cmd::ReleaseWithheld)
    }

    /// Writes `n` pre-encoded `message` events (from `alice` in the general channel) as fast as
    /// the socket allows, after `hello` (benchmarks, feature `blast`).
    #[cfg(feature = "blast")]
    pub fn blast(&self, target: impl Into<Target>, n: u64) -> usize {
        self.shared.command(&target.into(), || Cmd::Blast(n))
    }

    /// Answers the next `n` `rtm.connect` calls with `rejection` instead of normally (queued
    /// after any rejections already scripted).
    pub fn reject_next_connects(&self, n: usize, rejection: Rejection) {
        let mut st = self.shared.lock();
        st.rejections.extend(std::iter::repeat_n(rejection, n));
    }

    /// Forgets scripted rejections not used yet.
    pub fn clear_rejections(&self) {
        self.shared.lock().rejections.clear();
    }

    /// Sets when new connections get `hello`.
    pub fn set_hello(&self, mode: HelloMode) {
        self.shared.lock().hello = mode;
    }
}
