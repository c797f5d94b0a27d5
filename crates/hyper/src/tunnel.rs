//! Opening a TCP stream to a target along a [`Route`]: directly, through an HTTP `CONNECT`
//! tunnel (hyper-util's [`Tunnel`]) or through a SOCKS5 proxy (hyper-util's [`SocksV5`]).
//!
//! The result is always the plain `TcpStream`: whatever runs on it (TLS, HTTP, a WebSocket)
//! talks to the target end to end; the proxy only relays bytes.

use crate::connector::{BoxError, ConnectorError};
use crate::proxy::{Route, target_uri};
use http::{HeaderValue, Uri};
use hyper::rt::ReadBufCursor;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;

/// hyper-util's `CONNECT` error (its type is not exported by name).
type TunnelError = <Tunnel<Recording> as Service<Uri>>::Error;
/// hyper-util's SOCKS error (its type is not exported by name).
type SocksError = <SocksV5<HttpConnector> as Service<Uri>>::Error;
/// The error of hyper-util's TCP connector.
type TcpError = <HttpConnector as Service<Uri>>::Error;

/// How many bytes of the proxy's answer to `CONNECT` are kept to report its status.
const KEPT_HEAD: usize = 64;

/// Opens a TCP stream to `target` along `route`. `target` comes from [`target_uri`], so it has
/// an explicit port.
pub(crate) async fn open(
    mut http: HttpConnector,
    route: Route,
    target: Uri,
) -> Result<TcpStream, ConnectorError> {
    match route {
        Route::Direct => {
            tracing::trace!(target = %authority(&target), "connecting directly");
            let connected = http.call(target).await;
            connected.map(TokioIo::into_inner).map_err(|e| ConnectorError::Other(Box::new(e)))
        }
        Route::Http { proxy, auth } => connect_tunnel(http, proxy, auth, target).await,
        Route::Socks { proxy, auth, remote_dns } => socks(http, proxy, auth, remote_dns, target).await,
    }
}

/// `host:port` of a URI built by this crate: safe to log and to put in errors (such URIs
/// never hold credentials).
fn authority(uri: &Uri) -> &str {
    uri.authority().map(|a| a.as_str()).unwrap_or_default()
}

fn proxy_failure(proxy: &str, reason: &str, source: Option<BoxError>) -> ConnectorError {
    ConnectorError::Proxy { proxy: proxy.to_owned(), reason: reason.to_owned(), source }
}

async fn connect_tunnel(
    http: HttpConnector,
    proxy: Uri,
    auth: Option<HeaderValue>,
    target: Uri,
) -> Result<TcpStream, ConnectorError> {
    let addr = authority(&proxy).to_owned();
    tracing::debug!(target = %authority(&target), proxy = %addr,
        "connecting through an HTTP CONNECT proxy");
    let head = Arc::new(Mutex::new(Vec::new()));
    let mut tunnel = Tunnel::new(proxy, Recording { http, head: Arc::clone(&head) });
    if let Some(auth) = auth {
        tunnel = tunnel.with_auth(auth);
    }
    match tunnel.call(target).await {
        Ok(stream) => Ok(stream.tcp),
        Err(err) => {
            let head = head.lock().unwrap_or_else(PoisonError::into_inner);
            Err(tunnel_error(err, &addr, &head))
        }
    }
}

