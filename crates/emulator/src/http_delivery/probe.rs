//! [`HttpProbe`]: a request a Request URL receiver should refuse (or accept), made on purpose
//! — the emulator's side of testing an HTTP receiver.

use super::HttpDelivery;
use super::client::{Outcome, Target, post};
use super::deliver::signed_headers;
use super::sign::{encode, unix_now};
use crate::{Emulator, EmulatorError};
use bytes::Bytes;
use serde_json::Value;
use std::time::Duration;

/// How a probe is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signing {
    Valid,
    /// Signed with the wrong secret.
    Wrong,
    /// Without the signature header (the timestamp header is still sent).
    Missing,
}

/// A request to a Request URL, built to test a receiver: by default a valid, signed POST like
/// the emulator's own deliveries; the modifiers break one thing each. Send it with
/// [`Emulator::send_probe`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpProbe {
    method: String,
    content_type: Option<String>,
    body: Vec<u8>,
    signing: Signing,
    timestamp_offset: i64,
    headers: Vec<(String, String)>,
}

impl HttpProbe {
    fn of(content_type: &str, body: Vec<u8>) -> Self {
        Self {
            method: "POST".into(),
            content_type: Some(content_type.into()),
            body,
            signing: Signing::Valid,
            timestamp_offset: 0,
            headers: Vec::new(),
        }
    }

    /// An Events API body (the whole `event_callback`, or any JSON), as JSON.
    pub fn event(body: &Value) -> Self {
        let (ct, body) = encode("events_api", body);
        Self::of(ct, body)
    }

    /// A slash command: a form of `payload`'s fields.
    pub fn command(payload: &Value) -> Self {
        let (ct, body) = encode("slash_commands", payload);
        Self::of(ct, body)
    }

    /// An interaction or options request: a form with `payload=<json>`.
    pub fn interaction(payload: &Value) -> Self {
        let (ct, body) = encode("interactive", payload);
        Self::of(ct, body)
    }

    /// Any body with any content type (signed).
    pub fn raw(content_type: &str, body: &[u8]) -> Self {
        Self::of(content_type, body.to_vec())
    }

    /// The same body as a recorded delivery, signed afresh (add [`HttpProbe::retry`] to make it
    /// a retry of it).
    pub fn replay(delivery: &HttpDelivery) -> Self {
        Self::of(&delivery.content_type, delivery.request_body.to_vec())
    }

    /// Signed with the wrong secret.
    pub fn bad_signature(mut self) -> Self {
        self.signing = Signing::Wrong;
        self
    }

    /// Without an `X-Slack-Signature` header.
    pub fn unsigned(mut self) -> Self {
        self.signing = Signing::Missing;
        self
    }

    /// Timestamped `secs` from now (e.g. `-301`: stale), and signed so.
    pub fn timestamp_offset(mut self, secs: i64) -> Self {
        self.timestamp_offset = secs;
        self
    }

    /// With `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`.
    pub fn retry(self, num: u32, reason: &str) -> Self {
        self.header("X-Slack-Retry-Num", &num.to_string()).header("X-Slack-Retry-Reason", reason)
    }

    /// With another header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// With another method (e.g. `GET`).
    pub fn method(mut self, method: &str) -> Self {
        self.method = method.to_owned();
        self
    }

    /// With another content type (`None`: no `Content-Type` header).
    pub fn content_type(mut self, content_type: Option<&str>) -> Self {
        self.content_type = content_type.map(str::to_owned);
        self
    }

    /// The body padded to at least `len` bytes (spaces after JSON, an extra form field
    /// otherwise), still validly signed.
    pub fn oversized(mut self, len: usize) -> Self {
        let missing = len.saturating_sub(self.body.len());
        if self.content_type.as_deref() == Some("application/json") {
            self.body.extend(std::iter::repeat_n(b' ', missing));
        } else {
            self.body.extend_from_slice(b"&_pad=");
            self.body.extend(std::iter::repeat_n(b'a', missing));
        }
        self
    }

    /// The body it sends.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// How a receiver answered a probe.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProbeResponse {
    /// The status (`None`: no answer in time, or the connection failed).
    pub status: Option<u16>,
    /// The answer's headers (names lower case).
    pub headers: Vec<(String, String)>,
    /// The answer's body.
    pub body: Bytes,
    /// Time to the complete answer.
    pub latency: Duration,
    /// `http_timeout` or `connection_failed` when there was no answer.
    pub failure: Option<String>,
}

impl ProbeResponse {
    /// A header of the answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Emulator {
    /// Sends `probe` to `url` (an `http://` URL, e.g. a receiver under test), signed with
    /// [`Emulator::signing_secret`] unless the probe says otherwise, within the delivery
    /// timeout. Probes are not recorded with the deliveries.
    pub async fn send_probe(&self, url: &str, probe: &HttpProbe) -> Result<ProbeResponse, EmulatorError> {
        let target = Target::parse(url).map_err(EmulatorError::RequestUrl)?;
        let secret = match probe.signing {
            Signing::Wrong => format!("{}x", self.signing_secret()),
            _ => self.signing_secret(),
        };
        let ct = probe.content_type.clone().unwrap_or_default();
        let mut headers = signed_headers(&secret, unix_now() + probe.timestamp_offset, &ct, &probe.body);
        headers.retain(|(k, _)| {
            !(k == "content-type" && probe.content_type.is_none()
                || k == "x-slack-signature" && probe.signing == Signing::Missing)
        });
        headers.extend(probe.headers.iter().cloned());
        let timeout = self.shared.config.http_delivery.timeout;
        let (outcome, latency) = post(&target, &headers, probe.body.clone(), &probe.method, timeout).await;
        Ok(match outcome {
            Outcome::Answered { status, headers, body } => ProbeResponse {
                status: Some(status),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect(),
                body,
                latency,
                failure: None,
            },
            Outcome::Timeout => ProbeResponse {
                status: None,
                headers: Vec::new(),
                body: Bytes::new(),
                latency,
                failure: Some("http_timeout".into()),
            },
            Outcome::ConnectionFailed(_) => ProbeResponse {
                status: None,
                headers: Vec::new(),
                body: Bytes::new(),
                latency,
                failure: Some("connection_failed".into()),
            },
        })
    }
}
