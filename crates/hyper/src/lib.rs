//! The production HTTP transport of slack-rtm: hyper 1, hyper-util's pooled client and
//! hyper-rustls.
//!
//! [`HyperTransport`] implements [`slack_rtm_codec::HttpTransport`]: it sends one request and
//! returns the whole response, and does nothing else (no retries, no decoding, no rate
//! limiting: those live in the codec and the session).
//!
//! - TLS with rustls: the `aws-lc-rs` provider by default, which prefers the post-quantum
//!   hybrid key exchange X25519MLKEM768; `ring` (classical key exchange only, a smaller build)
//!   with `default-features = false, features = ["ring", "webpki-roots"]`.
//!   With both on, aws-lc-rs is used. The provider is always passed to rustls explicitly
//!   ([`crypto_provider`]), never taken from the process default. With neither on, building a
//!   transport without your own config fails with [`TransportBuildError::NoCryptoProvider`] unless the
//!   application installed a process-wide provider. Mozilla's roots by default
//!   (`webpki-roots`; `native-roots` instead, and it wins when both are on), or your own
//!   [`rustls::ClientConfig`] ([`HyperTransportBuilder::tls_config`]). HTTP/1.1 and HTTP/2,
//!   chosen by ALPN.
//! - A connect deadline (TCP, proxy tunnel and TLS handshake) and a whole-request deadline
//!   (connection, headers and the whole body); the body is capped
//!   ([`slack_rtm_codec::MAX_RESPONSE_BYTES`] by default) so a hostile server cannot exhaust
//!   memory.
//! - `https://` only, unless plain `http://` is explicitly allowed (a local emulator).
//! - Proxies, with hyper-util's proxy support: HTTP proxies through `CONNECT` tunnels (Basic
//!   authentication from the URL's credentials) and SOCKS5 proxies, from an explicit URL or
//!   `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY`, decided per target host.
//! - [`HyperTransport::dial`]: a raw TCP stream to any `host:port` along the same route (direct
//!   or through the same proxy), for the WebSocket, which then runs TLS over it end to end. So
//!   one proxy decision serves both the Web API calls and the socket.
//! - [`server`]: the server side of HTTP mode (Slack's Request URLs): a `tower` service that
//!   verifies each request with the codec and a hyper 1 server around it.
//! - Typed errors ([`TransportError`]) that never contain the token or proxy credentials.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use slack_rtm_codec::{connect_once, ConnectConfig, Token};
//! use slack_rtm_hyper::HyperTransport;
//! use std::time::Duration;
//!
//! let transport = HyperTransport::builder()
//!     .request_timeout(Duration::from_secs(20))
//!     .proxy_from_env()
//!     .build()?;
//! let token = Token::new("xoxb-your-token");
//! let answer = connect_once(&transport, &token, &ConnectConfig::default()).await?;
//! println!("socket URL for {}", answer.connected.team.domain);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod body;
mod builder;
mod connector;
mod error;
mod proxy;
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
mod ring_provider;
pub mod server;
mod tunnel;

pub use builder::HyperTransportBuilder;
pub use error::{TimeoutKind, TransportBuildError, TransportError};

