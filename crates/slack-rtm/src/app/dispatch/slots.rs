//! The concurrency bound's slots ([`App::concurrency`](crate::app::App::concurrency)): a count
//! of free slots taken and given back with one atomic operation each while nobody waits, and a
//! fair queue (tokio's `Semaphore`, holding no slot of its own but those handed to waiters)
//! only for the requests that wait for one.
//!
//! Why not tokio's `Semaphore` alone: giving a permit back takes its waiters' lock on every
//! release, waiters or not (~100 instructions per request, the lock and its bookkeeping). The
//! bound stays exact (at most `total` slots are held at any time) and the waiters keep their
//! order: a slot given back while a request waits goes to the queue, whose oldest waiter gets
//! it, and a request that does not wait ([`Slots::try_acquire`]) takes no slot while one does
//! (as with tokio's fair semaphore, where a waiter leaves no permit available).
//!
//! A slot is in one of three places: held (a [`Permit`]), free (`free`), or in the queue (handed
//! to a waiter, or left there when its waiter was gone; the next waiter takes it at once, and
//! the last waiter to leave gives such slots back to `free`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use tokio::sync::Semaphore;

/// The slots of one dispatcher.
pub(crate) struct Slots {
    total: usize,
    /// Free slots (none handed to the queue).
    free: AtomicUsize,
    /// Requests in [`Slots::acquire`]'s wait, registered before they look at `free` a last
    /// time: a slot given back while this is not 0 goes to the queue.
    waiting: AtomicUsize,
    /// The waiters' queue (first come, first served).
    queue: Semaphore,
}

/// A slot held; given back when dropped.
pub(crate) struct Permit(Arc<Slots>);

impl Drop for Permit {
    #[inline]
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A waiter's registration in `waiting`: removed however the wait ends (a slot, or the
/// waiting future dropped).
struct Waiting<'a>(&'a Slots);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, SeqCst) == 1 {
            self.0.reclaim();
        }
    }
}

impl Slots {
    pub(crate) fn new(total: usize) -> Slots {
        Slots { total, free: AtomicUsize::new(total), waiting: AtomicUsize::new(0), queue: Semaphore::new(0) }
    }

    /// Slots held now (or handed to a waiter not yet woken).
    pub(crate) fn held(&self) -> usize {
        self.total.saturating_sub(self.free.load(SeqCst) + self.queue.available_permits())
    }

