//! Socket Mode: [`SocketModeClient::builder`] with an app-level token (`xapp-…`), then a stream
//! of [`SocketModeItem`]s — envelopes ([`Delivery`]) and lifecycle items. See the crate
//! documentation for a complete app and `docs/socket-mode.md` for the guarantees.

pub(crate) mod delivery;

pub use delivery::Delivery;
pub use slack_rtm_session::driver::SocketModeStatus;
pub use slack_rtm_session::socket_mode::{
    AckMode, DeliveryAckError, EnvelopeId, MAX_CONNECTIONS, SocketModeConfig, SocketModeEvent,
};
/// The Socket Mode protocol types: payloads, events, interactions ([`BlockActions`],
/// [`ViewAction`], …), frames.
pub use slack_rtm_types::socket_mode::*;

use crate::net::NetSettings;
use crate::{Error, StopReason, WebClient};
use slack_rtm_codec::OpenConfig;
use slack_rtm_session::driver::{
    SocketModeDriverConfig, SocketModeHandle, SocketModeStream, SocketModeStreamItem, connect_socket_mode,
};
use slack_rtm_session::rtm::{KeepaliveConfig, Reason, ReconnectPolicy, State};
use slack_rtm_types::{AppToken, AppTokenError, Token};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// What [`SocketModeClient::builder`] accepts as the app-level token: an [`AppToken`], or a
/// string checked by [`AppToken::new`] (a bot or user token is refused at `connect`).
pub trait IntoAppToken {
    /// The checked token.
    fn into_app_token(self) -> Result<AppToken, AppTokenError>;
}

impl IntoAppToken for AppToken {
    fn into_app_token(self) -> Result<AppToken, AppTokenError> {
        Ok(self)
    }
}

impl IntoAppToken for String {
    fn into_app_token(self) -> Result<AppToken, AppTokenError> {
        AppToken::new(self)
    }
}

impl IntoAppToken for &str {
    fn into_app_token(self) -> Result<AppToken, AppTokenError> {
        AppToken::new(self)
    }
}

impl IntoAppToken for &String {
    fn into_app_token(self) -> Result<AppToken, AppTokenError> {
        AppToken::new(self.as_str())
    }
}

/// Builds a [`SocketModeClient`]. Its network and buffer settings (`api_url`,
/// `allow_insecure`, `tls_config`, `proxy`, `proxy_from_env`, `transport`, `dialer`,
/// `capacity`, `connect_timeout`, `max_message_bytes`) have the same names, meanings and
/// defaults as on [`ClientBuilder`](crate::ClientBuilder).
#[must_use = "a builder does nothing until `.connect().await`"]
pub struct SocketModeClientBuilder {
    app_token: Result<AppToken, AppTokenError>,
    web_token: Option<Result<Token, String>>,
    session: SocketModeConfig,
    net: NetSettings,
}