use connector::{Connector, ProxyConnector};
use http::header::CONTENT_LENGTH;
use http::uri::Scheme;
use http::{Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::Client;
use rustls::ClientConfig;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default connect deadline.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default whole-request deadline.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time an idle pooled connection is kept.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// An HTTPS client for the Slack Web API, implementing [`slack_rtm_codec::HttpTransport`].
///
/// Cheap to clone: clones share the connection pool. Needs a tokio runtime (with the `time`
/// and `net` drivers) when sending.
#[derive(Clone)]
pub struct HyperTransport {
    client: Client<Connector, body::ReqBody>,
    request_timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
    allow_http: bool,
    /// Opens TCP streams along the proxy route: the client's connector holds a clone.
    tcp: ProxyConnector,
}

impl HyperTransport {
    /// A transport with the defaults: the built-in TLS configuration, https only, no proxy,
    /// [`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_REQUEST_TIMEOUT`],
    /// [`slack_rtm_codec::MAX_RESPONSE_BYTES`].
    ///
    /// Fails only if the crate was built without a crypto provider or root certificates (see
    /// [`TransportBuildError`]).
    pub fn new() -> Result<Self, TransportBuildError> {
        Self::builder().build()
    }

    /// A builder to configure timeouts, the body cap, TLS, plain http and proxies.
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }

    /// Sends `request` and returns the whole response (also available through
    /// [`slack_rtm_codec::HttpTransport::send`]).
    ///
    /// The HTTP version of `request` is ignored: HTTP/1.1 or HTTP/2 is chosen by ALPN.
    pub async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let (parts, body) = request.into_parts();
        self.send_body(parts, body::ReqBody::full(body), self.request_timeout).await
    }

    /// Sends `request` with its body streamed chunk by chunk (a file upload's bytes): only the
    /// chunk in flight is held in memory. `Content-Length` is the body's declared length; a
    /// source that yields more or fewer bytes fails the request
    /// (the error carries a [`slack_rtm_codec::LengthMismatch`]).
    ///
    /// The deadline is the request timeout plus one second per 64 KiB of body (a floor of
    /// 64 KiB/s), so a large upload is not cut by a deadline made for small calls.
    pub async fn send_streaming(
        &self,
        request: Request<slack_rtm_codec::StreamingBody>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(CONTENT_LENGTH, http::HeaderValue::from(body.length()));
        let deadline = self.request_timeout + Duration::from_secs(body.length() / (64 * 1024));
        self.send_body(parts, body::ReqBody::stream(body), deadline).await
    }

    async fn send_body(
        &self,
        mut parts: http::request::Parts,
        body: body::ReqBody,
        deadline: Duration,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let host = self.check_uri(&parts.uri)?;
        parts.version = Version::HTTP_11;
        let method = parts.method.clone();
        tracing::debug!(%method, %host, path = parts.uri.path(), "sending request");
        let started = Instant::now();
        let request = Request::from_parts(parts, body);
        let result = match tokio::time::timeout(deadline, self.exchange(request, &method, &host)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout {
                host: host.clone(),
                kind: TimeoutKind::Request,
                after: deadline,
            }),
        };
        match &result {
            Ok(response) => tracing::debug!(
                %host,
                status = response.status().as_u16(),
                version = ?response.version(),
                bytes = response.body().len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "response received"
            ),
            Err(error) => tracing::debug!(
                %host,
                %error,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "request failed"
            ),
        }
        result
    }

    /// Checks the scheme and host before any I/O; returns `host:port` for errors and logs.
    fn check_uri(&self, uri: &Uri) -> Result<String, TransportError> {
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or(TransportError::InvalidUrl { reason: "the URL has no host" })?;
        let scheme = uri.scheme().ok_or(TransportError::InvalidUrl { reason: "the URL is not absolute" })?;
        let default_port = if *scheme == Scheme::HTTPS {
            443
        } else if *scheme == Scheme::HTTP {
            80
        } else {
            return Err(TransportError::InvalidUrl { reason: "the scheme must be https (or http)" });
        };
        let host = format!("{host}:{}", uri.port_u16().unwrap_or(default_port));
        if *scheme == Scheme::HTTP && !self.allow_http {
            return Err(TransportError::InsecureScheme { host });
        }
        Ok(host)
    }

    async fn exchange(
        &self,
        request: Request<body::ReqBody>,
        method: &Method,
        host: &str,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self.client.request(request).await.map_err(|e| error::classify(e, host))?;
        let (parts, body) = response.into_parts();
        let limit = self.max_body_bytes;
        // A declared length over the cap fails at once, without reading. (HEAD and 304 answers
        // announce a length but carry no body.)
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|_| *method != Method::HEAD && parts.status != http::StatusCode::NOT_MODIFIED);
        let capacity = match declared {
            Some(declared) if declared > limit as u64 => {
                return Err(TransportError::BodyTooLarge { limit });
            }
            Some(declared) => declared as usize,
            None => 0,
        };
        let mut out = Vec::with_capacity(capacity);
        let mut body = Limited::new(body, limit);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    TransportError::BodyTooLarge { limit }
                } else {
                    error::classify_exchange(e, host.to_owned())
                }
            })?;
            if let Ok(data) = frame.into_data() {
                out.extend_from_slice(&data);
            }
        }
        Ok(Response::from_parts(parts, out))
    }

    /// Opens a raw TCP stream to `host:port` along the transport's proxy route, for a
    /// WebSocket (or anything else) that runs its own protocol, and its own TLS, over it end
    /// to end: directly, through the HTTP proxy's `CONNECT` tunnel, or through the SOCKS5 proxy.
    ///
    /// The route is chosen exactly as for an `https://` request to that host (the same
    /// proxy, the same `NO_PROXY` exclusions), since the stream is meant to carry TLS (a
    /// `wss://` socket; [`dial_plain`](Self::dial_plain) is for `ws://`). `host` is a name or
    /// an IP address (IPv6 with or without brackets). The connect deadline
    /// ([`HyperTransportBuilder::connect_timeout`]) covers the TCP connection and the proxy
    /// handshake. TCP_NODELAY is on.
    ///
    /// Errors are [`TransportError::Proxy`] / [`TransportError::ProxyRefused`] (naming the
    /// proxy, the target and, for a refusal, the proxy's status), [`TransportError::Connect`],
    /// [`TransportError::Timeout`] or [`TransportError::InvalidUrl`]; they convert into an
    /// [`std::io::Error`] that carries them (`?` in a function returning `io::Result`).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use slack_rtm_hyper::HyperTransport;
    /// let transport = HyperTransport::builder().proxy_from_env().build().map_err(std::io::Error::other)?;
    /// let tcp = transport.dial("wss-primary.slack.com", 443).await?;
    /// // …then TLS (e.g. tokio-rustls) and the WebSocket handshake over `tcp`.
    /// # drop(tcp); Ok(()) }
    /// ```
    pub async fn dial(&self, host: &str, port: u16) -> Result<tokio::net::TcpStream, TransportError> {
        self.dial_as("https", host, port).await
    }

    /// Like [`dial`](Self::dial), with the route of an `http://` request to that host: for a
    /// plain `ws://` socket (a local emulator), so that it takes the same route as the
    /// `http://` API calls next to it (`http_proxy` rather than `HTTPS_PROXY`, for instance).
    pub async fn dial_plain(&self, host: &str, port: u16) -> Result<tokio::net::TcpStream, TransportError> {
        self.dial_as("http", host, port).await
    }

    async fn dial_as(
        &self,
        scheme: &str,
        host: &str,
        port: u16,
    ) -> Result<tokio::net::TcpStream, TransportError> {
        let target = match proxy::target_uri(scheme, host, port) {
            Ok(target) => target,
            Err(e) => return Err(error::classify_connect(Box::new(e), &format!("{host}:{port}"))),
        };
        // `host:port`, with an IPv6 address in brackets.
        let shown = target.authority().map(|a| a.to_string()).unwrap_or_default();
        let result = match tokio::time::timeout(self.connect_timeout, self.tcp.open(target)).await {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(error::classify_connect(Box::new(e), &shown)),
            Err(_) => Err(TransportError::Timeout {
                host: shown.clone(),
                kind: TimeoutKind::Connect,
                after: self.connect_timeout,
            }),
        };
        match &result {
            Ok(_) => tracing::debug!(target = %shown, "socket stream open"),
            Err(error) => tracing::debug!(target = %shown, %error, "cannot open the socket stream"),
        }
        result
    }

    /// The whole-request deadline.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The connect deadline.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The response body cap, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
}

