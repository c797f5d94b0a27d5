//! The Slack RTM and Socket Mode sessions.
//!
//! - [`common`]: what both machines use — backoff, the bounded window of seen keys, the
//!   timer-table mechanism, keepalive and deadline settings, the classification of a failed
//!   opening call, reasons, states — and the [`Machine`](common::Machine) trait both implement.
//!   Always compiled.
//! - [`rtm`]: the RTM sans-IO state machine (no IO, no runtime, time passed in) that makes
//!   every decision of a session: connecting, keepalive, reconnecting with backoff, acks, flow
//!   control, deduplication, shutdown. Always compiled.
//! - [`socket_mode`]: its Socket Mode sibling (several sockets, make-before-break, envelope
//!   acks, exactly-once hand-over by `event_id`). Neither machine imports the other. Always
//!   compiled.
//! - `driver` (default feature `tokio`): runs either machine on tokio with fastwebsockets and
//!   rustls, in one loop generic over [`Machine`](common::Machine). It owns sockets and timers,
//!   nothing else.
//!
//! # The driver
//!
//! With the default `tokio` feature, `driver::connect` starts an RTM session on tokio and returns a
//! cloneable `SessionHandle` (send, shutdown, the published `Status`: state, identity, last
//! problem) and a `SessionEventStream`. Its `DriverConfig` holds every IO setting: the
//! `rtm.connect` configuration and transport, the token, the rustls config for `wss://` (this
//! crate never picks a crypto provider), and the `Dialer` that opens each socket's byte stream.
//!
//! `driver::connect_socket_mode` does the same for Socket Mode with a
//! `SocketModeDriverConfig` (the app token, `apps.connections.open`'s config, the same TLS and
//! `Dialer` settings), returning a `SocketModeHandle` (manual acks, shutdown, the published
//! `SocketModeStatus`) and a `SocketModeStream`. Both run on the same loop and socket code, and
//! share one `LoopConfig` (TLS, dialer, capacity, the opening call's `call_timeout`, the
//! `first_hello_timeout`).
//!
//! # Features
//!
//! - `tokio` (default): the driver.
//! - `testing`: `rtm::testing` and `socket_mode::testing`, the fixtures, virtual-clock
//!   harnesses and invariant checkers shared by this crate's tests, its benchmark and the fuzz
//!   targets (not a stable API).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod common;
pub mod rtm;
pub mod socket_mode;

#[cfg(feature = "tokio")]
pub mod driver;

#[cfg(feature = "tokio")]
pub use driver::{
    Dialer, DirectDialer, DriverConfig, DriverError, LoopConfig, PendingAck, SessionEventStream,
    SessionHandle, Status, connect,
};

pub use rtm::{
    ConnId, ConnectFailure, Reason, RequestId, RtmAck, RtmIncoming, RtmInput, RtmOutput, SendError, Session,
    SessionConfig, SessionEvent, State, StopReason, SubmitError, Warning,
};