fn tunnel_error(err: TunnelError, proxy: &str, head: &[u8]) -> ConnectorError {
    match err {
        TunnelError::ConnectFailed(e) => proxy_failure(proxy, "cannot connect to the proxy", Some(e)),
        TunnelError::Io(e) => proxy_failure(proxy, "I/O error during CONNECT", Some(Box::new(e))),
        TunnelError::ProxyAuthRequired => {
            ConnectorError::ProxyRefused { proxy: proxy.to_owned(), status: 407 }
        }
        TunnelError::TunnelUnsuccessful => match parse_status(head) {
            Some(status) => ConnectorError::ProxyRefused { proxy: proxy.to_owned(), status },
            None => proxy_failure(proxy, "the proxy's answer to CONNECT is not HTTP", None),
        },
        TunnelError::ProxyHeadersTooLong => {
            proxy_failure(proxy, "the proxy's answer to CONNECT is too long", None)
        }
        TunnelError::TunnelUnexpectedEof => {
            proxy_failure(proxy, "the proxy closed the connection during CONNECT", None)
        }
        TunnelError::MissingHost => proxy_failure(proxy, "the target has no host", None),
    }
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.splitn(3, |&b| b == b' ');
    if !parts.next()?.starts_with(b"HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

async fn socks(
    http: HttpConnector,
    proxy: Uri,
    auth: Option<(String, String)>,
    remote_dns: bool,
    target: Uri,
) -> Result<TcpStream, ConnectorError> {
    let addr = authority(&proxy).to_owned();
    tracing::debug!(target = %authority(&target), proxy = %addr,
        remote_dns, "connecting through a SOCKS5 proxy");
    // `socks5://` means the client resolves the name (curl's rule); hyper-util's own option
    // for it would resolve with a blocking call, so resolve here, with tokio.
    let target = if remote_dns { target } else { resolve(target).await? };
    let mut socks = SocksV5::new(proxy, http);
    if let Some((user, pass)) = auth {
        socks = socks.with_auth(user, pass);
    }
    let tunnelled = socks.call(target).await;
    tunnelled.map(TokioIo::into_inner).map_err(|err| socks_error(err, &addr))
}

fn socks_error(err: SocksError, proxy: &str) -> ConnectorError {
    match err {
        SocksError::Inner(e) => proxy_failure(proxy, "cannot connect to the proxy", Some(Box::new(e))),
        SocksError::Io(e) => proxy_failure(proxy, "I/O error during the SOCKS5 handshake", Some(Box::new(e))),
        // The refusals (e.g. "SOCKS error: connection not allowed", "credentials not accepted"):
        // their text never holds the credentials.
        other => proxy_failure(proxy, &other.to_string(), None),
    }
}

/// Resolves the target's name to an address (the first one), unless it is one already.
async fn resolve(target: Uri) -> Result<Uri, ConnectorError> {
    let host = target.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    if host.parse::<IpAddr>().is_ok() {
        return Ok(target);
    }
    let port = target.port_u16().unwrap_or(443);
    let first = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| ConnectorError::Other(Box::new(e)))?
        .next()
        .ok_or_else(|| {
            ConnectorError::Other(Box::new(io::Error::new(
                io::ErrorKind::NotFound,
                "the name has no address",
            )))
        })?;
    target_uri(target.scheme_str().unwrap_or("https"), &first.ip().to_string(), port)
}

/// hyper-util's TCP connector, whose streams keep a copy of the first bytes the proxy sends:
/// hyper-util's [`Tunnel`] reports any refusal but 407 without its status code.
#[derive(Clone)]
struct Recording {
    http: HttpConnector,
    head: Arc<Mutex<Vec<u8>>>,
}

impl Service<Uri> for Recording {
    type Response = Recorded;
    type Error = TcpError;
    type Future = Pin<Box<dyn Future<Output = Result<Recorded, TcpError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.http.call(dst);
        let head = Arc::clone(&self.head);
        Box::pin(async move { Ok(Recorded { tcp: connecting.await?.into_inner(), head }) })
    }
}

/// A TCP stream to the proxy, used only during the `CONNECT` exchange.
struct Recorded {
    tcp: TcpStream,
    head: Arc<Mutex<Vec<u8>>>,
}

impl hyper::rt::Read for Recorded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let mut chunk = [0u8; 1024];
        let n = buf.remaining().min(chunk.len());
        let mut read = ReadBuf::new(&mut chunk[..n]);
        ready!(Pin::new(&mut this.tcp).poll_read(cx, &mut read))?;
        let got = read.filled();
        let mut head = this.head.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = KEPT_HEAD.saturating_sub(head.len()).min(got.len());
        head.extend_from_slice(&got[..keep]);
        buf.put_slice(got);
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Recorded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 Connection established\r\n\r\n"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 403 Forbidden\r\n"), Some(403));
        assert_eq!(parse_status(b"HTTP/1.1 502\r\n\r\n"), Some(502));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 20 x\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 2000 x\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 +12 x\r\n\r\n"), None);
        assert_eq!(parse_status(b"\xff\xfe\r\n\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }
}
