//! The WebSocket's byte stream through the built-in transport's proxy route: one proxy decision
//! (explicit proxy, or `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY`) for the API calls and the socket.

use slack_rtm_hyper::HyperTransport;
use slack_rtm_session::driver::{BoxedIo, DialFuture, Dialer};

/// Opens each socket's TCP stream with [`HyperTransport::dial`] (or
/// [`HyperTransport::dial_plain`] for the `ws://` sockets of an `http://` API base, such as the
/// local emulator): directly, through an HTTP `CONNECT` tunnel or through SOCKS5, exactly as the
/// transport routes its own requests. TLS then runs end to end over the stream.
#[derive(Debug, Clone)]
pub(crate) struct ProxyDialer {
    transport: HyperTransport,
    plain: bool,
}

impl ProxyDialer {
    /// `plain`: the API base is `http://`, so the sockets it hands out are `ws://`.
    pub(crate) fn new(transport: HyperTransport, plain: bool) -> Self {
        Self { transport, plain }
    }
}

impl Dialer for ProxyDialer {
    fn dial<'a>(&'a self, host: &'a str, port: u16) -> DialFuture<'a> {
        Box::pin(async move {
            let tcp = if self.plain {
                self.transport.dial_plain(host, port).await?
            } else {
                self.transport.dial(host, port).await?
            };
            Ok(Box::new(tcp) as BoxedIo)
        })
    }
}
