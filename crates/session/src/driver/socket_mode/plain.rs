//! The handles' commands as the loop reads them: plain acks (no payload, nobody waiting for
//! the result: [`SocketModeHandle::ack_detached`](super::SocketModeHandle::ack_detached)) in a
//! queue of their own, the rest through the channel, in the order they were sent.
//!
//! A plain ack is the one command every envelope costs in manual ack mode (an `App` acks each
//! event so). Through the channel it paid the channel's send and receive per ack; in the queue
//! it costs a short lock per ack and the loop takes every queued ack at once, under one lock,
//! woken once per batch (the first ack into an empty queue wakes it).
//!
//! A plain ack in delivery order costs less still: the handle names the envelope by its
//! [`DeliverySeq`], and when every envelope handed over before it is done it only moves a
//! shared count on (`acked_to`, one compare-and-swap): the loop takes all the acks counted
//! since it last looked as one [`Command::AckedTo`] and acks the oldest waiting envelopes up
//! to there, no id sent, copied or compared. The first such ack after the loop last looked
//! wakes it (`taken_to`), so a lone ack is sent at once, as the queue's are. Any other ack
//! (out of order, or with the count not where it expects it) takes the queue; the loop moves
//! the count past the envelopes done otherwise (acked out of order, released, forgotten) once
//! the oldest waiting one is past them ([`PlainAcks::catch_up`]), so acks in order take the
//! count again.
//!
//! Order: a command sent after a plain ack is handled after it (the loop takes the queue and
//! the count once it received a command from the channel, and handles what it found first); a
//! plain ack sent after a command goes through the channel behind it while any command sent
//! is not handled yet (`in_flight`), so it cannot overtake one.

use super::Command;
use crate::common::EnvelopeId;
use crate::socket_mode::{DeliveryAckError, DeliverySeq};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::mpsc;

/// What the handles share with the loop: the plain acks queued, and how many commands sent
/// through the channel the loop has not taken yet.
#[derive(Debug, Default)]
pub(super) struct PlainAcks {
    queue: Mutex<Queue>,
    in_flight: AtomicUsize,
    /// Every envelope numbered below it was acked in delivery order by the application, or
    /// is done otherwise (as the loop counted it). [`CLOSED`] once the loop is gone.
    acked_to: AtomicU64,
    /// How far the loop has taken `acked_to` (written by the loop alone): an ack that moves
    /// the count on from here wakes the loop.
    taken_to: AtomicU64,
}

/// `acked_to` once the loop is gone: no sequence number moves it on.
const CLOSED: u64 = u64::MAX;

#[derive(Debug, Default)]
struct Queue {
    ids: VecDeque<EnvelopeId>,
    /// The loop's waker, left when it found the queue empty; taken by the ack that fills it.
    waker: Option<Waker>,
    /// The loop is gone: nothing is taken any more.
    closed: bool,
}

impl PlainAcks {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding it; a poisoned queue is still consistent.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The loop's side: every envelope numbered below `first_waiting` is done (acked, released
    /// or forgotten; the oldest still waiting is numbered `first_waiting`). Moves the count
    /// there if it is behind and nothing moved it since the loop last took it, so that the
    /// next ack in order takes the count again. An application's ack of an envelope passed
    /// so (a forgotten one) then takes the queue, and is refused as before (`Unknown`).
    pub(super) fn catch_up(&self, first_waiting: u64) {
        let taken = self.taken_to.load(Ordering::Relaxed);
        if first_waiting > taken
            && self
                .acked_to
                .compare_exchange(taken, first_waiting, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            self.taken_to.store(first_waiting, Ordering::SeqCst);
            // An ack in order that moved the count on meanwhile may have read `taken_to`
            // before this: it did not wake the loop, so this does.
            if self.acked_to.load(Ordering::SeqCst) != first_waiting {
                let waker = self.lock().waker.take();
                if let Some(w) = waker {
                    w.wake();
                }
            }
        }
    }
}

