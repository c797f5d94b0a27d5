//! The Web API client: every method through the same [`HttpTransport`](crate::transport::HttpTransport)
//! as `rtm.connect`, with Slack's rate limits and safe retries.

mod assistant;
mod calls;
mod methods;
mod pager;
mod upload;

pub use calls::PostMessageCall;
pub use pager::{Pager, Pages};
pub use slack_rtm_codec::{ApiCallError, ApiFailure};
pub use upload::{Progress, UPLOAD_CHUNK, UploadCall, UploadError, UploadFile};
mod stream;

pub use stream::{ChatStream, ChatStreamBuilder, StreamError, StreamReport};

use serde::Serialize;
use serde_json::{Map, Value};
use slack_rtm_codec::web::{
    BodyEncoding, Decision, Failure, body_encoding, build_web_request_as, check_method, parse_web_response,
    to_args,
};
use slack_rtm_codec::{ApiBase, DynHttpTransport};
use slack_rtm_types::{Token, TokenKind};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use slack_rtm_codec::web::{RateLimiter, RateTier, RetryPolicy, StreamConfig, WebResponse};

/// The message given when an app-level token is used for the Web API.
pub(crate) const APP_TOKEN_REFUSED: &str =
    "an app-level token (xapp-) cannot call the Web API; use a bot (xoxb-) or user (xoxp-) token";

/// The message given when an app-level token is used for RTM.
pub(crate) const APP_TOKEN_FOR_RTM: &str = "an app-level token (xapp-) cannot call rtm.connect: RTM needs a \
     classic bot token (xoxb-) or a user token (xoxp-); an app-level token opens Socket Mode connections \
     (SocketModeClient, or `slack-rtm socket tail`)";

/// A Slack Web API client: [`WebClient::call`] for any method, typed helpers for the calls a
/// real-time bot makes (`chat.postMessage`, `conversations.history`, `views.open`, …).
///
/// Get one from a live session with [`crate::Client::web`] (same transport, proxy and TLS
/// settings), or on its own with [`crate::ClientBuilder::build_web`]. Cheap to clone; every
/// clone shares the rate limiter.
///
/// - **Rate limits**: calls are paced per method at Slack's tier rates (per channel for
///   `chat.postMessage`: 1 per second after a burst of 3), so a burst waits instead of
///   failing; a 429 holds every call of that method for `Retry-After`, then the call is sent
///   again. See [`slack_rtm_codec::web::RateTier`] for the tiers.
/// - **Retries**: idempotent reads are retried after 5xx, non-JSON answers and transport
///   failures (3 times by default, with backoff); writes such as `chat.postMessage` are never
///   sent again once they may have reached Slack: they fail with
///   [`ApiFailure::OutcomeUnknown`] instead. See [`RetryPolicy`].
#[derive(Clone)]
pub struct WebClient {
    inner: Arc<Inner>,
}

/// Where a client with a rotating token gets the current one once the token it holds is
/// within [`ROTATING_SAFETY`] of its expiry: the token and its expiry (Unix ms), or `None`.
pub(crate) type TokenSource = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<(Token, Option<u64>)>> + Send>>
        + Send
        + Sync,
>;

/// A token is not sent within this long of its expiry (the request would arrive late).
pub(crate) const ROTATING_SAFETY: std::time::Duration = std::time::Duration::from_millis(500);

