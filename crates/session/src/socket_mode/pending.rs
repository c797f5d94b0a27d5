//! Manual ack mode's bookkeeping: the envelopes handed over and not acked yet, in delivery
//! order, with the stage (due, missed, forgotten) each has reached.

use super::keys::KeySet;
use crate::common::{ConnId, EnvelopeId, IdMap};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One envelope waiting for the application's ack (manual mode).
#[derive(Clone, Copy, Debug)]
pub(super) struct Waiting {
    pub(super) conn: ConnId,
    pub(super) delivered: Instant,
    /// Its socket is gone: an ack can no longer be sent.
    pub(super) orphaned: bool,
    /// Whether it has an event key (`key`).
    keyed: bool,
    /// The dedupe key of its `event_id` (if `keyed`), remembered once the ack is sent. Not an
    /// `Option<u64>` (16 bytes): the flag sits beside `orphaned`, so the queue's entry takes
    /// 128 bytes, which a push and a pop move inline rather than through a `memcpy` call.
    key: u64,
}

impl Waiting {
    pub(super) fn new(conn: ConnId, delivered: Instant, event_key: Option<u64>) -> Self {
        Self { conn, delivered, orphaned: false, keyed: event_key.is_some(), key: event_key.unwrap_or(0) }
    }

    /// The dedupe key of its `event_id`, remembered once the ack is sent.
    pub(super) fn event_key(&self) -> Option<u64> {
        self.keyed.then_some(self.key)
    }
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

/// An envelope handed over, in `order`: waiting for its ack (`live`) or acked (kept until it
/// is the oldest, or compacted away).
#[derive(Debug)]
struct Slot {
    id: EnvelopeId,
    /// Its plain ack's text, written when it was handed over (so an ack in order reads no id
    /// back as text); empty if it could not be written then, or once taken.
    ack: String,
    /// Its place in delivery order (never reused): what the id index points at.
    seq: u64,
    live: bool,
    waiting: Waiting,
}

/// Unacked envelopes of manual mode, bounded by `max_pending_acks`.
///
/// `order` holds every envelope handed over and not yet forgotten, in delivery order, with
/// its bookkeeping in place; its oldest entry is always one still waiting (acked ones at the
/// front are dropped at once). The ones acked out of order are skipped lazily and compacted
/// away once they are more than half of it, so it never holds more than twice the waiting
/// ones (plus a small slack).
///
/// An ack names its envelope by id. Acks mostly come in delivery order: the oldest entry's id
/// is compared first, without hashing. Only an ack that is not for the oldest builds (and
/// from then on extends) an index of ids to sequence numbers: each entry is indexed at most
/// once, and only when acks come out of order, so acks in order touch no hash table keyed by
/// the id. A sequence number stays valid when `order` is compacted (found by its offset from
/// the front, or by a binary search after a compaction moved it).
#[derive(Debug, Default)]
pub(super) struct Pending {
    order: VecDeque<Slot>,
    /// Entries of `order` still waiting.
    live: usize,
    /// The next envelope's sequence number.
    next_seq: u64,
    /// Id → sequence number of the waiting entries whose number is below `indexed_to`.
    index: IdMap<EnvelopeId, u64>,
    /// Entries from this sequence number on are not in `index` (yet).
    indexed_to: u64,
    /// The event keys of the deliveries waiting (each event has at most one: a redelivery of
    /// one of these is held, not pushed).
    by_event: KeySet,
    /// Entries of `order` already past their `Due` stage.
    due: usize,
    /// Entries of `order` already past their `Missed` stage.
    missed: usize,
}

/// Acked entries tolerated in `order` before compacting, beyond as many as are waiting.
const SLACK: usize = 64;

impl Pending {
    pub(super) fn len(&self) -> usize {
        self.live
    }

    pub(super) fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub(super) fn clear(&mut self) {
        self.order.clear();
        self.index.clear();
        self.by_event.clear();
        self.live = 0;
        self.indexed_to = self.next_seq;
        (self.due, self.missed) = (0, 0);
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
        self.order.get(self.cursor(stage)).map(|s| s.waiting.delivered)
    }

    /// Moves the next envelope past `stage` if its time (`delivered + after`) has come by
    /// `now`: its id, and its bookkeeping if it is still waiting. At `Forget` the envelope is
    /// forgotten (acking it later is [`DeliveryAckError::Unknown`](super::DeliveryAckError)).
    pub(super) fn pop(
        &mut self,
        stage: Stage,
        after: Duration,
        now: Instant,
    ) -> Option<(EnvelopeId, Option<Waiting>)> {
        let at = self.cursor(stage);
        let slot = self.order.get(at)?;
        if slot.waiting.delivered + after > now {
            return None;
        }
        let id = slot.id.clone();
        let waiting = slot.live.then_some(slot.waiting);
        match stage {
            Stage::Due => self.due += 1,
            Stage::Missed => self.missed += 1,
            // The oldest entry is always waiting (were it not, it is dropped all the same).
            Stage::Forget if waiting.is_some() => return Some((id, self.take(0).map(|(w, _)| w))),
            Stage::Forget => self.drop_acked_front(),
        }
        Some((id, waiting))
    }

