use crate::api_error::{ApiCallError, ApiFailure};
use crate::request::ConnectConfig;
use crate::response::ConnectResponse;
use http::{Request, Response};
use slack_rtm_types::Token;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// A boxed error, for transports behind [`DynHttpTransport`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The boxed future returned by [`DynHttpTransport::send_boxed`].
pub type BoxResponseFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, TransportFailure>> + Send + 'a>>;

/// How far a request got before its transport failed: what decides whether a write may be
/// sent again. The transport says it ([`HttpTransport::reach`]); nothing above it guesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reach {
    /// Refused before any I/O, for a reason no retry can fix (e.g. a plain `http://` URL the
    /// transport is not allowed to use).
    Refused,
    /// Failed before the request could leave (connect, TLS, proxy): safe to send again.
    NotSent,
    /// Failed after the request may have been sent (reset, timeout, cut body). What a
    /// transport that cannot tell says.
    MaybeSent,
}

/// A transport's error with how far the request got: the error of
/// [`DynHttpTransport::send_boxed`]. `Display` is the transport's error; `source` is its
/// source (the transport's error itself is [`TransportFailure::source`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct TransportFailure {
    /// How far the request got.
    pub reach: Reach,
    /// The transport's own error.
    pub source: BoxError,
}

impl TransportFailure {
    /// A failure that got as far as `reach`.
    pub fn new(reach: Reach, source: BoxError) -> Self {
        Self { reach, source }
    }

    /// The transport's own error, e.g. to downcast it to the built-in transport's type.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.source.as_ref()
    }
}

impl std::fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for TransportFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// An HTTP client that can send one request and return the whole response.
///
/// This is the only thing a transport does: no retries, no rate limiting, no decoding (the
/// session and the codec do those, so a user who swaps the transport re-implements none of
/// it). A transport should enforce its own timeouts and cap the body (see
/// [`crate::MAX_RESPONSE_BYTES`]).
///
/// Any `Fn(Request<Vec<u8>>) -> impl Future<Output = Result<Response<Vec<u8>>, E>>` is a
/// transport, so another runtime or a test plugs one in with a closure:
///
/// ```
/// use slack_rtm_codec::{connect_once, ConnectConfig, HttpTransport, Token};
///
/// #[derive(Debug)]
/// struct Never;
/// impl std::fmt::Display for Never {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("never") }
/// }
/// impl std::error::Error for Never {}
///
/// // A canned transport: answers every call with a fixed body.
/// let transport = |req: http::Request<Vec<u8>>| async move {
///     assert_eq!(req.uri().path(), "/api/rtm.connect");
///     Ok::<_, Never>(http::Response::new(
///         br#"{"ok":true,"self":{"id":"U1","name":"b"},"team":{"id":"T1","name":"t","domain":"t"},"url":"wss://h/ws"}"#.to_vec(),
///     ))
/// };
/// let (token, config) = (Token::new("xoxb-x"), ConnectConfig::default());
/// let fut = connect_once(&transport, &token, &config);
/// // Drive it with any executor; this future completes on first poll.
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// let mut fut = std::pin::pin!(fut);
/// match fut.as_mut().poll(&mut cx) {
///     std::task::Poll::Ready(Ok(r)) => assert_eq!(r.connected.url, "wss://h/ws"),
///     other => panic!("{other:?}"),
/// }
/// # use std::future::Future;
/// ```
pub trait HttpTransport: Send + Sync {
    /// The transport's error (connect, TLS, timeout, body too large, …). It must never contain
    /// the token.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends the request and returns the whole response.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, Self::Error>> + Send;

    /// How far a request that failed with `error` got: whether it may have reached the server.
    /// The default, for a transport that cannot tell, is [`Reach::MaybeSent`] (a write is then
    /// never sent twice); the built-in transport tells connect, TLS and proxy failures apart.
    fn reach(error: &Self::Error) -> Reach {
        let _ = error;
        Reach::MaybeSent
    }

