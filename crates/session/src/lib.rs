//! The Slack RTM session.
//!
//! - [`machine`]: a sans-IO state machine (no IO, no runtime, time passed in) that makes every
//!   decision of a session: connecting, keepalive, reconnecting with backoff, acks, flow
//!   control, deduplication, shutdown. Always compiled.
//! - `driver` (default feature `tokio`): runs the machine on tokio with fastwebsockets and
//!   rustls. It owns sockets and timers, nothing else.
//!
//! # The driver
//!
//! With the default `tokio` feature, `driver::connect` starts a session on tokio and returns a
//! cloneable `SessionHandle` (send, shutdown, state) and an `EventStream`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod machine;

#[cfg(feature = "tokio")]
pub mod driver;

#[cfg(feature = "tokio")]
pub use driver::{DriverConfig, DriverError, EventStream, PendingAck, SessionHandle, connect};

pub use machine::{
    Ack, ConnId, ConnectFailure, Fatal, Input, Output, Reason, RequestId, SendError, Session, SessionConfig,
    SessionEvent, State, SubmitError, Warning,
};
