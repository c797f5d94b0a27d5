//! The HTTP transport and the socket dialer: the [`HttpTransport`] trait every layer calls
//! through (with [`Reach`]: whether a failed request may have reached Slack), the built-in
//! [`HyperTransport`] (feature `hyper`), and the [`Dialer`] that opens the sockets' TCP
//! connections (for a custom network path).

pub use slack_rtm_codec::{
    BoxError, BoxResponseFuture, DynHttpTransport, HttpTransport, Reach, TransportFailure,
};
pub use slack_rtm_session::driver::{BoxedIo, DialFuture, Dialer, DirectDialer, SocketIo};

/// The `http` crate, for writing a custom [`HttpTransport`].
pub use http;

#[cfg(feature = "hyper")]
pub use slack_rtm_hyper::{
    HyperTransport, HyperTransportBuilder, TimeoutKind, TransportBuildError, TransportError,
};