impl fmt::Debug for SocketModeClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketModeClientBuilder")
            .field("app_token", &self.app_token.as_ref().map(|_| "xapp-…"))
            .field("net", &self.net)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl SocketModeClientBuilder {
    fn new(app_token: Result<AppToken, AppTokenError>) -> Self {
        Self { app_token, web_token: None, session: SocketModeConfig::default(), net: NetSettings::default() }
    }

    crate::net::net_setters!(SocketModeClientBuilder);

    /// Sockets kept open: 1 to 10 (clamped). Default 2.
    pub fn connections(mut self, n: usize) -> Self {
        self.session.connections = n;
        self
    }

    /// When envelopes are acked. Default [`AckMode::Auto`].
    pub fn ack_mode(mut self, mode: AckMode) -> Self {
        self.session.ack_mode = mode;
        self
    }

    /// The bot (or user) token for [`SocketModeClient::web`]. An app-level token is refused
    /// here (at `connect`): the Web API's methods need a bot or user token.
    pub fn web_token(mut self, token: impl Into<String>) -> Self {
        let token: String = token.into();
        self.web_token = Some(if token.trim_start().starts_with("xapp-") {
            Err("web_token: an app-level token (xapp-…) cannot call the Web API; give the bot token (xoxb-…)"
                .into())
        } else {
            Ok(Token::new(token))
        });
        self
    }

    /// Liveness: WebSocket ping after this much silence, and the pong deadline.
    pub fn keepalive(mut self, keepalive: KeepaliveConfig) -> Self {
        self.session.keepalive = keepalive;
        self
    }

    /// Backoff between `apps.connections.open` attempts.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.session.reconnect = policy;
        self
    }

    /// The byte budget `bytes` unless [`SocketModeClientBuilder::capacity_bytes`] was given:
    /// a consumer with a bound of its own (an [`App`](crate::app::App)) needs less waiting.
    pub(crate) fn default_capacity_bytes(mut self, bytes: usize) -> Self {
        self.net.capacity_bytes.get_or_insert(bytes.max(1));
        self
    }

    /// The byte budget set on this builder, if any.
    #[cfg(test)]
    pub(crate) fn capacity_bytes_set(&self) -> Option<usize> {
        self.net.capacity_bytes
    }

    /// Every setting of the session at once (replaces `connections`, `ack_mode`, …).
    pub fn session_config(mut self, config: SocketModeConfig) -> Self {
        self.session = config;
        self
    }

    /// Starts the session and waits for the first socket's `hello`. Fatal errors
    /// (`invalid_auth`, `link_disabled`, a bot token, …) fail at once with a typed error.
    pub async fn connect(self) -> Result<(SocketModeClient, SocketModeItems), Error> {
        let token = self.app_token.map_err(|e| Error::Config(e.to_string()))?;
        let api_base = self.net.api_base()?;
        let io = self.net.io()?;
        let web = match &self.web_token {
            None => None,
            Some(Err(e)) => return Err(Error::Config(e.clone())),
            Some(Ok(t)) => Some(WebClient::new(io.transport.clone(), t.clone(), api_base.clone())?),
        };
        let common = self.net.loop_config(&io)?;
        let mut driver = SocketModeDriverConfig::new(self.session.clone(), token, io.transport);
        driver.open = OpenConfig { api_base, allow_insecure: self.net.allow_insecure };
        driver.common = common;
        let first_hello_timeout = driver.common.first_hello_timeout;
        let ack_mode = self.session.ack_mode;
        let (handle, stream) = connect_socket_mode(driver).map_err(|e| Error::Config(e.to_string()))?;
        let wait = handle.wait_for_status(|s| s.sockets > 0 || s.state == State::Stopped);
        let status = match first_hello_timeout {
            None => wait.await,
            Some(limit) => match tokio::time::timeout(limit, wait).await {
                Ok(s) => s,
                Err(_) => {
                    let last = handle.status().last_problem.map(|r| r.to_string()).unwrap_or_default();
                    handle.shutdown(Duration::ZERO).await;
                    return Err(Error::ConnectTimeout(limit, last));
                }
            },
        };
        if let Some(reason) = status.stopped {
            return Err(Error::Stopped(reason));
        }
        let client = SocketModeClient { handle: handle.clone(), web, ack_mode };
        let acker = (ack_mode == AckMode::Manual).then_some(handle);
        Ok((client, SocketModeItems { stream, acker }))
    }
}

/// A live Socket Mode session: cheap to clone, `Send + Sync`.
#[derive(Clone, Debug)]
pub struct SocketModeClient {
    handle: SocketModeHandle,
    web: Option<WebClient>,
    ack_mode: AckMode,
}

impl SocketModeClient {
    /// A builder for the app-level token (`xapp-…`, scope `connections:write`).
    pub fn builder(app_token: impl IntoAppToken) -> SocketModeClientBuilder {
        SocketModeClientBuilder::new(app_token.into_app_token())
    }

    /// The Web API client over the same transport, with the token given to
    /// [`SocketModeClientBuilder::web_token`] (`None` without one).
    pub fn web(&self) -> Option<&WebClient> {
        self.web.as_ref()
    }

    /// The overall state.
    pub fn state(&self) -> State {
        self.handle.state()
    }

    /// The published status: state, sockets serving, last problem, why it stopped.
    pub fn status(&self) -> SocketModeStatus {
        self.handle.status()
    }

    /// The ack mode.
    pub fn ack_mode(&self) -> AckMode {
        self.ack_mode
    }

    /// Stops taking envelopes, sends the acks still owed (manual mode) within
    /// [`DEFAULT_SHUTDOWN_GRACE`](crate::rtm::DEFAULT_SHUTDOWN_GRACE), closes every socket.
    pub async fn shutdown(&self) {
        self.handle.shutdown(crate::rtm::DEFAULT_SHUTDOWN_GRACE).await;
    }

