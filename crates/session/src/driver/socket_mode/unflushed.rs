//! Which socket holds acks written to its buffer and not yet sent, and when to send them.
//!
//! A loop turn can handle several reader batches, draining the machine's outputs after each.
//! Sending the acks at every drain cost a write per reader batch — one per ~16 Slack-shaped
//! envelopes once a reader's batch ends at 32 KiB. They are sent at the turn's end, or within
//! the turn once a reader batch's worth (64) waits, and before an ack for another socket.

use super::super::drive::BATCH;
use crate::common::ConnId;

/// Acks written and not flushed: their socket (the loop writes them one socket at a time) and
/// how many.
#[derive(Debug, Default)]
pub(super) struct Unflushed {
    conn: Option<ConnId>,
    acks: usize,
}

impl Unflushed {
    /// An ack is about to be written to `conn`: the other socket whose acks must be sent first.
    pub(super) fn before_write(&mut self, conn: ConnId) -> Option<ConnId> {
        if self.conn.is_some_and(|c| c != conn) { self.conn.take() } else { None }
    }

    /// An ack was written to `conn`'s buffer.
    pub(super) fn written(&mut self, conn: ConnId) {
        self.conn = Some(conn);
        self.acks += 1;
    }

    /// `Some(socket to flush, if any)` when the acks are to be sent now (then the acks written
    /// so far are answered): always at the turn's end, within it once [`BATCH`] acks wait.
    pub(super) fn due(&mut self, turn_end: bool) -> Option<Option<ConnId>> {
        if !turn_end && self.acks < BATCH {
            return None;
        }
        self.acks = 0;
        Some(self.conn.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_wait_within_a_turn_until_a_batch_of_them_and_go_at_its_end() {
        let mut u = Unflushed::default();
        // Nothing written: nothing to flush at the end, not due within the turn.
        assert_eq!(u.due(false), None);
        assert_eq!(u.due(true), Some(None));
        // A few acks: left for later within the turn, sent at its end.
        for _ in 0..10 {
            assert_eq!(u.before_write(ConnId(1)), None);
            u.written(ConnId(1));
        }
        assert_eq!(u.due(false), None, "a reader batch's acks wait for the turn's end");
        assert_eq!(u.due(true), Some(Some(ConnId(1))));
        assert_eq!(u.due(true), Some(None), "sent once");
        // A batch's worth within a turn: sent without waiting for its end.
        for _ in 0..BATCH {
            u.written(ConnId(1));
        }
        assert_eq!(u.due(false), Some(Some(ConnId(1))));
        assert_eq!(u.due(false), None);
    }

    #[test]
    fn an_ack_for_another_socket_sends_the_first_sockets_acks_first() {
        let mut u = Unflushed::default();
        u.written(ConnId(1));
        assert_eq!(u.before_write(ConnId(1)), None);
        assert_eq!(u.before_write(ConnId(2)), Some(ConnId(1)));
        u.written(ConnId(2));
        assert_eq!(u.due(true), Some(Some(ConnId(2))));
    }
}
