//! The delivery engine: the `url_verification` handshake, one signed request per attempt,
//! the retry rules, and the answer applied as the envelope's ack.

use super::HttpDelivery;
use super::client::{Outcome, Target, post};
use super::sign::{encode, signature, unix_now};
use crate::interact::acks;
use crate::socket_mode::{AckRecord, SocketId};
use crate::{Emulator, EmulatorError, Shared};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

/// Envelopes waiting for their delivery task to start (beyond it, one is given up).
const QUEUE: usize = 4096;

/// Deliveries (with their retries) in flight at once; the next wait in the queue.
const IN_FLIGHT: usize = 256;

/// What Slack's requests say they are.
const USER_AGENT: &str = "Slackbot 1.0 (+https://api.slack.com/robots)";

/// The headers of a signed request.
pub(crate) fn signed_headers(
    secret: &str,
    timestamp: i64,
    content_type: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), content_type.into()),
        ("user-agent".into(), USER_AGENT.into()),
        ("x-slack-request-timestamp".into(), timestamp.to_string()),
        ("x-slack-signature".into(), signature(secret, timestamp, body)),
    ]
}

/// One signed attempt; recorded.
async fn attempt(
    shared: &Shared,
    target: &Target,
    seq: u64,
    kind: &str,
    retry: Option<(u32, &str)>,
    content_type: &str,
    body: &[u8],
) -> (Outcome, HttpDelivery) {
    let secret = shared.lock().http.secret.clone();
    let mut headers = signed_headers(&secret, unix_now(), content_type, body);
    if let Some((num, reason)) = retry {
        headers.push(("x-slack-retry-num".into(), num.to_string()));
        headers.push(("x-slack-retry-reason".into(), reason.into()));
    }
    let sent_at = Instant::now();
    let (outcome, latency) =
        post(target, &headers, body.to_vec(), "POST", shared.config.http_delivery.timeout).await;
    let mut record = HttpDelivery {
        seq,
        kind: kind.to_owned(),
        retry_num: retry.map_or(0, |r| r.0),
        retry_reason: retry.map(|r| r.1.to_owned()),
        url: target.url.clone(),
        request_body: Bytes::copy_from_slice(body),
        content_type: content_type.to_owned(),
        sent_at,
        status: None,
        response_body: Bytes::new(),
        no_retry: false,
        latency,
        failure: None,
    };
    match &outcome {
        Outcome::Answered { status, headers, body } => {
            record.status = Some(*status);
            record.response_body = body.clone();
            record.no_retry = headers.get("x-slack-no-retry").is_some_and(|v| v.as_bytes() == b"1");
            if !(200..300).contains(status) {
                record.failure = Some("http_error".into());
            }
        }
        Outcome::Timeout => record.failure = Some("http_timeout".into()),
        Outcome::ConnectionFailed(e) => {
            tracing::debug!(error = %e, "Request URL connection failed");
            record.failure = Some("connection_failed".into());
        }
    }
    shared.lock().http.records.push(record.clone());
    shared.notify();
    (outcome, record)
}

/// The ack an answer's body makes: JSON as it is, plain text as a reply's text, nothing for
/// an empty body.
fn ack_body(body: &Bytes) -> Option<Value> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    Some(serde_json::from_str(text).unwrap_or_else(|_| json!({"text": text})))
}

/// Delivers envelope `seq` to the current Request URL, with Slack's retries.
async fn deliver(shared: Arc<Shared>, seq: u64) {
    let found = {
        let st = shared.lock();
        let env = st.sm.record(seq);
        env.map(|e| (e.envelope_type.clone(), e.payload.clone())).zip(st.http.target.clone())
    };
    let Some(((kind, payload), target)) = found else { return };
    let (content_type, body) = encode(&kind, &payload);
    let retries = if kind == "events_api" { shared.config.http_delivery.retry_delays.len() } else { 0 };
    let mut retry: Option<(u32, String)> = None;
    for n in 0..=retries {
        let (outcome, record) = attempt(
            &shared,
            &target,
            seq,
            &kind,
            retry.as_ref().map(|(n, r)| (*n, r.as_str())),
            content_type,
            &body,
        )
        .await;
        if let (Outcome::Answered { body, .. }, true) = (&outcome, record.ok()) {
            let payload = if kind == "events_api" { None } else { ack_body(body) };
            acks::apply(&shared, seq, payload.as_ref());
            shared.sm_with(|sm, _| {
                if let Some(e) = sm.record_mut(seq) {
                    e.acked = true;
                }
            });
            let ack = AckRecord {
                envelope_id: format!("http-{seq}"),
                socket: SocketId(0),
                at: Instant::now(),
                delay: Some(record.latency),
                late: false,
                payload,
            };
            acks::resolve(&shared, seq, ack);
            return;
        }
        if record.no_retry || n == retries {
            break;
        }
        tokio::time::sleep(shared.config.http_delivery.retry_delays[n]).await;
        retry = Some((n as u32 + 1, record.failure.unwrap_or_default()));
    }
    shared.sm_with(|sm, _| {
        if let Some(e) = sm.record_mut(seq) {
            e.gave_up = true;
        }
    });
}