    /// [`SocketModeClient::shutdown`] with another grace.
    pub async fn shutdown_with(&self, grace: Duration) {
        self.handle.shutdown(grace).await;
    }
}

/// What the session hands the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketModeItem {
    /// An envelope: an Events API event, a slash command, an interaction, or an unknown type.
    Envelope(Delivery),
    /// A socket said `hello`.
    Connected {
        /// Sockets serving now.
        sockets: usize,
    },
    /// A socket ended (a replacement is on its way unless the session is stopping).
    Disconnected {
        /// Why.
        reason: Reason,
        /// Sockets still serving.
        sockets: usize,
    },
    /// After a failure, the next socket is opened after `delay`.
    Reconnecting {
        /// Why.
        reason: Reason,
        /// Failures in a row.
        attempt: u32,
        /// The wait.
        delay: Duration,
    },
    /// No socket served from `from` to `to` (Slack queues and redelivers what happened).
    Gap {
        /// When the last socket went away.
        from: Instant,
        /// When one said hello again.
        to: Instant,
    },
    /// The session stopped: nothing follows.
    Stopped {
        /// Why.
        reason: StopReason,
    },
    /// Anything else the session reports: redeliveries suppressed, ack deadlines (manual
    /// mode), sockets being replaced, `too_many_websockets`, unknown frames, warnings.
    Session(SocketModeEvent),
}

/// The items of a session, in order: [`SocketModeItems::next`] or a
/// [`futures_core::Stream`].
#[derive(Debug)]
pub struct SocketModeItems {
    stream: SocketModeStream,
    acker: Option<SocketModeHandle>,
}

impl SocketModeItems {
    /// The next item; `None` once the session stopped and everything was read. Cancel-safe.
    pub async fn next(&mut self) -> Option<SocketModeItem> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// Bytes of the envelope frames the session handed over and not read yet (counted per
    /// batch of up to 64). The session stops reading its sockets while this is at
    /// [`SocketModeClientBuilder::capacity_bytes`].
    pub fn queued_bytes(&self) -> usize {
        self.stream.queued_bytes()
    }

    /// [`SocketModeItems::queued_bytes`], readable once the items moved to another task.
    pub(crate) fn queued_bytes_gauge(&self) -> slack_rtm_session::driver::QueuedBytes {
        self.stream.queued_bytes_gauge()
    }

    /// The session's next output as it handed it over (an [`App`](crate::app::App)'s pump
    /// reads an envelope there, with no [`Delivery`] made around it; [`SocketModeItems::item`]
    /// makes the item of any other output).
    #[inline]
    pub(crate) fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketModeStreamItem>> {
        self.stream.poll_recv(cx)
    }

    /// Manual ack mode: the session's handle the envelopes' acks go through.
    #[inline]
    pub(crate) fn acker(&self) -> Option<&SocketModeHandle> {
        self.acker.as_ref()
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<SocketModeItem>> {
        loop {
            match self.stream.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(output)) => {
                    if let Some(item) = self.item(output) {
                        return Poll::Ready(Some(item));
                    }
                }
            }
        }
    }

    /// The item for an output (`None` for a kind of output this facade does not know).
    pub(crate) fn item(&self, output: SocketModeStreamItem) -> Option<SocketModeItem> {
        Some(match output {
            SocketModeStreamItem::Envelope(d) => {
                SocketModeItem::Envelope(Delivery::new(d, self.acker.clone()))
            }
            SocketModeStreamItem::Event(e) => match e {
                SocketModeEvent::Connected { sockets, .. } => SocketModeItem::Connected { sockets },
                SocketModeEvent::Disconnected { reason, sockets, .. } => {
                    SocketModeItem::Disconnected { reason, sockets }
                }
                SocketModeEvent::Reconnecting { attempt, reason, delay } => {
                    SocketModeItem::Reconnecting { reason, attempt, delay }
                }
                SocketModeEvent::Gap { from, to } => SocketModeItem::Gap { from, to },
                SocketModeEvent::Stopped { reason } => SocketModeItem::Stopped { reason },
                other => SocketModeItem::Session(other),
            },
            _ => return None,
        })
    }
}

impl futures_core::Stream for SocketModeItems {
    type Item = SocketModeItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SocketModeItem>> {
        self.get_mut().poll_item(cx)
    }
}
