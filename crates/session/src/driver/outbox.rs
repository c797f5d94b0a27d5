//! The loop's bounded, batched hand-off to the application, for both loops: items go over a
//! channel in batches (one channel operation per batch), bounded twice — in items (the
//! channel's capacity, counted in batches of at most [`BATCH`](super::drive::BATCH)) and in
//! bytes (a [`Budget`] of the frames' lengths). When either is reached the loop stops reading
//! its sockets until the application takes enough (backpressure): the readers then stop, and
//! TCP pushes back on the server.
//!
//! The byte bound is what keeps a busy session's memory small whatever its frames weigh: a
//! thousand Slack-shaped events are megabytes, and on a multi-thread runtime the loop (on one
//! worker) can fill the channel while the consumer (on the other) is still busy.

use super::batches::Batches;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// After the session stopped, how long the loop waits for the application to take the last
/// items before dropping them.
const LINGER: Duration = Duration::from_secs(10);

/// What an item weighs against the byte budget: the length of the frame it carries (0 for the
/// session's own reports, which the item bound alone keeps small).
pub(crate) trait Weighed {
    /// Bytes counted while the item waits for the application.
    fn weight(&self) -> usize;
}

/// A batch on its way to the application, with the bytes it counts in the budget.
#[derive(Debug)]
pub(crate) struct Batch<T> {
    pub(crate) items: Vec<T>,
    pub(crate) bytes: usize,
}

/// The bytes handed to the application and not yet taken, shared by the loop (which adds a
/// batch's bytes as it sends it) and the stream (which gives them back once it handed the
/// batch's last item out).
#[derive(Debug)]
pub(crate) struct Budget {
    queued: AtomicUsize,
    limit: usize,
    /// Woken when the bytes waiting fall below the limit (a stored wake-up if the loop is not
    /// waiting yet, so none is lost).
    room: Notify,
    /// The stream is gone: nothing is taken any more, and nothing is held back for it.
    closed: AtomicBool,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Self {
            queued: AtomicUsize::new(0),
            limit: limit.max(1),
            room: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }

    fn add(&self, bytes: usize) {
        if bytes > 0 {
            self.queued.fetch_add(bytes, Ordering::AcqRel);
        }
    }

    /// Gives `bytes` back; wakes the loop if that made room.
    pub(crate) fn release(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let before = self.queued.fetch_sub(bytes, Ordering::AcqRel);
        if before >= self.limit && before - bytes < self.limit {
            self.room.notify_one();
        }
    }

    /// The stream is gone: wakes the loop if it waits for room; nothing is held back for the
    /// stream from now on.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.room.notify_one();
    }

    /// Whether the bytes handed over and not yet taken reached the limit while someone still
    /// takes them: the loop's readers read no more for now
    /// ([`Readers::poll`](super::readers::Readers::poll)).
    pub(crate) fn is_spent(&self) -> bool {
        self.queued() >= self.limit && !self.closed.load(Ordering::Acquire)
    }

    /// Bytes handed over and not yet taken.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Resolves once the bytes waiting fell below the limit (or earlier: check again).
    pub(crate) async fn room(&self) {
        self.room.notified().await;
    }
}

/// The hand-off's sending end, owned by the loop: items are batched per loop turn; when the
/// channel is full, or the bytes waiting reach the budget, the loop stops reading sockets until
/// there is room (backpressure).
pub(crate) struct Outbox<T> {
    items: Vec<T>,
    /// Bytes of `items` not yet added to the budget.
    bytes: usize,
    /// Bytes of `items` already added (a batch the full channel refused).
    counted: usize,
    /// The channel was full: the loop waits for room and does not read sockets.
    blocked: bool,
    /// Backpressure as last told to the machine.
    told: bool,
    budget: Arc<Budget>,
    tx: mpsc::Sender<Batch<T>>,
}

