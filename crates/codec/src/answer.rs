//! What every Web API answer shares, for `rtm.connect` and every other method alike: the HTTP
//! status rules (429 + `Retry-After`, 5xx, other statuses), JSON that is not JSON (an HTML
//! page from a proxy, a truncated body), the `ok`/`error` envelope, warnings from both places
//! Slack puts them, and the `x-slack-req-id`.

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Response, StatusCode};
use serde::Deserialize;
use slack_rtm_types::{ApiError, ApiWarning};
use std::time::Duration;

/// Longest body excerpt kept in an error.
pub(crate) const SNIPPET_CHARS: usize = 160;

/// A successful envelope (`"ok": true`), with the whole answer kept for the method's parser.
pub(crate) struct Answer {
    /// The whole JSON object.
    pub value: serde_json::Value,
    pub warnings: Vec<ApiWarning>,
    pub messages: Vec<String>,
    pub req_id: Option<String>,
}

/// Why an answer is not a successful envelope.
pub(crate) enum AnswerError {
    /// `{"ok":false,"error":"…"}` (an absent code becomes `unknown_error`).
    Api { error: ApiError, warnings: Vec<ApiWarning>, req_id: Option<String> },
    /// HTTP 429.
    RateLimited { retry_after: Duration, req_id: Option<String> },
    /// HTTP 5xx.
    Server { status: u16, content_type: String, snippet: String, req_id: Option<String> },
    /// Another non-200 status.
    UnexpectedStatus { status: u16, content_type: String, snippet: String, req_id: Option<String> },
    /// A 200 whose body is not JSON.
    NotJson { status: u16, content_type: String, snippet: String, req_id: Option<String> },
    /// JSON, but not an object with a boolean `ok`.
    NoEnvelope { detail: String, req_id: Option<String> },
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    error: Option<ApiError>,
    #[serde(default)]
    warning: Option<String>,
    #[serde(default)]
    response_metadata: Option<Metadata>,
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

/// `Retry-After` in seconds, or `default` when it is missing or garbled.
pub(crate) fn parse_retry_after(value: Option<&http::HeaderValue>, default: Duration) -> Duration {
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(default)
}

/// Slack's `x-slack-req-id`, bounded.
pub(crate) fn req_id_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(crate::REQ_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect::<String>())
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

/// Reads any Web API answer up to its envelope. `default_retry_after` is the wait assumed for a
/// 429 without a usable `Retry-After`.
pub(crate) fn read_answer<B: AsRef<[u8]>>(
    response: &Response<B>,
    default_retry_after: Duration,
) -> Result<Answer, AnswerError> {
    let body = response.body().as_ref();
    let headers = response.headers();
    let req_id = req_id_of(headers);
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
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = parse_retry_after(headers.get(RETRY_AFTER), default_retry_after);
        return Err(AnswerError::RateLimited { retry_after, req_id });
    }
    if status.is_server_error() {
        let (status, content_type, snippet) = (status.as_u16(), content_type(), snippet(body));
        return Err(AnswerError::Server { status, content_type, snippet, req_id });
    }
    if status != StatusCode::OK {
        let (status, content_type, snippet) = (status.as_u16(), content_type(), snippet(body));
        return Err(AnswerError::UnexpectedStatus { status, content_type, snippet, req_id });
    }
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            let (status, content_type, snippet) = (status.as_u16(), content_type(), snippet(body));
            return Err(AnswerError::NotJson { status, content_type, snippet, req_id });
        }
    };
    if !value.is_object() {
        return Err(AnswerError::NoEnvelope { detail: "the answer is not a JSON object".into(), req_id });
    }
    let env = match Envelope::deserialize(&value) {
        Ok(env) => env,
        Err(e) => return Err(AnswerError::NoEnvelope { detail: e.to_string(), req_id }),
    };
    let (warnings, messages) = warnings_of(&env);
    if !env.ok {
        let error = env.error.unwrap_or_else(|| ApiError::Other("unknown_error".into()));
        return Err(AnswerError::Api { error, warnings, req_id });
    }
    Ok(Answer { value, warnings, messages, req_id })
}
