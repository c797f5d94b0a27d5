//! The two halves of an open socket's byte stream: the reader's and the writer's.
//!
//! After the HTTP/1.1 upgrade, hyper hands the stream back behind its own wrapper (a boxed
//! stream behind a buffer of the bytes read past the `101` answer), and `tokio::io::split`
//! shares it between the halves behind a lock. A plain TCP stream (the default dialer's, or any
//! dialer's that returns a `tokio::net::TcpStream`) is taken out of that wrapper instead and
//! split into tokio's owned halves, which read and write the socket directly, with no lock and
//! no adapter between tokio's and hyper's traits (an RTM round trip reads three times and
//! writes once: ≈ 400 instructions fewer, docs/perf/rtt6.md). Any other stream (TLS, a
//! proxy's tunnel) keeps the wrapper and the shared halves.

use bytes::{Buf, Bytes};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// The reader's half.
pub(crate) enum ReadHalf {
    /// A TCP socket read directly, after the bytes the upgrade read past its answer.
    Tcp { early: Bytes, half: OwnedReadHalf },
    /// Anything else, behind hyper's wrapper, sharing it with the writer.
    Shared(tokio::io::ReadHalf<TokioIo<Upgraded>>),
}

/// The writer's half.
pub(crate) enum WriteHalf {
    /// A TCP socket written directly.
    Tcp(TcpWrite),
    /// Anything else, behind hyper's wrapper, sharing it with the reader.
    Shared(tokio::io::WriteHalf<TokioIo<Upgraded>>),
}

/// tokio's owned write half, without its shutdown when dropped: as with the shared halves, the
/// socket stays open both ways until both halves are gone (a close frame written and its
/// writer dropped still lets the reader read the peer's answer).
pub(crate) struct TcpWrite(Option<OwnedWriteHalf>);

impl Drop for TcpWrite {
    fn drop(&mut self) {
        if let Some(half) = self.0.take() {
            half.forget();
        }
    }
}

impl TcpWrite {
    fn half(&mut self) -> io::Result<Pin<&mut OwnedWriteHalf>> {
        // Only `drop` takes it.
        self.0.as_mut().map(Pin::new).ok_or_else(|| io::ErrorKind::NotConnected.into())
    }
}

/// Splits the upgraded stream of a socket's handshake.
pub(crate) fn split(io: TokioIo<Upgraded>) -> (ReadHalf, WriteHalf) {
    match io.into_inner().downcast::<TokioIo<TcpStream>>() {
        Ok(parts) => {
            let (read, write) = parts.io.into_inner().into_split();
            (ReadHalf::Tcp { early: own(parts.read_buf), half: read }, WriteHalf::Tcp(TcpWrite(Some(write))))
        }
        Err(upgraded) => {
            let (read, write) = tokio::io::split(TokioIo::new(upgraded));
            (ReadHalf::Shared(read), WriteHalf::Shared(write))
        }
    }
}

/// The bytes the upgrade read past its answer, in a buffer of their own: hyper's are a view
/// into its whole read buffer (kilobytes), which a long-lived socket would otherwise keep
/// alive for its lifetime — nearly always for nothing (the rest is usually empty).
fn own(rest: Bytes) -> Bytes {
    if rest.is_empty() { Bytes::new() } else { Bytes::copy_from_slice(&rest) }
}

impl AsyncRead for ReadHalf {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ReadHalf::Tcp { early, half } => {
                if !early.is_empty() {
                    // As hyper's wrapper did: what the upgrade read past its answer comes first.
                    let n = early.len().min(buf.remaining());
                    buf.put_slice(&early[..n]);
                    early.advance(n);
                    if early.is_empty() {
                        // Released once read.
                        *early = Bytes::new();
                    }
                    return Poll::Ready(Ok(()));
                }
                Pin::new(half).poll_read(cx, buf)
            }
            ReadHalf::Shared(half) => Pin::new(half).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Tcp(w) => w.half()?.poll_write(cx, data),
            WriteHalf::Shared(half) => Pin::new(half).poll_write(cx, data),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            WriteHalf::Tcp(w) => w.half()?.poll_write_vectored(cx, bufs),
            WriteHalf::Shared(half) => Pin::new(half).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            WriteHalf::Tcp(w) => w.0.as_ref().is_some_and(|h| h.is_write_vectored()),
            WriteHalf::Shared(half) => half.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Tcp(w) => w.half()?.poll_flush(cx),
            WriteHalf::Shared(half) => Pin::new(half).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            WriteHalf::Tcp(w) => w.half()?.poll_shutdown(cx),
            WriteHalf::Shared(half) => Pin::new(half).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Empty;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Spawn;

