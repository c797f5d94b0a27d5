//! Manual ack mode's bookkeeping: the envelopes handed over and not acked yet, in delivery
//! order, with the stage (due, missed, forgotten) each has reached.

use crate::common::{ConnId, EnvelopeId, IdMap};
use std::collections::VecDeque;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

/// One envelope waiting for the application's ack (manual mode).
#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) conn: ConnId,
    pub(super) delivered: Instant,
    /// Its socket is gone: an ack can no longer be sent.
    pub(super) orphaned: bool,
    /// The dedupe key of its `event_id`, remembered once the ack is sent.
    pub(super) event_key: Option<u64>,
}

/// The stages an unacked envelope goes through. Every envelope has the same offsets, so the
/// envelopes reach each stage in delivery order: one queue and a cursor per stage suffice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// [`SocketModeEvent::AckDue`](super::SocketModeEvent::AckDue) at `ack_warning`.
    Due,
    /// [`SocketModeEvent::AckMissed`](super::SocketModeEvent::AckMissed) at `ack_deadline`.
    Missed,
    /// Forgotten at `ack_forget`.
    Forget,
}

/// Unacked envelopes of manual mode, bounded by `max_pending_acks`.
///
/// `order` holds every envelope handed over and not yet forgotten, in delivery order; the
/// ones acked meanwhile are skipped lazily and compacted away once they are more than half of
/// it, so it never holds more than twice the waiting ones (plus a small slack). An id is
/// kept in place in the map and the queue ([`EnvelopeId`]): no allocation per envelope.
#[derive(Debug, Default)]
pub(super) struct Pending {
    waiting: IdMap<EnvelopeId, Waiting>,
    /// Deliveries waiting, per event key (already a hash): a redelivery of one of these is held.
    by_event: IdMap<u64, u32>,
    /// (delivered, envelope id), oldest first.
    order: VecDeque<(Instant, EnvelopeId)>,
    /// Entries of `order` already past their `Due` stage.
    due: usize,
    /// Entries of `order` already past their `Missed` stage.
    missed: usize,
}

/// Acked entries tolerated in `order` before compacting, beyond as many as are waiting.
const SLACK: usize = 64;

impl Pending {
    pub(super) fn len(&self) -> usize {
        self.waiting.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.waiting.clear();
        self.by_event.clear();
        self.order.clear();
        (self.due, self.missed) = (0, 0);
    }

    pub(super) fn get(&self, envelope_id: &str) -> Option<&Waiting> {
        self.waiting.get(envelope_id.as_bytes())
    }

    pub(super) fn waiting_mut(&mut self) -> impl Iterator<Item = &mut Waiting> {
        self.waiting.values_mut()
    }

    fn cursor(&self, stage: Stage) -> usize {
        match stage {
            Stage::Due => self.due,
            Stage::Missed => self.missed,
            Stage::Forget => 0,
        }
    }

    /// When the next envelope to reach `stage` was delivered.
    pub(super) fn head(&self, stage: Stage) -> Option<Instant> {
        self.order.get(self.cursor(stage)).map(|(t, _)| *t)
    }

    /// Moves the next envelope past `stage` if its time (`delivered + after`) has come by
    /// `now`: its id, and whether it is still waiting.
    pub(super) fn pop(&mut self, stage: Stage, after: Duration, now: Instant) -> Option<(EnvelopeId, bool)> {
        let (t, id) = self.order.get(self.cursor(stage))?;
        if *t + after > now {
            return None;
        }
        let id = match stage {
            Stage::Due => {
                self.due += 1;
                id.clone()
            }
            Stage::Missed => {
                self.missed += 1;
                id.clone()
            }
            Stage::Forget => self.pop_front()?,
        };
        let live = self.waiting.contains_key(id.as_bytes());
        Some((id, live))
    }

    pub(super) fn pop_front(&mut self) -> Option<EnvelopeId> {
        let (_, id) = self.order.pop_front()?;
        self.due = self.due.saturating_sub(1);
        self.missed = self.missed.saturating_sub(1);
        Some(id)
    }

    /// Whether a delivery of this event is waiting for its ack (a redelivery is then held);
    /// if none is, counts the delivery the caller [pushes](Pending::push) next as waiting:
    /// one look-up for both.
    pub(super) fn hold_or_claim(&mut self, key: u64) -> bool {
        match self.by_event.entry(key) {
            Entry::Occupied(_) => true,
            Entry::Vacant(slot) => {
                slot.insert(1);
                false
            }
        }
    }

    /// Records an envelope handed over. Its `event_key`, if any, was counted by
    /// [`Pending::hold_or_claim`] just before.
    pub(super) fn push(&mut self, envelope_id: &str, waiting: Waiting) {
        let id = EnvelopeId::new(envelope_id);
        self.order.push_back((waiting.delivered, id.clone()));
        self.waiting.insert(id, waiting);
    }

