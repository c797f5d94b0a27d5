//! [`HyperTransportBuilder`]: timeouts, the body cap, TLS, plain http, proxies and the pool.

use crate::connector::{Connector, ProxyConnector};
use crate::proxy::Proxies;
use crate::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, HyperTransport,
    TransportBuildError, default_tls_config,
};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::ClientConfig;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
enum ProxyChoice {
    None,
    Url(String),
    Env,
}

/// Configures a [`HyperTransport`]; made by [`HyperTransport::builder`].
#[derive(Clone)]
#[must_use]
pub struct HyperTransportBuilder {
    connect_timeout: Duration,
    request_timeout: Duration,
    max_body_bytes: usize,
    tls_config: Option<Arc<ClientConfig>>,
    allow_http: bool,
    proxy: ProxyChoice,
    no_proxy: Option<String>,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
}

impl Default for HyperTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: slack_rtm_codec::MAX_RESPONSE_BYTES,
            tls_config: None,
            allow_http: false,
            proxy: ProxyChoice::None,
            no_proxy: None,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: usize::MAX,
        }
    }
}

impl fmt::Debug for HyperTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            ProxyChoice::None => "none",
            ProxyChoice::Url(_) => "explicit (redacted)",
            ProxyChoice::Env => "from environment",
        };
        f.debug_struct("HyperTransportBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("custom_tls_config", &self.tls_config.is_some())
            .field("allow_http", &self.allow_http)
            .field("proxy", &proxy)
            .field("no_proxy", &self.no_proxy)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("pool_max_idle_per_host", &self.pool_max_idle_per_host)
            .finish()
    }
}

impl HyperTransportBuilder {
    /// Deadline for opening a connection: TCP, proxy tunnel and TLS handshake
    /// (default [`DEFAULT_CONNECT_TIMEOUT`]). Must not be zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Deadline for the whole request: connection, sending, response headers and the whole
    /// body (default [`DEFAULT_REQUEST_TIMEOUT`]). Must not be zero.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Largest response body accepted, in bytes (default
    /// [`slack_rtm_codec::MAX_RESPONSE_BYTES`]); a larger one fails with
    /// [`TransportError::BodyTooLarge`](crate::TransportError::BodyTooLarge) without being read further.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Uses your own rustls configuration (e.g. trusting a private CA) instead of the built-in
    /// one. Its ALPN protocols are replaced by `h2` and `http/1.1`.
    pub fn tls_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.tls_config = Some(config);
        self
    }

    /// Allows plain `http://` URLs (default off: such a request fails with
    /// [`TransportError::InsecureScheme`](crate::TransportError::InsecureScheme) before any I/O). Meant for a local emulator.
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Sends every request, and every [`HyperTransport::dial`] stream, through this proxy,
    /// except for the hosts of [`no_proxy`](Self::no_proxy). Replaces
    /// [`proxy_from_env`](Self::proxy_from_env). The URL is checked by [`build`](Self::build)
    /// (an unusable one is a [`TransportBuildError::Proxy`] that never repeats it).
    ///
    /// - `http://[user:pass@]host[:port]` (port 80 by default; a URL without a scheme is
    ///   taken as http): an HTTP proxy, tunnelled with `CONNECT`; the credentials
    ///   (percent-encoded in the URL) are sent as `Proxy-Authorization: Basic`.
    /// - `socks5h://[user:pass@]host[:port]` (port 1080 by default): a SOCKS5 proxy that
    ///   resolves the target's name; `socks5://` resolves it here first. Credentials use
    ///   SOCKS5's user/password method.
    ///
    /// TLS to the target runs through the tunnel, end to end. `https://` (TLS to the proxy)
    /// and SOCKS4 proxies are not supported.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// Takes the proxy from the environment when [`build`](Self::build) runs, as curl does:
    /// for `https://` targets (and [`HyperTransport::dial`]) `https_proxy`, `HTTPS_PROXY`, then
    /// `all_proxy`, `ALL_PROXY`; for `http://` targets `http_proxy` (lower case only: a CGI
    /// server sets `HTTP_PROXY` from a request header), then `all_proxy`, `ALL_PROXY`;
    /// exclusions from `no_proxy` / `NO_PROXY`. Blank variables count as unset; the values take
    /// the forms of [`proxy`](Self::proxy), and an unusable one fails [`build`](Self::build).
    /// Replaces [`proxy`](Self::proxy). Without this call the environment is not read.
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxyChoice::Env;
        self
    }

    /// Hosts that bypass the proxy, as a `NO_PROXY` list (replacing the environment's), with
    /// curl's rules as hyper-util implements them: comma-separated; `*` alone for every host;
    /// `example.com` or `.example.com` for the domain and its subdomains; IP addresses and
    /// CIDR networks (`10.0.0.0/8`, `fd00::/8`). Entries do not take ports or other wildcards.
    pub fn no_proxy(mut self, list: impl Into<String>) -> Self {
        self.no_proxy = Some(list.into());
        self
    }

    /// How long an idle pooled connection is kept (default [`DEFAULT_POOL_IDLE_TIMEOUT`]).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// Most idle connections kept per host (default unlimited).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Builds the transport. Does no I/O (except loading the platform's roots with
    /// `native-roots`) and needs no runtime.
    pub fn build(self) -> Result<HyperTransport, TransportBuildError> {
        if self.connect_timeout.is_zero() {
            return Err(TransportBuildError::InvalidSetting("the connect timeout must not be zero"));
        }
        if self.request_timeout.is_zero() {
            return Err(TransportBuildError::InvalidSetting("the request timeout must not be zero"));
        }
        let proxies = Arc::new(match &self.proxy {
            ProxyChoice::None => Proxies::default(),
            ProxyChoice::Url(url) => Proxies::explicit(url, self.no_proxy.as_deref())?,
            ProxyChoice::Env => {
                Proxies::from_env_with(|name| std::env::var(name).ok(), self.no_proxy.as_deref())?
            }
        });
        let tls = match &self.tls_config {
            Some(config) => ClientConfig::clone(config),
            None => default_tls_config()?,
        };

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        let tcp = ProxyConnector { http, proxies: Arc::clone(&proxies) };
        let schemes = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
        let schemes = if self.allow_http { schemes.https_or_http() } else { schemes.https_only() };
        let https = schemes.enable_all_versions().wrap_connector(tcp.clone());
        let connector = Connector { inner: https, timeout: self.connect_timeout };

        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        tracing::debug!(proxies = ?proxies, allow_http = self.allow_http, "hyper transport built");
        Ok(HyperTransport {
            client,
            request_timeout: self.request_timeout,
            connect_timeout: self.connect_timeout,
            max_body_bytes: self.max_body_bytes,
            allow_http: self.allow_http,
            tcp,
        })
    }
}