/// The handles' side: the channel and the plain acks' queue.
#[derive(Debug)]
pub(super) struct CmdTx {
    tx: mpsc::UnboundedSender<Command>,
    acks: Arc<PlainAcks>,
}

impl CmdTx {
    /// Sends a command through the channel (counted until the loop takes it).
    pub(super) fn send(&self, cmd: Command) -> Result<(), DeliveryAckError> {
        self.acks.in_flight.fetch_add(1, Ordering::AcqRel);
        self.tx.send(cmd).map_err(|_| {
            self.acks.in_flight.fetch_sub(1, Ordering::AcqRel);
            DeliveryAckError::Stopped
        })
    }

    /// A plain ack of the envelope numbered `seq`: moves the count on if every envelope
    /// before it is done and no command is in flight (waking the loop if it has taken the
    /// count up to here); else [`CmdTx::ack`] with its id.
    #[cfg(test)]
    pub(super) fn ack_in_order(&self, envelope_id: &str, seq: DeliverySeq) -> Result<(), DeliveryAckError> {
        self.ack_in_order_with(seq, || EnvelopeId::new(envelope_id))
    }

    /// [`CmdTx::ack_in_order`] with the id made only if the ack takes the queue (the count
    /// needs none).
    #[inline(always)]
    pub(super) fn ack_in_order_with(
        &self,
        seq: DeliverySeq,
        envelope_id: impl FnOnce() -> EnvelopeId,
    ) -> Result<(), DeliveryAckError> {
        let seq = seq.get();
        if self.acks.in_flight.load(Ordering::Acquire) == 0
            && self.acks.acked_to.compare_exchange(seq, seq + 1, Ordering::SeqCst, Ordering::Relaxed).is_ok()
        {
            // The loop took the count up to this ack: it may be waiting, wake it. (If it reads
            // `taken_to` after this, it finds the count moved; see `CmdRx::take`.)
            if self.acks.taken_to.load(Ordering::SeqCst) == seq {
                let waker = self.acks.lock().waker.take();
                if let Some(w) = waker {
                    w.wake();
                }
            }
            return Ok(());
        }
        self.ack(envelope_id())
    }

