//! What every driver loop shares: the connections' readers, polled by the loop task itself, and
//! a frame write that keeps them polled.

use super::flag::Flagged;
use super::outbox::Budget;
use super::socket::{self, Writer};
use crate::rtm::ConnId;
use fastwebsockets::Frame;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The connections' readers, polled by the loop task (see [`Readers::poll`]).
#[derive(Default)]
pub(crate) struct Readers {
    readers: Vec<Reader>,
    /// The waker the readers' wake-ups are passed on to (the loop task's), as last given.
    parent: Option<Waker>,
    /// The session's byte budget: while it is spent, the readers are not polled (see
    /// [`Readers::poll`]).
    budget: Option<Arc<Budget>>,
}

/// One connection's reader and its own waker.
struct Reader {
    conn: ConnId,
    future: socket::BoxFuture,
    /// What the reader's socket, timers and queue register: notes the reader has something to
    /// do and wakes the loop task.
    wake: Flagged,
}

impl Readers {
    pub(crate) fn start(&mut self, conn: ConnId, reader: impl Future<Output = ()> + Send + 'static) {
        // Woken from the start: a new reader is polled at the next turn.
        let wake = Flagged::new(self.parent.clone());
        self.readers.push(Reader { conn, future: Box::pin(reader), wake });
    }

    /// Reads no more while `budget` is spent (see [`Readers::poll`]).
    pub(crate) fn hold_while_spent(&mut self, budget: Arc<Budget>) {
        self.budget = Some(budget);
    }

    /// Drops a connection's reader (its socket is abandoned, so stopping mid-frame is fine).
    pub(crate) fn abort(&mut self, conn: ConnId) {
        self.readers.retain(|r| r.conn != conn);
    }

    /// Drives every reader that was woken since its last poll (new readers included); finished
    /// ones are removed. Always pending: the readers' results reach the loop through its socket
    /// channel, and their wake-ups wake the loop task.
    ///
    /// A reader not woken has nothing to do (its socket, timers and queue room all wake it), so
    /// it is not polled: the loop polls the readers on every pass of every turn (and while a
    /// write waits), and a round trip took six polls of the reader where one read the frame.
    ///
    /// While the session's byte budget is spent (the application has not taken what was handed
    /// over) no reader is polled: a woken reader stays marked and is polled once the
    /// application took enough (the loop waits for that room and polls again). Polled on, the
    /// readers read until the readers' queue was full whatever it held when the budget was
    /// spent — up to its four reader batches and one more per reader (~160 KB of frames past
    /// the budget on a busy socket, docs/perf/mem10.md). What is not read stays in the
    /// kernel's buffer, and TCP pushes back on the server, as once the queue was full.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.parent = Some(cx.waker().clone());
            for r in &self.readers {
                r.wake.set_parent(cx.waker());
            }
        }
        if self.budget.as_ref().is_some_and(|b| b.is_spent()) {
            return Poll::Pending;
        }
        self.readers.retain_mut(|r| {
            let future = &mut r.future;
            !r.wake.poll(|cx| future.as_mut().poll(cx)).is_ready()
        });
        Poll::Pending
    }
}

/// Writes and flushes one frame within `limit`, polling the readers meanwhile (a peer that only
/// reads once its own writes go through must not stall the write). The error says why.
pub(crate) async fn write_polling(
    readers: &mut Readers,
    w: &mut Writer,
    frame: Frame<'_>,
    limit: Duration,
) -> Result<(), String> {
    io_polling(readers, socket::write_and_flush(w, frame), limit).await
}

