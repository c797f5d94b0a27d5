//! An [`App`] on HTTP: Slack's Request URLs instead of a Socket Mode socket.
//!
//! Slack POSTs events, slash commands, interactions and options loads to the app's Request
//! URLs (one path for all, like Bolt's `/slack/events`), signed with the app's signing secret.
//! [`App::start_http`] serves the app on its own hyper server; [`App::into_http_service`]
//! gives a `tower` service to mount in axum or hyper. Both verify every request before
//! anything else (`slack_rtm_hyper::server`, on the codec's rules) and hand the same
//! [`Dispatcher`] the same requests Socket Mode would: listeners are unchanged.
//!
//! - Events are answered `200` before their listener runs (the dispatcher acks them first).
//! - A command's, an interaction's or an options load's ack is the HTTP response: its payload
//!   is the body. A listener that has not acked by the app's deadline (3 s minus
//!   [`App::ack_margin`]) is acked empty for it.
//! - A retry (`X-Slack-Retry-Num` / `X-Slack-Retry-Reason`) is visible in the context
//!   ([`Context::retry_attempt`](crate::app::Context::retry_attempt),
//!   [`Context::retry_reason`](crate::app::Context::retry_reason)); an `event_id` is handed to
//!   the listeners once ([`EventDedupe`]: per process by default, across instances with a
//!   shared store such as `slack_rtm_fleet::RedisEventDedupe`).
//! - `app_rate_limited` is logged and handed to the app's fallback (kind `app_rate_limited`).
//! - `url_verification` is answered with its challenge.
//!
//! See `docs/http-mode.md`.

mod dedupe;
mod handler;

pub use bytes::Bytes;
pub use dedupe::{DEFAULT_DEDUPE_CAPACITY, DEFAULT_DEDUPE_WINDOW, EventDedupe, MemoryDedupe};
pub use handler::HttpHandler;
pub use slack_rtm_codec::http_mode::{
    DEFAULT_MAX_BODY_BYTES, Inbound, InboundKind, Refusal, Retry, SigningSecret, Verifier,
};
pub use slack_rtm_hyper::server::{HttpServer, InboundHandler, SlackReceiver};

use super::{App, Dispatcher};
use crate::Error;
use crate::web::WebClient;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Bolt's default path for every kind of request.
pub const DEFAULT_PATH: &str = "/slack/events";

/// How an [`App`] runs on HTTP.
#[derive(Clone)]
pub struct HttpConfig {
    verifier: Verifier,
    path: String,
    dedupe: Arc<dyn EventDedupe>,
    no_retry: bool,
    read_timeout: Duration,
    install: Option<super::oauth::InstallConfig>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("verifier", &self.verifier)
            .field("path", &self.path)
            .field("no_retry", &self.no_retry)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpConfig {
    /// With the app's signing secret (refused when empty), at [`DEFAULT_PATH`], a body cap of
    /// [`DEFAULT_MAX_BODY_BYTES`], per-process dedupe ([`MemoryDedupe`]).
    pub fn new(signing_secret: impl Into<SigningSecret>) -> Result<HttpConfig, Error> {
        let verifier = Verifier::new(signing_secret.into()).map_err(|e| Error::Config(e.to_string()))?;
        Ok(HttpConfig {
            verifier,
            path: DEFAULT_PATH.to_owned(),
            dedupe: Arc::new(MemoryDedupe::default()),
            no_retry: false,
            read_timeout: slack_rtm_hyper::server::DEFAULT_READ_TIMEOUT,
            install: None,
        })
    }

    /// Serves the OAuth install flow next to the Request URL ([`App::start_http`]):
    /// `/slack/install` and `/slack/oauth_redirect` by default. When the install config's
    /// client has no redirect URI and the server listens on a loopback address,
    /// `http://{address}{redirect path}` is used.
    pub fn install(mut self, install: super::oauth::InstallConfig) -> HttpConfig {
        self.install = Some(install);
        self
    }

    /// The path served by [`App::start_http`] (404 elsewhere).
    pub fn path(mut self, path: impl Into<String>) -> HttpConfig {
        self.path = path.into();
        self
    }

    /// The request body cap (413 above it).
    pub fn max_body_bytes(mut self, limit: usize) -> HttpConfig {
        self.verifier = self.verifier.max_body_bytes(limit);
        self
    }

    /// How long a request body may take to arrive (408 after).
    pub fn read_timeout(mut self, timeout: Duration) -> HttpConfig {
        self.read_timeout = timeout;
        self
    }

    /// Where event ids are claimed: share one store between instances behind a load balancer.
    pub fn dedupe(mut self, dedupe: impl EventDedupe) -> HttpConfig {
        self.dedupe = Arc::new(dedupe);
        self
    }

    /// The service for `dispatcher` (for a dispatcher made with [`App::into_dispatcher_with`];
    /// see [`App::into_http_service`]).
    pub fn into_receiver(self, dispatcher: Dispatcher) -> SlackReceiver<HttpHandler> {
        let hand_overs = Arc::new(tokio::sync::Semaphore::new(handler::MAX_HAND_OVERS));
        let handler = HttpHandler { dispatcher, dedupe: self.dedupe, no_retry: self.no_retry, hand_overs };
        SlackReceiver::with_read_timeout(self.verifier, handler, self.read_timeout)
    }

    /// Answer failed deliveries (the app shutting down, an ack that never came) with
    /// `X-Slack-No-Retry: 1`, so Slack does not retry them. Default off: Slack retries.
    pub fn no_retry_on_failure(mut self, on: bool) -> HttpConfig {
        self.no_retry = on;
        self
    }
}

impl App {
    /// The app as a `tower` service (and a hyper service) to mount at a path of your own
    /// server, e.g. `axum::Router::new().route_service("/slack/events", service)`. `web` is
    /// the bot's Web client (as for [`App::into_dispatcher`]).
    pub async fn into_http_service(self, web: WebClient, config: HttpConfig) -> SlackReceiver<HttpHandler> {
        config.into_receiver(self.into_dispatcher(web).await)
    }