    /// Queues a plain ack: in the queue, or behind a command the loop has not taken yet.
    pub(super) fn ack(&self, envelope_id: EnvelopeId) -> Result<(), DeliveryAckError> {
        if self.acks.in_flight.load(Ordering::Acquire) > 0 {
            return self.send(Command::Ack { envelope_id, payload: None, reply: None });
        }
        let mut q = self.acks.lock();
        if q.closed {
            return Err(DeliveryAckError::Stopped);
        }
        q.ids.push_back(envelope_id);
        let waker = if q.ids.len() == 1 { q.waker.take() } else { None };
        drop(q);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

/// The loop's side: every command in order.
#[derive(Debug)]
pub(crate) struct CmdRx {
    rx: mpsc::UnboundedReceiver<Command>,
    acks: Arc<PlainAcks>,
    /// The acks in order taken from the count, handed out first.
    acked_to: Option<Command>,
    /// Plain acks taken from the queue, handed out one by one.
    taken: VecDeque<EnvelopeId>,
    /// A command received while plain acks queued before it were waiting: handed out after them.
    held: Option<Command>,
}

impl CmdRx {
    /// What the handles share with the loop (for [`PlainAcks::catch_up`]).
    pub(super) fn shared(&self) -> Arc<PlainAcks> {
        self.acks.clone()
    }
}

/// A channel and a plain acks' queue.
pub(super) fn channel() -> (CmdTx, CmdRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let acks = Arc::new(PlainAcks::default());
    (CmdTx { tx, acks: acks.clone() }, CmdRx { rx, acks, acked_to: None, taken: VecDeque::new(), held: None })
}

impl CmdRx {
    /// Takes the queued plain acks (swapping the queues: no copy, no allocation) and the acks
    /// in order counted since the last take; if there are none, leaves `waker` for the next
    /// one to wake. Whether any were taken.
    fn take(&mut self, waker: Option<&Waker>) -> bool {
        debug_assert!(self.taken.is_empty() && self.acked_to.is_none());
        let queued = {
            let mut q = self.acks.lock();
            if q.ids.is_empty() {
                if let Some(w) = waker
                    && !q.waker.as_ref().is_some_and(|old| old.will_wake(w))
                {
                    q.waker = Some(w.clone());
                }
                false
            } else {
                std::mem::swap(&mut q.ids, &mut self.taken);
                true
            }
        };
        // After the waker is left: an ack in order that moved the count before this read is
        // taken now; one after it finds `taken_to` at its number and wakes the loop.
        let from = self.acks.taken_to.load(Ordering::Relaxed);
        let to = self.acks.acked_to.load(Ordering::SeqCst);
        if to != from && to != CLOSED {
            self.acks.taken_to.store(to, Ordering::SeqCst);
            self.acked_to = Some(Command::AckedTo { from, to });
        }
        queued || self.acked_to.is_some()
    }

    /// The next command taken: the acks in order, then the queued ones, then the held one.
    fn ready(&mut self) -> Option<Command> {
        if let Some(cmd) = self.acked_to.take() {
            return Some(cmd);
        }
        match self.taken.pop_front() {
            Some(envelope_id) => Some(Command::Ack { envelope_id, payload: None, reply: None }),
            None => self.held.take(),
        }
    }

    /// A command from the channel, the plain acks queued before it first.
    ///
    /// The queue is taken before `cmd` stops counting as in flight: a plain ack sent after
    /// `cmd` either found it still counted (and went through the channel behind it) or was
    /// queued after this take (and is handed out after `cmd`).
    fn after_queued(&mut self, cmd: Command) -> Command {
        let queued = self.take(None);
        self.acks.in_flight.fetch_sub(1, Ordering::AcqRel);
        if queued {
            self.held = Some(cmd);
            return self.ready().unwrap_or_else(|| unreachable!("taken"));
        }
        cmd
    }

    fn next(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Option<Command>> {
        if let Some(cmd) = self.ready() {
            return Poll::Ready(Some(cmd));
        }
        // The channel first: a command found there goes after the plain acks queued now
        // (`after_queued`), which include every one sent before it.
        let (polled, waker) = match cx {
            Some(cx) => (self.rx.poll_recv(cx), Some(cx.waker())),
            None => match self.rx.try_recv() {
                Ok(cmd) => (Poll::Ready(Some(cmd)), None),
                Err(mpsc::error::TryRecvError::Empty) => (Poll::Pending, None),
                Err(mpsc::error::TryRecvError::Disconnected) => (Poll::Ready(None), None),
            },
        };
        match polled {
            Poll::Ready(Some(cmd)) => Poll::Ready(Some(self.after_queued(cmd))),
            // Every handle is gone: what they queued before is still handled.
            Poll::Ready(None) => Poll::Ready(if self.take(None) { self.ready() } else { None }),
            Poll::Pending if self.take(waker) => Poll::Ready(self.ready()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl super::super::drive::Commands for CmdRx {
    type Cmd = Command;

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Command>> {
        self.next(Some(cx))
    }

    fn try_recv(&mut self) -> Option<Command> {
        match self.next(None) {
            Poll::Ready(cmd) => cmd,
            Poll::Pending => None,
        }
    }
}

impl Drop for CmdRx {
    fn drop(&mut self) {
        // The loop is gone: later plain acks are refused (`Stopped`), as the channel's are.
        let mut q = self.acks.lock();
        q.closed = true;
        q.ids.clear();
        q.waker = None;
        // Acks in order take the queue from now on, and are refused there.
        self.acks.acked_to.store(CLOSED, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::drive::Commands;
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// What the loop reads, as text: `A id` for an ack (`A id+` with a payload), `R id`, `S`.
    fn read(rx: &mut CmdRx) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv())
            .map(|cmd| match cmd {
                Command::Ack { envelope_id, payload, .. } => {
                    format!("A {envelope_id}{}", if payload.is_some() { "+" } else { "" })
                }
                Command::Release { envelope_id } => format!("R {envelope_id}"),
                Command::AckedTo { from, to } => format!("T {from}..{to}"),
                Command::Shutdown { .. } => "S".to_owned(),
            })
            .collect()
    }

    fn release(id: &str) -> Command {
        Command::Release { envelope_id: EnvelopeId::new(id) }
    }

    #[test]
    fn plain_acks_stay_in_order_with_the_other_commands() {
        let (tx, mut rx) = channel();
        // An ack queued before a command: handled before it, though the loop reads the
        // channel first. An ack sent after it, while it is not taken: behind it.
        tx.ack(EnvelopeId::new("a")).expect("open");
        tx.send(release("b")).expect("open");
        tx.ack(EnvelopeId::new("c")).expect("open");
        tx.send(Command::Shutdown { grace: std::time::Duration::ZERO }).expect("open");
        tx.ack(EnvelopeId::new("d")).expect("open");
        assert_eq!(read(&mut rx), ["A a", "R b", "A c", "S", "A d"]);
        // Every command taken: plain acks take the queue again, in order.
        assert_eq!(tx.acks.in_flight.load(Ordering::Acquire), 0);
        for id in ["e", "f", "g"] {
            tx.ack(EnvelopeId::new(id)).expect("open");
        }
        assert!(tx.acks.lock().ids.len() == 3, "queued, not sent through the channel");
        tx.send(Command::Ack { envelope_id: EnvelopeId::new("h"), payload: None, reply: None })
            .expect("open");
        tx.ack(EnvelopeId::new("i")).expect("open");
        assert_eq!(read(&mut rx), ["A e", "A f", "A g", "A h", "A i"]);
    }

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::AcqRel);
        }
    }

    #[test]
    fn the_loop_is_woken_once_per_batch_and_what_was_queued_outlives_the_handles() {
        let (tx, mut rx) = channel();
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        for id in ["a", "b", "c"] {
            tx.ack(EnvelopeId::new(id)).expect("open");
        }
        assert_eq!(count.0.load(Ordering::Acquire), 1, "the first ack wakes the loop");
        assert_eq!(read(&mut rx), ["A a", "A b", "A c"]);
        // Found empty again: the next ack wakes it again.
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.ack(EnvelopeId::new("d")).expect("open");
        assert_eq!(count.0.load(Ordering::Acquire), 2);
        // Every handle gone: what they queued is still read, then the end.
        drop(tx);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(Command::Ack { .. }))));
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
    }

    #[test]
    fn once_the_loop_is_gone_plain_acks_are_refused_like_the_others() {
        let (tx, rx) = channel();
        tx.ack(EnvelopeId::new("a")).expect("open");
        drop(rx);
        assert_eq!(tx.ack(EnvelopeId::new("b")), Err(DeliveryAckError::Stopped));
        assert_eq!(tx.send(release("c")), Err(DeliveryAckError::Stopped));
        assert_eq!(tx.acks.in_flight.load(Ordering::Acquire), 0);
        assert!(tx.acks.lock().ids.is_empty(), "nothing kept for a loop that is gone");
    }

    fn seq(n: u64) -> DeliverySeq {
        DeliverySeq::new(n)
    }

    #[test]
    fn acks_in_delivery_order_move_a_count_and_the_first_after_the_loop_looked_wakes_it() {
        let (tx, mut rx) = channel();
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        // A lone ack in order wakes the loop (Slack's deadline: it must not wait for more).
        tx.ack_in_order("a", seq(0)).expect("open");
        assert_eq!(count.0.load(Ordering::Acquire), 1);
        assert!(tx.acks.lock().ids.is_empty(), "no id queued");
        // The next ones before the loop looks: no wake each.
        tx.ack_in_order("b", seq(1)).expect("open");
        tx.ack_in_order("c", seq(2)).expect("open");
        assert_eq!(count.0.load(Ordering::Acquire), 1);
        assert_eq!(read(&mut rx), ["T 0..3"]);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.ack_in_order("d", seq(3)).expect("open");
        assert_eq!(count.0.load(Ordering::Acquire), 2, "woken again once it looked");
        // Out of order (4 is not acked yet): by id, through the queue.
        tx.ack_in_order("f", seq(5)).expect("open");
        assert_eq!(tx.acks.lock().ids.len(), 1);
        assert_eq!(read(&mut rx), ["T 3..4", "A f"]);
        // 4 released (by id); once the loop saw the oldest waiting is 6, the count moves
        // there, and acks in order take it again.
        tx.send(release("e")).expect("open");
        assert_eq!(read(&mut rx), ["R e"]);
        rx.shared().catch_up(6);
        tx.ack_in_order("g", seq(6)).expect("open");
        assert!(tx.acks.lock().ids.is_empty());
        // Not past an ack the loop has not taken: it moves the count itself only from where
        // it last took it.
        rx.shared().catch_up(9);
        assert_eq!(read(&mut rx), ["T 6..7"]);
        rx.shared().catch_up(9);
        assert_eq!(tx.acks.acked_to.load(Ordering::Acquire), 9);
        assert_eq!(read(&mut rx), Vec::<String>::new(), "moved by the loop: nothing to ack");
        // An ack of an envelope the count passed (forgotten meanwhile) goes by id: `Unknown`.
        tx.ack_in_order("x", seq(8)).expect("open");
        assert_eq!(read(&mut rx), ["A x"]);
    }

    #[test]
    fn acks_in_order_stay_in_order_with_the_other_commands() {
        let (tx, mut rx) = channel();
        // Before a command: handed out before it. After a command not taken yet: behind it
        // (by id through the channel), though the count would have taken it.
        tx.ack_in_order("a", seq(0)).expect("open");
        tx.send(Command::Shutdown { grace: std::time::Duration::ZERO }).expect("open");
        tx.ack_in_order("b", seq(1)).expect("open");
        assert_eq!(read(&mut rx), ["T 0..1", "S", "A b"]);
        // With a plain ack queued by id and one in order: both before the command.
        tx.ack(EnvelopeId::new("z")).expect("open");
        rx.shared().catch_up(2);
        tx.ack_in_order("c", seq(2)).expect("open");
        tx.send(release("r")).expect("open");
        assert_eq!(read(&mut rx), ["T 2..3", "A z", "R r"]);
    }

    /// An ack the count takes reads no id (the handle's caller may hold it as text it would
    /// have to check again); one that takes the queue, or the channel behind a command, reads
    /// it once, and names its envelope by it.
    #[test]
    fn an_ack_in_order_makes_its_id_only_when_it_goes_by_id() {
        let (tx, mut rx) = channel();
        let made = std::cell::Cell::new(0);
        let id = |text: &'static str| {
            || {
                made.set(made.get() + 1);
                EnvelopeId::new(text)
            }
        };
        tx.ack_in_order_with(seq(0), id("a")).expect("open");
        tx.ack_in_order_with(seq(1), id("b")).expect("open");
        assert_eq!(made.get(), 0, "the count took both: no id made");
        // Out of order: by id through the queue.
        tx.ack_in_order_with(seq(3), id("d")).expect("open");
        assert_eq!(made.get(), 1);
        // Behind a command in flight: by id through the channel.
        tx.send(release("r")).expect("open");
        tx.ack_in_order_with(seq(2), id("c")).expect("open");
        assert_eq!(made.get(), 2);
        assert_eq!(read(&mut rx), ["T 0..2", "A d", "R r", "A c"]);
    }

    #[test]
    fn once_the_loop_is_gone_acks_in_order_are_refused() {
        let (tx, rx) = channel();
        tx.ack_in_order("a", seq(0)).expect("open");
        drop(rx);
        assert_eq!(tx.ack_in_order("b", seq(1)), Err(DeliveryAckError::Stopped));
        assert_eq!(tx.ack_in_order("c", seq(u64::MAX - 1)), Err(DeliveryAckError::Stopped));
    }
}
