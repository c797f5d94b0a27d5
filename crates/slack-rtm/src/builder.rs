use crate::{Client, Error, Events, WebClient};
use slack_rtm_codec::{ApiBase, ConnectConfig, ConnectResponse, DynHttpTransport, HttpMethod, HttpTransport};
use slack_rtm_session::driver::{Dialer, DriverConfig, call_rtm_connect};
use slack_rtm_session::machine::{KeepaliveConfig, ReconnectPolicy, SendRate, SessionConfig};
use slack_rtm_types::Token;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What a session's driver takes from a builder's network settings (RTM's and Socket Mode's
/// builders alike).
pub(crate) struct Net {
    /// The HTTP transport.
    pub(crate) transport: Arc<dyn DynHttpTransport>,
    /// The sockets' dialer, when the builder chose one (else the driver's direct one).
    pub(crate) dialer: Option<Arc<dyn Dialer>>,
    /// The TLS configuration for `wss://`.
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// The API base and the insecure option.
    pub(crate) connect: ConnectConfig,
    /// The largest message, if set.
    pub(crate) max_message_bytes: Option<usize>,
}

/// Configures and starts a [`Client`]. Made by [`Client::builder`].
///
/// Every setting has a default suited to Slack's published limits; most bots only set the
/// token.
#[must_use = "a builder does nothing until `.connect().await`"]
pub struct ClientBuilder {
    token: Token,
    api_url: Option<String>,
    allow_insecure: bool,
    method: HttpMethod,
    connect: ConnectConfig,
    session: SessionConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    proxy: Option<String>,
    proxy_from_env: bool,
    transport: Option<Arc<dyn DynHttpTransport>>,
    dialer: Option<Arc<dyn Dialer>>,
    event_capacity: usize,
    connect_timeout: Option<Duration>,
    max_message_bytes: Option<usize>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("api_url", &self.api_url)
            .field("allow_insecure", &self.allow_insecure)
            .field("session", &self.session)
            .field("custom_tls", &self.tls.is_some())
            .field("proxy", &self.proxy.as_ref().map(|_| "…"))
            .field("custom_transport", &self.transport.is_some())
            .field("dialer", &self.dialer)
            .field("event_capacity", &self.event_capacity)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(token: Token) -> Self {
        Self {
            token,
            api_url: None,
            allow_insecure: false,
            method: HttpMethod::Get,
            connect: ConnectConfig::default(),
            session: SessionConfig::default(),
            tls: None,
            proxy: None,
            proxy_from_env: true,
            transport: None,
            dialer: None,
            event_capacity: 1024,
            connect_timeout: Some(Duration::from_secs(60)),
            max_message_bytes: None,
        }
    }

    /// Batch presence events: `presence_change` then lists several users at once (`users`).
    /// Both forms arrive as the same [`crate::types::event::PresenceChange`]. Default `false`.
    pub fn batch_presence_aware(mut self, on: bool) -> Self {
        self.connect.options.batch_presence_aware = on;
        self
    }

    /// Receive presence events only for users subscribed with [`Client::subscribe_presence`].
    /// Default `true` (Slack no longer sends unsolicited presence events anyway).
    pub fn presence_sub(mut self, on: bool) -> Self {
        self.connect.options.presence_sub = on;
        self
    }

    /// Another Web API base, e.g. a local emulator's `http://127.0.0.1:PORT/api/`. Default
    /// `https://slack.com/api/`. An `http://` base also needs [`ClientBuilder::allow_insecure`].
    pub fn api_url(mut self, url: &str) -> Self {
        self.api_url = Some(url.to_owned());
        self
    }

    /// Allow `http://` for the API and `ws://` for the socket (only from an `http://` API base:
    /// a secure base never accepts a downgrade). For local emulators; never for Slack.
    pub fn allow_insecure(mut self, on: bool) -> Self {
        self.allow_insecure = on;
        self
    }

    /// Call `rtm.connect` with `POST` and a form body instead of `GET` (Slack prefers `GET`).
    pub fn use_post(mut self, on: bool) -> Self {
        self.method = if on { HttpMethod::Post } else { HttpMethod::Get };
        self
    }

    /// Application-level keepalive: ping after this much silence, give up on the connection if
    /// nothing arrives within the pong timeout. Default 5 s / 10 s.
    pub fn keepalive(mut self, keepalive: KeepaliveConfig) -> Self {
        self.session.keepalive = keepalive;
        self
    }

    /// Backoff between reconnection attempts. Default: 1 s doubling to 60 s, each delay random
    /// in the upper half of its ceiling and never under 0.5 s, reset after a connection stayed
    /// healthy for 30 s.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.session.reconnect = policy;
        self
    }

    /// Outgoing flow control. Default: 1 message/s sustained with a small burst, as Slack
    /// requires.
    pub fn send_rate(mut self, rate: SendRate) -> Self {
        self.session.send_rate = rate;
        self
    }

    /// The whole session configuration, for settings without a dedicated method (deadlines,
    /// queue size, dedupe window). It replaces what [`ClientBuilder::keepalive`],
    /// [`ClientBuilder::reconnect`] and [`ClientBuilder::send_rate`] set; the connect settings
    /// (API URL, presence options, method) are separate and still apply.
    pub fn session_config(mut self, config: SessionConfig) -> Self {
        self.session = config;
        self
    }

    /// Your own TLS configuration (e.g. trusting a corporate root), used for both the HTTP
    /// call and the WebSocket. Build it with an explicit crypto provider.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// A proxy for every network path of the session — the API calls and the WebSocket —
    /// as an HTTP `CONNECT` proxy (`http://user:pass@proxy:3128`) or SOCKS5 (`socks5://…`,
    /// `socks5h://…` to let the proxy resolve names); TLS stays end to end through it. Without
    /// it, `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` from the environment apply (see
    /// [`ClientBuilder::proxy_from_env`]). With your own [`ClientBuilder::transport`], give the
    /// matching [`ClientBuilder::dialer`] too. Credentials are never logged or shown.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// Whether to read `HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` from the environment when no
    /// [`ClientBuilder::proxy`] is set. Default `true`.
    pub fn proxy_from_env(mut self, on: bool) -> Self {
        self.proxy_from_env = on;
        self
    }

    /// Any HTTP client for `rtm.connect` (instead of the built-in hyper transport). Retry,
    /// rate limiting and decoding stay in the session: the transport only sends.
    pub fn transport<T: HttpTransport + 'static>(mut self, transport: T) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// How the byte stream under each WebSocket is opened (e.g. a tunnel through a proxy).
    /// Default: a direct TCP connection. TLS for `wss://` is still done end to end over it.
    pub fn dialer(mut self, dialer: Arc<dyn Dialer>) -> Self {
        self.dialer = Some(dialer);
        self
    }

    /// How many events may wait for the application before the session stops reading the
    /// socket (backpressure, not unbounded memory). Default 1024.
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }

    /// How long [`ClientBuilder::connect`] waits for the first connection (retrying retryable
    /// failures meanwhile) before giving up. `None` waits forever. Default 60 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Largest reassembled WebSocket message accepted (default 16 MiB); a larger one is
    /// reported and the connection replaced.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = Some(bytes);
        self
    }

    pub(crate) fn connect_config(&self) -> Result<ConnectConfig, Error> {
        let mut c = self.connect.clone();
        if let Some(url) = &self.api_url {
            c.api_base =
                ApiBase::parse(url, self.allow_insecure).map_err(|e| Error::Config(e.to_string()))?;
        }
        c.allow_insecure = self.allow_insecure;
        c.method = self.method;
        Ok(c)
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

    fn http_transport(&self) -> Result<Arc<dyn DynHttpTransport>, Error> {
        Ok(self.io()?.transport)
    }

    /// The HTTP transport and the socket dialer, from one proxy decision: the caller's
    /// transport and dialer where given; otherwise (with the `hyper` feature) the built-in
    /// transport, whose proxy route also opens every WebSocket's stream.
    pub(crate) fn io(&self) -> Result<Io, Error> {
        if let Some(t) = &self.transport {
            return Ok(Io { transport: t.clone(), dialer: self.dialer.clone() });
        }
        #[cfg(feature = "hyper")]
        {
            // Sized for Web API pages too (the transport is shared with `Client::web`).
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
                    let plain = !self.connect_config()?.api_base.is_secure();
                    Arc::new(crate::dial::ProxyDialer::new(t.clone(), plain)) as Arc<dyn Dialer>
                }
            };
            Ok(Io { transport: Arc::new(t), dialer: Some(dialer) })
        }
        #[cfg(not(feature = "hyper"))]
        {
            Err(Error::Config(
                "no HTTP transport: enable the `hyper` feature or call ClientBuilder::transport".into(),
            ))
        }
    }

    /// Calls `rtm.connect` once and returns its answer, without opening the socket: who you
    /// are, the workspace, warnings. Useful to check a token (the CLI's `connect`).
    pub async fn rtm_connect(&self) -> Result<ConnectResponse, Error> {
        self.refuse_app_token()?;
        let config = self.connect_config()?;
        let transport = self.http_transport()?;
        call_rtm_connect(&*transport, &self.token, &config).await.map_err(Error::Connect)
    }

    /// A [`WebClient`] with this builder's token, API URL, transport, proxy and TLS settings,
    /// without starting a session. Refuses an app-level (`xapp-`) token: the Web API needs a
    /// bot (`xoxb-`) or user (`xoxp-`) token.
    pub fn build_web(&self) -> Result<WebClient, Error> {
        let config = self.connect_config()?;
        WebClient::new(self.http_transport()?, self.token.clone(), config.api_base)
    }

    /// RTM refuses an app-level token: say so before calling, and what to do instead.
    fn refuse_app_token(&self) -> Result<(), Error> {
        if self.token.kind() == slack_rtm_types::TokenKind::App {
            return Err(Error::Config(crate::web::APP_TOKEN_FOR_RTM.into()));
        }
        Ok(())
    }

    /// The network settings a driver takes (transport, dialer, TLS, API base, size cap).
    pub(crate) fn net(&self) -> Result<Net, Error> {
        let Io { transport, dialer } = self.io()?;
        Ok(Net {
            transport,
            dialer,
            tls: self.effective_tls()?,
            connect: self.connect_config()?,
            max_message_bytes: self.max_message_bytes,
        })
    }

    /// Starts the session and waits for its first connection (`hello`).
    ///
    /// Returns the client handle and the event stream. Fails at once on a fatal error (such
    /// as `invalid_auth` or `not_allowed_token_type`); retryable failures are retried with
    /// backoff until [`ClientBuilder::connect_timeout`].
    pub async fn connect(self) -> Result<(Client, Events), Error> {
        self.refuse_app_token()?;
        let net = self.net()?;
        let mut driver = DriverConfig::new(self.session.clone(), self.token.clone(), net.transport);
        driver.connect = net.connect;
        driver.common.tls = net.tls;
        driver.common.capacity = self.event_capacity;
        driver.common.max_message_bytes = net.max_message_bytes.unwrap_or(driver.common.max_message_bytes);
        driver.common.dialer = net.dialer.unwrap_or(driver.common.dialer);
        driver.common.first_hello_timeout = self.connect_timeout;
        let web = WebClient::unchecked(
            driver.transport.clone(),
            self.token.clone(),
            driver.connect.api_base.clone(),
        );
        crate::client::start(driver, web).await
    }
}

