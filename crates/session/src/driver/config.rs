//! The driver's configuration: the machine's, plus everything about IO.

use super::dial::{Dialer, DirectDialer};
use crate::machine::SessionConfig;
use rustls::ClientConfig;
use slack_rtm_codec::{ConnectConfig, DynHttpTransport, Token};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The driver's configuration.
#[non_exhaustive]
pub struct DriverConfig {
    /// The machine's configuration (deadlines, backoff, flow control, …).
    pub session: SessionConfig,
    /// How `rtm.connect` is called (API base, options, method) and which socket URLs are
    /// acceptable.
    pub connect: ConnectConfig,
    /// The token, sent only in the `Authorization` header of `rtm.connect`.
    pub token: Token,
    /// How `rtm.connect` is sent (e.g. `slack-rtm-hyper`'s transport).
    pub transport: Arc<dyn DynHttpTransport>,
    /// The TLS config for `wss://` URLs (e.g. shared with the HTTP transport:
    /// `slack_rtm_hyper::default_tls_config`); `h2` is removed from its ALPN list for the socket.
    /// This crate never picks a crypto provider itself, so a `wss://` URL without it fails to
    /// open (reported as [`Reason::OpenFailed`](crate::machine::Reason::OpenFailed)).
    pub tls: Option<Arc<ClientConfig>>,
    /// Opens the byte stream under every WebSocket (directly, or through a proxy). Default
    /// [`DirectDialer`].
    pub dialer: Arc<dyn Dialer>,
    /// Events buffered for the application before the session stops reading sockets.
    /// Default 1024.
    pub event_capacity: usize,
    /// Largest message (reassembled from fragments) accepted; a bigger one closes the
    /// connection with [`Reason::MessageTooLarge`](crate::machine::Reason::MessageTooLarge) and
    /// reconnects. Default 16 MiB.
    pub max_message_bytes: usize,
    /// Longest time a frame write (and flush) may take before the connection is declared
    /// dead. Default 10 s.
    pub write_timeout: Duration,
    /// Longest time an `rtm.connect` call may take (on top of the transport's own limits).
    /// Default 30 s.
    pub connect_timeout: Duration,
}

impl DriverConfig {
    /// A config with the defaults (Slack's API, no TLS config, direct connections).
    pub fn new(session: SessionConfig, token: Token, transport: Arc<dyn DynHttpTransport>) -> Self {
        Self {
            session,
            connect: ConnectConfig::default(),
            token,
            transport,
            tls: None,
            dialer: Arc::new(DirectDialer),
            event_capacity: 1024,
            max_message_bytes: 16 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverConfig")
            .field("session", &self.session)
            .field("connect", &self.connect)
            .field("token", &self.token)
            .field("tls", &self.tls.as_ref().map(|_| "custom"))
            .field("dialer", &self.dialer)
            .field("event_capacity", &self.event_capacity)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("write_timeout", &self.write_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

/// Why [`connect`](super::connect) could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// Not called from within a tokio runtime.
    #[error("slack-rtm-session's driver must be started from within a tokio runtime")]
    NoRuntime,
}
