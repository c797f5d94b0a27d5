//! The handles' commands as the loop reads them: plain acks (no payload, nobody waiting for
//! the result: [`SocketModeHandle::ack_detached`](super::SocketModeHandle::ack_detached)) in a
//! queue of their own, the rest through the channel, in the order they were sent.
//!
//! A plain ack is the one command every envelope costs in manual ack mode (an `App` acks each
//! event so). Through the channel it paid the channel's send and receive per ack; in the queue
//! it costs a short lock per ack and the loop takes every queued ack at once, under one lock,
//! woken once per batch (the first ack into an empty queue wakes it).
//!
//! Order: a command sent after a plain ack is handled after it (the loop takes the queue once
//! it received a command from the channel, and handles what it found first); a plain ack
//! sent after a command goes through the channel behind it while any command sent is not
//! handled yet (`in_flight`), so it cannot overtake one.

use super::Command;
use crate::common::EnvelopeId;
use crate::socket_mode::DeliveryAckError;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::mpsc;

/// What the handles share with the loop: the plain acks queued, and how many commands sent
/// through the channel the loop has not taken yet.
#[derive(Debug, Default)]
pub(super) struct PlainAcks {
    queue: Mutex<Queue>,
    in_flight: AtomicUsize,
}

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
    /// Plain acks taken from the queue, handed out one by one.
    taken: VecDeque<EnvelopeId>,
    /// A command received while plain acks queued before it were waiting: handed out after them.
    held: Option<Command>,
}

/// A channel and a plain acks' queue.
pub(super) fn channel() -> (CmdTx, CmdRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let acks = Arc::new(PlainAcks::default());
    (CmdTx { tx, acks: acks.clone() }, CmdRx { rx, acks, taken: VecDeque::new(), held: None })
}

impl CmdRx {
    /// Takes the queued plain acks (swapping the queues: no copy, no allocation); if there are
    /// none, leaves `waker` for the next one to wake. Whether any were taken.
    fn take(&mut self, waker: Option<&Waker>) -> bool {
        debug_assert!(self.taken.is_empty());
        let mut q = self.acks.lock();
        if q.ids.is_empty() {
            if let Some(w) = waker
                && !q.waker.as_ref().is_some_and(|old| old.will_wake(w))
            {
                q.waker = Some(w.clone());
            }
            return false;
        }
        std::mem::swap(&mut q.ids, &mut self.taken);
        true
    }

    fn plain(&mut self) -> Option<Command> {
        let envelope_id = self.taken.pop_front()?;
        Some(Command::Ack { envelope_id, payload: None, reply: None })
    }

    /// A command from the channel, the plain acks queued before it first.
    ///
    /// The queue is taken before `cmd` stops counting as in flight: a plain ack sent after
    /// `cmd` either found it still counted (and went through the channel behind it) or was
    /// queued after this take (and is handed out after `cmd`).
    fn after_queued(&mut self, cmd: Command) -> Command {
        let queued = self.take(None);
        self.acks.in_flight.fetch_sub(1, Ordering::AcqRel);
        if queued && let Some(first) = self.plain() {
            self.held = Some(cmd);
            return first;
        }
        cmd
    }

    fn next(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Option<Command>> {
        if let Some(cmd) = self.plain().or_else(|| self.held.take()) {
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
            Poll::Ready(None) => Poll::Ready(if self.take(None) { self.plain() } else { None }),
            Poll::Pending if self.take(waker) => Poll::Ready(self.plain()),
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
}
