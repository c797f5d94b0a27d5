use crate::request::{ApiBase, ConnectConfig};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Deserialize;
use slack_rtm_types::{ApiError, ApiWarning, Connected};
use std::time::{Duration, Instant};

/// The response header carrying Slack's request id; quote it in support requests.
pub const REQ_ID_HEADER: &str = "x-slack-req-id";

/// The wait assumed when a 429 has no usable `Retry-After`: `rtm.connect` is Tier 1, about one
/// call a minute, so a minute is the safe guess.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The largest `rtm.connect` body a transport should accept. Real answers are well under 1 KiB.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Longest body excerpt kept in an error.
const SNIPPET_CHARS: usize = 160;

/// A successful `rtm.connect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Who we are, the workspace, and the socket URL.
    pub connected: Connected,
    /// Warnings from `warning` (comma-separated) and `response_metadata.warnings`, deduplicated.
    pub warnings: Vec<ApiWarning>,
    /// `response_metadata.messages`, if any.
    pub messages: Vec<String>,
    /// Slack's `x-slack-req-id`.
    pub req_id: Option<String>,
    /// When the answer arrived (the `now` given to the parser). The URL expires 30 s later.
    pub obtained_at: Instant,
}

impl ConnectResponse {
    /// When the socket URL stops being valid.
    pub fn expires_at(&self) -> Instant {
        self.obtained_at + Connected::URL_LIFETIME
    }

    /// Whether the socket URL has expired at `now`.
    pub fn is_expired(&self, now: Instant) -> bool {
        now >= self.expires_at()
    }
}

use crate::advice::ErrorDetail;
use crate::api_error::{ApiCallError, ApiFailure};

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    error: Option<ApiError>,
    #[serde(default)]
    warning: Option<String>,
    #[serde(default)]
    response_metadata: Option<Metadata>,
    #[serde(default)]
    needed: Option<String>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    messages: Vec<String>,
}

/// The start of a body, printable and short, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_CHARS * 4)]);
    let mut out = String::new();
    let mut last_space = false;
    for c in text.chars() {
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    out.trim().to_owned()
}

fn parse_retry_after(value: Option<&http::HeaderValue>, default: Duration) -> Duration {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(default)
}

fn warnings_of(env: &Envelope) -> (Vec<ApiWarning>, Vec<String>) {
    let mut warnings: Vec<ApiWarning> = Vec::new();
    let mut push = |code: &str| {
        let code = code.trim();
        if !code.is_empty() {
            let w = ApiWarning::from_code(code);
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    };
    if let Some(w) = &env.warning {
        w.split(',').for_each(&mut push);
    }
    let meta = env.response_metadata.as_ref();
    if let Some(m) = meta {
        m.warnings.iter().for_each(|w| push(w));
    }
    (warnings, meta.map(|m| m.messages.clone()).unwrap_or_default())
}

/// A Web API answer that passed the checks every connect-style method shares: HTTP status
/// (429 with `Retry-After`, 5xx, others), a JSON object body, `ok: true`.
pub(crate) struct Answer<'m> {
    pub method: &'m str,
    pub value: serde_json::Value,
    pub warnings: Vec<ApiWarning>,
    pub messages: Vec<String>,
    pub req_id: Option<String>,
}

impl Answer<'_> {
    /// The error for a missing or malformed field of this answer.
    pub fn missing(&self, field: &str, detail: String) -> ApiCallError {
        let failure = ApiFailure::Decode { field: Some(field.to_owned()), detail };
        ApiCallError::new(self.method, self.req_id.clone(), failure)
    }
}