impl<T: Weighed + Send + 'static> Outbox<T> {
    /// A channel of `capacity` items (counted in batches of `batch`) and `capacity_bytes`
    /// bytes of frames, and its receiving end.
    pub(crate) fn new(capacity: usize, batch: usize, capacity_bytes: usize) -> (Self, Batches<T>) {
        let (tx, rx) = mpsc::channel((capacity / batch).max(2));
        let budget = Arc::new(Budget::new(capacity_bytes));
        let outbox = Self {
            items: Vec::new(),
            bytes: 0,
            counted: 0,
            blocked: false,
            told: false,
            budget: budget.clone(),
            tx,
        };
        (outbox, Batches::new(rx, budget))
    }

    /// A second sender, to wait for room or for the receiver's end without borrowing the
    /// loop.
    pub(crate) fn sender(&self) -> mpsc::Sender<Batch<T>> {
        self.tx.clone()
    }

    /// The byte budget, to wait for room without borrowing the loop.
    pub(crate) fn budget(&self) -> Arc<Budget> {
        self.budget.clone()
    }

    /// Queues an item; a new batch starts with room for a loop turn's worth.
    pub(crate) fn push(&mut self, item: T) {
        if self.items.capacity() == 0 {
            self.items.reserve(super::drive::BATCH);
        }
        self.bytes += item.weight();
        self.items.push(item);
    }

    /// Whether a whole batch is waiting (hand it over before queueing more: the channel's
    /// bound is counted in batches, so batches stay at most this size).
    pub(crate) fn batch_is_full(&self) -> bool {
        self.items.len() >= super::drive::BATCH
    }

    /// Whether the channel was full: the loop waits for room in it and does not read sockets.
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Whether the bytes handed over and not yet taken, with those about to be, reached the
    /// budget (and someone still reads them): the loop reads no more sockets, and, once what it
    /// has is handed over, waits for [`Budget::room`].
    pub(crate) fn is_over(&self) -> bool {
        self.budget.queued() + self.bytes >= self.budget.limit && !self.tx.is_closed()
    }

    /// Hands the pending items over. With nobody listening, they are dropped.
    pub(crate) fn flush(&mut self) {
        if self.blocked || self.items.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.bytes);
        // Counted before it is sent: the stream may give it back as soon as it is in.
        self.budget.add(bytes);
        let batch = Batch { items: std::mem::take(&mut self.items), bytes };
        match self.tx.try_send(batch) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(batch)) => {
                self.items = batch.items;
                self.counted = batch.bytes;
                self.blocked = true;
            }
            Err(mpsc::error::TrySendError::Closed(batch)) => self.budget.release(batch.bytes),
        }
    }

    /// The backpressure to tell the machine, if it changed since it was last told: on while the
    /// channel is full or the budget spent, off once neither is.
    pub(crate) fn backpressure_change(&mut self) -> Option<bool> {
        let on = self.blocked || self.is_over();
        (on != self.told).then(|| {
            self.told = on;
            on
        })
    }

    /// The pending items as one batch, their bytes counted in the budget.
    fn take_batch(&mut self) -> Batch<T> {
        let fresh = std::mem::take(&mut self.bytes);
        self.budget.add(fresh);
        Batch { items: std::mem::take(&mut self.items), bytes: std::mem::take(&mut self.counted) + fresh }
    }

    /// Room came (`Ok`) or the receiver is gone (`Err`): unblocks, sends or drops the pending
    /// batch. `false` if the receiver is gone.
    pub(crate) fn unblock(
        &mut self,
        permit: Result<mpsc::Permit<'_, Batch<T>>, mpsc::error::SendError<()>>,
    ) -> bool {
        self.blocked = false;
        let batch = self.take_batch();
        match permit {
            Ok(p) => {
                p.send(batch);
                true
            }
            Err(_) => {
                self.budget.release(batch.bytes);
                false
            }
        }
    }

    /// The session stopped: gives the application a while to take the last items.
    pub(crate) async fn linger(&mut self) {
        if !self.items.is_empty() {
            let batch = self.take_batch();
            if tokio::time::timeout(LINGER, self.tx.send(batch)).await.is_err() {
                tracing::warn!("the application did not take the last items in time; dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Waker};

    /// An item that weighs what it says.
    impl Weighed for usize {
        fn weight(&self) -> usize {
            *self
        }
    }

    fn ready<F: Future>(f: F) -> bool {
        let mut f = std::pin::pin!(f);
        f.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready()
    }

    #[tokio::test]
    async fn the_budget_turns_backpressure_on_and_the_stream_taking_a_whole_batch_turns_it_off() {
        let (mut out, mut stream) = Outbox::<usize>::new(1024, 64, 100);
        let budget = out.budget();
        out.push(60);
        assert!(!out.is_over(), "60 of 100 bytes");
        out.flush();
        assert_eq!(out.backpressure_change(), None);
        out.push(30);
        out.push(30);
        assert!(out.is_over(), "the pending bytes count before they are handed over");
        out.flush();
        assert_eq!(stream.queued_bytes(), 120);
        assert!(!out.is_blocked(), "the channel has room: only the budget is spent");
        assert_eq!(out.backpressure_change(), Some(true));
        assert_eq!(out.backpressure_change(), None, "told once");
        // No wake-up stored yet: the loop would wait.
        assert!(!ready(budget.room()));
        assert_eq!(stream.try_next(), Some(60));
        assert_eq!(stream.queued_bytes(), 60, "a batch's bytes are given back with its last item");
        assert!(ready(budget.room()), "the loop is woken once the bytes fell below the budget");
        assert!(!out.is_over());
        assert_eq!(out.backpressure_change(), Some(false));
        assert_eq!(stream.try_next(), Some(30));
        assert_eq!(stream.queued_bytes(), 60, "the batch is not all taken");
        assert_eq!(stream.try_next(), Some(30));
        assert_eq!(stream.queued_bytes(), 0);
        assert_eq!(stream.try_next(), None);
    }

    #[tokio::test]
    async fn a_full_channel_holds_its_batch_counted_once_and_hands_it_over_when_room_comes() {
        // Two batches of room, a large budget: the item bound is reached first.
        let (mut out, mut stream) = Outbox::<usize>::new(2, 64, 1_000_000);
        for n in [1, 2] {
            out.push(n);
            out.flush();
        }
        out.push(3);
        out.flush();
        assert!(out.is_blocked());
        assert_eq!(out.backpressure_change(), Some(true));
        assert_eq!(stream.queued_bytes(), 6, "the refused batch is counted once");
        out.push(4);
        let tx = out.sender();
        assert_eq!(stream.try_next(), Some(1));
        let permit = tx.reserve().await;
        assert!(out.unblock(permit));
        assert_eq!(out.backpressure_change(), Some(false));
        assert_eq!(stream.queued_bytes(), 2 + 3 + 4);
        let rest: Vec<usize> = std::iter::from_fn(|| stream.try_next()).collect();
        assert_eq!(rest, [2, 3, 4], "in order, nothing lost or given twice");
        assert_eq!(stream.queued_bytes(), 0);
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_budget_is_still_handed_over_and_a_gone_stream_blocks_nothing() {
        let (mut out, mut stream) = Outbox::<usize>::new(1024, 64, 10);
        let budget = out.budget();
        out.push(500);
        out.flush();
        assert!(out.is_over());
        assert_eq!(stream.try_next(), Some(500));
        assert!(!out.is_over());
        assert!(ready(budget.room()), "the wake-up of the room made, stored");
        out.push(50);
        out.flush();
        assert!(out.is_over());
        assert!(!ready(budget.room()));
        drop(stream);
        assert!(ready(budget.room()), "a loop waiting for room is woken when the stream goes");
        assert!(!out.is_over(), "nobody reads: the loop goes on (and drops what it hands over)");
        out.push(50);
        out.flush();
        assert_eq!(out.backpressure_change(), None);
    }
}
