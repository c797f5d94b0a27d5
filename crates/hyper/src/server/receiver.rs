//! [`SlackReceiver`]: verify, then hand over.

use super::response;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use slack_rtm_codec::BoxError;
use slack_rtm_codec::http_mode::{Inbound, InboundKind, Refusal, Verifier};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};
use tracing::Instrument;

/// How long a request's body may take to arrive by default: 10 s (Slack sends small bodies at
/// once; a slow body is a client holding a connection open).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The response body type of [`SlackReceiver`].
pub type ReceiverBody = Full<Bytes>;

/// What the receiver hands verified requests to. It answers with the whole HTTP response:
/// within Slack's 3 s, with the ack payload as its body for commands, interactions and options.
///
/// `url_verification` and `ssl_check` are answered by the receiver and never reach it.
pub trait InboundHandler: Send + Sync + 'static {
    /// Handles one verified request.
    fn handle(&self, inbound: Inbound) -> impl Future<Output = Response<Bytes>> + Send;
}

struct Inner<H> {
    verifier: Verifier,
    handler: H,
    read_timeout: Duration,
}

/// A `tower::Service` (and `hyper::service::Service`) for one Request URL: verifies each
/// request with the [`Verifier`] and hands the verified ones to `H`. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use slack_rtm_hyper::server::{HttpServer, Inbound, InboundHandler, SigningSecret, SlackReceiver, Verifier};
///
/// struct Print;
/// impl InboundHandler for Print {
///     async fn handle(&self, inbound: Inbound) -> Response<Bytes> {
///         println!("{:?} {:?}", inbound.kind(), inbound.type_name());
///         Response::new(Bytes::new())
///     }
/// }
///
/// let verifier = Verifier::new(SigningSecret::new(std::env::var("SLACK_SIGNING_SECRET")?))?;
/// let server = HttpServer::bind("127.0.0.1:3000".parse()?, "/slack/events", SlackReceiver::new(verifier, Print)).await?;
/// println!("listening on {}", server.url());
/// # Ok(()) }
/// ```
pub struct SlackReceiver<H> {
    inner: Arc<Inner<H>>,
}

impl<H> Clone for SlackReceiver<H> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<H> std::fmt::Debug for SlackReceiver<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackReceiver")
            .field("verifier", &self.inner.verifier)
            .field("read_timeout", &self.inner.read_timeout)
            .finish_non_exhaustive()
    }
}

impl<H: InboundHandler> SlackReceiver<H> {
    /// A receiver with the default read timeout ([`DEFAULT_READ_TIMEOUT`]).
    pub fn new(verifier: Verifier, handler: H) -> Self {
        Self::with_read_timeout(verifier, handler, DEFAULT_READ_TIMEOUT)
    }

    /// A receiver whose request bodies must arrive within `read_timeout` (else 408).
    pub fn with_read_timeout(verifier: Verifier, handler: H, read_timeout: Duration) -> Self {
        Self { inner: Arc::new(Inner { verifier, handler, read_timeout }) }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// Answers one request.
    pub async fn answer<B: RequestBody>(&self, req: Request<B>) -> Response<Bytes> {
        let span = tracing::debug_span!("slack_request", kind = tracing::field::Empty);
        if span.is_disabled() {
            // No subscriber wants it: skip `Instrumented`'s enter and exit on every poll.
            return self.answer_inner(req, &span).await;
        }
        self.answer_inner(req, &span).instrument(span.clone()).await
    }

    async fn answer_inner<B: RequestBody>(&self, req: Request<B>, span: &tracing::Span) -> Response<Bytes> {
        let inner = &*self.inner;
        let (parts, body) = req.into_parts();
        let head_checked_at = SystemTime::now();
        let format = match inner.verifier.check_head(&parts.method, &parts.headers, head_checked_at) {
            Ok(format) => format,
            Err(refusal) => return refuse(&refusal),
        };
        let limit = inner.verifier.body_limit();
        let (read, waited) = read_body(Limited::new(body, limit), inner.read_timeout).await;
        let bytes = match read {
            Some(Ok(collected)) => collected.to_bytes(),
            Some(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                return refuse(&Refusal::TooLarge { limit });
            }
            Some(Err(_)) => {
                tracing::debug!("the request body could not be read");
                return response(StatusCode::BAD_REQUEST, None, Bytes::new());
            }
            None => {
                tracing::debug!("the request body did not arrive within {:?}", inner.read_timeout);
                return response(StatusCode::REQUEST_TIMEOUT, None, Bytes::new());
            }
        };
        // The window is checked again at the time the body was read; a body that was there at
        // once was read at the head's time (no second clock read).
        let now = if waited { SystemTime::now() } else { head_checked_at };
        let inbound = match inner.verifier.verify_body(format, &parts.headers, &bytes, now) {
            Ok(i) => i,
            Err(refusal) => return refuse(&refusal),
        };
        span.record("kind", tracing::field::debug(inbound.kind()));
        match inbound.kind() {
            InboundKind::UrlVerification => {
                tracing::info!("url_verification answered");
                let challenge = inbound.challenge().unwrap_or_default().to_owned();
                response(StatusCode::OK, Some("text/plain"), challenge)
            }
            InboundKind::SslCheck => response(StatusCode::OK, None, Bytes::new()),
            _ => inner.handler.handle(inbound).await,
        }
    }
}

/// Reads the whole body within `timeout`: `None` when it did not arrive in time; `true` beside
/// it when the read had to wait. The deadline's timer is made only when the body is not there
/// at the first poll: Slack's small bodies come with the head, and a `tokio::time::timeout`
/// per request read the clock and built a timer entry that was never armed.
async fn read_body<B: http_body::Body>(
    body: B,
    timeout: Duration,
) -> (Option<Result<http_body_util::Collected<B::Data>, B::Error>>, bool) {
    let mut collect = std::pin::pin!(body.collect());
    let mut deadline: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = collect.as_mut().poll(cx) {
            return Poll::Ready((Some(r), deadline.is_some()));
        }
        let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        sleep.as_mut().poll(cx).map(|()| (None, true))
    })
    .await
}

fn refuse(refusal: &Refusal) -> Response<Bytes> {
    let status = refusal.status();
    // The reason only: the codec's messages never quote the request.
    tracing::debug!(status = status.as_u16(), "request refused: {refusal}");
    response(status, Some("text/plain"), refusal.to_string())
}

/// A request body the receiver reads: any [`http_body::Body`] that is `Send` (hyper's
/// `Incoming`, axum's `Body`, `Full<Bytes>`, …).
pub trait RequestBody: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static {}

impl<B: http_body::Body<Data: Send, Error: Into<BoxError>> + Send + 'static> RequestBody for B {}

/// The future of [`SlackReceiver`]'s services.
type ServiceFuture = Pin<Box<dyn Future<Output = Result<Response<ReceiverBody>, Infallible>> + Send>>;

impl<H: InboundHandler, B: RequestBody> tower_service::Service<Request<B>> for SlackReceiver<H> {
    type Response = Response<ReceiverBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        hyper::service::Service::call(self, req)
    }
}

impl<H: InboundHandler, B: RequestBody> hyper::service::Service<Request<B>> for SlackReceiver<H> {
    type Response = Response<ReceiverBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.answer(req).await.map(Full::new)) })
    }
}
