//! The readers → loop hand-off: a bounded queue inside the loop's own task.
//!
//! The connections' readers are futures polled by the loop task itself (see
//! [`Readers`](super::readers::Readers)), so what they hand over is always taken in the same
//! task, right after they were polled. A tokio channel would wake the receiver on every send —
//! here the loop task waking itself, which costs one more full poll of the loop per batch of
//! frames. This queue wakes nobody on a send: the loop looks at it after every poll of the
//! readers ([`InboxRx::ready`] never waits). Only a reader blocked on a full queue is woken,
//! when the loop makes room; that bound is the backpressure on the socket.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct State<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Readers waiting for room.
    blocked: Vec<Waker>,
    /// The loop is gone.
    closed: bool,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// How many items are queued, as of the last push or take (written under the lock): the
    /// loop looks at the queue after every poll of the readers, a few times per turn, and
    /// mostly finds it empty; this answers without the lock.
    queued: AtomicUsize,
}

type Shared<T> = Arc<Inner<T>>;

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    // A panic while holding the lock cannot leave the queue inconsistent (push and pop only).
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A bounded queue of `capacity` messages: its sender (for the readers) and its receiver.
pub(crate) fn inbox<T>(capacity: usize) -> (InboxTx<T>, InboxRx<T>) {
    let shared = Arc::new(Inner {
        state: Mutex::new(State {
            // Grown on first use: thousands of idle sessions in one process each keep only the
            // room their few messages needed, not `capacity` slots of a few hundred bytes.
            items: VecDeque::new(),
            capacity: capacity.max(1),
            blocked: Vec::new(),
            closed: false,
        }),
        queued: AtomicUsize::new(0),
    });
    (InboxTx { shared: shared.clone() }, InboxRx { shared })
}

/// The loop is gone: the message was not delivered.
#[derive(Debug)]
pub(crate) struct Closed;

/// A reader's end; cheap to clone.
pub(crate) struct InboxTx<T> {
    shared: Shared<T>,
}

impl<T> Clone for InboxTx<T> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<T> InboxTx<T> {
    /// Queues `item`, waiting while the queue is full. Wakes nobody: the loop that polls the
    /// reader looks at the queue next.
    pub(crate) fn send(&self, item: T) -> Send<'_, T> {
        Send { tx: self, item: Some(item) }
    }
}

/// The future of [`InboxTx::send`].
pub(crate) struct Send<'a, T> {
    tx: &'a InboxTx<T>,
    item: Option<T>,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.tx.shared);
        if state.closed {
            return Poll::Ready(Err(Closed));
        }
        if state.items.len() >= state.capacity {
            if !state.blocked.iter().any(|w| w.will_wake(cx.waker())) {
                state.blocked.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        match self.item.take() {
            Some(item) => {
                state.items.push_back(item);
                self.tx.shared.queued.store(state.items.len(), Ordering::Release);
                Poll::Ready(Ok(()))
            }
            None => Poll::Ready(Ok(())),
        }
    }
}

/// The loop's end.
pub(crate) struct InboxRx<T> {
    shared: Shared<T>,
}

impl<T> InboxRx<T> {
    /// Ready when something is queued; never registers a waker (see the module's doc): poll it
    /// after the readers, in the same task (what they queued is then seen without the lock).
    pub(crate) fn ready(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|_| if self.is_empty() { Poll::Pending } else { Poll::Ready(()) })
    }

    fn is_empty(&self) -> bool {
        self.shared.queued.load(Ordering::Acquire) == 0
    }

    /// Moves up to `max` messages into `out`; wakes the readers that waited for room.
    pub(crate) fn take(&self, out: &mut Vec<T>, max: usize) {
        if self.is_empty() {
            return;
        }
        let blocked = {
            let mut state = lock(&self.shared);
            let n = state.items.len().min(max);
            out.extend(state.items.drain(..n));
            self.shared.queued.store(state.items.len(), Ordering::Release);
            if n > 0 { std::mem::take(&mut state.blocked) } else { Vec::new() }
        };
        blocked.into_iter().for_each(Waker::wake);
    }
}

impl<T> Drop for InboxRx<T> {
    fn drop(&mut self) {
        let blocked = {
            let mut state = lock(&self.shared);
            state.closed = true;
            state.items.clear();
            self.shared.queued.store(0, Ordering::Release);
            std::mem::take(&mut state.blocked)
        };
        blocked.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A waker that counts its wakes.
    struct Count(std::sync::atomic::AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(0.into()));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn sends_wake_nobody_and_a_full_queue_blocks_until_room() {
        let (tx, rx) = inbox::<u32>(2);
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut ready = std::pin::pin!(rx.ready());
        assert!(ready.as_mut().poll(&mut cx).is_pending());
        for i in 0..2 {
            assert!(matches!(std::pin::pin!(tx.send(i)).poll(&mut cx), Poll::Ready(Ok(()))));
        }
        assert!(ready.as_mut().poll(&mut cx).is_ready());
        // Full: the third waits, registered once however often it is polled.
        let mut third = std::pin::pin!(tx.send(2));
        assert!(third.as_mut().poll(&mut cx).is_pending());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 0, "no wake on send");
        let mut out = Vec::new();
        rx.take(&mut out, 1);
        assert_eq!(out, [0]);
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1, "the blocked sender is woken once");
        assert!(matches!(third.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
        rx.take(&mut out, 10);
        assert_eq!(out, [0, 1, 2]);
        assert!(ready.as_mut().poll(&mut cx).is_pending());
    }

    #[test]
    fn a_gone_loop_fails_the_senders_and_wakes_the_blocked() {
        let (tx, rx) = inbox::<u32>(1);
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(std::pin::pin!(tx.send(1)).poll(&mut cx), Poll::Ready(Ok(()))));
        let mut blocked = std::pin::pin!(tx.send(2));
        assert!(blocked.as_mut().poll(&mut cx).is_pending());
        drop(rx);
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(blocked.as_mut().poll(&mut cx), Poll::Ready(Err(Closed))));
        assert!(matches!(std::pin::pin!(tx.send(3)).poll(&mut cx), Poll::Ready(Err(Closed))));
    }
}
