//! Parsing a Web API answer: the shared envelope rules ([`crate::answer`]) with the method's
//! name in every error, and the method-specific part decoded on demand.

use crate::api_error::{ApiCallError, ApiFailure};
use crate::response::{Answer, read_answer};
use crate::web::limiter::method_tier;
use http::Response;
use serde::de::DeserializeOwned;
use slack_rtm_types::ApiWarning;
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
    /// mistyped required field is [`ApiFailure::Decode`].
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiCallError> {
        T::deserialize(&self.value).map_err(|e| {
            let failure = ApiFailure::Decode { field: None, detail: e.to_string() };
            ApiCallError::new(self.method.clone(), self.req_id.clone(), failure)
        })
    }
}

/// Parses the answer of `method`. A 429 without a usable `Retry-After` waits the method's tier
/// interval ([`crate::web::RateTier::interval`]).
pub fn parse_web_response<B: AsRef<[u8]>>(
    method: &str,
    response: &Response<B>,
) -> Result<WebResponse, ApiCallError> {
    let tier_wait = method_tier(method).interval().max(Duration::from_secs(1));
    let Answer { value, warnings, messages, req_id, .. } = read_answer(method, response, tier_wait)?;
    Ok(WebResponse { method: method.to_owned(), value, warnings, messages, req_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_rtm_types::ApiError;
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
        let wrong = r.parse::<slack_rtm_types::web::ViewInfoResponse>();
        assert!(
            matches!(wrong.as_ref().map_err(|e| &e.failure), Err(ApiFailure::Decode { .. })),
            "{wrong:?}"
        );
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
            matches!(&e.failure, ApiFailure::Status { status: 503, snippet, .. } if snippet == "<html>down</html>")
        );
        let e = parse_web_response(
            "users.info",
            &resp(200, &[("content-type", "text/html")], "<!DOCTYPE html><p>proxy</p>"),
        )
        .unwrap_err();
        assert!(matches!(e.failure, ApiFailure::NotJson { status: 200, .. }));
        let e = parse_web_response("users.info", &resp(404, &[], "no")).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::Status { status: 404, .. }));
        let e = parse_web_response("users.info", &resp(200, &[], "[1]")).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::Decode { .. }));
        let e = parse_web_response("users.info", &resp(200, &[], r#"{"ok":tr"#)).unwrap_err();
        assert!(matches!(e.failure, ApiFailure::NotJson { .. }), "truncated: {e:?}");
    }
}
