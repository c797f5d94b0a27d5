//! The connector stack handed to hyper-util's pooled client:
//! [`Connector`] (connect deadline) → `HttpsConnector` (TLS, ALPN) → [`ProxyConnector`]
//! (direct TCP, or a TCP connection to the proxy turned into a tunnel with `CONNECT`).

use crate::proxy::{ProxyServer, ProxySettings};
use http::Uri;
use http::uri::Scheme;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

/// A boxed error, as connectors return them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// Longest `CONNECT` answer head accepted from a proxy.
const MAX_PROXY_RESPONSE_HEAD: usize = 8 * 1024;

/// Why a connection could not be made. Internal: mapped to [`crate::TransportError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectorError {
    /// The connect deadline (TCP + proxy tunnel + TLS handshake) passed.
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
    /// The proxy could not be reached or refused the tunnel.
    #[error("{reason}")]
    Proxy {
        /// `host:port` of the proxy, without credentials.
        proxy: String,
        /// What went wrong (never contains credentials).
        reason: String,
        /// The underlying I/O error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Anything else (DNS, TCP, TLS), from the inner connectors.
    #[error(transparent)]
    Other(BoxError),
}

/// Direct TCP, or an HTTP `CONNECT` tunnel through a proxy, decided per target host.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxies: Arc<ProxySettings>,
}

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let https = dst.scheme() == Some(&Scheme::HTTPS);
        let host = dst.host().unwrap_or_default().to_owned();
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let Some(proxy) = self.proxies.proxy_for(https, &host, port).cloned() else {
            tracing::trace!(%host, port, "connecting directly");
            let connecting = self.http.call(dst);
            return Box::pin(async move { connecting.await.map_err(Into::into) });
        };
        let proxy_addr = proxy.display_addr();
        tracing::debug!(%host, port, proxy = %proxy_addr, "connecting through an HTTP CONNECT proxy");
        let proxy_uri = match format!("http://{proxy_addr}").parse::<Uri>() {
            Ok(uri) => uri,
            Err(_) => {
                return Box::pin(async move {
                    Err(proxy_error(&proxy_addr, "the proxy address is not a valid URI", None))
                });
            }
        };
        let connecting = self.http.call(proxy_uri);
        Box::pin(async move {
            let stream = connecting
                .await
                .map_err(|e| proxy_error(&proxy_addr, "cannot connect to the proxy", Some(Box::new(e))))?;
            let mut tcp = stream.into_inner();
            tunnel(&mut tcp, &host, port, &proxy).await?;
            Ok(TokioIo::new(tcp))
        })
    }
}

fn proxy_error(proxy: &str, reason: impl Into<String>, source: Option<BoxError>) -> BoxError {
    Box::new(ConnectorError::Proxy { proxy: proxy.to_owned(), reason: reason.into(), source })
}

/// Asks the proxy for a tunnel to `host:port` and reads its answer head.
async fn tunnel(tcp: &mut TcpStream, host: &str, port: u16, proxy: &ProxyServer) -> Result<(), BoxError> {
    let proxy_addr = proxy.display_addr();
    let io_err = |what: &str, e: io::Error| proxy_error(&proxy_addr, what, Some(Box::new(e)));
    // `host` comes from a parsed `Uri`: it cannot contain CR, LF or spaces.
    let mut head = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some(auth) = &proxy.authorization {
        head.push_str("Proxy-Authorization: ");
        head.push_str(auth);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await.map_err(|e| io_err("cannot send CONNECT to the proxy", e))?;
    drop(head);

    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let end = loop {
        let n =
            tcp.read(&mut chunk).await.map_err(|e| io_err("cannot read the proxy's CONNECT answer", e))?;
        if n == 0 {
            return Err(proxy_error(&proxy_addr, "the proxy closed the connection during CONNECT", None));
        }
        // Search from a little before the new bytes, in case the terminator straddles reads.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            break from + pos + 4;
        }
        if buf.len() > MAX_PROXY_RESPONSE_HEAD {
            return Err(proxy_error(&proxy_addr, "the proxy's CONNECT answer is too long", None));
        }
    };
    if end != buf.len() {
        // The client speaks first in both TLS and HTTP/1: a proxy that already sent more is
        // broken, and those bytes would otherwise be lost.
        return Err(proxy_error(&proxy_addr, "the proxy sent data after its CONNECT answer", None));
    }
    let status = parse_status(&buf[..end])
        .ok_or_else(|| proxy_error(&proxy_addr, "the proxy's CONNECT answer is not HTTP", None))?;
    match status {
        200..=299 => Ok(()),
        407 => Err(proxy_error(
            &proxy_addr,
            "the proxy requires authentication (407); credentials missing or rejected",
            None,
        )),
        other => {
            Err(proxy_error(&proxy_addr, format!("the proxy refused the tunnel with status {other}"), None))
        }
    }
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// The outermost connector: puts one deadline on everything a new connection needs.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) inner: HttpsConnector<ProxyConnector>,
    pub(crate) timeout: Duration,
}

impl Service<Uri> for Connector {
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
    type Error = ConnectorError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectorError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(ConnectorError::Other)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.inner.call(dst);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, connecting).await {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(e)) => Err(match e.downcast::<ConnectorError>() {
                    Ok(ours) => *ours,
                    Err(other) => ConnectorError::Other(other),
                }),
                Err(_) => Err(ConnectorError::Timeout(timeout)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_status;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 Connection established\r\n\r\n"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n"), Some(407));
        assert_eq!(parse_status(b"HTTP/1.1 200\r\n\r\n"), Some(200));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 20 x\r\n\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 abc x\r\n\r\n"), None);
        assert_eq!(parse_status(b"\xff\xfe\r\n\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }
}
