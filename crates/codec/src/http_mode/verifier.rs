//! The receiver's rules, sans-IO: from method, headers and raw body to a verified
//! [`Inbound`] or a [`Refusal`] carrying the HTTP status to answer with.

use super::inbound::{Classified, Inbound, MalformedBody, Retry, classify_form, classify_json};
use super::signature::{KeyedMac, SignatureError, SigningSecret, check_timestamp};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::time::SystemTime;

/// The default cap on a request body: 1 MiB (Slack's largest payloads, view submissions with
/// many blocks, stay far below it).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The headers the verifier reads, found in one pass over the request's headers: each
/// `HeaderMap::get` hashes its name (FNV, a byte at a time; 7 lookups per request, perf showed
/// ~0.25 µs), while a pass compares names, mostly by length. The first value of each, as
/// `get` returns.
#[derive(Default)]
struct SlackHeaders<'a> {
    timestamp: Option<&'a HeaderValue>,
    signature: Option<&'a HeaderValue>,
    content_type: Option<&'a HeaderValue>,
    content_length: Option<&'a HeaderValue>,
    retry_num: Option<&'a HeaderValue>,
    retry_reason: Option<&'a HeaderValue>,
}

impl<'a> SlackHeaders<'a> {
    fn read(headers: &'a HeaderMap) -> Self {
        let mut h = Self::default();
        for (name, value) in headers {
            let slot = if *name == CONTENT_TYPE {
                &mut h.content_type
            } else if *name == CONTENT_LENGTH {
                &mut h.content_length
            } else {
                match name.as_str() {
                    super::TIMESTAMP => &mut h.timestamp,
                    super::SIGNATURE => &mut h.signature,
                    super::RETRY_NUM => &mut h.retry_num,
                    super::RETRY_REASON => &mut h.retry_reason,
                    _ => continue,
                }
            };
            slot.get_or_insert(value);
        }
        h
    }

    fn timestamp(&self) -> Option<&'a [u8]> {
        self.timestamp.map(HeaderValue::as_bytes)
    }
}

/// The body's format, from `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyFormat {
    /// `application/json`: the Events API.
    Json,
    /// `application/x-www-form-urlencoded`: slash commands, interactions, options loads.
    Form,
}

/// Why a request was refused, with the status to answer ([`Refusal::status`]). The messages
/// never quote the body, the signature or the secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not a `POST` (405).
    #[error("method not allowed: Slack sends POST")]
    MethodNotAllowed,
    /// Unsigned, stale or badly signed (401).
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// Neither `application/json` nor `application/x-www-form-urlencoded` (415).
    #[error("unsupported content type: Slack sends application/json or application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    /// Bigger than the cap, by `Content-Length` or by the bytes read (413).
    #[error("request body over the {limit}-byte cap")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// `Content-Length` is not a number (400).
    #[error("Content-Length is not a number")]
    BadContentLength,
    /// Signed, but not a body this receiver understands (400).
    #[error("malformed request: {0}")]
    Malformed(#[from] MalformedBody),
}

impl Refusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadContentLength | Self::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// The signing secret was empty: anyone could sign with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the signing secret is empty")]
pub struct EmptySigningSecret;

/// Verifies and classifies requests to a Request URL. Sans-IO: the caller reads the body and
/// passes the time in.
///
/// Two steps, so a server refuses before it reads a body: [`Verifier::check_head`] (method,
/// signature headers present and fresh, content type, `Content-Length` within the cap), then
/// [`Verifier::verify`] on the whole body (the cap again on the bytes, the HMAC, and only then
/// the parsing).
///
/// ```
/// use slack_rtm_codec::http_mode::{SigningSecret, Verifier, InboundKind};
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// let secret = SigningSecret::new("8f742231b10e8888abcd99yyyzzz85a5");
/// let verifier = Verifier::new(secret.clone()).unwrap();
/// let body = br#"{"type":"url_verification","challenge":"abc","token":"t"}"#;
/// let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let request = http::Request::post("/slack/events")
///     .header("content-type", "application/json")
///     .header("x-slack-request-timestamp", "1700000000")
///     .header("x-slack-signature", secret.sign("1700000000", body))
///     .body(()).unwrap();
/// let inbound = verifier.verify(request.method(), request.headers(), body, now).unwrap();
/// assert_eq!(inbound.kind(), InboundKind::UrlVerification);
/// assert_eq!(inbound.challenge(), Some("abc"));
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    /// The secret, keyed into the HMAC once (its `Debug` is redacted too).
    mac: KeyedMac,
    max_body: usize,
}