    /// Forgets the oldest envelope still waiting (`max_pending_acks` reached): its id.
    /// Its ack's text comes with it (to be given back for reuse).
    pub(super) fn forget_oldest(&mut self) -> Option<(EnvelopeId, String)> {
        let id = self.order.front()?.id.clone();
        self.take(0).map(|(_, ack)| (id, ack))
    }

    /// Whether a delivery of this event is waiting for its ack (a redelivery is then held);
    /// if none is, records the event's key for the delivery the caller [pushes](Pending::push)
    /// next: one look-up for both.
    pub(super) fn hold_or_claim(&mut self, key: u64) -> bool {
        !self.by_event.insert(key)
    }

    /// Records an envelope handed over: its sequence number (its place in delivery order).
    /// Its `event_key`, if any, was recorded by [`Pending::hold_or_claim`] just before; `ack`
    /// is its plain ack's text (empty: written at the ack).
    pub(super) fn push(&mut self, envelope_id: &str, ack: String, waiting: Waiting) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.push_back(Slot { id: EnvelopeId::new(envelope_id), ack, seq, live: true, waiting });
        self.live += 1;
        seq
    }

    /// The sequence number of the oldest envelope still waiting (the next one to be handed
    /// over if none is): every envelope numbered below it is acked, released or forgotten.
    pub(super) fn first_waiting(&self) -> u64 {
        self.order.front().map_or(self.next_seq, |s| s.seq)
    }

    /// Forgets the oldest envelope still waiting if it was numbered below `to` (acked in
    /// delivery order): its ack's text (moved out) and its bookkeeping, read in place (no id
    /// compared, the entry not moved out whole), and its id as text only when the caller
    /// needs it: if the text was not written at the hand-over, or if it was handed over before
    /// `late_before` (a late ack is reported with its id). Inlined into the run of acks in
    /// order (its result is then not moved through memory).
    #[inline(always)]
    pub(super) fn take_oldest_before(
        &mut self,
        to: u64,
        late_before: Option<Instant>,
    ) -> Option<(String, Waiting, Option<String>)> {
        let slot = self.order.front_mut().filter(|s| s.seq < to)?;
        // The oldest entry is always waiting (acked ones at the front are dropped at once).
        let taken = slot.live.then(|| {
            slot.live = false;
            let ack = std::mem::take(&mut slot.ack);
            let w = slot.waiting;
            let late = late_before.is_some_and(|before| w.delivered < before);
            let id = (ack.is_empty() || late).then(|| slot.id.to_string());
            (ack, w, id)
        });
        if taken.is_some() {
            let slot = &self.order[0];
            forget_live(slot, &mut self.live, &mut self.index, &mut self.by_event, self.indexed_to);
        }
        self.drop_acked_front();
        self.compact_if_sparse();
        taken
    }

    /// The socket `conn` is gone: the acks still owed on it can no longer be sent.
    pub(super) fn orphan(&mut self, conn: ConnId) {
        for s in self.order.iter_mut().filter(|s| s.live && s.waiting.conn == conn) {
            s.waiting.orphaned = true;
        }
    }

    /// Forgets an acked (or released) envelope: its bookkeeping, or `None` if it is not
    /// waiting, with its ack's text (to be given back for reuse). The oldest is found by
    /// comparing its id; any other through the id index.
    pub(super) fn remove(&mut self, envelope_id: &str) -> Option<(Waiting, String)> {
        self.remove_if(envelope_id, false)
    }

    /// [`Pending::remove`] only if its plain ack's text was written when it was handed over
    /// (`None`, nothing changed, otherwise).
    pub(super) fn remove_written(&mut self, envelope_id: &str) -> Option<(Waiting, String)> {
        self.remove_if(envelope_id, true)
    }

    fn remove_if(&mut self, envelope_id: &str, written: bool) -> Option<(Waiting, String)> {
        let id = envelope_id.as_bytes();
        let at = match self.order.front() {
            Some(first) if first.id.as_bytes() == id => 0,
            _ => {
                self.index_rest();
                let seq = *self.index.get(id)?;
                self.position(seq)?
            }
        };
        if written && self.order.get(at).is_none_or(|s| s.ack.is_empty()) {
            return None;
        }
        self.take(at)
    }

