//! [`HttpHandler`]: verified requests to the app's dispatcher, acks to HTTP responses.

use super::dedupe::EventDedupe;
use crate::app::receiver::{AckFuture, AppRequest, RequestKind};
use crate::app::{Dispatcher, ShuttingDown};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use slack_rtm_codec::http_mode::{Inbound, InboundKind, NO_RETRY};
use slack_rtm_hyper::server::InboundHandler;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

/// How long a request waits for its ack after the dispatcher took it. The dispatcher acks by
/// itself before Slack's 3 s (its ack margin); this only bounds a request whose ack never
/// comes at all.
const ACK_WAIT: Duration = Duration::from_secs(3);

/// At most this many requests are being handed over at once (waiting for a listener slot or
/// for their ack); past it a request is answered `503` (Slack retries it later), so requests
/// whose client hung up cannot pile up without bound.
pub(super) const MAX_HAND_OVERS: usize = 4096;

/// The [`InboundHandler`] of an [`App`](crate::App) on HTTP: each verified request goes to the
/// dispatcher, and its ack becomes the HTTP response (`200`, the ack payload as JSON body).
#[derive(Clone)]
pub struct HttpHandler {
    pub(super) dispatcher: Dispatcher,
    pub(super) dedupe: Arc<dyn EventDedupe>,
    pub(super) no_retry: bool,
    /// [`MAX_HAND_OVERS`] slots.
    pub(super) hand_overs: Arc<Semaphore>,
}

impl std::fmt::Debug for HttpHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHandler").field("no_retry", &self.no_retry).finish_non_exhaustive()
    }
}

impl HttpHandler {
    /// The app's dispatcher.
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// A failed delivery: `status`, with `X-Slack-No-Retry: 1` when the app asks for no retry.
    fn failed(&self, status: StatusCode) -> Response<Bytes> {
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = status;
        if self.no_retry {
            r.headers_mut().insert(NO_RETRY, HeaderValue::from_static("1"));
        }
        r
    }
}

