use crate::net::NetSettings;
use crate::{Client, Error, Events, WebClient};
use slack_rtm_codec::{ConnectConfig, ConnectResponse, HttpMethod};
use slack_rtm_session::driver::{DriverConfig, call_rtm_connect};
use slack_rtm_session::rtm::{KeepaliveConfig, ReconnectPolicy, SendRate, SessionConfig};
use slack_rtm_types::Token;
use std::fmt;

/// Configures and starts a [`Client`]. Made by [`Client::builder`].
///
/// Every setting has a default suited to Slack's published limits; most bots only set the
/// token.
#[must_use = "a builder does nothing until `.connect().await`"]
pub struct ClientBuilder {
    token: Token,
    method: HttpMethod,
    connect: ConnectConfig,
    session: SessionConfig,
    net: NetSettings,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token)
            .field("method", &self.method)
            .field("session", &self.session)
            .field("net", &self.net)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    pub(crate) fn new(token: Token) -> Self {
        Self {
            token,
            method: HttpMethod::Get,
            connect: ConnectConfig::default(),
            session: SessionConfig::default(),
            net: NetSettings::default(),
        }
    }

    crate::net::net_setters!(ClientBuilder);

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

    /// Call `rtm.connect` with `POST` and a form body instead of `GET` (Slack prefers `GET`).
    pub fn use_post(mut self, on: bool) -> Self {
        self.method = if on { HttpMethod::Post } else { HttpMethod::Get };
        self
    }

    /// Application-level keepalive: ping after this much silence, give up on the connection if
    /// nothing arrives within the pong timeout. Default 10 s / 5 s.
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

    pub(crate) fn connect_config(&self) -> Result<ConnectConfig, Error> {
        let mut c = self.connect.clone();
        c.api_base = self.net.api_base()?;
        c.allow_insecure = self.net.allow_insecure;
        c.method = self.method;
        Ok(c)
    }

    /// Calls `rtm.connect` once and returns its answer, without opening the socket: who you
    /// are, the workspace, warnings. Useful to check a token (the CLI's `connect`).
    pub async fn rtm_connect(&self) -> Result<ConnectResponse, Error> {
        self.refuse_app_token()?;
        let config = self.connect_config()?;
        let transport = self.net.io()?.transport;
        call_rtm_connect(&*transport, &self.token, &config).await.map_err(Error::Connect)
    }

    /// A [`WebClient`] with this builder's token, API URL, transport, proxy and TLS settings,
    /// without starting a session. Refuses an app-level (`xapp-`) token: the Web API needs a
    /// bot (`xoxb-`) or user (`xoxp-`) token.
    pub fn build_web(&self) -> Result<WebClient, Error> {
        let config = self.connect_config()?;
        WebClient::new(self.net.io()?.transport, self.token.clone(), config.api_base)
    }

    /// RTM refuses an app-level token: say so before calling, and what to do instead.
    fn refuse_app_token(&self) -> Result<(), Error> {
        if self.token.kind() == slack_rtm_types::TokenKind::App {
            return Err(Error::Config(crate::web::APP_TOKEN_FOR_RTM.into()));
        }
        Ok(())
    }

    /// Starts the session and waits for its first connection (`hello`).
    ///
    /// Returns the client handle and the event stream. Fails at once on a fatal error (such
    /// as `invalid_auth` or `not_allowed_token_type`); retryable failures are retried with
    /// backoff until [`ClientBuilder::connect_timeout`].
    pub async fn connect(self) -> Result<(Client, Events), Error> {
        self.refuse_app_token()?;
        let io = self.net.io()?;
        let common = self.net.loop_config(&io)?;
        let mut driver = DriverConfig::new(self.session.clone(), self.token.clone(), io.transport);
        driver.connect = self.connect_config()?;
        driver.common = common;
        let web = WebClient::unchecked(
            driver.transport.clone(),
            self.token.clone(),
            driver.connect.api_base.clone(),
        );
        crate::client::start(driver, web).await
    }
}
