//! The receiving end of a loop's batched hand-off, for both sessions' streams: the loop sends
//! a `Vec` of items at a time (one channel operation per batch), the stream hands them out one
//! by one, and gives the batch's bytes back to the [`Budget`] when it hands out its last item.

use super::outbox::{Batch, Budget};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Items received in batches, taken one at a time.
#[derive(Debug)]
pub(crate) struct Batches<T> {
    rx: mpsc::Receiver<Batch<T>>,
    buf: std::vec::IntoIter<T>,
    /// Bytes of the batch being handed out, still counted in the budget.
    held: usize,
    budget: Arc<Budget>,
}

impl<T> Batches<T> {
    pub(crate) fn new(rx: mpsc::Receiver<Batch<T>>, budget: Arc<Budget>) -> Self {
        Self { rx, buf: Vec::new().into_iter(), held: 0, budget }
    }

    /// Bytes of the frames handed over by the loop and not all taken yet.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.budget.queued()
    }

    /// A handle that reads [`Batches::queued_bytes`] from elsewhere.
    pub(crate) fn queued_bytes_gauge(&self) -> QueuedBytes {
        QueuedBytes(self.budget.clone())
    }

    /// The next item of the current batch; the batch's bytes are given back with its last.
    #[inline]
    fn next_in_batch(&mut self) -> Option<T> {
        let item = self.buf.next()?;
        if self.buf.len() == 0 {
            self.budget.release(std::mem::take(&mut self.held));
        }
        Some(item)
    }

    #[inline]
    fn start(&mut self, batch: Batch<T>) {
        self.buf = batch.items.into_iter();
        self.held = batch.bytes;
        if self.buf.len() == 0 {
            self.budget.release(std::mem::take(&mut self.held));
        }
    }

    /// The next item, waiting for the next batch if needed; `None` once the loop is gone and
    /// everything was taken.
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        loop {
            if let Some(item) = self.next_in_batch() {
                return Poll::Ready(Some(item));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(batch)) => self.start(batch),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {
                    // Taken to the end: free the batch's room now rather than when the next
                    // batch comes (an idle session would keep it for as long as it is idle).
                    self.buf = Vec::new().into_iter();
                    return Poll::Pending;
                }
            }
        }
    }

    /// The next item if one is ready now.
    #[inline]
    pub(crate) fn try_next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.next_in_batch() {
                return Some(item);
            }
            let batch = self.rx.try_recv().ok()?;
            self.start(batch);
        }
    }
}

/// The bytes of frames a session handed over and its stream has not given out yet, read from
/// anywhere (e.g. by whoever owns the stream's consumer): what
/// [`SocketModeStream::queued_bytes`](super::SocketModeStream::queued_bytes) says, at the
/// moment [`QueuedBytes::get`] is called. Holding it keeps nothing else of the session alive.
#[derive(Clone, Debug)]
pub struct QueuedBytes(Arc<Budget>);

impl QueuedBytes {
    /// Bytes handed over and not yet taken.
    pub fn get(&self) -> usize {
        self.0.queued()
    }
}

impl<T> Drop for Batches<T> {
    /// Nobody reads any more: the loop, if it waits for room in the byte budget, is woken and
    /// sees the channel closed (it goes on reading its sockets; what it hands over is dropped).
    fn drop(&mut self) {
        self.rx.close();
        self.budget.close();
    }
}