fn ok(body: Option<serde_json::Value>) -> Response<Bytes> {
    match body {
        None => Response::new(Bytes::new()),
        Some(json) => {
            let mut r = Response::new(Bytes::from(json.to_string()));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
    }
}

impl InboundHandler for HttpHandler {
    async fn handle(&self, inbound: Inbound) -> Response<Bytes> {
        let Ok(slot) = self.hand_overs.clone().try_acquire_owned() else {
            tracing::warn!("{MAX_HAND_OVERS} requests already being handed over: refused with 503");
            return self.failed(StatusCode::SERVICE_UNAVAILABLE);
        };
        // Once an event id is claimed the request must reach the listeners even if Slack hangs
        // up meanwhile (its retry is then answered as a duplicate), so the claim and the
        // dispatch are never left half done by a dropped response future. They are polled once
        // here: usually both finish at once (an in-process claim, a free listener slot) and
        // only the wait for the ack is left, which may be dropped safely. Otherwise the rest
        // runs on its own task, as the whole hand-over did before.
        let this = self.clone();
        let mut start = Box::pin(async move { this.start(inbound).await });
        let polled = start.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        let started = match polled {
            std::task::Poll::Ready(started) => started,
            std::task::Poll::Pending => {
                let this = self.clone();
                let task = tokio::spawn(async move {
                    let _slot = slot;
                    this.finish(start.await).await
                });
                return task.await.unwrap_or_else(|_| self.failed(StatusCode::INTERNAL_SERVER_ERROR));
            }
        };
        let _slot = slot;
        self.finish(started).await
    }
}

/// Where a hand-over stands once the claim and the dispatch are done.
enum Started {
    /// Answered without the listeners (a duplicate, a kind the receiver answers, shutdown).
    Answered(Response<Bytes>),
    /// Dispatched: the ack will come on this channel.
    Dispatched(oneshot::Receiver<Option<serde_json::Value>>),
}

impl HttpHandler {
    /// Claims the event id and dispatches.
    async fn start(&self, inbound: Inbound) -> Started {
        let kind = match inbound.kind() {
            InboundKind::Event => RequestKind::EventsApi,
            InboundKind::SlashCommand => RequestKind::SlashCommands,
            InboundKind::Interactive | InboundKind::Options => RequestKind::Interactive,
            InboundKind::AppRateLimited => {
                tracing::warn!(
                    "app_rate_limited: Slack is dropping this app's events for a minute (over 30,000 \
                     events per workspace per hour)"
                );
                RequestKind::Other("app_rate_limited".to_owned())
            }
            // The receiver answers url_verification and ssl_check itself.
            _ => return Started::Answered(ok(None)),
        };
        let event_id = inbound.event_id().map(str::to_owned);
        if let Some(id) = &event_id {
            match self.dedupe.claim(id.clone()).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(event_id = %id, retry = ?inbound.retry(), "event already handed over: answered, not handled again");
                    return Started::Answered(ok(None));
                }
                Err(e) => {
                    tracing::warn!(event_id = %id, "dedupe store failed ({e}): the event is handed over")
                }
            }
        }
        let (attempt, reason) = inbound.retry().map_or((0, None), |r| (r.num, Some(r.reason.clone())));
        let answers_with_payload = inbound.kind().answers_with_payload();
        // The verifier read the inner event's type already: the dispatcher need not look again.
        let event_type = match kind {
            RequestKind::EventsApi => inbound.type_name().filter(|t| !t.is_empty()).map(str::to_owned),
            _ => None,
        };
        let request = AppRequest::new(kind, inbound.into_payload())
            .with_retry(attempt, reason)
            .with_response_payload(answers_with_payload)
            .with_event_type(event_type);
        let (tx, rx) = oneshot::channel();
        let ack = move |body: Option<serde_json::Value>| -> AckFuture {
            Box::pin(async move { tx.send(body).map_err(|_| "the HTTP request is gone".into()) })
        };
        if let Err(ShuttingDown) = self.dispatcher.dispatch(request, ack).await {
            if let Some(id) = event_id {
                self.dedupe.release(id).await;
            }
            tracing::info!("shutting down: request refused with 503 (Slack retries it)");
            return Started::Answered(self.failed(StatusCode::SERVICE_UNAVAILABLE));
        }
        Started::Dispatched(rx)
    }

    /// Waits for the ack of a dispatched request: the HTTP response.
    async fn finish(&self, started: Started) -> Response<Bytes> {
        let rx = match started {
            Started::Answered(response) => return response,
            Started::Dispatched(rx) => rx,
        };
        match tokio::time::timeout(ACK_WAIT, rx).await {
            Ok(Ok(body)) => ok(body),
            Ok(Err(_)) => {
                tracing::warn!("a request was dropped without an ack");
                self.failed(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Err(_) => {
                tracing::warn!("no ack within 3 s");
                self.failed(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::http::MemoryDedupe;
    use crate::app::{App, BotIdentity};
    use slack_rtm_codec::http_mode::{SigningSecret, Verifier};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// A verified `event_callback` with this id.
    fn event(event_id: &str) -> Inbound {
        let secret = SigningSecret::new("unit-test-secret");
        let body = format!(
            r#"{{"type":"event_callback","event_id":"{event_id}","team_id":"T1","api_app_id":"A1","event":{{"type":"app_mention","user":"U1","text":"hi","ts":"1.000001","channel":"C1"}}}}"#
        );
        let now = SystemTime::now();
        let ts = now.duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
        let mut headers = http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-slack-request-timestamp", HeaderValue::from_str(&ts).unwrap());
        let signature = secret.sign(&ts, body.as_bytes());
        headers.insert("x-slack-signature", HeaderValue::from_str(&signature).unwrap());
        Verifier::new(secret).unwrap().verify(&http::Method::POST, &headers, body.as_bytes(), now).unwrap()
    }

    #[tokio::test]
    async fn past_the_hand_over_cap_a_request_is_503_and_its_id_not_claimed() {
        let web = crate::Client::builder("xoxb-test")
            .api_url("http://127.0.0.1:9/api/")
            .allow_insecure(true)
            .build_web()
            .unwrap();
        let dispatcher = App::new().into_dispatcher_with(web, BotIdentity::default());
        let dedupe = MemoryDedupe::default();
        let handler = |slots| HttpHandler {
            dispatcher: dispatcher.clone(),
            dedupe: Arc::new(dedupe.clone()),
            no_retry: false,
            hand_overs: Arc::new(Semaphore::new(slots)),
        };
        let refused = handler(0).handle(event("Ev1")).await;
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(dedupe.is_empty(), "refused before the claim, so Slack's retry is handed over");
        let taken = handler(1).handle(event("Ev1")).await;
        assert_eq!(taken.status(), StatusCode::OK);
        assert!(!dedupe.claim_now("Ev1"), "claimed by the hand-over");
        assert!(dispatcher.shutdown(Duration::from_secs(1)).await);
    }

    /// A claim that waits until `go` is notified.
    struct SlowDedupe {
        go: Arc<tokio::sync::Notify>,
    }

    impl EventDedupe for SlowDedupe {
        fn claim(&self, _event_id: String) -> crate::app::BoxFuture<Result<bool, slack_rtm_codec::BoxError>> {
            let go = self.go.clone();
            Box::pin(async move {
                go.notified().await;
                Ok(true)
            })
        }
    }

    #[tokio::test]
    async fn a_request_dropped_while_its_claim_is_pending_still_reaches_the_listeners() {
        let web = crate::Client::builder("xoxb-test")
            .api_url("http://127.0.0.1:9/api/")
            .allow_insecure(true)
            .build_web()
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut app = App::new();
        app.app_mention(move |m, _| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(m.text.clone());
                Ok(())
            }
        });
        let dispatcher = app.into_dispatcher_with(web, BotIdentity::default());
        let go = Arc::new(tokio::sync::Notify::new());
        let handler = HttpHandler {
            dispatcher: dispatcher.clone(),
            dedupe: Arc::new(SlowDedupe { go: go.clone() }),
            no_retry: false,
            hand_overs: Arc::new(Semaphore::new(4)),
        };
        // Slack hangs up while the claim is pending: the response future is dropped.
        let response = tokio::time::timeout(Duration::from_millis(50), handler.handle(event("Ev1"))).await;
        assert!(response.is_err(), "the claim was still pending");
        go.notify_one();
        let text = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("handed over");
        assert_eq!(text.as_deref(), Some("hi"));
        assert!(dispatcher.shutdown(Duration::from_secs(1)).await);
    }
}
