//! Parsing a Web API answer: the shared envelope rules ([`crate::answer`]) with the method's
//! name in every error, and the method-specific part decoded on demand.

use crate::response::{Answer, ConnectError, read_answer};
use crate::web::limiter::method_tier;
use http::Response;
use http::header::RETRY_AFTER;
use serde::de::DeserializeOwned;
use slack_rtm_types::{ApiError, ApiWarning};
use std::time::Duration;

/// A successful Web API answer (`"ok": true`).
#[derive(Clone, Debug, PartialEq)]
pub struct WebResponse {
    /// The method that answered.
    pub method: String,
    /// The whole JSON answer (with `ok`, `response_metadata`, …).
    pub value: serde_json::Value,
    /// Warnings from `warning` and `response_metadata.warnings`, deduplicated.
    pub warnings: Vec<ApiWarning>,
    /// `response_metadata.messages`, if any.
    pub messages: Vec<String>,
    /// Slack's `x-slack-req-id`.
    pub req_id: Option<String>,
}

impl WebResponse {
    /// Decodes the method-specific part into a typed answer (e.g.
    /// [`slack_rtm_types::web::PostMessageResponse`]). Unknown fields are ignored; a missing or
    /// mistyped required field is [`WebError::Malformed`].
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, WebError> {
        T::deserialize(&self.value).map_err(|e| WebError::Malformed {
            method: self.method.clone(),
            detail: e.to_string(),
            req_id: self.req_id.clone(),
        })
    }
}

use crate::advice::{ErrorDetail, req};

/// Why a Web API call got no usable answer from the server.
///
/// Every variant names the method and keeps Slack's `x-slack-req-id` when there was one; none
/// ever holds the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// `{"ok":false,"error":"…"}`: Slack refused the call. Unknown codes are kept as
    /// [`ApiError::Other`].
    #[error("{}", crate::advice::api_failure(.method, .error, .detail, .req_id))]
    Api {
        /// The method.
        method: String,
        /// The error code.
        error: ApiError,
        /// Warnings that came with it.
        warnings: Vec<ApiWarning>,
        /// What Slack said beyond the code: the scope needed, its explanations.
        detail: Option<Box<ErrorDetail>>,
        /// Slack's request id.
        req_id: Option<String>,
    },
    /// HTTP 429: Slack did not run the call; wait `retry_after`.
    #[error("{method} was rate limited: retry after {}s{}", .retry_after.as_secs(), req(.req_id))]
    RateLimited {
        /// The method.
        method: String,
        /// From `Retry-After` (or the method's tier interval if missing or garbled).
        retry_after: Duration,
        /// Slack's request id.
        req_id: Option<String>,
    },
    /// HTTP 5xx: the call may or may not have run.
    #[error("{method} failed with server error {status} ({content_type}): {snippet:?}{}", req(.req_id))]
    Server {
        /// The method.
        method: String,
        /// The status.
        status: u16,
        /// The response's content type.
        content_type: String,
        /// The start of the body, sanitized.
        snippet: String,
        /// Slack's request id.
        req_id: Option<String>,
    },
    /// Another unexpected HTTP status (e.g. 404 from a wrong API base).
    #[error("{}", crate::advice::unexpected_status(.method, *.status, .content_type, .snippet, .req_id))]
    UnexpectedStatus {
        /// The method.
        method: String,
        /// The status.
        status: u16,
        /// The response's content type.
        content_type: String,
        /// The start of the body, sanitized.
        snippet: String,
        /// Slack's request id.
        req_id: Option<String>,
    },
    /// The body is not JSON (e.g. an HTML page from a proxy), or is truncated.
    #[error("{method} answered HTTP {status} with a body that is not valid JSON ({content_type}): {snippet:?}{}", req(.req_id))]
    NotJson {
        /// The method.
        method: String,
        /// The status.
        status: u16,
        /// The response's content type.
        content_type: String,
        /// The start of the body, sanitized.
        snippet: String,
        /// Slack's request id.
        req_id: Option<String>,
    },
    /// JSON without the `ok` envelope, or a success whose method-specific part has the wrong
    /// shape.
    #[error("{method} answered with an unexpected shape: {detail}{}", req(.req_id))]
    Malformed {
        /// The method.
        method: String,
        /// The parser's explanation.
        detail: String,
        /// Slack's request id.
        req_id: Option<String>,
    },
}

