//! Capped reads: the socket's read half returns at most [`MAX_READ`] bytes per read.

use std::pin::Pin;

/// The most one read from the socket may return.
///
/// fastwebsockets reads into a `BytesMut` that doubles whenever a read fills it while less than
/// half of it has been consumed. A client that falls behind a fast sender finds the kernel's
/// whole receive queue ready (megabytes on loopback), so every read filled the buffer and it
/// doubled until it matched that queue: peak RSS jumped by 15–20 MB in the first milliseconds
/// of a burst. Capping each read keeps the buffer at a few times this size; 16 KB is still
/// dozens of typical frames per system call.
pub(crate) const MAX_READ: usize = 16 * 1024;

/// An `AsyncRead` that returns at most [`MAX_READ`] bytes per read.
pub(crate) struct CappedRead<R>(pub(crate) R);

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for CappedRead<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if buf.remaining() <= MAX_READ {
            return Pin::new(&mut self.0).poll_read(cx, buf);
        }
        // The caller's buffer is handed over uninitialised on every read (tokio's `read_buf`),
        // so limiting it in place would zero 16 KB per read, whatever the read brings. Read
        // into this thread's scratch buffer instead (initialised once) and copy what came.
        let inner = Pin::new(&mut self.0);
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                let mut limited = tokio::io::ReadBuf::new(&mut scratch[..]);
                std::task::ready!(inner.poll_read(cx, &mut limited))?;
                buf.put_slice(limited.filled());
                std::task::Poll::Ready(Ok(()))
            }
            // Taken (a reader nested in another on this thread): limit in place.
            Err(_) => {
                let mut limited = tokio::io::ReadBuf::new(buf.initialize_unfilled_to(MAX_READ));
                std::task::ready!(inner.poll_read(cx, &mut limited))?;
                let n = limited.filled().len();
                buf.advance(n);
                std::task::Poll::Ready(Ok(()))
            }
        })
    }
}

thread_local! {
    /// One capped read's room per thread (not per socket: idle sessions stay small).
    static SCRATCH: std::cell::RefCell<Box<[u8]>> = std::cell::RefCell::new(vec![0; MAX_READ].into_boxed_slice());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_are_capped() {
        use tokio::io::AsyncReadExt;
        let data = vec![7u8; MAX_READ * 3 + 5];
        let mut r = CappedRead(&data[..]);
        // A buffer far larger than the cap still gets at most MAX_READ bytes per read.
        let mut buf = bytes::BytesMut::with_capacity(MAX_READ * 8);
        let mut reads = Vec::new();
        loop {
            let n = r.read_buf(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            reads.push(n);
        }
        assert_eq!(reads, vec![MAX_READ, MAX_READ, MAX_READ, 5]);
        assert_eq!(&buf[..], &data[..]);
        // A small buffer is read into directly.
        let mut small = [0u8; 10];
        let mut r = CappedRead(&data[..]);
        assert_eq!(r.read(&mut small).await.unwrap(), 10);
    }

    /// A read while this thread's scratch buffer is taken limits the caller's buffer in place
    /// and reads the same bytes.
    #[tokio::test]
    async fn a_read_with_the_scratch_taken_is_capped_in_place() {
        use tokio::io::AsyncReadExt;
        let data: Vec<u8> = (0..MAX_READ * 2 + 3).map(|i| (i % 251) as u8).collect();
        let mut r = CappedRead(&data[..]);
        let mut buf = bytes::BytesMut::with_capacity(MAX_READ * 4);
        let taken = SCRATCH.with(|s| {
            let _guard = s.borrow_mut();
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let mut read = std::pin::pin!(r.read_buf(&mut buf));
            std::future::Future::poll(read.as_mut(), &mut cx)
        });
        assert!(matches!(taken, std::task::Poll::Ready(Ok(n)) if n == MAX_READ));
        while r.read_buf(&mut buf).await.unwrap() > 0 {}
        assert_eq!(&buf[..], &data[..]);
    }
}