impl Verifier {
    /// A verifier with the default body cap ([`DEFAULT_MAX_BODY_BYTES`]).
    pub fn new(secret: SigningSecret) -> Result<Self, EmptySigningSecret> {
        if secret.is_empty() {
            return Err(EmptySigningSecret);
        }
        Ok(Self { mac: KeyedMac::new(&secret), max_body: DEFAULT_MAX_BODY_BYTES })
    }

    /// Sets the body cap (bytes).
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body = limit;
        self
    }

    /// The body cap (bytes).
    pub fn body_limit(&self) -> usize {
        self.max_body
    }

    /// What can be refused before the body is read: not `POST` (405); no signature headers or
    /// a stale timestamp (401); an unexpected content type (415); a `Content-Length` over the
    /// cap (413) or not a number (400).
    pub fn check_head(
        &self,
        method: &Method,
        headers: &HeaderMap,
        now: SystemTime,
    ) -> Result<BodyFormat, Refusal> {
        if method != Method::POST {
            return Err(Refusal::MethodNotAllowed);
        }
        self.check_head_of(&SlackHeaders::read(headers), now)
    }

    fn check_head_of(&self, headers: &SlackHeaders<'_>, now: SystemTime) -> Result<BodyFormat, Refusal> {
        check_timestamp(headers.timestamp(), now)?;
        if headers.signature.is_none() {
            return Err(SignatureError::MissingSignature.into());
        }
        let format = body_format(headers.content_type)?;
        if let Some(len) = headers.content_length {
            let len: u64 = len.to_str().ok().and_then(|s| s.parse().ok()).ok_or(Refusal::BadContentLength)?;
            if len > self.max_body as u64 {
                return Err(Refusal::TooLarge { limit: self.max_body });
            }
        }
        Ok(format)
    }

    /// Verifies a whole request and classifies it: [`Verifier::check_head`], the cap on the
    /// bytes (413), the signature over the raw body (401), then the body and the retry
    /// headers (400 when malformed). Nothing is parsed before the signature matches.
    pub fn verify(
        &self,
        method: &Method,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Inbound, Refusal> {
        if method != Method::POST {
            return Err(Refusal::MethodNotAllowed);
        }
        let headers = SlackHeaders::read(headers);
        let format = self.check_head_of(&headers, now)?;
        self.verify_body_of(format, &headers, body, now)
    }

    /// The second step of [`Verifier::verify`], for a server that called
    /// [`Verifier::check_head`] before reading the body and got `format` from it: the head's
    /// checks are not made again (method, content type, `Content-Length`, 4 header lookups),
    /// everything about the body is: the cap on its bytes (413), the timestamp window at `now`
    /// and the signature over the raw body (401), then the parsing (400).
    pub fn verify_body(
        &self,
        format: BodyFormat,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Inbound, Refusal> {
        self.verify_body_of(format, &SlackHeaders::read(headers), body, now)
    }

    fn verify_body_of(
        &self,
        format: BodyFormat,
        headers: &SlackHeaders<'_>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Inbound, Refusal> {
        if body.len() > self.max_body {
            return Err(Refusal::TooLarge { limit: self.max_body });
        }
        let signature = headers.signature.map(HeaderValue::as_bytes);
        let timestamp = self.mac.verify(headers.timestamp(), signature, body, now)?;
        let Classified { kind, payload, challenge, event_id, type_name } = match format {
            BodyFormat::Json => classify_json(body)?,
            BodyFormat::Form => classify_form(body)?,
        };
        let retry = retry_headers(headers)?;
        Ok(Inbound { kind, payload, challenge, event_id, type_name, retry, timestamp })
    }
}

fn body_format(content_type: Option<&HeaderValue>) -> Result<BodyFormat, Refusal> {
    let value = content_type.and_then(|v| v.to_str().ok()).ok_or(Refusal::UnsupportedMediaType)?;
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(BodyFormat::Json)
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(BodyFormat::Form)
    } else {
        Err(Refusal::UnsupportedMediaType)
    }
}

