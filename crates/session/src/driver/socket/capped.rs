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
        let mut limited = tokio::io::ReadBuf::new(buf.initialize_unfilled_to(MAX_READ));
        std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut limited))?;
        let n = limited.filled().len();
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
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
}