/// Checks an answer of `method` up to `ok: true`. A 429 without a usable `Retry-After` waits
/// `default_wait`.
pub(crate) fn read_answer<'m, B: AsRef<[u8]>>(
    method: &'m str,
    response: &Response<B>,
    default_wait: Duration,
) -> Result<Answer<'m>, ApiCallError> {
    let body = response.body().as_ref();
    let headers = response.headers();
    let req_id = headers
        .get(REQ_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect::<String>());
    let status = response.status();
    let content_type = || {
        headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type")
            .chars()
            .take(100)
            .collect::<String>()
    };

    let fail = |req_id: Option<String>, failure| ApiCallError::new(method, req_id, failure);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = parse_retry_after(headers.get(RETRY_AFTER), default_wait);
        return Err(fail(req_id, ApiFailure::RateLimited { retry_after }));
    }
    if status != StatusCode::OK {
        let (status, content_type, snippet) = (status.as_u16(), content_type(), snippet(body));
        return Err(fail(req_id, ApiFailure::Status { status, content_type, snippet }));
    }

    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        let (status, content_type, snippet) = (status.as_u16(), content_type(), snippet(body));
        fail(req_id.clone(), ApiFailure::NotJson { status, content_type, snippet })
    })?;
    let missing = |field: &str, detail: String| {
        fail(req_id.clone(), ApiFailure::Decode { field: Some(field.to_owned()), detail })
    };
    if !value.is_object() {
        return Err(missing("ok", "the answer is not a JSON object".into()));
    }
    let env = Envelope::deserialize(&value).map_err(|e| missing("ok", e.to_string()))?;
    let (warnings, messages) = warnings_of(&env);
    if !env.ok {
        let error = env.error.unwrap_or_else(|| ApiError::Other("unknown_error".into()));
        let detail = ErrorDetail::boxed(env.needed, messages);
        return Err(fail(req_id, ApiFailure::Api { error, warnings, detail }));
    }
    Ok(Answer { method, value, warnings, messages, req_id })
}

impl ConnectConfig {
    /// Parses an `rtm.connect` answer received at `now`.
    pub fn parse_response<B: AsRef<[u8]>>(
        &self,
        response: &Response<B>,
        now: Instant,
    ) -> Result<ConnectResponse, ApiCallError> {
        let answer = read_answer("rtm.connect", response, DEFAULT_RETRY_AFTER)?;
        let value = &answer.value;
        let missing = |field: &str, detail: String| answer.missing(field, detail);
        for field in ["self", "team", "url"] {
            if value.get(field).is_none() {
                return Err(missing(field, "absent from a successful answer".into()));
            }
        }
        let connected = Connected::deserialize(value).map_err(|e| {
            // Name the sub-object that failed, for a clear message.
            let field = ["self", "team", "url"]
                .into_iter()
                .find(|f| {
                    let v = &value[*f];
                    match *f {
                        "url" => !v.is_string(),
                        "self" => serde_json::from_value::<slack_rtm_types::SelfInfo>(v.clone()).is_err(),
                        _ => serde_json::from_value::<slack_rtm_types::TeamInfo>(v.clone()).is_err(),
                    }
                })
                .unwrap_or("self");
            missing(field, e.to_string())
        })?;
        let Answer { warnings, messages, req_id, .. } = answer;
        self.check_socket_url(&connected.url).map_err(|reason| {
            ApiCallError::new("rtm.connect", req_id.clone(), ApiFailure::InvalidSocketUrl { reason })
        })?;
        Ok(ConnectResponse { connected, warnings, messages, req_id, obtained_at: now })
    }

    /// Whether a socket URL may be opened under this config: `wss://` always; `ws://` only with
    /// `allow_insecure` and an `http://` API base (a secure API base never accepts a downgrade).
    pub fn check_socket_url(&self, url: &str) -> Result<(), &'static str> {
        check_socket_url(&self.api_base, self.allow_insecure, url)
    }
}