struct Rotating {
    current: Mutex<(Token, Option<u64>)>,
    source: TokenSource,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn fresh(expires_ms: Option<u64>) -> bool {
    let safety = ROTATING_SAFETY.as_millis() as u64;
    expires_ms.is_none_or(|at| unix_ms().saturating_add(safety) < at)
}

struct Inner {
    transport: Arc<dyn DynHttpTransport>,
    token: Token,
    rotating: Option<Rotating>,
    api_base: ApiBase,
    retry: RetryPolicy,
    limiter: Mutex<RateLimiter>,
}

impl fmt::Debug for WebClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebClient")
            .field("token", &self.inner.token)
            .field("api_base", &self.inner.api_base)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// A call that could not be built, named after its method.
pub(crate) fn invalid(method: &str, e: impl std::error::Error + Send + Sync + 'static) -> ApiCallError {
    ApiCallError::new(method, None, ApiFailure::InvalidRequest(Box::new(e)))
}

impl WebClient {
    /// A client over `transport`. Refuses an app-level (`xapp-`) token.
    pub(crate) fn new(
        transport: Arc<dyn DynHttpTransport>,
        token: Token,
        api_base: ApiBase,
    ) -> Result<Self, crate::Error> {
        if token.kind() == TokenKind::App {
            return Err(crate::Error::Config(APP_TOKEN_REFUSED.into()));
        }
        Ok(Self::unchecked(transport, token, api_base))
    }

