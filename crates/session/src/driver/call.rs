//! The one `rtm.connect` call path outside tests: [`slack_rtm_codec::connect_once`] (build,
//! send, parse) over a boxed transport. The driver and the `slack-rtm` facade both call
//! [`call_rtm_connect`].

use slack_rtm_codec::{
    ApiCallError, AppToken, ConnectConfig, ConnectResponse, DynHttpTransport, OpenConfig, OpenResponse,
    Token, connect_once, open_once,
};

/// Calls `rtm.connect` once through `transport` ([`connect_once`]: build, send, parse). No
/// retry (the session's machine owns retry policy); no deadline (the caller adds one). The
/// failure says whether the transport or Slack failed, with the transport's error as its source.
pub async fn call_rtm_connect(
    transport: &dyn DynHttpTransport,
    token: &Token,
    config: &ConnectConfig,
) -> Result<ConnectResponse, ApiCallError> {
    connect_once(transport, token, config).await
}

/// Calls `apps.connections.open` once through `transport` ([`open_once`]), the Socket Mode
/// counterpart of [`call_rtm_connect`], with the same error type: the failure is classified
/// like `rtm.connect`'s (fatal set, `Retry-After`), never holds the token, and is not retried
/// here.
pub async fn call_apps_connections_open(
    transport: &dyn DynHttpTransport,
    token: &AppToken,
    config: &OpenConfig,
) -> Result<OpenResponse, ApiCallError> {
    open_once(transport, token, config).await
}