impl slack_rtm_codec::HttpTransport for HyperTransport {
    type Error = TransportError;

    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        HyperTransport::send(self, request)
    }

    fn reach(error: &TransportError) -> slack_rtm_codec::Reach {
        error.reach()
    }

    async fn send_streaming(
        &self,
        request: Request<slack_rtm_codec::StreamingBody>,
    ) -> Result<Response<Vec<u8>>, slack_rtm_codec::TransportFailure> {
        HyperTransport::send_streaming(self, request)
            .await
            .map_err(|e| slack_rtm_codec::TransportFailure::new(e.reach(), Box::new(e)))
    }
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_http", &self.allow_http)
            .field("proxies", &self.tcp.proxies)
            .finish_non_exhaustive()
    }
}

/// The rustls crypto provider the crate features choose: aws-lc-rs with the `aws-lc-rs` feature
/// (default; it prefers X25519MLKEM768), else ring with `ring`. With neither, the process-wide
/// default the application installed ([`rustls::crypto::CryptoProvider::install_default`]), or
/// [`TransportBuildError::NoCryptoProvider`]. Every configuration this crate builds is given it
/// explicitly (rustls refuses to pick a default when both providers are compiled in); use it to
/// build your own [`ClientConfig`] (other roots, a client certificate) with the same provider.
pub fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>, TransportBuildError> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(Arc::new(ring_provider::provider()))
    }
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    {
        rustls::crypto::CryptoProvider::get_default().cloned().ok_or(TransportBuildError::NoCryptoProvider)
    }
}