    /// A client for a session whose token was already accepted by `rtm.connect`.
    pub(crate) fn unchecked(transport: Arc<dyn DynHttpTransport>, token: Token, api_base: ApiBase) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                token,
                rotating: None,
                api_base,
                retry: RetryPolicy::default(),
                limiter: Mutex::new(RateLimiter::new()),
            }),
        }
    }

    fn rebuild(&self, retry: RetryPolicy, limiter: RateLimiter) -> Self {
        let i = &self.inner;
        Self {
            inner: Arc::new(Inner {
                transport: i.transport.clone(),
                token: i.token.clone(),
                rotating: None,
                api_base: i.api_base.clone(),
                retry,
                limiter: Mutex::new(limiter),
            }),
        }
    }

    /// The same client (transport, API base, retry policy) with another token and its own
    /// rate limiter (Slack's limits are per workspace): one per installation of a
    /// multi-workspace app. Refuses an app-level (`xapp-`) token.
    pub fn with_token(&self, token: Token) -> Result<Self, crate::Error> {
        let i = &self.inner;
        let mut web = Self::new(i.transport.clone(), token, i.api_base.clone())?;
        if let Some(inner) = Arc::get_mut(&mut web.inner) {
            inner.retry = i.retry.clone();
        }
        Ok(web)
    }

    /// [`WebClient::with_token`] for a token expiring at `expires_ms` (Unix ms): once it is
    /// about to expire, each call takes the current token from `source` (a rotation done
    /// meanwhile, here or by another instance), and a call is never sent with an expired
    /// token (it fails with `token_expired` instead).
    pub(crate) fn with_rotating_token(
        &self,
        token: Token,
        expires_ms: Option<u64>,
        source: TokenSource,
    ) -> Result<Self, crate::Error> {
        let mut web = self.with_token(token.clone())?;
        if let Some(inner) = Arc::get_mut(&mut web.inner) {
            inner.rotating = Some(Rotating { current: Mutex::new((token, expires_ms)), source });
        }
        Ok(web)
    }

    /// The token to send now.
    async fn current_token(&self, method: &str) -> Result<Token, ApiCallError> {
        let Some(rotating) = &self.inner.rotating else { return Ok(self.inner.token.clone()) };
        let held = rotating.current.lock().map(|c| c.clone()).unwrap_or_else(|p| p.into_inner().clone());
        if fresh(held.1) {
            return Ok(held.0);
        }
        if let Some((token, expires)) = (rotating.source)().await
            && fresh(expires)
        {
            if let Ok(mut c) = rotating.current.lock() {
                *c = (token.clone(), expires);
            }
            return Ok(token);
        }
        tracing::warn!(
            method,
            "the installation's token has expired and no refreshed one is stored: not sent"
        );
        Err(ApiCallError::new(
            method,
            None,
            ApiFailure::Api {
                error: slack_rtm_types::ApiError::from_code("token_expired"),
                warnings: Vec::new(),
                detail: None,
            },
        ))
    }

    /// The same client with another retry policy (and a fresh rate limiter).
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        self.rebuild(policy, RateLimiter::new())
    }

    /// The same client without local pacing: only 429s make calls wait (and a fresh limiter).
    /// Default: paced at Slack's tier rates.
    pub fn without_pacing(&self) -> Self {
        self.rebuild(self.inner.retry.clone(), RateLimiter::only_retry_after())
    }

    /// The transport under this client (for posts to a `response_url`, which take no token).
    pub(crate) fn transport(&self) -> &Arc<dyn DynHttpTransport> {
        &self.inner.transport
    }

    /// The Web API base this client calls.
    pub fn api_base(&self) -> &ApiBase {
        &self.inner.api_base
    }

    /// Calls any method with `args` (any serializable object, e.g. `serde_json::json!({…})`),
    /// sent as JSON or as a form as the method requires. Returns the whole answer.
    ///
    /// ```no_run
    /// # async fn f(web: slack_rtm::WebClient) -> Result<(), slack_rtm::ApiCallError> {
    /// let answer = web.call("team.info", serde_json::json!({})).await?;
    /// println!("{}", answer.value["team"]["name"]);
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, method: &str, args: impl Serialize) -> Result<WebResponse, ApiCallError> {
        let args = to_args(&args).map_err(|e| invalid(method, e))?;
        self.call_with(method, args, body_encoding(method)).await
    }

    /// [`WebClient::call`] with a JSON body, whatever the method (for methods this version
    /// does not know to accept JSON).
    pub async fn call_json(
        &self,
        method: &str,
        args: Map<String, Value>,
    ) -> Result<WebResponse, ApiCallError> {
        self.call_with(method, args, BodyEncoding::Json).await
    }

    async fn wait_for_slot(&self, method: &str, channel: Option<&str>) {
        loop {
            let verdict = match self.inner.limiter.lock() {
                Ok(mut l) => l.try_acquire(method, channel, Instant::now()),
                Err(_) => Ok(()),
            };
            match verdict {
                Ok(()) => return,
                Err(wait) => {
                    tracing::debug!(method, ?wait, "waiting for the rate limit");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn call_with(
        &self,
        method: &str,
        args: Map<String, Value>,
        encoding: BodyEncoding,
    ) -> Result<WebResponse, ApiCallError> {
        check_method(method).map_err(|e| invalid(method, e))?;
        let channel = args.get("channel").and_then(Value::as_str).map(str::to_owned);
        let mut retry = self.inner.retry.start(method);
        loop {
            self.wait_for_slot(method, channel.as_deref()).await;
            let token = self.current_token(method).await?;
            let request = build_web_request_as(&self.inner.api_base, &token, method, &args, encoding)
                .map_err(|e| invalid(method, e))?;
            let (decision, error) = match self.inner.transport.send_boxed(request).await {
                Ok(response) => match parse_web_response(method, &response) {
                    Ok(answer) => {
                        for w in &answer.warnings {
                            tracing::warn!(method, warning = w.as_str(), "Slack warned");
                        }
                        return Ok(answer);
                    }
                    Err(e) => (retry.on_failure(Failure::Answer(&e.failure)), e),
                },
                Err(t) => {
                    // The transport says how far the request got (never guessed here).
                    let decision = retry.on_failure(Failure::from(t.reach));
                    (decision, ApiCallError::new(method, None, ApiFailure::Transport(t)))
                }
            };
            match decision {
                Decision::Retry { after, rate_limited } => {
                    tracing::info!(method, ?after, error = %error, "retrying");
                    if rate_limited {
                        if let Ok(mut l) = self.inner.limiter.lock() {
                            l.rate_limited(method, after, Instant::now());
                        }
                    } else {
                        tokio::time::sleep(after).await;
                    }
                }
                Decision::OutcomeUnknown => {
                    tracing::info!(method, error = %error, "outcome unknown; not sent again");
                    let ApiCallError { method, req_id, failure, .. } = error;
                    return Err(ApiCallError::new(
                        method,
                        req_id,
                        ApiFailure::OutcomeUnknown(Box::new(failure)),
                    ));
                }
                _ => return Err(error),
            }
        }
    }
}