/// How a session reaches Slack: the HTTP transport for API calls and the dialer for its
/// sockets (`None`: the driver's direct TCP), decided together so both take the same proxy route.
pub(crate) struct Io {
    pub(crate) transport: Arc<dyn DynHttpTransport>,
    pub(crate) dialer: Option<Arc<dyn Dialer>>,
}

#[cfg(all(test, feature = "hyper"))]
mod tests {
    use super::*;

    /// The socket gets the TLS configuration the crate features chose, the same one the built-in
    /// HTTP transport uses (built once per process), unless the application gives its own.
    #[test]
    fn the_socket_uses_the_features_tls_configuration() {
        let a = ClientBuilder::new(Token::new("xoxb-1")).effective_tls().unwrap().expect("a default");
        let b = ClientBuilder::new(Token::new("xoxb-2")).effective_tls().unwrap().expect("a default");
        assert!(Arc::ptr_eq(&a, &b), "built once");
        let features = slack_rtm_hyper::default_tls_config().unwrap();
        assert_eq!(
            format!("{:?}", a.crypto_provider().cipher_suites),
            format!("{:?}", features.crypto_provider().cipher_suites)
        );
        let mine = Arc::new(rustls::ClientConfig::clone(&a));
        let chosen =
            ClientBuilder::new(Token::new("xoxb-3")).tls_config(mine.clone()).effective_tls().unwrap();
        assert!(Arc::ptr_eq(&chosen.expect("mine"), &mine));
    }
}