fn retry_headers(headers: &SlackHeaders<'_>) -> Result<Option<Retry>, MalformedBody> {
    let Some(num) = headers.retry_num else { return Ok(None) };
    let num: u32 = num.to_str().ok().and_then(|s| s.trim().parse().ok()).ok_or(MalformedBody::RetryNum)?;
    let reason = headers.retry_reason.and_then(|v| v.to_str().ok()).unwrap_or("");
    // A reason is a short word (`http_timeout`): keep a bounded, printable prefix only.
    let reason: String = reason.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
    Ok(Some(Retry { num, reason }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_mode::{InboundKind, RETRY_NUM, RETRY_REASON, SIGNATURE, TIMESTAMP};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn verify_body_still_checks_the_cap_the_window_and_the_signature() {
        let secret = SigningSecret::new("unit-test-secret");
        let verifier = Verifier::new(secret.clone()).unwrap().max_body_bytes(200);
        let body = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
        let signed_at = 1_700_000_000u64;
        let now = UNIX_EPOCH + Duration::from_secs(signed_at);
        let headers = |signature: &str| {
            let mut h = HeaderMap::new();
            h.insert(TIMESTAMP, signed_at.to_string().parse().unwrap());
            h.insert(SIGNATURE, signature.parse().unwrap());
            h
        };
        let good = headers(&secret.sign(&signed_at.to_string(), body));
        let inbound = verifier.verify_body(BodyFormat::Json, &good, body, now).unwrap();
        assert_eq!(inbound.kind(), InboundKind::Event);
        assert_eq!(inbound.type_name(), Some("app_mention"));
        assert_eq!(inbound.timestamp(), signed_at, "the signed timestamp, as verified");
        let bad = headers(&SigningSecret::new("other").sign(&signed_at.to_string(), body));
        assert_eq!(
            verifier.verify_body(BodyFormat::Json, &bad, body, now),
            Err(Refusal::Signature(SignatureError::Mismatch))
        );
        let late = now + Duration::from_secs(301);
        assert_eq!(
            verifier.verify_body(BodyFormat::Json, &good, body, late),
            Err(Refusal::Signature(SignatureError::Stale { skew_secs: 301 }))
        );
        let big = vec![b' '; 201];
        assert_eq!(
            verifier.verify_body(BodyFormat::Json, &good, &big, now),
            Err(Refusal::TooLarge { limit: 200 })
        );
    }

    #[test]
    fn the_one_pass_over_the_headers_reads_each_first_value_as_get_does() {
        let secret = SigningSecret::new("unit-test-secret");
        let verifier = Verifier::new(secret.clone()).unwrap();
        let body = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
        let signed_at = 1_700_000_000u64;
        let now = UNIX_EPOCH + Duration::from_secs(signed_at);
        let ts = signed_at.to_string();
        let mut h = HeaderMap::new();
        // Upper-case names on the wire are the same header; other headers in between.
        h.insert("X-Slack-Retry-Num", "2".parse().unwrap());
        h.insert("host", "example.com".parse().unwrap());
        h.append(SIGNATURE, secret.sign(&ts, body).parse().unwrap());
        h.append(SIGNATURE, "v0=0000".parse().unwrap());
        h.append(TIMESTAMP, ts.parse().unwrap());
        h.append(TIMESTAMP, "garbage".parse().unwrap());
        h.insert(RETRY_REASON, "http_timeout".parse().unwrap());
        h.insert(CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        h.insert(CONTENT_LENGTH, body.len().to_string().parse().unwrap());
        let inbound = verifier.verify(&Method::POST, &h, body, now).unwrap();
        assert_eq!(inbound.retry(), Some(&Retry { num: 2, reason: "http_timeout".into() }));
        assert_eq!(inbound.timestamp(), signed_at);
        assert_eq!(verifier.check_head(&Method::POST, &h, now), Ok(BodyFormat::Json));
        h.insert(CONTENT_LENGTH, "201".parse().unwrap());
        let small = verifier.clone().max_body_bytes(200);
        assert_eq!(small.check_head(&Method::POST, &h, now), Err(Refusal::TooLarge { limit: 200 }));
        h.insert(RETRY_NUM, "two".parse().unwrap());
        assert_eq!(
            verifier.verify_body(BodyFormat::Json, &h, body, now),
            Err(Refusal::Malformed(MalformedBody::RetryNum))
        );
    }
}
