//! The Web API, sans-IO: build any method's request ([`build_web_request`]), parse its answer
//! ([`parse_web_response`]) into a [`WebResponse`] or a typed [`ApiCallError`](crate::ApiCallError), decide whether to
//! send it again ([`RetryPolicy`]), and pace calls at Slack's tier rates ([`RateLimiter`]).
//! An async client only has to wait and send (the `slack-rtm` facade's `WebClient` does).
//!
//! ```
//! use slack_rtm_codec::web::{build_web_request, parse_web_response, to_args};
//! use slack_rtm_codec::{ApiBase, Token};
//! use slack_rtm_types::web::{PostMessage, PostMessageResponse};
//!
//! let args = to_args(&PostMessage::new("C1", "hello")).unwrap();
//! let request = build_web_request(&ApiBase::default(), &Token::new("xoxb-x"), "chat.postMessage", &args).unwrap();
//! assert_eq!(request.uri().path(), "/api/chat.postMessage");
//! // ... send it, then:
//! let response = http::Response::new(br#"{"ok":true,"channel":"C1","ts":"1.000001"}"#.to_vec());
//! let posted: PostMessageResponse = parse_web_response("chat.postMessage", &response).unwrap().parse().unwrap();
//! assert_eq!(posted.ts, "1.000001");
//! ```

mod limiter;
mod policy;
mod request;
mod response;
mod stream;

pub use limiter::{RateLimiter, RateTier, method_tier};
pub use policy::{Decision, Failure, RetryPolicy, RetryState, is_idempotent_read};
pub use request::{
    BodyEncoding, FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, MAX_WEB_RESPONSE_BYTES, WebBuildError, body_encoding,
    build_web_request, build_web_request_as, check_method, form_encode, to_args,
};
pub use response::{WebResponse, parse_web_response};
pub use stream::{StreamConfig, StreamOutcome, StreamPlanner, StreamStep};