    impl<F: std::future::Future<Output = ()> + Send + 'static> hyper::rt::Executor<F> for Spawn {
        fn execute(&self, fut: F) {
            tokio::spawn(fut);
        }
    }

    /// The server's side of an upgrade: answers `101` with `early` in the same write, then
    /// answers each 5 bytes it reads with `late`.
    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, early: &[u8]) {
        let mut request = Vec::new();
        while !request.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            if s.read(&mut b).await.unwrap() == 0 {
                return;
            }
            request.push(b[0]);
        }
        let mut answer =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec();
        answer.extend_from_slice(early);
        s.write_all(&answer).await.unwrap();
        let mut five = [0u8; 5];
        s.read_exact(&mut five).await.unwrap();
        s.write_all(b"late").await.unwrap();
    }

    async fn upgrade<S: AsyncRead + AsyncWrite + Send + Unpin + 'static>(io: S) -> (ReadHalf, WriteHalf) {
        let request = http::Request::builder()
            .uri("/")
            .header("Host", "localhost")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let (ws, _) = fastwebsockets::handshake::client(&Spawn, request, io).await.unwrap();
        split(ws.into_inner())
    }

    /// Reads everything the server sends after the upgrade: `early`, then (after writing 5
    /// bytes) `late`.
    async fn talk(mut r: ReadHalf, mut w: WriteHalf, early: &[u8]) {
        let mut got = vec![0u8; early.len()];
        r.read_exact(&mut got).await.unwrap();
        assert_eq!(got, early);
        w.write_all(b"hello").await.unwrap();
        w.flush().await.unwrap();
        let mut late = [0u8; 4];
        r.read_exact(&mut late).await.unwrap();
        assert_eq!(&late, b"late");
    }

    #[tokio::test]
    async fn a_tcp_stream_is_read_and_written_directly_after_the_upgrade() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server =
            tokio::spawn(async move { serve(listener.accept().await.unwrap().0, b"early bytes").await });
        let (r, w) = upgrade(TcpStream::connect(addr).await.unwrap()).await;
        assert!(matches!(r, ReadHalf::Tcp { .. }) && matches!(w, WriteHalf::Tcp(_)));
        talk(r, w, b"early bytes").await;
        server.await.unwrap();
    }

    #[tokio::test]
    async fn any_other_stream_keeps_the_shared_halves() {
        let (client, server_side) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move { serve(server_side, b"early bytes").await });
        let (r, w) = upgrade(client).await;
        assert!(matches!(r, ReadHalf::Shared(_)) && matches!(w, WriteHalf::Shared(_)));
        talk(r, w, b"early bytes").await;
        server.await.unwrap();
    }

    /// Sets its flag when the buffer it owns is freed.
    struct Owner(Arc<AtomicBool>, Vec<u8>);

    impl AsRef<[u8]> for Owner {
        fn as_ref(&self) -> &[u8] {
            &self.1
        }
    }

    impl Drop for Owner {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_rest_of_the_upgrades_read_buffer_does_not_keep_that_buffer_alive() {
        for (answer_len, rest) in [(8, &b""[..]), (8, &b"early"[..])] {
            let freed = Arc::new(AtomicBool::new(false));
            let mut read = vec![b'x'; answer_len];
            read.extend_from_slice(rest);
            let buffer = Bytes::from_owner(Owner(freed.clone(), read));
            let owned = own(buffer.slice(answer_len..));
            drop(buffer);
            assert!(freed.load(Ordering::SeqCst), "hyper's buffer freed (rest {rest:?})");
            assert_eq!(&owned[..], rest);
        }
    }

    #[tokio::test]
    async fn the_bytes_read_past_the_upgrade_come_before_the_socket_and_in_pieces() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b" and then the socket").await.unwrap();
            s
        });
        let (read, _write) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut r = ReadHalf::Tcp { early: Bytes::from_static(b"already read"), half: read };
        // A buffer smaller than what was read early: the rest comes with the next read.
        let mut small = [0u8; 7];
        r.read_exact(&mut small).await.unwrap();
        assert_eq!(&small, b"already");
        let mut rest = vec![0u8; " read and then the socket".len()];
        r.read_exact(&mut rest).await.unwrap();
        assert_eq!(rest, b" read and then the socket");
        drop(peer.await.unwrap());
    }
}
