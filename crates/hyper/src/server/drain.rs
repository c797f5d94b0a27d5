//! Graceful shutdown of the server's connections: a stop flag read on each poll and a waker
//! registered once per connection.
//!
//! hyper-util's `GracefulShutdown` does the same job with a `watch::changed()` future polled
//! on every poll of every connection, which locks the watch's waiter list each time (about
//! 0.1 µs per request, see `docs/perf/http2.md`). Here a poll costs an atomic load and a
//! waker comparison; the lock is taken when a connection is watched, when its task's waker
//! changes (never, for a connection that is its own task), when it ends, and at shutdown.

use hyper_util::server::graceful::GracefulConnection;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::sync::Notify;

/// The connections being served, and the stop flag they read.
#[derive(Default)]
pub(super) struct Drain {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    conns: Mutex<Conns>,
    /// Notified when the last watched connection ends.
    drained: Notify,
}

/// Each live connection's waker (`None` until its first poll).
#[derive(Default)]
struct Conns {
    next: u64,
    wakers: HashMap<u64, Option<Waker>>,
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, Conns> {
        // Nothing under this lock can panic half-way; a poisoned map is still consistent.
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drain {
    /// Watches `conn`: it is counted from now until it ends (or is dropped), and asked to shut
    /// down gracefully once [`Drain::shutdown`] starts.
    pub(super) fn watch<C: GracefulConnection>(&self, conn: C) -> Watched<C> {
        let id = {
            let mut conns = self.shared.conns();
            let id = conns.next;
            conns.next += 1;
            conns.wakers.insert(id, None);
            id
        };
        Watched { conn: Box::pin(conn), shared: self.shared.clone(), id, waker: None, shutting: false }
    }

    /// Asks every connection to shut down gracefully (an idle one closes at once, one with a
    /// request in flight after answering it) and waits until all have ended.
    pub(super) async fn shutdown(self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let wakers: Vec<Waker> = self.shared.conns().wakers.values_mut().filter_map(Option::take).collect();
        wakers.into_iter().for_each(Waker::wake);
        loop {
            let drained = self.shared.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.shared.conns().wakers.is_empty() {
                return;
            }
            drained.await;
        }
    }
}

/// A watched connection: polls it, and starts its graceful shutdown when the flag is set.
pub(super) struct Watched<C> {
    conn: Pin<Box<C>>,
    shared: Arc<Shared>,
    id: u64,
    /// The waker last registered for it.
    waker: Option<Waker>,
    /// Its graceful shutdown has started.
    shutting: bool,
}

impl<C: GracefulConnection> Future for Watched<C> {
    type Output = C::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C::Output> {
        let this = &mut *self;
        if !this.shutting {
            if !this.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                // Registered before the flag is read: a shutdown that sets the flag after this
                // read finds this waker and wakes it.
                let waker = cx.waker().clone();
                if let Some(slot) = this.shared.conns().wakers.get_mut(&this.id) {
                    *slot = Some(waker.clone());
                }
                this.waker = Some(waker);
            }
            if this.shared.stopping.load(Ordering::SeqCst) {
                this.shutting = true;
                this.conn.as_mut().graceful_shutdown();
            }
        }
        this.conn.as_mut().poll(cx)
    }
}

impl<C> Drop for Watched<C> {
    fn drop(&mut self) {
        let mut conns = self.shared.conns();
        conns.wakers.remove(&self.id);
        if conns.wakers.is_empty() {
            drop(conns);
            self.shared.drained.notify_waiters();
        }
    }
}
