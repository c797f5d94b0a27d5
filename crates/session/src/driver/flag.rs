//! A waker that remembers it was woken: the loop polls what sits behind it (a reader, the
//! handles' command channel) only when that thing asked to be polled.
//!
//! The loop task polls every branch of its `select!` on every pass of every turn. A branch whose
//! future registers its own waker (a socket, a channel) has nothing new unless that waker was
//! woken; polling it anyway still costs its whole poll (a channel's `recv` checks its queue and
//! registers the waker again). Behind a [`Flagged`] waker the branch is polled only when woken,
//! and the wake-up is passed on to the loop task, which then polls it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// The shared part: the flag and the waker wake-ups are passed on to (the loop task's).
struct FlagWake {
    woken: AtomicBool,
    parent: Mutex<Option<Waker>>,
}

impl Wake for FlagWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Set before the loop is woken: its next poll sees it.
        self.woken.store(true, Ordering::Release);
        if let Some(w) = self.parent.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            w.wake_by_ref();
        }
    }
}

/// One thing the loop polls only when woken, with its own waker (built once).
pub(crate) struct Flagged {
    wake: Arc<FlagWake>,
    /// `wake` as a `Waker`: what the thing behind it registers.
    waker: Waker,
}

impl Flagged {
    /// Woken from the start (polled at the next turn), passing wake-ups on to `parent`.
    pub(crate) fn new(parent: Option<Waker>) -> Self {
        let wake = Arc::new(FlagWake { woken: AtomicBool::new(true), parent: Mutex::new(parent) });
        let waker = Waker::from(wake.clone());
        Self { wake, waker }
    }

    /// Passes the wake-ups on to `waker` from now on.
    pub(crate) fn set_parent(&self, waker: &Waker) {
        *self.wake.parent.lock().unwrap_or_else(|e| e.into_inner()) = Some(waker.clone());
    }

    /// Polls `f` with this waker if it was woken since the last poll; else `Pending` without
    /// polling (the thing behind it has nothing new: its wake-up will wake the parent).
    /// A `Ready` result leaves it marked, so the next call polls again (a channel that gave
    /// an item may hold more, and has registered no waker).
    pub(crate) fn poll<R>(&self, f: impl FnOnce(&mut Context<'_>) -> Poll<R>) -> Poll<R> {
        if !self.wake.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let result = f(&mut Context::from_waker(&self.waker));
        if result.is_ready() {
            self.wake.woken.store(true, Ordering::Release);
        }
        result
    }
}

/// A [`Flagged`] that follows the waker it is polled with (for one branch of the loop).
pub(crate) struct Gate {
    flagged: Flagged,
    /// The waker wake-ups are passed on to, as last given.
    parent: Option<Waker>,
}

impl Gate {
    /// Woken from the start.
    pub(crate) fn new() -> Self {
        Self { flagged: Flagged::new(None), parent: None }
    }

    /// [`Flagged::poll`], passing wake-ups on to `cx`'s waker.
    pub(crate) fn poll<R>(
        &mut self,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        if !self.parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.parent = Some(cx.waker().clone());
            self.flagged.set_parent(cx.waker());
        }
        self.flagged.poll(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Gate;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_gated_branch_is_polled_only_when_woken_and_again_after_an_item() {
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let task_waker = Waker::from(task.clone());
        let cx = Context::from_waker(&task_waker);
        let mut gate = Gate::new();
        let mut polls = 0;
        let mut kept: Option<Waker> = None;
        // New: polled at once; pending, it keeps the waker it was given (as a channel does).
        let r: Poll<()> = gate.poll(&cx, |cx| {
            polls += 1;
            kept = Some(cx.waker().clone());
            Poll::Pending
        });
        assert!(r.is_pending());
        assert_eq!(polls, 1);
        // Not woken: not polled, however often the loop passes.
        for _ in 0..3 {
            let r: Poll<()> = gate.poll(&cx, |_| {
                polls += 1;
                Poll::Ready(())
            });
            assert!(r.is_pending());
        }
        assert_eq!(polls, 1, "polled without a wake");
        // Its waker woken (an item sent): the task is woken and the next pass polls it.
        kept.take().unwrap().wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert_eq!(gate.poll(&cx, |_| Poll::Ready(7)), Poll::Ready(7));
        // After an item it is polled again without a wake (the channel may hold more).
        assert_eq!(gate.poll(&cx, |_| Poll::Ready(8)), Poll::Ready(8));
        let r: Poll<()> = gate.poll(&cx, |cx| {
            kept = Some(cx.waker().clone());
            Poll::Pending
        });
        assert!(r.is_pending());
        assert!(gate.poll(&cx, |_| Poll::Ready(9)).is_pending(), "pending, then not woken");
        // Polled by another task's waker: the wake-up reaches that one.
        let other = Arc::new(Count(AtomicUsize::new(0)));
        let other_waker = Waker::from(other.clone());
        assert!(gate.poll(&Context::from_waker(&other_waker), |_| Poll::Ready(0)).is_pending());
        kept.take().unwrap().wake_by_ref();
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
    }
}