/// Whether a socket URL may be opened: `wss://` always; `ws://` only with `allow_insecure`
/// and an `http://` API base (a secure API base never accepts a downgrade).
pub(crate) fn check_socket_url(
    api_base: &ApiBase,
    allow_insecure: bool,
    url: &str,
) -> Result<(), &'static str> {
    let uri: http::Uri = url.parse().map_err(|_| "not a valid URL")?;
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host");
    }
    match uri.scheme_str() {
        Some("wss") => Ok(()),
        Some("ws") if allow_insecure && !api_base.is_secure() => Ok(()),
        Some("ws") if api_base.is_secure() => {
            Err("ws:// from a https:// API base would downgrade to an unencrypted socket")
        }
        Some("ws") => Err("ws:// needs the explicit insecure option"),
        _ => Err("the scheme must be wss://"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
        let mut b = Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    const OK: &str = r#"{"ok":true,"self":{"id":"U4X318ZMZ","name":"robotoverlord"},"team":{"domain":"slackdemo","id":"T2U81E2FP","name":"SlackDemo"},"url":"wss:\/\/cerberus-xxxx.lb.slack-msgs.com\/websocket\/ABC"}"#;

    fn parse(r: &Response<Vec<u8>>) -> Result<ConnectResponse, ApiCallError> {
        ConnectConfig::default().parse_response(r, Instant::now())
    }

    #[test]
    fn typical_success() {
        let now = Instant::now();
        let r = ConnectConfig::default()
            .parse_response(&resp(200, &[("x-slack-req-id", "abc123")], OK), now)
            .unwrap();
        assert_eq!(r.connected.self_.name, "robotoverlord");
        assert_eq!(r.connected.team.id, "T2U81E2FP");
        assert_eq!(r.connected.url, "wss://cerberus-xxxx.lb.slack-msgs.com/websocket/ABC");
        assert_eq!(r.req_id.as_deref(), Some("abc123"));
        assert!(r.warnings.is_empty());
        assert_eq!(r.expires_at(), now + Duration::from_secs(30));
        assert!(!r.is_expired(now + Duration::from_secs(29)));
        assert!(r.is_expired(now + Duration::from_secs(30)));
    }

    #[test]
    fn typical_error_and_every_code() {
        let e = parse(&resp(200, &[("x-slack-req-id", "r1")], r#"{"ok":false,"error":"invalid_auth"}"#))
            .unwrap_err();
        assert_eq!(e.api_error(), Some(&ApiError::InvalidAuth));
        assert_eq!(e.req_id(), Some("r1"));
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("invalid_auth") && e.to_string().contains("r1"));
        for known in ApiError::ALL {
            let body = format!(r#"{{"ok":false,"error":"{}"}}"#, known.as_str());
            let e = parse(&resp(200, &[], &body)).unwrap_err();
            assert_eq!(e.api_error(), Some(known));
            assert_eq!(e.is_retryable(), known.is_retryable());
        }
        let e = parse(&resp(200, &[], r#"{"ok":false}"#)).unwrap_err();
        assert_eq!(e.api_error(), Some(&ApiError::Other("unknown_error".into())));
    }

    #[test]
    fn warnings_from_both_places() {
        let body = r#"{"ok":true,"warning":"superfluous_charset,missing_charset","response_metadata":{"warnings":["superfluous_charset","new_warning"],"messages":["[WARN] x"]},"self":{"id":"U1","name":"n"},"team":{"id":"T1","name":"N","domain":"d"},"url":"wss://h/ws"}"#;
        let r = parse(&resp(200, &[], body)).unwrap();
        assert_eq!(
            r.warnings,
            vec![
                ApiWarning::SuperfluousCharset,
                ApiWarning::MissingCharset,
                ApiWarning::Other("new_warning".into())
            ]
        );
        assert_eq!(r.messages, vec!["[WARN] x".to_string()]);
    }

    #[test]
    fn rate_limited_with_and_without_retry_after() {
        let e = parse(&resp(
            429,
            &[("retry-after", "17"), ("x-slack-req-id", "q")],
            r#"{"ok":false,"error":"ratelimited"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
        assert_eq!(e.req_id(), Some("q"));
        assert!(e.is_retryable());
        for garbled in [None, Some("soon"), Some("-3"), Some("")] {
            let headers: Vec<(&str, &str)> = garbled.map(|g| ("retry-after", g)).into_iter().collect();
            let e = parse(&resp(429, &headers, "")).unwrap_err();
            assert_eq!(e.retry_after(), Some(DEFAULT_RETRY_AFTER), "{garbled:?}");
        }
    }

    #[test]
    fn server_error_and_html_page() {
        let e = parse(&resp(
            503,
            &[("content-type", "text/html")],
            "<html><body>\n\n  Service Unavailable</body></html>",
        ))
        .unwrap_err();
        match &e.failure {
            ApiFailure::Status { status, content_type, snippet } => {
                assert_eq!(*status, 503);
                assert_eq!(content_type, "text/html");
                assert_eq!(snippet, "<html><body> Service Unavailable</body></html>");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.is_retryable());
        let page = format!("<!DOCTYPE html><html>{}</html>", "x".repeat(10_000));
        let e = parse(&resp(
            200,
            &[("content-type", "text/html; charset=utf-8"), ("x-slack-req-id", "h")],
            &page,
        ))
        .unwrap_err();
        let req_id = &e.req_id;
        match &e.failure {
            ApiFailure::NotJson { status, content_type, snippet } => {
                assert_eq!(*status, 200);
                assert_eq!(content_type, "text/html; charset=utf-8");
                assert!(snippet.starts_with("<!DOCTYPE html>"));
                assert!(snippet.chars().count() <= SNIPPET_CHARS + 1);
                assert_eq!(req_id.as_deref(), Some("h"));
            }
            other => panic!("{other:?}"),
        }
        let e = parse(&resp(404, &[], "not found")).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::Status { status: 404, .. }));
        assert!(!e.is_retryable());
    }

    #[test]
    fn truncated_body_is_not_json() {
        let e = parse(&resp(200, &[], &OK[..OK.len() / 2])).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::NotJson { .. }), "{e:?}");
    }

    #[test]
    fn missing_fields_are_named() {
        for (field, body) in [
            (
                "url",
                r#"{"ok":true,"self":{"id":"U1","name":"n"},"team":{"id":"T1","name":"N","domain":"d"}}"#,
            ),
            ("self", r#"{"ok":true,"team":{"id":"T1","name":"N","domain":"d"},"url":"wss://h/"}"#),
            ("team", r#"{"ok":true,"self":{"id":"U1","name":"n"},"url":"wss://h/"}"#),
            ("team", r#"{"ok":true,"self":{"id":"U1","name":"n"},"team":{"id":"T1"},"url":"wss://h/"}"#),
            (
                "url",
                r#"{"ok":true,"self":{"id":"U1","name":"n"},"team":{"id":"T1","name":"N","domain":"d"},"url":5}"#,
            ),
            ("ok", r#"{"self":{}}"#),
            ("ok", r#"[1,2]"#),
        ] {
            match parse(&resp(200, &[], body)).unwrap_err().failure {
                ApiFailure::Decode { field: Some(f), .. } => assert_eq!(f, field, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn socket_url_scheme_rules() {
        let ws = OK.replace("wss:", "ws:");
        let e = parse(&resp(200, &[], &ws)).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::InvalidSocketUrl { .. }));
        // Insecure option on a secure base: still no downgrade.
        let cfg = ConnectConfig { allow_insecure: true, ..ConnectConfig::default() };
        assert!(cfg.parse_response(&resp(200, &[], &ws), Instant::now()).is_err());
        // Insecure option with an http base: ws:// allowed.
        let local = ConnectConfig {
            api_base: ApiBase::parse("http://127.0.0.1:1/api/", true).unwrap(),
            allow_insecure: true,
            ..ConnectConfig::default()
        };
        assert!(local.parse_response(&resp(200, &[], &ws), Instant::now()).is_ok());
        assert!(local.parse_response(&resp(200, &[], OK), Instant::now()).is_ok());
        let https = OK.replace("wss:", "https:");
        assert!(parse(&resp(200, &[], &https)).is_err());
        assert!(ConnectConfig::default().check_socket_url("wss://").is_err());
    }
}
