//! The connector stack handed to hyper-util's pooled client:
//! [`Connector`] (connect deadline) → `HttpsConnector` (TLS, ALPN) → [`ProxyConnector`]
//! (direct TCP, or a tunnel through an HTTP `CONNECT` or SOCKS5 proxy).
//!
//! [`ProxyConnector::open`] is also what [`crate::HyperTransport::dial`] uses, so the HTTP
//! requests and the WebSocket's stream take the same route.

use crate::proxy::{Proxies, target_uri};
use http::Uri;
use http::uri::Scheme;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tower_service::Service;

/// A boxed error, as connectors return them.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a connection could not be made. Internal: mapped to [`crate::TransportError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectorError {
    /// The connect deadline (TCP + proxy tunnel + TLS handshake) passed.
    #[error("connect timed out after {0:?}")]
    Timeout(Duration),
    /// The target's host is not a valid host name or address.
    #[error("{0}")]
    InvalidTarget(&'static str),
    /// The proxy answered `CONNECT` with this (non-200) HTTP status.
    #[error("the proxy refused the tunnel with HTTP status {status}")]
    ProxyRefused {
        /// `host:port` of the proxy, without credentials.
        proxy: String,
        /// The status code.
        status: u16,
    },
    /// The proxy could not be reached, failed, or refused a SOCKS5 tunnel.
    #[error("{reason}")]
    Proxy {
        /// `host:port` of the proxy, without credentials.
        proxy: String,
        /// What went wrong (never contains credentials).
        reason: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Anything else (DNS, TCP, TLS), from the inner connectors.
    #[error(transparent)]
    Other(BoxError),
}

/// Direct TCP, or a tunnel through a proxy, decided per target by [`Proxies`].
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    pub(crate) http: HttpConnector,
    pub(crate) proxies: Arc<Proxies>,
}

impl ProxyConnector {
    /// Opens a TCP stream to `target` (made by [`target_uri`]: `https://` or `http://`,
    /// explicit port): directly or through the proxy chosen for it. No deadline: the caller
    /// puts one on it.
    pub(crate) fn open(
        &self,
        target: Uri,
    ) -> impl Future<Output = Result<TcpStream, ConnectorError>> + Send + 'static {
        let route = self.proxies.route(&target);
        let http = self.http.clone();
        async move { crate::tunnel::open(http, route?, target).await }
    }
}

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let https = dst.scheme() == Some(&Scheme::HTTPS);
        let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
        let target = target_uri(if https { "https" } else { "http" }, dst.host().unwrap_or_default(), port);
        let opening = target.map(|target| self.open(target));
        Box::pin(async move {
            match opening?.await {
                Ok(tcp) => Ok(TokioIo::new(tcp)),
                Err(e) => Err(Box::new(e) as BoxError),
            }
        })
    }
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
