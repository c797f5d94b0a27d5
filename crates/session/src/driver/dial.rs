//! The byte stream under a WebSocket: how the driver reaches `host:port` (directly, or through a
//! proxy given by the caller).

/// Any byte stream the WebSocket can run over (a TCP stream, or a tunnel through a proxy).
///
/// The one place a tokio trait appears in this crate's public API, on purpose: a [`Dialer`]
/// hands the tokio driver a stream it reads and writes, so the stream must be tokio's
/// `AsyncRead + AsyncWrite` (any `tokio::net::TcpStream`, `tokio_rustls` stream or
/// `tokio::io::DuplexStream` is one). Every other public signature (handles, statuses,
/// streams) uses this crate's own types ([`StatusWatch`](super::StatusWatch), …).
///
/// It is also [`Any`](std::any::Any) (every `'static` type is): a stream that is a plain
/// `tokio::net::TcpStream` is recognised and read and written without the upgrade's wrapper.
pub trait SocketIo: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + std::any::Any {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> SocketIo for T {}

/// A boxed [`SocketIo`].
pub type BoxedIo = Box<dyn SocketIo>;

/// What [`Dialer::dial`] returns.
pub type DialFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<BoxedIo>> + Send + 'a>>;

/// Opens the raw byte stream to `host:port` under the WebSocket (TLS, if the URL is wss://, is
/// then done by the driver over this stream with the caller's rustls config, end to end).
pub trait Dialer: Send + Sync + std::fmt::Debug + 'static {
    /// Opens a stream to `host:port` (directly, or through a proxy).
    ///
    /// `host` is a name or an IP address, without the brackets of an IPv6 URL. A failure is an
    /// `std::io::Error`; a proxy's own error goes inside it (`std::io::Error::other(e)`): the
    /// driver reports its message (with its sources) as
    /// [`Reason::OpenFailed`](crate::rtm::Reason::OpenFailed).
    fn dial<'a>(&'a self, host: &'a str, port: u16) -> DialFuture<'a>;
}

/// The default: a direct `tokio::net::TcpStream` (TCP_NODELAY on).
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectDialer;

impl Dialer for DirectDialer {
    fn dial<'a>(&'a self, host: &'a str, port: u16) -> DialFuture<'a> {
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            Ok(Box::new(tcp) as BoxedIo)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_direct_dialer_connects_with_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"hi").await.unwrap();
        });
        let mut io = DirectDialer.dial("127.0.0.1", port).await.unwrap();
        let mut buf = [0u8; 2];
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        server.await.unwrap();
        // Nothing listens on a port just freed: a typed io::Error, no panic.
        let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        assert!(DirectDialer.dial("127.0.0.1", free).await.is_err());
    }
}