impl WebError {
    /// The shared answer rules speak `rtm.connect`'s error type; name the method instead.
    /// `tier_wait` replaces the `Retry-After` default when the header was missing or garbled.
    fn from_answer(method: &str, e: ConnectError, retry_after_given: bool, tier_wait: Duration) -> Self {
        let method = method.to_owned();
        match e {
            ConnectError::Api { error, warnings, detail, req_id } => {
                WebError::Api { method, error, warnings, detail, req_id }
            }
            ConnectError::RateLimited { retry_after, req_id } => {
                let retry_after = if retry_after_given { retry_after } else { tier_wait };
                WebError::RateLimited { method, retry_after, req_id }
            }
            ConnectError::Server { status, content_type, snippet, req_id } => {
                WebError::Server { method, status, content_type, snippet, req_id }
            }
            ConnectError::UnexpectedStatus { status, content_type, snippet, req_id } => {
                WebError::UnexpectedStatus { method, status, content_type, snippet, req_id }
            }
            ConnectError::NotJson { status, content_type, snippet, req_id } => {
                WebError::NotJson { method, status, content_type, snippet, req_id }
            }
            ConnectError::MissingField { detail, req_id, .. } => {
                WebError::Malformed { method, detail, req_id }
            }
            other => WebError::Malformed {
                method,
                detail: other.to_string(),
                req_id: other.req_id().map(str::to_owned),
            },
        }
    }

    /// The method that failed.
    pub fn method(&self) -> &str {
        match self {
            WebError::Api { method, .. }
            | WebError::RateLimited { method, .. }
            | WebError::Server { method, .. }
            | WebError::UnexpectedStatus { method, .. }
            | WebError::NotJson { method, .. }
            | WebError::Malformed { method, .. } => method,
        }
    }

    /// Slack's `x-slack-req-id`, if the server sent one.
    pub fn req_id(&self) -> Option<&str> {
        match self {
            WebError::Api { req_id, .. }
            | WebError::RateLimited { req_id, .. }
            | WebError::Server { req_id, .. }
            | WebError::UnexpectedStatus { req_id, .. }
            | WebError::NotJson { req_id, .. }
            | WebError::Malformed { req_id, .. } => req_id.as_deref(),
        }
    }

