//! The server side of HTTP mode: Slack's Request URLs, verified with the codec's
//! [`slack_rtm_codec::http_mode::Verifier`].
//!
//! - [`SlackReceiver`]: a `tower` service (and a hyper service) that verifies each request and
//!   hands only verified [`Inbound`]s to an [`InboundHandler`]; mount it at a path in axum or
//!   hyper. It answers `url_verification` (the challenge, as plain text) and `ssl_check` itself
//!   and refuses everything else Slack would not send with the codec's status (401, 405, 413,
//!   415, 400), before reading the body when it can. The body is read with a cap and a
//!   deadline (408 when it is too slow).
//! - [`HttpServer`]: a hyper 1 server (HTTP/1.1 and HTTP/2, chosen per connection) serving one
//!   receiver at one path (404 elsewhere), with graceful shutdown.
//!
//! Nothing unverified reaches the handler, and no log line carries a request's content: a
//! refusal is logged with its reason only.

mod drain;
mod receiver;
mod serve;

pub use receiver::{DEFAULT_READ_TIMEOUT, InboundHandler, ReceiverBody, RequestBody, SlackReceiver};
pub use serve::HttpServer;

pub use slack_rtm_codec::http_mode::{Inbound, InboundKind, Refusal, SigningSecret, Verifier};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use std::future::Future;
use std::pin::Pin;

/// Answers `GET`/`HEAD` requests to paths other than the receiver's, on the same server (an
/// OAuth install flow's pages): `None` for a path it does not serve (a 404). It sees the
/// request's head only (method, URI with its query, headers): pages read no body.
pub trait PageHandler: Send + Sync + 'static {
    /// The response for `head`, or `None`.
    fn page(
        &self,
        head: http::request::Parts,
    ) -> Pin<Box<dyn Future<Output = Option<Response<Bytes>>> + Send + '_>>;
}

/// A response with `status`, an optional `Content-Type` and a body.
pub fn response(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: impl Into<Bytes>,
) -> Response<Bytes> {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r
}