    /// Adds the waiting entries not indexed yet to the id index (each entry once, ever).
    fn index_rest(&mut self) {
        if self.indexed_to == self.next_seq {
            return;
        }
        let from = self.order.partition_point(|s| s.seq < self.indexed_to);
        for s in self.order.range(from..).filter(|s| s.live) {
            // An id handed over twice while waiting (a peer's fault): the older one is
            // indexed; the newer is acked once it is the oldest, or forgotten.
            self.index.entry(s.id.clone()).or_insert(s.seq);
        }
        self.indexed_to = self.next_seq;
    }

    /// Where the entry numbered `seq` is in `order`: at its offset from the front unless a
    /// compaction moved it.
    fn position(&self, seq: u64) -> Option<usize> {
        let first = self.order.front()?.seq;
        let at = usize::try_from(seq.checked_sub(first)?).ok()?;
        if self.order.get(at).is_some_and(|s| s.seq == seq) {
            return Some(at);
        }
        self.order.binary_search_by_key(&seq, |s| s.seq).ok()
    }

    /// Marks the entry at `at` acked (`None` if it was already): out of the index and the
    /// waiting events' keys; then drops acked entries from the front, and compacts `order` once
    /// they are the majority. Its ack's text comes with it.
    fn take(&mut self, at: usize) -> Option<(Waiting, String)> {
        let slot = self.order.get_mut(at).filter(|s| s.live)?;
        slot.live = false;
        let w = (slot.waiting, std::mem::take(&mut slot.ack));
        let slot = &self.order[at];
        let (live, index, by_event, indexed_to) =
            (&mut self.live, &mut self.index, &mut self.by_event, self.indexed_to);
        forget_live(slot, live, index, by_event, indexed_to);
        self.drop_acked_front();
        self.compact_if_sparse();
        Some(w)
    }

    /// Compacts `order` once the acked entries in it are the majority.
    #[inline]
    fn compact_if_sparse(&mut self) {
        if self.order.len() > 2 * self.live + SLACK {
            self.compact();
        }
    }

    /// Drops the acked entries from `order`, keeping the stage cursors on the same envelopes.
    #[inline(never)]
    fn compact(&mut self) {
        let (mut due, mut missed, mut i) = (0, 0, 0);
        self.order.retain(|s| {
            if s.live {
                due += usize::from(i < self.due);
                missed += usize::from(i < self.missed);
            }
            i += 1;
            s.live
        });
        (self.due, self.missed) = (due, missed);
    }

    /// Drops the acked entries at the front of `order`.
    #[inline]
    fn drop_acked_front(&mut self) {
        while self.order.front().is_some_and(|s| !s.live) {
            self.order.pop_front();
            self.due = self.due.saturating_sub(1);
            self.missed = self.missed.saturating_sub(1);
        }
    }

    /// Every entry of `order` (for the bound test).
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.order.len()
    }

    /// Entries in the id index (for the tests: acks in order index nothing).
    #[cfg(test)]
    pub(super) fn indexed(&self) -> usize {
        self.index.len()
    }
}

/// A waiting entry (`slot`, marked acked already) no longer counted as waiting: out of the id
/// index and the waiting events' keys. On the fields it touches, so a caller can use it while
/// it reads the entry in place.
#[inline(always)]
fn forget_live(
    slot: &Slot,
    live: &mut usize,
    index: &mut IdMap<EnvelopeId, u64>,
    by_event: &mut KeySet,
    indexed_to: u64,
) {
    *live -= 1;
    if slot.seq < indexed_to && index.get(slot.id.as_bytes()) == Some(&slot.seq) {
        index.remove(slot.id.as_bytes());
    }
    if let Some(k) = slot.waiting.event_key() {
        by_event.remove(k);
    }
}

#[cfg(test)]
mod tests {
    use super::{EnvelopeId, Pending, Stage, Waiting};
    use crate::common::ConnId;
    use std::time::{Duration, Instant};

    fn waiting(at: Instant) -> Waiting {
        Waiting::new(ConnId(1), at, None)
    }

    /// An entry of the queue fits in 128 bytes (a push and a pop move it inline; at 136 each
    /// went through a `memcpy` call), and its event key, the key 0 too, reads back as given.
    #[test]
    fn an_entry_takes_128_bytes_and_keeps_its_event_key() {
        assert!(std::mem::size_of::<super::Slot>() <= 128, "{}", std::mem::size_of::<super::Slot>());
        let t0 = Instant::now();
        for key in [None, Some(0), Some(7), Some(u64::MAX)] {
            assert_eq!(Waiting::new(ConnId(1), t0, key).event_key(), key);
        }
    }