/// Runs one write (or flush) within `limit`, polling the readers meanwhile.
///
/// Most writes complete at their first poll (the frame fits in the socket's buffer): those
/// never build the timer, whose creation and drop (a lock on the time driver) would cost more
/// than the write's own user-space work on a round trip. A write that has to wait gets the
/// whole `limit` from then on.
pub(crate) async fn io_polling(
    readers: &mut Readers,
    io: impl Future<Output = Result<(), fastwebsockets::WebSocketError>>,
    limit: Duration,
) -> Result<(), String> {
    let mut io = std::pin::pin!(io);
    let first = std::future::poll_fn(|cx| {
        let _ = readers.poll(cx);
        Poll::Ready(io.as_mut().poll(cx))
    })
    .await;
    let result = match first {
        Poll::Ready(done) => Ok(done),
        Poll::Pending => {
            let mut write = std::pin::pin!(tokio::time::timeout(limit, io));
            std::future::poll_fn(|cx| {
                let _ = readers.poll(cx);
                write.as_mut().poll(cx)
            })
            .await
        }
    };
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("a write took longer than {limit:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::{Readers, io_polling};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// Pending `pending` times (waking itself each time), then done; counts its polls.
    struct Write {
        pending: usize,
        polls: Arc<AtomicUsize>,
    }

    impl Future for Write {
        type Output = Result<(), fastwebsockets::WebSocketError>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if self.pending == 0 {
                return Poll::Ready(Ok(()));
            }
            self.pending -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_done_at_once_or_later_succeeds_and_a_stuck_one_times_out() {
        let mut readers = Readers::default();
        for pending in [0, 1, 3] {
            let polls = Arc::new(AtomicUsize::new(0));
            let write = Write { pending, polls: polls.clone() };
            assert_eq!(io_polling(&mut readers, write, Duration::from_secs(30)).await, Ok(()));
            assert!(polls.load(Ordering::Relaxed) > pending, "polled until done");
        }
        let stuck = std::future::pending::<Result<(), fastwebsockets::WebSocketError>>();
        let error = io_polling(&mut readers, stuck, Duration::from_millis(20)).await.unwrap_err();
        assert!(error.contains("took longer than 20ms"), "{error}");
    }

    #[tokio::test]
    async fn the_readers_are_polled_while_a_write_waits() {
        let mut readers = Readers::default();
        let reader_polls = Arc::new(AtomicUsize::new(0));
        let counted = reader_polls.clone();
        // A reader whose socket is ready again after every read (it wakes itself).
        readers.start(
            crate::rtm::ConnId(1),
            std::future::poll_fn(move |cx| {
                counted.fetch_add(1, Ordering::Relaxed);
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            }),
        );
        let write = Write { pending: 2, polls: Arc::new(AtomicUsize::new(0)) };
        assert_eq!(io_polling(&mut readers, write, Duration::from_secs(30)).await, Ok(()));
        assert!(reader_polls.load(Ordering::Relaxed) >= 3, "{reader_polls:?}");
    }

    /// While the session's byte budget is spent, a woken reader is not polled (it would read
    /// on until the readers' queue was full: frames past the budget); once the application
    /// took some it is polled again, its wake-up kept; with the stream gone nothing holds it.
    #[test]
    fn a_spent_budget_holds_the_readers_until_the_application_takes_some() {
        let (mut out, mut stream) = crate::driver::outbox::Outbox::<usize>::new(1024, 64, 100);
        let mut readers = Readers::default();
        readers.hold_while_spent(out.budget());
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        // A busy socket: ready again after every read.
        readers.start(
            crate::rtm::ConnId(1),
            std::future::poll_fn(move |cx| {
                p.fetch_add(1, Ordering::SeqCst);
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            }),
        );
        let loop_wakes = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(loop_wakes.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1, "under the budget: read");
        for n in [30, 30, 40] {
            out.push(n);
            out.flush();
        }
        for _ in 0..3 {
            assert!(readers.poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1, "the budget is spent: not read, though woken");
        assert_eq!(stream.try_next(), Some(30));
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2, "70 of 100 bytes wait: read again, its wake-up kept");
        out.push(60);
        out.flush();
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2, "spent again");
        drop(stream);
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3, "nobody takes any more: nothing held back");
    }

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_reader_is_polled_only_when_woken_and_its_wake_wakes_the_loop() {
        let mut readers = Readers::default();
        let polls = Arc::new(AtomicUsize::new(0));
        let kept = Arc::new(std::sync::Mutex::new(None::<std::task::Waker>));
        let (p, k) = (polls.clone(), kept.clone());
        // Keeps the waker it was polled with, as a socket does; done at its third poll.
        readers.start(
            crate::rtm::ConnId(1),
            std::future::poll_fn(move |cx| {
                *k.lock().unwrap() = Some(cx.waker().clone());
                if p.fetch_add(1, Ordering::SeqCst) == 2 { Poll::Ready(()) } else { Poll::Pending }
            }),
        );
        let loop_wakes = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(loop_wakes.clone());
        let mut cx = Context::from_waker(&waker);
        // New: polled at once.
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // Not woken: other turns leave it alone.
        for _ in 0..3 {
            assert!(readers.poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1, "polled without a wake");
        // Its socket wakes it: the loop task is woken, and the next turn polls it once.
        kept.lock().unwrap().take().unwrap().wake();
        assert_eq!(loop_wakes.0.load(Ordering::SeqCst), 1);
        assert!(readers.poll(&mut cx).is_pending());
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        // The loop polled by another waker: the reader's wake reaches that one.
        let other = Arc::new(Count(AtomicUsize::new(0)));
        let other_waker = std::task::Waker::from(other.clone());
        assert!(readers.poll(&mut Context::from_waker(&other_waker)).is_pending());
        kept.lock().unwrap().take().unwrap().wake_by_ref();
        assert_eq!(other.0.load(Ordering::SeqCst), 1);
        // Woken and finished: removed.
        assert!(readers.poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        assert!(readers.readers.is_empty());
    }
}
