use crate::request::{BuildError, ConnectConfig};
use crate::response::{ConnectError, ConnectResponse};
use http::{Request, Response};
use slack_rtm_types::Token;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// A boxed error, for transports behind [`DynHttpTransport`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The boxed future returned by [`DynHttpTransport::send_boxed`].
pub type BoxResponseFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, BoxError>> + Send + 'a>>;

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

    /// Sends a request whose body is produced in chunks (a file upload's bytes), returning the
    /// whole (small) response. The default gathers the body into memory and calls
    /// [`HttpTransport::send`]; a transport that can stream (the built-in hyper one) overrides
    /// it so that only the chunk in flight is held. See [`crate::StreamingBody`].
    fn send_streaming(
        &self,
        request: Request<crate::StreamingBody>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, BoxError>> + Send {
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await?;
            self.send(Request::from_parts(parts, body)).await.map_err(|e| Box::new(e) as BoxError)
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

impl<T: HttpTransport> DynHttpTransport for T {
    fn send_boxed(&self, request: Request<Vec<u8>>) -> BoxResponseFuture<'_> {
        Box::pin(async move { self.send(request).await.map_err(|e| Box::new(e) as BoxError) })
    }

    fn send_streaming_boxed(&self, request: Request<crate::StreamingBody>) -> BoxResponseFuture<'_> {
        Box::pin(self.send_streaming(request))
    }
}

/// Why [`connect_once`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError<E: std::error::Error + 'static> {
    /// The request could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The transport failed (no HTTP answer).
    #[error("rtm.connect transport error: {0}")]
    Transport(#[source] E),
    /// The server answered, but not with a usable socket URL.
    #[error(transparent)]
    Connect(#[from] ConnectError),
}

impl<E: std::error::Error + 'static> CallError<E> {
    /// Whether calling again later may succeed: transport failures and retryable answers.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Build(_) => false,
            CallError::Transport(_) => true,
            CallError::Connect(e) => e.is_retryable(),
        }
    }
}

/// Calls `rtm.connect` once through `transport`: build, send, parse. No retry (the session owns
/// retry policy). The answer's time is taken with `Instant::now()` when it arrives.
pub async fn connect_once<T: HttpTransport + ?Sized>(
    transport: &T,
    token: &Token,
    config: &ConnectConfig,
) -> Result<ConnectResponse, CallError<T::Error>> {
    let request = config.build_request(token)?;
    let response = transport.send(request).await.map_err(CallError::Transport)?;
    Ok(config.parse_response(&response, Instant::now())?)
}