    #[test]
    fn acks_in_delivery_order_leave_nothing_behind_and_keep_the_stages() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        for i in 0..10 {
            p.push(&format!("e{i}"), String::new(), waiting(t0 + Duration::from_millis(i)));
        }
        // e0 and e1 past `Due`, then acked in order: gone from the queue at once.
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(1))
                .is_some_and(|(id, w)| id == "e0" && w.is_some())
        );
        assert!(
            p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_millis(1))
                .is_some_and(|(id, _)| id == "e1")
        );
        for i in 0..3 {
            assert!(p.remove(&format!("e{i}")).is_some());
        }
        assert_eq!((p.len(), p.remembered()), (7, 7));
        // In order: found by comparing the oldest's id, nothing indexed.
        assert_eq!(p.indexed(), 0);
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
                .is_some_and(|(id, w)| id == "e5" && w.is_none())
        );
        assert_eq!(p.remove("e5").map(drop), None, "acked once");
        // Acking e3 and e4 drops e5 (acked) with them: the oldest kept is always waiting.
        assert!(p.remove("e3").is_some() && p.remove("e4").is_some());
        assert_eq!((p.len(), p.remembered()), (4, 4));
        assert_eq!(p.head(Stage::Forget), Some(t0 + Duration::from_millis(6)));
    }

    #[test]
    fn short_and_long_ids_are_found_by_their_text_and_acked_once() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        let long = "x".repeat(crate::common::envelope_id::INLINE + 1);
        let ids = ["", "e", "1d0d6a80-3b0b-4f4a-9c9b-2f1e0f7c1a2b", &long, "é✓"];
        for (i, id) in ids.iter().enumerate() {
            p.push(id, String::new(), waiting(t0 + Duration::from_millis(i as u64)));
        }
        assert!(!EnvelopeId::new(&long).is_inline());
        assert!(EnvelopeId::new(ids[2]).is_inline());
        // A prefix or an extension of a waiting id is another id.
        assert!(p.remove("1d0d6a80").is_none() && p.remove(&format!("{long}x")).is_none());
        // Out of order, then the rest through the ids the queue gives back.
        assert!(p.remove(&long).is_some());
        assert!(p.remove(&long).is_none(), "acked once");
        let (front, _) = p.forget_oldest().expect("the oldest");
        assert_eq!(front.to_string(), "");
        assert!(p.remove("").is_none(), "forgotten");
        assert_eq!(p.len(), 3);
        for id in ["é✓", "e", ids[2]] {
            assert!(p.remove(id).is_some(), "{id}");
        }
        assert!(p.is_empty());
        assert_eq!((p.remembered(), p.indexed()), (0, 0));
    }

    #[test]
    fn acks_out_of_order_are_found_through_the_index_after_compactions_moved_them() {
        let t0 = Instant::now();
        let mut p = Pending::default();
        let n = 1000;
        for i in 0..n {
            p.push(&format!("e{i}"), String::new(), waiting(t0));
        }
        // Every other one acked, newest first: each is found by id, the queue compacted on
        // the way (entries move), and nothing acked twice.
        for i in (0..n).rev().filter(|i| i % 2 == 1) {
            assert!(p.remove(&format!("e{i}")).is_some(), "e{i}");
            assert!(p.remove(&format!("e{i}")).is_none(), "e{i} twice");
            assert!(p.remembered() <= 2 * p.len() + 64 + 1);
        }
        assert_eq!(p.len(), n / 2);
        assert_eq!(p.indexed(), n / 2, "the waiting ones, indexed once");
        // Later deliveries are indexed only when an ack misses the oldest again.
        for i in n..n + 10 {
            p.push(&format!("e{i}"), String::new(), waiting(t0));
        }
        assert_eq!(p.indexed(), n / 2);
        assert!(p.remove(&format!("e{}", n + 5)).is_some());
        assert_eq!(p.indexed(), n / 2 + 9);
        // The rest, oldest first: each compared at the front and taken out of the index too.
        for i in (0..n + 10).filter(|i| i % 2 == 0 || *i >= n).filter(|i| *i != n + 5) {
            assert!(p.remove(&format!("e{i}")).is_some(), "e{i}");
        }
        assert!(p.is_empty());
        assert_eq!((p.remembered(), p.indexed()), (0, 0));
        // A compaction keeps the stage cursors on the same envelopes.
        for i in 0..200 {
            p.push(&format!("f{i}"), String::new(), waiting(t0 + Duration::from_millis(i)));
        }
        for _ in 0..150 {
            assert!(p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_secs(1)).is_some());
        }
        for i in (1..200).filter(|i| i % 4 != 0) {
            assert!(p.remove(&format!("f{i}")).is_some());
        }
        assert!(p.remembered() < 200, "compacted");
        // The next past `Due` is the first after f149 still waiting (acked ones in between, if
        // a compaction came before their ack, are passed as acked).
        loop {
            let (id, w) = p.pop(Stage::Due, Duration::ZERO, t0 + Duration::from_secs(1)).expect("more");
            if w.is_some() {
                assert_eq!(id, "f152");
                break;
            }
            assert!(["f149", "f150", "f151"].contains(&id.as_str()), "{id}");
        }
    }
}
