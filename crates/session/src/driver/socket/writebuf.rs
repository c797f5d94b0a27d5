//! The write half's buffer: the frames of one loop turn go out in one write at its flush, like
//! tokio's `BufWriter`, but the room is taken only when something is written and given back
//! after a flush that used little of it.
//!
//! tokio's `BufWriter` allocates its whole capacity when the socket opens and keeps it for the
//! socket's life: 8 KB for each of thousands of idle sessions in one process, which only ever
//! write a keepalive ping of a few dozen bytes. Here an idle session keeps no room between its
//! pings, and a busy one keeps the room its turns need (a flush that filled at least a quarter
//! of it keeps it).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::AsyncWrite;

/// Most bytes buffered before a write goes through to the socket; a write at least this large
/// goes straight to the socket (after what was buffered before it).
pub(crate) const MAX_BUFFERED: usize = 8 * 1024;
/// Room kept after any flush (a few small frames' worth).
const ALWAYS_KEEP: usize = 1024;

/// An `AsyncWrite` that buffers until flushed, holding memory only while it is used.
pub(crate) struct WriteBuf<W> {
    inner: W,
    buf: Vec<u8>,
    /// How much of `buf` the socket already took (a flush interrupted by a full socket).
    written: usize,
}

impl<W: AsyncWrite + Unpin> WriteBuf<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, buf: Vec::new(), written: 0 }
    }

    /// The room held now (for tests and the idle-memory survey).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Writes everything buffered; then gives the room back if this flush used little of it.
    fn poll_flush_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        let used = self.buf.len();
        self.buf.clear();
        self.written = 0;
        if self.buf.capacity() > ALWAYS_KEEP && used < self.buf.capacity() / 4 {
            self.buf = Vec::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for WriteBuf<W> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if self.buf.len() + data.len() > MAX_BUFFERED {
            ready!(self.poll_flush_buf(cx))?;
        }
        if data.len() >= MAX_BUFFERED {
            return Pin::new(&mut self.inner).poll_write(cx, data);
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs.iter().fold(0usize, |n, b| n.saturating_add(b.len()));
        if self.buf.len() + total > MAX_BUFFERED {
            ready!(self.poll_flush_buf(cx))?;
        }
        if total >= MAX_BUFFERED {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        self.buf.reserve(total);
        for b in bufs {
            self.buf.extend_from_slice(b);
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_flush_buf(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_flush_buf(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A sink that records each write it was given.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl AsyncWrite for Writes {
        fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
            self.0.push(data.to_vec());
            Poll::Ready(Ok(data.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn holds_no_room_until_written_and_gives_it_back_after_a_small_flush() {
        let mut w = WriteBuf::new(Writes::default());
        assert_eq!(w.capacity(), 0, "no room taken when the socket opens");
        // A busy turn: 64 acks of 64 bytes go out in one write, and the room is kept.
        for i in 0..64u8 {
            w.write_all(&[i; 64]).await.unwrap();
        }
        assert!(w.inner.0.is_empty(), "nothing reaches the socket before the flush");
        w.flush().await.unwrap();
        assert_eq!(w.inner.0.len(), 1, "one write for the turn");
        assert_eq!(w.inner.0[0].len(), 64 * 64);
        let busy = w.capacity();
        assert!(busy >= 64 * 64, "a busy session keeps its room: {busy}");
        // An idle turn (a keepalive ping) uses little of it: the room is given back.
        w.write_all(b"{\"id\":7,\"type\":\"ping\"}").await.unwrap();
        w.flush().await.unwrap();
        assert_eq!(w.capacity(), 0, "an idle session keeps no room");
        assert_eq!(w.inner.0.last().unwrap(), b"{\"id\":7,\"type\":\"ping\"}");
    }

    #[tokio::test]
    async fn a_large_write_goes_through_in_order_after_what_was_buffered() {
        let mut w = WriteBuf::new(Writes::default());
        w.write_all(b"head").await.unwrap();
        let big = vec![9u8; MAX_BUFFERED + 10];
        w.write_all(&big).await.unwrap();
        w.write_all(b"tail").await.unwrap();
        w.flush().await.unwrap();
        let all: Vec<u8> = w.inner.0.concat();
        assert_eq!(&all[..4], b"head");
        assert_eq!(&all[4..4 + big.len()], &big[..]);
        assert_eq!(&all[4 + big.len()..], b"tail");
        assert_eq!(w.inner.0.len(), 3, "the large one was not copied into the buffer");
        // Vectored writes are buffered the same way.
        let parts = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
        let n = std::future::poll_fn(|cx| Pin::new(&mut w).poll_write_vectored(cx, &parts)).await.unwrap();
        assert_eq!(n, 4);
        w.flush().await.unwrap();
        assert_eq!(w.inner.0.last().unwrap(), b"abcd");
    }
}
