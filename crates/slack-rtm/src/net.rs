//! What both builders share ([`ClientBuilder`](crate::ClientBuilder) for RTM,
//! [`SocketModeClientBuilder`](crate::SocketModeClientBuilder)): how a session reaches Slack
//! (API base, transport, TLS, proxy, dialer) and its driver's buffer, size cap and first
//! deadline; the setters for them, written once ([`net_setters!`]); and how they become a
//! transport, a dialer and a [`LoopConfig`].

use crate::Error;
use slack_rtm_codec::{ApiBase, DynHttpTransport};
use slack_rtm_session::driver::{Dialer, LoopConfig};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The settings both builders have, with the same defaults.
#[derive(Clone)]
pub(crate) struct NetSettings {
    pub(crate) api_url: Option<String>,
    pub(crate) allow_insecure: bool,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) proxy: Option<String>,
    pub(crate) proxy_from_env: bool,
    pub(crate) transport: Option<Arc<dyn DynHttpTransport>>,
    pub(crate) dialer: Option<Arc<dyn Dialer>>,
    pub(crate) capacity: usize,
    pub(crate) capacity_bytes: Option<usize>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) max_message_bytes: Option<usize>,
}

impl Default for NetSettings {
    fn default() -> Self {
        Self {
            api_url: None,
            allow_insecure: false,
            tls: None,
            proxy: None,
            proxy_from_env: true,
            transport: None,
            dialer: None,
            capacity: 1024,
            capacity_bytes: None,
            connect_timeout: Some(Duration::from_secs(60)),
            max_message_bytes: None,
        }
    }
}

impl fmt::Debug for NetSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetSettings")
            .field("api_url", &self.api_url)
            .field("allow_insecure", &self.allow_insecure)
            .field("custom_tls", &self.tls.is_some())
            .field("proxy", &self.proxy.as_ref().map(|_| "…"))
            .field("proxy_from_env", &self.proxy_from_env)
            .field("custom_transport", &self.transport.is_some())
            .field("dialer", &self.dialer)
            .field("capacity", &self.capacity)
            .field("capacity_bytes", &self.capacity_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_message_bytes", &self.max_message_bytes)
            .finish()
    }
}

/// How a session reaches Slack: the HTTP transport for API calls and the dialer for its
/// sockets (`None`: the driver's direct TCP), decided together so both take the same proxy route.
pub(crate) struct Io {
    pub(crate) transport: Arc<dyn DynHttpTransport>,
    pub(crate) dialer: Option<Arc<dyn Dialer>>,
}

impl NetSettings {
    /// The API base: the configured one, or Slack's.
    pub(crate) fn api_base(&self) -> Result<ApiBase, Error> {
        match &self.api_url {
            Some(url) => ApiBase::parse(url, self.allow_insecure).map_err(|e| Error::Config(e.to_string())),
            None => Ok(ApiBase::default()),
        }
    }

    /// The TLS configuration for both the API calls and the socket: yours, or (with the `hyper`
    /// feature) the one the crate features choose — `aws-lc-rs`, `native-roots` — built once
    /// per process. Without either, none: `wss://` URLs then fail to open (the session never
    /// picks a crypto provider itself).
    pub(crate) fn effective_tls(&self) -> Result<Option<Arc<rustls::ClientConfig>>, Error> {
        if let Some(tls) = &self.tls {
            return Ok(Some(tls.clone()));
        }
        #[cfg(feature = "hyper")]
        {
            static DEFAULT: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
            if let Some(tls) = DEFAULT.get() {
                return Ok(Some(tls.clone()));
            }
            let tls = slack_rtm_hyper::default_tls_config()
                .map_err(|e| Error::Config(format!("TLS configuration: {e}")))?;
            Ok(Some(DEFAULT.get_or_init(|| Arc::new(tls)).clone()))
        }
        #[cfg(not(feature = "hyper"))]
        {
            Ok(None)
        }
    }

