//! The one `rtm.connect` call path outside tests: [`slack_rtm_codec::connect_once`] (build,
//! send, parse) over a boxed transport. The driver and the `slack-rtm` facade both call
//! [`call_rtm_connect`].

use crate::machine::ConnectFailure;
use slack_rtm_codec::{
    AppToken, BoxError, CallError, ConnectConfig, ConnectResponse, DynHttpTransport, HttpTransport,
    OpenConfig, OpenResponse, Token, connect_once,
};
use std::fmt;
use std::future::Future;

/// The error of a boxed transport, as [`CallError::Transport`] carries it.
#[derive(Debug)]
pub struct TransportError(pub BoxError);

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A `dyn DynHttpTransport` seen as an [`HttpTransport`].
struct Boxed<'a>(&'a dyn DynHttpTransport);

impl HttpTransport for Boxed<'_> {
    type Error = TransportError;

    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        let transport = self.0;
        async move { transport.send_boxed(request).await.map_err(TransportError) }
    }
}

/// Calls `rtm.connect` once through `transport`: [`connect_once`] for a boxed transport. No
/// retry (the session's machine owns retry policy); no deadline (the caller adds one).
pub async fn call_rtm_connect(
    transport: &dyn DynHttpTransport,
    token: &Token,
    config: &ConnectConfig,
) -> Result<ConnectResponse, CallError<TransportError>> {
    connect_once(&Boxed(transport), token, config).await
}

/// Calls `apps.connections.open` once through `transport` (build, send, parse), the Socket
/// Mode counterpart of [`call_rtm_connect`]: the failure is classified like `rtm.connect`'s
/// (fatal set, `Retry-After`), never holds the token, and is not retried here.
pub async fn call_apps_connections_open(
    transport: &dyn DynHttpTransport,
    token: &AppToken,
    config: &OpenConfig,
) -> Result<OpenResponse, ConnectFailure> {
    let request = config.build_request(token).map_err(|e| ConnectFailure::fatal(e.to_string()))?;
    let response = Boxed(transport)
        .send(request)
        .await
        .map_err(|e| ConnectFailure::retryable(format!("apps.connections.open transport error: {e}")))?;
    config
        .parse_response(&response, std::time::Instant::now())
        .map_err(|e| ConnectFailure { message: e.to_string(), ..ConnectFailure::from(&e.0) })
}
