//! The drivers' configuration: what both share ([`LoopConfig`]), and RTM's ([`DriverConfig`]).

use super::dial::{Dialer, DirectDialer};
use super::socket::{OpenConfig, websocket_tls};
use crate::rtm::SessionConfig;
use rustls::ClientConfig;
use slack_rtm_codec::{ConnectConfig, DynHttpTransport, Token};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// [`LoopConfig::capacity_bytes`]'s default.
pub(crate) const DEFAULT_CAPACITY_BYTES: usize = 512 * 1024;

/// What the RTM and the Socket Mode drivers share: the socket settings, the hand-off to the
/// application, and two deadlines that must not be confused — [`LoopConfig::call_timeout`]
/// bounds one HTTP call, [`LoopConfig::first_hello_timeout`] the wait for the first connection.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoopConfig {
    /// The TLS config for `wss://` URLs (e.g. shared with the HTTP transport:
    /// `slack_rtm_hyper::default_tls_config`); `h2` is removed from its ALPN list for the socket.
    /// This crate never picks a crypto provider itself, so a `wss://` URL without it fails to
    /// open (reported as [`Reason::OpenFailed`](crate::common::Reason::OpenFailed)).
    pub tls: Option<Arc<ClientConfig>>,
    /// Opens the byte stream under every WebSocket (directly, or through a proxy). Default
    /// [`DirectDialer`].
    pub dialer: Arc<dyn Dialer>,
    /// Items (events, envelopes) buffered for the application before the session stops reading
    /// sockets. Default 1024.
    pub capacity: usize,
    /// Bytes of frames (events, envelopes: their JSON text) buffered for the application before
    /// the session stops reading sockets, beside [`LoopConfig::capacity`]: whichever is reached
    /// first turns backpressure on. It is what bounds a busy session's memory whatever its
    /// frames weigh (a thousand Slack-shaped events are megabytes). Once it is spent the
    /// sockets are not read on; the loop may go past it by the frames already read (reader
    /// batches of at most 64 frames or about 32 KiB each: those queued for the loop, at most
    /// four, and one per socket), and a single frame larger than it is still delivered
    /// (alone). Default 512 KiB.
    pub capacity_bytes: usize,
    /// Largest message (reassembled from fragments) accepted; a bigger one closes the socket
    /// with [`Reason::MessageTooLarge`](crate::common::Reason::MessageTooLarge) and it is
    /// replaced. Default 16 MiB.
    pub max_message_bytes: usize,
    /// Longest time a frame write (and flush) may take before the socket is declared dead.
    /// Default 10 s.
    pub write_timeout: Duration,
    /// Longest time one opening HTTP call (`rtm.connect`, `apps.connections.open`) may take,
    /// on top of the transport's own limits; a call past it is a retryable failure. Default 30 s.
    pub call_timeout: Duration,
    /// How long whoever starts the session waits for its first connection (RTM's `hello`, or
    /// the first Socket Mode socket's) before giving up on it: the facade's `connect` reads it.
    /// The driver itself keeps retrying until a fatal error. `None`: wait for ever. Default
    /// 60 s — several calls, each bounded by `call_timeout`, fit in it.
    pub first_hello_timeout: Option<Duration>,
}

impl Default for LoopConfig {
    fn default() -> Self {
        Self {
            tls: None,
            dialer: Arc::new(DirectDialer),
            capacity: 1024,
            capacity_bytes: DEFAULT_CAPACITY_BYTES,
            max_message_bytes: 16 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(30),
            first_hello_timeout: Some(Duration::from_secs(60)),
        }
    }
}

impl LoopConfig {
    /// How each socket is opened.
    pub(crate) fn socket_open(&self) -> OpenConfig {
        OpenConfig {
            dialer: self.dialer.clone(),
            tls: self.tls.clone().map(websocket_tls),
            max_message: self.max_message_bytes.max(1),
        }
    }
}

impl fmt::Debug for LoopConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopConfig")
            .field("tls", &self.tls.as_ref().map(|_| "custom"))
            .field("dialer", &self.dialer)
            .field("capacity", &self.capacity)
            .field("capacity_bytes", &self.capacity_bytes)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("write_timeout", &self.write_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("first_hello_timeout", &self.first_hello_timeout)
            .finish()
    }
}

/// The RTM driver's configuration.
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
    /// What both drivers share: TLS, dialer, capacity, size cap, deadlines.
    pub common: LoopConfig,
}

impl DriverConfig {
    /// A config with the defaults (Slack's API, no TLS config, direct connections).
    pub fn new(session: SessionConfig, token: Token, transport: Arc<dyn DynHttpTransport>) -> Self {
        Self { session, connect: ConnectConfig::default(), token, transport, common: LoopConfig::default() }
    }
}

impl fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverConfig")
            .field("session", &self.session)
            .field("connect", &self.connect)
            .field("token", &self.token)
            .field("common", &self.common)
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