    /// The HTTP transport and the socket dialer, from one proxy decision: the caller's
    /// transport and dialer where given; otherwise (with the `hyper` feature) the built-in
    /// transport (the configured proxy, else — with `proxy_from_env` — the environment's),
    /// whose proxy route also opens every WebSocket's stream.
    pub(crate) fn io(&self) -> Result<Io, Error> {
        if let Some(t) = &self.transport {
            return Ok(Io { transport: t.clone(), dialer: self.dialer.clone() });
        }
        #[cfg(feature = "hyper")]
        {
            // Sized for Web API pages too (the transport is shared with the Web API client).
            let mut b = slack_rtm_hyper::HyperTransport::builder()
                .allow_http(self.allow_insecure)
                .max_body_bytes(slack_rtm_codec::web::MAX_WEB_RESPONSE_BYTES);
            if let Some(tls) = self.effective_tls()? {
                b = b.tls_config(tls);
            }
            if let Some(p) = &self.proxy {
                b = b.proxy(p.clone());
            } else if self.proxy_from_env {
                b = b.proxy_from_env();
            }
            let t = b.build().map_err(|e| Error::Config(format!("HTTP transport: {e}")))?;
            let dialer = match &self.dialer {
                Some(d) => d.clone(),
                None => {
                    let plain = !self.api_base()?.is_secure();
                    Arc::new(crate::dial::ProxyDialer::new(t.clone(), plain)) as Arc<dyn Dialer>
                }
            };
            Ok(Io { transport: Arc::new(t), dialer: Some(dialer) })
        }
        #[cfg(not(feature = "hyper"))]
        {
            Err(Error::Config(
                "no HTTP transport: enable the `hyper` feature or call the builder's `transport`".into(),
            ))
        }
    }

    /// The driver loop's settings: TLS, the dialer of `io`, capacity, size cap, the wait for
    /// the first `hello`.
    pub(crate) fn loop_config(&self, io: &Io) -> Result<LoopConfig, Error> {
        let mut common = LoopConfig::default();
        common.tls = self.effective_tls()?;
        common.capacity = self.capacity;
        common.capacity_bytes = self.capacity_bytes.unwrap_or(common.capacity_bytes);
        common.max_message_bytes = self.max_message_bytes.unwrap_or(common.max_message_bytes);
        if let Some(d) = &io.dialer {
            common.dialer = d.clone();
        }
        common.first_hello_timeout = self.connect_timeout;
        Ok(common)
    }
}