    /// The API error code, if Slack gave one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            WebError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// How long the server asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            WebError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The HTTP status, when the error is about one.
    pub fn status(&self) -> Option<u16> {
        match self {
            WebError::RateLimited { .. } => Some(429),
            WebError::Server { status, .. }
            | WebError::UnexpectedStatus { status, .. }
            | WebError::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Parses the answer of `method`. A 429 without a usable `Retry-After` waits the method's tier
/// interval ([`crate::web::RateTier::interval`]).
pub fn parse_web_response<B: AsRef<[u8]>>(
    method: &str,
    response: &Response<B>,
) -> Result<WebResponse, WebError> {
    let tier_wait = method_tier(method).interval().max(Duration::from_secs(1));
    let retry_after_given = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().parse::<u64>().is_ok());
    let Answer { value, warnings, messages, req_id } =
        read_answer(response).map_err(|e| WebError::from_answer(method, e, retry_after_given, tier_wait))?;
    Ok(WebResponse { method: method.to_owned(), value, warnings, messages, req_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_rtm_types::web::{HistoryPage, PostMessageResponse};

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
        let mut b = Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn success_keeps_warnings_req_id_and_decodes_the_payload() {
        let r = parse_web_response(
            "chat.postMessage",
            &resp(
                200,
                &[("x-slack-req-id", "abc"), ("content-type", "application/json")],
                r#"{"ok":true,"channel":"C1","ts":"1.000002","message":{"type":"message","text":"hi","ts":"1.000002"},
                    "warning":"missing_charset","response_metadata":{"warnings":["missing_charset"],"messages":["[WARN] x"]}}"#,
            ),
        )
        .unwrap();
        assert_eq!(r.req_id.as_deref(), Some("abc"));
        assert_eq!(r.warnings, vec![ApiWarning::MissingCharset]);
        assert_eq!(r.messages, vec!["[WARN] x".to_string()]);
        let posted: PostMessageResponse = r.parse().unwrap();
        assert_eq!(posted.ts, "1.000002");
        let wrong = r.parse::<slack_rtm_types::web::ViewResponse>();
        assert!(matches!(wrong, Err(WebError::Malformed { .. })), "{wrong:?}");
        // A page type is tolerant: an answer without messages is an empty page.
        assert!(r.parse::<HistoryPage>().unwrap().messages.is_empty());
    }

    #[test]
    fn errors_name_the_method_and_keep_unknown_codes() {
        let e = parse_web_response(
            "chat.postMessage",
            &resp(200, &[("x-slack-req-id", "r9")], r#"{"ok":false,"error":"brand_new_error"}"#),
        )
        .unwrap_err();
        assert_eq!(e.api_error(), Some(&ApiError::Other("brand_new_error".into())));
        assert_eq!(e.method(), "chat.postMessage");
        assert_eq!(e.req_id(), Some("r9"));
        let text = e.to_string();
        assert!(
            text.starts_with("chat.postMessage failed: brand_new_error") && text.contains("r9"),
            "{text}"
        );
        // A common error in plain words, the scope Slack says is needed, Slack's own messages.
        let body = r#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"users:read",
            "response_metadata":{"messages":["[ERROR] missing scope"]}}"#;
        let e = parse_web_response("chat.postMessage", &resp(200, &[], body)).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("missing_scope: The token lacks a scope"), "{text}");
        assert!(text.contains("The scope needed: chat:write."), "{text}");
        assert!(text.contains("Slack says: [ERROR] missing scope."), "{text}");
        // A 404 asks about the API URL instead of showing the page.
        let e = parse_web_response("auth.test", &resp(404, &[], "<html>Not Found</html>")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("HTTP 404 (not found): is the API URL right?") && !text.contains("html"),
            "{text}"
        );
        let e = parse_web_response("auth.test", &resp(200, &[], r#"{"ok":false,"error":"invalid_auth"}"#))
            .unwrap_err();
        assert_eq!(e.api_error(), Some(&ApiError::InvalidAuth));
    }

    #[test]
    fn rate_limits_server_errors_and_html_pages() {
        let e = parse_web_response(
            "chat.postMessage",
            &resp(429, &[("retry-after", "7")], r#"{"ok":false,"error":"ratelimited"}"#),
        )
        .unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(e.status(), Some(429));
        // Without Retry-After: the tier's interval (chat.postMessage: 1 per second).
        let e = parse_web_response("chat.postMessage", &resp(429, &[], "")).unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        let e = parse_web_response(
            "conversations.history",
            &resp(503, &[("content-type", "text/html")], "<html>down</html>"),
        )
        .unwrap_err();
        assert!(
            matches!(&e, WebError::Server { status: 503, snippet, .. } if snippet == "<html>down</html>")
        );
        let e = parse_web_response(
            "users.info",
            &resp(200, &[("content-type", "text/html")], "<!DOCTYPE html><p>proxy</p>"),
        )
        .unwrap_err();
        assert!(matches!(e, WebError::NotJson { status: 200, .. }));
        let e = parse_web_response("users.info", &resp(404, &[], "no")).unwrap_err();
        assert!(matches!(e, WebError::UnexpectedStatus { status: 404, .. }));
        let e = parse_web_response("users.info", &resp(200, &[], "[1]")).unwrap_err();
        assert!(matches!(e, WebError::Malformed { .. }));
        let e = parse_web_response("users.info", &resp(200, &[], r#"{"ok":tr"#)).unwrap_err();
        assert!(matches!(e, WebError::NotJson { .. }), "truncated: {e:?}");
    }
}