    /// Forgets an acked envelope: at once from `order` when it is the oldest (acks in
    /// delivery order, the common case), else acked entries are dropped from `order` once they
    /// are the majority.
    pub(super) fn remove(&mut self, envelope_id: &str) -> Option<Waiting> {
        self.remove_bytes(envelope_id.as_bytes())
    }

    fn remove_bytes(&mut self, envelope_id: &[u8]) -> Option<Waiting> {
        let w = self.waiting.remove(envelope_id)?;
        if self.order.front().is_some_and(|(_, first)| first.as_bytes() == envelope_id) {
            self.pop_front();
        }
        if let Some(k) = w.event_key
            && let Entry::Occupied(mut n) = self.by_event.entry(k)
        {
            *n.get_mut() -= 1;
            if *n.get() == 0 {
                n.remove();
            }
        }
        if self.order.len() > 2 * self.waiting.len() + SLACK {
            let (mut due, mut missed) = (0, 0);
            let old = std::mem::take(&mut self.order);
            for (i, entry) in old.into_iter().enumerate() {
                if self.waiting.contains_key(entry.1.as_bytes()) {
                    due += usize::from(i < self.due);
                    missed += usize::from(i < self.missed);
                    self.order.push_back(entry);
                }
            }
            (self.due, self.missed) = (due, missed);
        }
        Some(w)
    }

    /// Forgets an acked envelope ([`Pending::remove`]) by the id `pop` or `pop_front` gave.
    pub(super) fn remove_id(&mut self, id: &EnvelopeId) -> Option<Waiting> {
        self.remove_bytes(id.as_bytes())
    }

    /// Every entry of `order` (for the bound test).
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::{EnvelopeId, Pending, Stage, Waiting};
    use crate::common::ConnId;
    use std::time::{Duration, Instant};

    fn waiting(at: Instant) -> Waiting {
        Waiting { conn: ConnId(1), delivered: at, orphaned: false, event_key: None }
    }

    #[test]
    fn acks_in_delivery_order_leave_nothing_behind_and_keep_the_stages() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        for i in 0..10 {
            p.push(&format!("e{i}"), waiting(t0 + Duration::from_millis(i)));
        }
        // e0 and e1 past `Due`, then acked in order: gone from the queue at once.
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(1))
                .is_some_and(|(id, live)| id == "e0" && live)
        );
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(1))
                .is_some_and(|(id, _)| id == "e1")
        );
        for i in 0..3 {
            assert!(p.remove(&format!("e{i}")).is_some());
        }
        assert_eq!((p.len(), p.remembered()), (7, 7));
        // The next to become due is e3 (e2 was acked before it was due).
        assert_eq!(p.head(Stage::Due), Some(t0 + Duration::from_millis(3)));
        assert_eq!(p.head(Stage::Missed), Some(t0 + Duration::from_millis(3)));
        // Out of order: e5 stays queued (skipped as acked) until it is the oldest, or compacted.
        assert!(p.remove("e5").is_some());
        assert_eq!((p.len(), p.remembered()), (6, 7));
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(5))
                .is_some_and(|(id, _)| id == "e3")
        );
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(5))
                .is_some_and(|(id, _)| id == "e4")
        );
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(5))
                .is_some_and(|(id, live)| id == "e5" && !live)
        );
        assert_eq!(p.remove("e5").map(drop), None, "acked once");
    }

    #[test]
    fn short_and_long_ids_are_found_by_their_text_and_acked_once() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        let long = "x".repeat(crate::common::envelope_id::INLINE + 1);
        let ids = ["", "e", "1d0d6a80-3b0b-4f4a-9c9b-2f1e0f7c1a2b", &long, "é✓"];
        for (i, id) in ids.iter().enumerate() {
            p.push(id, waiting(t0 + Duration::from_millis(i as u64)));
        }
        assert!(!EnvelopeId::new(&long).is_inline());
        assert!(EnvelopeId::new(ids[2]).is_inline());
        for id in ids {
            assert!(p.get(id).is_some(), "{id}");
        }
        // A prefix or an extension of a waiting id is another id.
        assert!(p.get("1d0d6a80").is_none() && p.get(&format!("{long}x")).is_none());
        // Out of order, then the rest through the ids the queue gives back.
        assert!(p.remove(&long).is_some());
        assert!(p.remove(&long).is_none(), "acked once");
        let front = p.pop_front().expect("the oldest");
        assert_eq!(front.to_string(), "");
        assert!(p.remove_id(&front).is_some());
        assert_eq!(p.len(), 3);
        for id in ["e", ids[2], "é✓"] {
            assert!(p.remove(id).is_some(), "{id}");
        }
        assert!(p.is_empty());
    }
}