    /// Serves the app on `addr` (port 0: a free port; see [`HttpApp::url`]) at the config's
    /// path, HTTP/1.1 and HTTP/2.
    pub async fn start_http(
        self,
        web: WebClient,
        addr: SocketAddr,
        config: HttpConfig,
    ) -> Result<HttpApp, Error> {
        let dispatcher = self.into_dispatcher(web).await;
        HttpApp::serve(dispatcher, addr, config).await
    }
}

/// An [`App`] served on HTTP ([`App::start_http`]).
#[derive(Debug)]
pub struct HttpApp {
    server: HttpServer,
    dispatcher: Dispatcher,
}

impl HttpApp {
    /// Serves `dispatcher` on `addr` (for a dispatcher made with
    /// [`App::into_dispatcher_with`]).
    pub async fn serve(
        dispatcher: Dispatcher,
        addr: SocketAddr,
        config: HttpConfig,
    ) -> Result<HttpApp, Error> {
        let path = config.path.clone();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
        let pages = match config.install.clone() {
            Some(mut install) => {
                let local = listener.local_addr().map_err(|e| Error::Config(e.to_string()))?;
                if install.client.redirect_uri.is_none() && local.ip().is_loopback() {
                    install.client.redirect_uri = Some(format!("http://{local}{}", install.redirect_path));
                }
                let flow: Arc<dyn slack_rtm_hyper::server::PageHandler> =
                    Arc::new(install.into_flow(dispatcher.web()));
                Some(flow)
            }
            None => None,
        };
        let receiver = config.into_receiver(dispatcher.clone());
        let server = HttpServer::serve_with_pages(listener, path, receiver, pages);
        Ok(HttpApp { server, dispatcher })
    }

    /// The Request URL, e.g. `http://127.0.0.1:3000/slack/events` (with the real port).
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Runs until `signal` (e.g. Ctrl-C), then shuts down gracefully ([`HttpApp::shutdown`]).
    pub async fn run_until(self, signal: impl Future<Output = ()>, grace: Duration) -> bool {
        signal.await;
        self.shutdown(grace).await
    }

    /// Stops accepting connections, answers the requests in flight (their acks come within
    /// Slack's 3 s), then lets the running listeners finish within `grace`. `true` if
    /// everything finished in time.
    pub async fn shutdown(self, grace: Duration) -> bool {
        let answered = self.server.shutdown(grace).await;
        let finished = self.dispatcher.shutdown(grace).await;
        answered && finished
    }
}
