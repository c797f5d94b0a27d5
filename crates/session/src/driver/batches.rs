//! The receiving end of a loop's batched hand-off, for both sessions' streams: the loop sends
//! a `Vec` of items at a time (one channel operation per batch), the stream hands them out one
//! by one.

use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Items received in batches, taken one at a time.
#[derive(Debug)]
pub(crate) struct Batches<T> {
    rx: mpsc::Receiver<Vec<T>>,
    buf: std::vec::IntoIter<T>,
}

impl<T> Batches<T> {
    pub(crate) fn new(rx: mpsc::Receiver<Vec<T>>) -> Self {
        Self { rx, buf: Vec::new().into_iter() }
    }

    /// The next item, waiting for the next batch if needed; `None` once the loop is gone and
    /// everything was taken.
    #[inline]
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        loop {
            if let Some(item) = self.buf.next() {
                return Poll::Ready(Some(item));
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(batch)) => self.buf = batch.into_iter(),
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
            if let Some(item) = self.buf.next() {
                return Some(item);
            }
            self.buf = self.rx.try_recv().ok()?.into_iter();
        }
    }
}