/// The TLS client configuration the crate features choose (crypto provider: [`crypto_provider`];
/// roots: `native-roots` if enabled, else `webpki-roots`), with no ALPN.
/// The transport uses it when given no [`HyperTransportBuilder::tls_config`]; pass the same
/// configuration to the WebSocket side so both trust the same roots.
pub fn default_tls_config() -> Result<ClientConfig, TransportBuildError> {
    let builder = ClientConfig::builder_with_provider(crypto_provider()?)
        .with_safe_default_protocol_versions()
        .map_err(TransportBuildError::Tls)?;
    #[cfg(feature = "native-roots")]
    {
        use hyper_rustls::ConfigBuilderExt;
        Ok(builder.with_native_roots().map_err(TransportBuildError::NativeRoots)?.with_no_client_auth())
    }
    #[cfg(all(feature = "webpki-roots", not(feature = "native-roots")))]
    {
        use hyper_rustls::ConfigBuilderExt;
        Ok(builder.with_webpki_roots().with_no_client_auth())
    }
    #[cfg(not(any(feature = "webpki-roots", feature = "native-roots")))]
    {
        let _ = builder;
        Err(TransportBuildError::NoRootCertificates)
    }
}

// These tests build transports with the default TLS configuration.
#[cfg(all(
    test,
    any(feature = "ring", feature = "aws-lc-rs"),
    any(feature = "webpki-roots", feature = "native-roots")
))]
mod tests {
    use super::*;

    fn request(uri: &str) -> Request<Vec<u8>> {
        let mut auth = http::HeaderValue::from_static("Bearer xoxb-SeCrEt");
        auth.set_sensitive(true);
        Request::builder().uri(uri).header(http::header::AUTHORIZATION, auth).body(Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn plain_http_is_refused_before_any_io() {
        let t = HyperTransport::new().unwrap();
        // Port 9 on a documentation address: any I/O attempt would fail differently.
        let err = t.send(request("http://192.0.2.1:9/api/rtm.connect")).await.unwrap_err();
        assert!(
            matches!(err, TransportError::InsecureScheme { ref host } if host == "192.0.2.1:9"),
            "{err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SeCrEt"));
    }

    #[tokio::test]
    async fn bad_urls_are_typed_errors() {
        let t = HyperTransport::builder().allow_http(true).build().unwrap();
        for uri in ["/relative", "ftp://h/x"] {
            let err = t.send(request(uri)).await.unwrap_err();
            assert!(matches!(err, TransportError::InvalidUrl { .. }), "{uri}: {err:?}");
        }
    }

    #[test]
    fn builder_checks_settings_without_leaking_proxy_passwords() {
        assert!(matches!(
            HyperTransport::builder().request_timeout(Duration::ZERO).build(),
            Err(TransportBuildError::InvalidSetting(_))
        ));
        assert!(matches!(
            HyperTransport::builder().connect_timeout(Duration::ZERO).build(),
            Err(TransportBuildError::InvalidSetting(_))
        ));
        let b = HyperTransport::builder().proxy("http://user:Pa55w0rd@proxy:3128");
        assert!(!format!("{b:?}").contains("Pa55w0rd"));
        let t = b.build().unwrap();
        assert!(!format!("{t:?}").contains("Pa55w0rd"));
        let err = HyperTransport::builder().proxy("https://user:Pa55w0rd@proxy:1080").build().unwrap_err();
        assert!(!format!("{err} {err:?}").contains("Pa55w0rd"));
    }

    #[tokio::test]
    async fn dial_takes_the_https_route_and_dial_plain_the_http_one() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let mut t = HyperTransport::new().unwrap();
        // As if HTTPS_PROXY were set (and http_proxy not), without touching the environment.
        let env = |name: &str| (name == "HTTPS_PROXY").then(|| format!("http://{dead_addr}"));
        t.tcp.proxies = Arc::new(proxy::Proxies::from_env_with(env, None).unwrap());
        let err = t.dial("127.0.0.1", port).await.unwrap_err();
        assert!(
            matches!(err, TransportError::Proxy { ref proxy, .. } if *proxy == dead_addr.to_string()),
            "{err:?}"
        );
        t.dial_plain("127.0.0.1", port).await.unwrap();
        assert!(listener.accept().await.is_ok());
    }

    #[test]
    fn defaults() {
        let t = HyperTransport::new().unwrap();
        assert_eq!(t.max_body_bytes(), slack_rtm_codec::MAX_RESPONSE_BYTES);
        assert_eq!(t.request_timeout(), DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(t.connect_timeout(), DEFAULT_CONNECT_TIMEOUT);
    }
}
