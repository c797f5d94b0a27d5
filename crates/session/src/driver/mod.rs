//! The tokio driver: runs the [machine](crate::rtm) with real sockets and timers.
//!
//! [`connect`] spawns one task, the loop, which owns the [`Session`](crate::rtm::Session)
//! and nothing else decides anything. Around it:
//!
//! - `rtm.connect` runs in its own task through the transport you give, with a deadline, by
//!   [`call_rtm_connect`] (the one call path, also used by the `slack-rtm` facade); its result
//!   goes back to the loop.
//! - The loop publishes a [`Status`] (state, who and where, last problem, fatal error) that
//!   every [`SessionHandle`] reads, whether or not anyone reads the events.
//! - Each connection has a reader that opens the socket (the byte stream from the
//!   [`Dialer`] — by default TCP with `TCP_NODELAY` —, rustls for `wss://` with the config you
//!   give, the WebSocket handshake with `Sec-WebSocket-Accept` verified), hands the write
//!   half to the loop, then reads: it reassembles fragments (capped at
//!   [`LoopConfig::max_message_bytes`]), classifies each message with
//!   [`RtmIncoming::message`](crate::rtm::RtmIncoming::message) (ordinary events go on
//!   undecoded, to be decoded by the application's task), and forwards WebSocket pings so the
//!   loop answers them. Readers are futures owned
//!   and polled by the loop task itself — one task per session, no cross-task wake-up per
//!   batch of frames — and are never dropped half-way unless their connection is abandoned
//!   (`read_frame` is not cancel-safe).
//! - The loop writes frames itself (then flushes), so "written" is known exactly: a frame the
//!   loop has not written when its socket dies is sent again after the next `hello`.
//! - Events reach the application through a channel, in batches, bounded in events
//!   ([`LoopConfig::capacity`]) and in bytes of frames ([`LoopConfig::capacity_bytes`]). When
//!   either is reached, the loop stops reading sockets (the readers then stop, and TCP pushes
//!   back on the server) and tells the machine, which freezes liveness deadlines: a slow
//!   consumer never causes a spurious reconnect, and memory stays bounded.
//!
//! ```no_run
//! use slack_rtm_codec::Token;
//! use slack_rtm_session::driver::{connect, DriverConfig};
//! use slack_rtm_session::{SessionConfig, SessionEvent};
//! use slack_rtm_codec::types::ClientMessage;
//! use std::sync::Arc;
//! # async fn demo(transport: Arc<dyn slack_rtm_codec::DynHttpTransport>) -> Result<(), Box<dyn std::error::Error>> {
//! # let tls: Arc<rustls::ClientConfig> = unimplemented!();
//! let mut config = DriverConfig::new(SessionConfig::default(), Token::new("xoxb-…"), transport);
//! config.common.tls = Some(tls); // e.g. slack_rtm_hyper::default_tls_config()
//! let (handle, mut events) = connect(config)?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         SessionEvent::Connected { .. } => {
//!             let ack = handle.send(ClientMessage::message("C024BE91L", "Hello world")).await?;
//!             println!("posted: {ack:?}");
//!             handle.shutdown(std::time::Duration::from_secs(5)).await;
//!         }
//!         SessionEvent::Stopped { reason } => println!("stopped: {reason}"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```

mod batches;
mod call;
mod config;
mod conns;
mod dial;
mod drive;
mod flag;
mod handle;
mod inbox;
mod outbox;
mod readers;
mod run;
mod socket;
mod socket_mode;
mod wake;
mod watch;

pub use batches::QueuedBytes;
pub use call::{call_apps_connections_open, call_rtm_connect};
pub use config::{DriverConfig, DriverError, LoopConfig};
pub use dial::{BoxedIo, DialFuture, Dialer, DirectDialer, SocketIo};
pub use handle::{PendingAck, SendOwned, SessionEventStream, SessionHandle, Status};
pub use watch::StatusWatch;

/// Starts a session: spawns its loop on the current tokio runtime and returns the handle and
/// the event stream. The first event is [`SessionEvent::Connecting`](crate::rtm::SessionEvent::Connecting).
pub fn connect(config: DriverConfig) -> Result<(SessionHandle, SessionEventStream), DriverError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| DriverError::NoRuntime)?;
    Ok(run::spawn(config, &runtime))
}

pub use socket_mode::{
    SocketModeDriverConfig, SocketModeHandle, SocketModeStatus, SocketModeStream, SocketModeStreamItem,
    connect_socket_mode,
};