    /// A free slot now, unless there is none or a request waits for one (it goes first).
    #[inline]
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        if self.waiting.load(SeqCst) != 0 || !self.take_free() {
            return None;
        }
        Some(Permit(self.clone()))
    }

    /// A slot, waiting for one in turn (first come, first served) when none is free.
    /// Cancel-safe: a waiter dropped before it got a slot takes none; a slot handed to it
    /// meanwhile goes to the next waiter, or back to `free`.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Permit {
        if let Some(slot) = self.try_acquire() {
            return slot;
        }
        self.waiting.fetch_add(1, SeqCst);
        let _waiting = Waiting(self);
        // Registered: a slot given back from now on goes to the queue. One given back before
        // (seen here) is taken now.
        if !self.take_free() {
            // Declared after the registration, so dropped before it (a wait dropped midway
            // gives a slot already handed to it back to the queue first, and the registration's
            // drop then finds it there).
            let wait = std::pin::pin!(self.queue.acquire());
            match wait.await {
                // Handed over: the slot is this `Permit`'s now.
                Ok(permit) => permit.forget(),
                Err(_) => unreachable!("the queue is never closed"),
            }
        }
        Permit(self.clone())
    }

    #[inline]
    fn take_free(&self) -> bool {
        self.free.fetch_update(SeqCst, SeqCst, |free| free.checked_sub(1)).is_ok()
    }

    #[inline]
    fn release(&self) {
        if self.waiting.load(SeqCst) != 0 {
            self.queue.add_permits(1);
            return;
        }
        self.free.fetch_add(1, SeqCst);
        // A request that registered meanwhile, after it looked at `free` a last time, waits in
        // the queue: the slot (or another free one) goes there. (Both sides write, then read
        // the other's count, all sequentially consistent: at least one sees the other.)
        if self.waiting.load(SeqCst) != 0 && self.take_free() {
            self.queue.add_permits(1);
        }
    }

    /// The last waiter left: slots still in the queue (handed to a waiter that took a free
    /// one meanwhile, or whose wait was dropped) go back (to `free`, or to a waiter that
    /// registered since). Once per slot there now: one that goes back to the queue is the new
    /// waiter's.
    fn reclaim(&self) {
        for _ in 0..self.queue.available_permits() {
            match self.queue.try_acquire() {
                Ok(permit) => {
                    permit.forget();
                    self.release();
                }
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// Many threads take and give back slots, waiting or not, some waits dropped midway: never
    /// more than the bound held at once, every wait that was not dropped gets a slot (no lost
    /// wake-up: the run finishes), and every slot is free at the end.
    #[test]
    fn under_contention_the_bound_holds_and_no_slot_or_waiter_is_lost() {
        for total in [1, 2, 3] {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_time().build().unwrap();
            let slots = Arc::new(Slots::new(total));
            let now = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let mut tasks = Vec::new();
                for t in 0..8usize {
                    let (slots, now, most) = (slots.clone(), now.clone(), most.clone());
                    tasks.push(tokio::spawn(async move {
                        for i in 0..2_000usize {
                            let slot = match (t + i) % 3 {
                                0 => slots.try_acquire(),
                                1 => Some(slots.acquire().await),
                                // A wait dropped midway (or finished at once).
                                _ => {
                                    tokio::time::timeout(Duration::from_micros(1), slots.acquire()).await.ok()
                                }
                            };
                            if let Some(slot) = slot {
                                let n = now.fetch_add(1, SeqCst) + 1;
                                most.fetch_max(n, SeqCst);
                                if i % 7 == 0 {
                                    tokio::task::yield_now().await;
                                }
                                now.fetch_sub(1, SeqCst);
                                drop(slot);
                            }
                        }
                    }));
                }
                for task in tasks {
                    task.await.unwrap();
                }
            });
            assert!(most.load(SeqCst) <= total, "at most {total} held at once, saw {}", most.load(SeqCst));
            assert_eq!(most.load(SeqCst), total, "the bound was reached");
            assert_eq!(slots.held(), 0, "every slot given back");
            assert_eq!(slots.waiting.load(SeqCst), 0);
            // All given back: `total` slots can be had again at once, and no more. (A slot
            // given back to the queue just as its last waiter left stays there, not free, until
            // the next request that waits takes it on its first poll: so these wait, and must
            // not have to.)
            let all: Vec<Permit> = (0..total)
                .map(|_| futures_poll_once(std::pin::pin!(slots.acquire()).as_mut()).expect("a slot at once"))
                .collect();
            assert!(slots.try_acquire().is_none());
            assert!(
                futures_poll_once(std::pin::pin!(slots.acquire()).as_mut()).is_none(),
                "no more than {total}"
            );
            drop(all);
            assert_eq!(slots.held(), 0);
        }
    }

    /// Waiters get slots in the order they came, and a slot given back while they wait goes to
    /// the oldest of them, not to a request that does not wait.
    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_turn_and_before_those_that_do_not_wait() {
        let slots = Arc::new(Slots::new(1));
        let first = slots.try_acquire().expect("free");
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for n in 0..3 {
            let (slots, order) = (slots.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let slot = slots.acquire().await;
                order.lock().unwrap().push(n);
                tokio::time::sleep(Duration::from_millis(10)).await;
                drop(slot);
            }));
            // Each registered before the next comes.
            tokio::task::yield_now().await;
        }
        assert!(slots.try_acquire().is_none(), "a waiter goes first");
        drop(first);
        assert!(slots.try_acquire().is_none(), "the slot went to the oldest waiter");
        assert_eq!(slots.held(), 1);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
        assert_eq!(slots.held(), 0);
        assert!(slots.try_acquire().is_some());
    }

    /// A wait dropped after a slot was handed to it leaves that slot free, not stuck in the
    /// queue.
    #[tokio::test(start_paused = true)]
    async fn a_dropped_wait_leaves_no_slot_behind() {
        let slots = Arc::new(Slots::new(1));
        let held = slots.try_acquire().expect("free");
        let mut wait = Box::pin(slots.acquire());
        assert!(futures_poll_once(wait.as_mut()).is_none(), "waits");
        drop(held); // handed to the waiter, which is not polled again
        assert_eq!(slots.held(), 1);
        drop(wait);
        assert_eq!(slots.held(), 0);
        assert!(slots.try_acquire().is_some(), "free again, without waiting");
    }

    fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