    /// Sends a request whose body is produced in chunks (a file upload's bytes), returning the
    /// whole (small) response. The default gathers the body into memory and calls
    /// [`HttpTransport::send`]; a transport that can stream (the built-in hyper one) overrides
    /// it so that only the chunk in flight is held. See [`crate::StreamingBody`].
    fn send_streaming(
        &self,
        request: Request<crate::StreamingBody>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportFailure>> + Send {
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.map_err(|e| TransportFailure::new(Reach::NotSent, e))?;
            self.send(Request::from_parts(parts, body)).await.map_err(|e| failure::<Self>(e))
        }
    }
}

impl<F, Fut, E> HttpTransport for F
where
    F: Fn(Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<Vec<u8>>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn send(&self, request: Request<Vec<u8>>) -> impl Future<Output = Result<Response<Vec<u8>>, E>> + Send {
        self(request)
    }
}

/// The object-safe form of [`HttpTransport`], implemented for every transport, so a transport
/// can be stored as `Box<dyn DynHttpTransport>` / `Arc<dyn DynHttpTransport>`.
pub trait DynHttpTransport: Send + Sync {
    /// Sends the request; errors are boxed.
    fn send_boxed(&self, request: Request<Vec<u8>>) -> BoxResponseFuture<'_>;

    /// Sends a request with a streamed body ([`HttpTransport::send_streaming`]).
    fn send_streaming_boxed(&self, request: Request<crate::StreamingBody>) -> BoxResponseFuture<'_>;
}

/// A transport's error as a [`TransportFailure`], with the transport's verdict on how far it got.
fn failure<T: HttpTransport + ?Sized>(e: T::Error) -> TransportFailure {
    TransportFailure::new(T::reach(&e), Box::new(e))
}

impl<T: HttpTransport> DynHttpTransport for T {
    fn send_boxed(&self, request: Request<Vec<u8>>) -> BoxResponseFuture<'_> {
        Box::pin(async move { self.send(request).await.map_err(failure::<T>) })
    }

    fn send_streaming_boxed(&self, request: Request<crate::StreamingBody>) -> BoxResponseFuture<'_> {
        Box::pin(self.send_streaming(request))
    }
}

/// Calls `rtm.connect` once through `transport` (any [`HttpTransport`], or a
/// `dyn DynHttpTransport`): build, send, parse. No retry (the session owns retry policy). The
/// answer's time is taken with `Instant::now()` when it arrives.
pub async fn connect_once(
    transport: &dyn DynHttpTransport,
    token: &Token,
    config: &ConnectConfig,
) -> Result<ConnectResponse, ApiCallError> {
    let request = config.build_request(token);
    let response = send_once("rtm.connect", transport, request).await?;
    config.parse_response(&response, Instant::now())
}

/// Calls `apps.connections.open` once through `transport`, as [`connect_once`] does
/// `rtm.connect`, with the same error type.
pub async fn open_once(
    transport: &dyn DynHttpTransport,
    token: &crate::AppToken,
    config: &crate::OpenConfig,
) -> Result<crate::OpenResponse, ApiCallError> {
    let request = config.build_request(token);
    let response = send_once(crate::APPS_CONNECTIONS_OPEN, transport, request).await?;
    config.parse_response(&response, Instant::now())
}

/// Sends a built request (or reports why it could not be built) as `method`.
async fn send_once(
    method: &str,
    transport: &dyn DynHttpTransport,
    request: Result<Request<Vec<u8>>, crate::BuildError>,
) -> Result<Response<Vec<u8>>, ApiCallError> {
    let request =
        request.map_err(|e| ApiCallError::new(method, None, ApiFailure::InvalidRequest(Box::new(e))))?;
    transport.send_boxed(request).await.map_err(|t| ApiCallError::new(method, None, ApiFailure::Transport(t)))
}
