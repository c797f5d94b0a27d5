//! What every driver loop shares: the connections' readers, polled by the loop task itself, and
//! a frame write that keeps them polled.

use super::socket::{self, Writer};
use crate::rtm::ConnId;
use fastwebsockets::Frame;
use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

/// The connections' readers, polled by the loop task (see [`Readers::poll`]).
#[derive(Default)]
pub(crate) struct Readers(Vec<(ConnId, socket::BoxFuture)>);

impl Readers {
    pub(crate) fn start(&mut self, conn: ConnId, reader: impl Future<Output = ()> + Send + 'static) {
        self.0.push((conn, Box::pin(reader)));
    }

    /// Drops a connection's reader (its socket is abandoned, so stopping mid-frame is fine).
    pub(crate) fn abort(&mut self, conn: ConnId) {
        self.0.retain(|(c, _)| *c != conn);
    }

    /// Drives every reader; finished ones are removed. Always pending: the readers' results
    /// reach the loop through its socket channel, and their wake-ups wake the loop task.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.retain_mut(|(_, reader)| reader.as_mut().poll(cx).is_pending());
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
        readers.start(
            crate::rtm::ConnId(1),
            std::future::poll_fn(move |_| {
                counted.fetch_add(1, Ordering::Relaxed);
                Poll::<()>::Pending
            }),
        );
        let write = Write { pending: 2, polls: Arc::new(AtomicUsize::new(0)) };
        assert_eq!(io_polling(&mut readers, write, Duration::from_secs(30)).await, Ok(()));
        assert!(reader_polls.load(Ordering::Relaxed) >= 3, "{reader_polls:?}");
    }
}