/// The setters of [`NetSettings`], for a builder with a `net: NetSettings` field: the same
/// names, meanings and defaults on both builders.
macro_rules! net_setters {
    ($builder:ident) => {
        /// Another Web API base, e.g. a local emulator's `http://127.0.0.1:PORT/api/`. Default
        /// `https://slack.com/api/`. An `http://` base also needs
        #[doc = concat!("[`", stringify!($builder), "::allow_insecure`].")]
        pub fn api_url(mut self, url: &str) -> Self {
            self.net.api_url = Some(url.to_owned());
            self
        }

        /// Allow `http://` for the API and `ws://` for the sockets (only from an `http://` API
        /// base: a secure base never accepts a downgrade). For local emulators; never for Slack.
        pub fn allow_insecure(mut self, on: bool) -> Self {
            self.net.allow_insecure = on;
            self
        }

        /// Your own TLS configuration (e.g. trusting a corporate root), used for both the API
        /// calls and the sockets. Build it with an explicit crypto provider.
        pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
            self.net.tls = Some(config);
            self
        }

        /// A proxy for every network path of the session — the API calls and the sockets —
        /// as an HTTP `CONNECT` proxy (`http://user:pass@proxy:3128`) or SOCKS5 (`socks5://…`,
        /// `socks5h://…` to let the proxy resolve names); TLS stays end to end through it.
        /// Without it, `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` from the environment apply (see
        #[doc = concat!("[`", stringify!($builder), "::proxy_from_env`]). With your own [`",
            stringify!($builder), "::transport`], give the matching [`", stringify!($builder), "::dialer`] too.")]
        /// Credentials are never logged or shown.
        pub fn proxy(mut self, url: &str) -> Self {
            self.net.proxy = Some(url.to_owned());
            self
        }

        /// Whether to read `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` from the environment when no
        #[doc = concat!("[`", stringify!($builder), "::proxy`] is set. Default `true`.")]
        pub fn proxy_from_env(mut self, on: bool) -> Self {
            self.net.proxy_from_env = on;
            self
        }

        /// Any HTTP client for the API calls (instead of the built-in hyper transport). Retry,
        /// rate limiting and decoding stay in the session: the transport only sends.
        pub fn transport<T: slack_rtm_codec::HttpTransport + 'static>(mut self, transport: T) -> Self {
            self.net.transport = Some(std::sync::Arc::new(transport));
            self
        }

        /// How the byte stream under each WebSocket is opened (e.g. a tunnel through a proxy).
        /// Default: the built-in transport's route (direct TCP, or its proxy). TLS for `wss://`
        /// is still done end to end over it.
        pub fn dialer(mut self, dialer: std::sync::Arc<dyn slack_rtm_session::driver::Dialer>) -> Self {
            self.net.dialer = Some(dialer);
            self
        }

        /// How many items may wait for the application before the session stops reading its
        /// sockets (backpressure, not unbounded memory). Default 1024.
        pub fn capacity(mut self, capacity: usize) -> Self {
            self.net.capacity = capacity.max(1);
            self
        }

        /// How many bytes of frames (the events' or envelopes' JSON text) may wait for the
        /// application before the session stops reading its sockets, beside
        #[doc = concat!("[`", stringify!($builder), "::capacity`]: whichever is reached first turns backpressure on.")]
        /// This is what bounds a busy session's memory whatever its frames weigh; a frame
        /// larger than it is still delivered. Default 512 KiB (for the Socket Mode session an
        /// [`App`](crate::app::App) runs, 128 KiB on tokio's current-thread runtime and 384 KiB on
        /// the multi-thread one: its dispatcher bounds what it holds itself).
        pub fn capacity_bytes(mut self, bytes: usize) -> Self {
            self.net.capacity_bytes = Some(bytes.max(1));
            self
        }

        /// How long `connect` waits for the first connection (retrying retryable failures
        /// meanwhile) before giving up. `None` waits forever. Default 60 s.
        pub fn connect_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.net.connect_timeout = timeout;
            self
        }

        /// Largest reassembled WebSocket message accepted (default 16 MiB); a larger one is
        /// reported and the socket replaced.
        pub fn max_message_bytes(mut self, bytes: usize) -> Self {
            self.net.max_message_bytes = Some(bytes);
            self
        }
    };
}
pub(crate) use net_setters;

#[cfg(all(test, feature = "hyper"))]
mod tests {
    use super::*;

    /// The socket gets the TLS configuration the crate features chose, the same one the built-in
    /// HTTP transport uses (built once per process), unless the application gives its own.
    #[test]
    fn the_socket_uses_the_features_tls_configuration() {
        let a = NetSettings::default().effective_tls().unwrap().expect("a default");
        let b = NetSettings::default().effective_tls().unwrap().expect("a default");
        assert!(Arc::ptr_eq(&a, &b), "built once");
        let features = slack_rtm_hyper::default_tls_config().unwrap();
        assert_eq!(
            format!("{:?}", a.crypto_provider().cipher_suites),
            format!("{:?}", features.crypto_provider().cipher_suites)
        );
        let mine = Arc::new(rustls::ClientConfig::clone(&a));
        let chosen =
            NetSettings { tls: Some(mine.clone()), ..NetSettings::default() }.effective_tls().unwrap();
        assert!(Arc::ptr_eq(&chosen.expect("mine"), &mine));
    }
}