/// Starts a delivery task for envelopes routed to HTTP; returns its queue.
fn start_task(shared: &Arc<Shared>) -> mpsc::Sender<u64> {
    let (tx, mut rx) = mpsc::channel::<u64>(QUEUE);
    let s = shared.clone();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    shared.spawn(async move {
        while let Some(seq) = rx.recv().await {
            let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
            let span = tracing::debug_span!("request_url_delivery", seq);
            let one = deliver(s.clone(), seq).instrument(span);
            s.spawn(async move {
                one.await;
                drop(permit);
            });
        }
    });
    tx
}

/// Whether `body` echoes `challenge` (as text, JSON or a form).
fn echoes(body: &[u8], challenge: &str) -> bool {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    text == challenge
        || serde_json::from_str::<Value>(text).is_ok_and(|v| v["challenge"] == challenge)
        || serde_urlencoded::from_str::<Vec<(String, String)>>(text)
            .is_ok_and(|f| f.iter().any(|(k, v)| k == "challenge" && v == challenge))
}

impl Emulator {
    /// The app's signing secret: Request URL deliveries are signed with it. Keep it out of
    /// logs (the emulator never prints it except on the standalone binary's start).
    pub fn signing_secret(&self) -> String {
        self.shared.lock().http.secret.clone()
    }

    /// The Request URL envelopes are delivered to, if one is set.
    pub fn request_url(&self) -> Option<String> {
        self.shared.lock().http.target.as_ref().map(|t| t.url.clone())
    }

    /// Delivers every envelope from now on by HTTP to `url` (`None`: back to Socket Mode),
    /// after Slack's `url_verification` handshake: a signed `{"type": "url_verification",
    /// "challenge": …}` that must be answered 2xx with the challenge (as text, JSON
    /// `{"challenge": …}` or a form). Workspace messages become events from then on, as once
    /// an app has connected over Socket Mode.
    pub async fn set_request_url(&self, url: Option<&str>) -> Result<(), EmulatorError> {
        let Some(url) = url else {
            self.shared.lock().http.target = None;
            self.shared.sm_with(|sm, _| sm.http_tx = None);
            return Ok(());
        };
        let target = Target::parse(url).map_err(EmulatorError::RequestUrl)?;
        let challenge = crate::workspace::random_alnum(48);
        let body = json!({"token": crate::interact::payloads::VERIFICATION_TOKEN, "challenge": challenge,
                          "type": "url_verification"})
        .to_string();
        let (outcome, record) =
            attempt(&self.shared, &target, 0, "url_verification", None, "application/json", body.as_bytes())
                .await;
        match outcome {
            Outcome::Answered { body, .. } if record.ok() && echoes(&body, &challenge) => {}
            Outcome::Answered { status, .. } => {
                return Err(EmulatorError::RequestUrl(format!(
                    "url_verification answered {status} without the challenge"
                )));
            }
            _ => {
                return Err(EmulatorError::RequestUrl(format!(
                    "url_verification failed: {:?}",
                    record.failure
                )));
            }
        }
        self.shared.lock().http.target = Some(target);
        let tx = start_task(&self.shared);
        self.shared.sm_with(|sm, _| {
            sm.http_tx = Some(tx);
            sm.active = true;
        });
        Ok(())
    }

    /// Tells the app at the Request URL that its events are being dropped, as Slack does past
    /// 30 000 events per workspace per hour: a signed `app_rate_limited` callback (never
    /// retried). Returns its record; `Err` when no Request URL is set.
    pub async fn send_app_rate_limited(&self) -> Result<HttpDelivery, EmulatorError> {
        let target = self.shared.lock().http.target.clone();
        let target = target.ok_or_else(|| EmulatorError::RequestUrl("no Request URL is set".into()))?;
        let minute = super::sign::unix_now() / 60 * 60;
        let body = json!({"token": crate::interact::payloads::VERIFICATION_TOKEN, "type": "app_rate_limited",
                          "team_id": self.team().id, "minute_rate_limited": minute, "api_app_id": self.app_id()})
        .to_string();
        let (_, record) =
            attempt(&self.shared, &target, 0, "app_rate_limited", None, "application/json", body.as_bytes())
                .await;
        Ok(record)
    }

    /// Every request made to a Request URL (handshakes, deliveries, retries) with its answer,
    /// oldest first (bounded).
    pub fn http_deliveries(&self) -> Vec<HttpDelivery> {
        self.shared.lock().http.records.to_vec()
    }

    /// Waits until at least `n` requests were made to a Request URL (ever).
    pub async fn wait_for_http_deliveries(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} Request URL deliveries"), timeout, |st| st.http.records.total() >= n)
            .await
    }
}
