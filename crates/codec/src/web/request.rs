//! Building a Web API call: `POST {api_base}{method}`, the token only in `Authorization`, the
//! arguments as a form or a JSON body, whichever the method accepts.

use crate::request::{ApiBase, BuildError, api_request};
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use serde::Serialize;
use serde_json::{Map, Value};
use slack_rtm_types::Token;

/// The `Content-Type` of a JSON body. Slack warns `missing_charset` without the charset.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// The `Content-Type` of a form body. Slack warns `superfluous_charset` with a charset.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The largest Web API answer a transport should accept: a page of 100 messages with blocks
/// and files can exceed [`crate::MAX_RESPONSE_BYTES`] (sized for `rtm.connect`).
pub const MAX_WEB_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// A Web API call that could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebBuildError {
    /// The API base or the token is unusable.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A method name that is empty or has characters other than letters, digits, `.` and `_`.
    #[error("invalid Web API method name {0:?}: use letters, digits, `.` and `_` (e.g. chat.postMessage)")]
    InvalidMethod(String),
    /// Arguments that cannot be sent (not a JSON object, not serializable, or a `token`).
    #[error("invalid Web API arguments: {0}")]
    InvalidArgs(String),
}

/// How a method's arguments are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded`: accepted by every method. Nested values (blocks, a
    /// view) are sent as JSON text, as Slack expects.
    Form,
    /// `application/json`: only for the methods that accept it (`chat.*`, `views.*`,
    /// `reactions.*`, …); reads such as `conversations.history` do not.
    Json,
}

/// Methods documented as accepting a JSON body. Every other method gets a form.
const JSON_METHODS: &[&str] = &[
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "chat.postEphemeral",
    "chat.meMessage",
    "chat.scheduleMessage",
    "chat.deleteScheduledMessage",
    "chat.unfurl",
    "reactions.add",
    "reactions.remove",
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
];

/// The body a method takes: JSON for the writes that accept it, a form for everything else.
pub fn body_encoding(method: &str) -> BodyEncoding {
    if JSON_METHODS.contains(&method) { BodyEncoding::Json } else { BodyEncoding::Form }
}

/// Checks a method name: letters, digits, `.` and `_`, at most 100 characters.
pub fn check_method(method: &str) -> Result<(), WebBuildError> {
    let ok = !method.is_empty()
        && method.len() <= 100
        && method.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        && !method.starts_with('.');
    if ok { Ok(()) } else { Err(WebBuildError::InvalidMethod(method.chars().take(100).collect())) }
}

/// Turns typed arguments (e.g. [`slack_rtm_types::web::PostMessage`]) into the JSON object a
/// call takes.
pub fn to_args<T: Serialize + ?Sized>(args: &T) -> Result<Map<String, Value>, WebBuildError> {
    match serde_json::to_value(args) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(WebBuildError::InvalidArgs("the arguments must be a JSON object".into())),
        Err(e) => Err(WebBuildError::InvalidArgs(e.to_string())),
    }
}

/// Percent-encodes one form component (RFC 3986 unreserved characters stay as they are).
fn encode_component(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

/// Form-encodes arguments: strings as they are, numbers and booleans as their JSON text,
/// arrays and objects as JSON text, `null` left out.
pub fn form_encode(args: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (key, value) in args {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
            other => std::borrow::Cow::Owned(other.to_string()),
        };
        if !out.is_empty() {
            out.push('&');
        }
        encode_component(&mut out, key);
        out.push('=');
        encode_component(&mut out, &text);
    }
    out
}

/// Builds the request for `method` with `args`, encoded as the method requires
/// ([`body_encoding`]). Always `POST`; the token only in `Authorization: Bearer`.
pub fn build_web_request(
    api_base: &ApiBase,
    token: &Token,
    method: &str,
    args: &Map<String, Value>,
) -> Result<Request<Vec<u8>>, WebBuildError> {
    build_web_request_as(api_base, token, method, args, body_encoding(method))
}

/// [`build_web_request`] with an explicit body encoding.
pub fn build_web_request_as(
    api_base: &ApiBase,
    token: &Token,
    method: &str,
    args: &Map<String, Value>,
    encoding: BodyEncoding,
) -> Result<Request<Vec<u8>>, WebBuildError> {
    check_method(method)?;
    if args.contains_key("token") {
        return Err(WebBuildError::InvalidArgs(
            "a `token` argument is refused: the token goes only in the Authorization header".into(),
        ));
    }
    let builder = api_request(token.expose_secret())?;
    let (content_type, body) = match encoding {
        BodyEncoding::Form => (FORM_CONTENT_TYPE, form_encode(args).into_bytes()),
        BodyEncoding::Json => (
            JSON_CONTENT_TYPE,
            serde_json::to_vec(args).map_err(|e| WebBuildError::InvalidArgs(e.to_string()))?,
        ),
    };
    builder
        .method(Method::POST)
        .uri(api_base.method_url(method))
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .map_err(|_| {
            WebBuildError::Build(BuildError::InvalidApiBase { reason: "the method URL is not a valid URI" })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::AUTHORIZATION;
    use serde_json::json;
    use slack_rtm_types::web::{HistoryQuery, PostMessage};

    const SECRET: &str = "xoxb-42-SeCrEt";

    fn args(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test arguments are objects"),
        }
    }

    #[test]
    fn post_message_is_json_with_token_only_in_authorization() {
        let mut m = PostMessage::blocks(
            "C1",
            json!([{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]),
            "hi",
        )
        .in_thread("1.000001");
        m.reply_broadcast = Some(true);
        let req = build_web_request(
            &ApiBase::default(),
            &Token::new(SECRET),
            "chat.postMessage",
            &to_args(&m).unwrap(),
        )
        .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().to_string(), "https://slack.com/api/chat.postMessage");
        assert_eq!(req.headers()[CONTENT_TYPE], JSON_CONTENT_TYPE);
        assert_eq!(req.headers()[AUTHORIZATION], format!("Bearer {SECRET}").as_str());
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        let body: Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(body["blocks"][0]["text"]["text"], "*hi*");
        assert_eq!(body["thread_ts"], "1.000001");
        assert_eq!(body["reply_broadcast"], true);
        assert!(!String::from_utf8_lossy(req.body()).contains("SeCrEt"));
        assert!(!req.uri().to_string().contains("SeCrEt"));
        assert!(!format!("{req:?}").contains("SeCrEt"));
    }

    #[test]
    fn history_is_a_form_without_charset() {
        let mut q = HistoryQuery::new("C1");
        q.oldest = Some("1700000000.000100".into());
        q.limit = Some(50);
        q.inclusive = Some(false);
        let req = build_web_request(
            &ApiBase::default(),
            &Token::new(SECRET),
            "conversations.history",
            &to_args(&q).unwrap(),
        )
        .unwrap();
        assert_eq!(req.headers()[CONTENT_TYPE], FORM_CONTENT_TYPE);
        let body = String::from_utf8(req.body().clone()).unwrap();
        let mut pairs: Vec<&str> = body.split('&').collect();
        pairs.sort_unstable();
        assert_eq!(pairs, ["channel=C1", "inclusive=false", "limit=50", "oldest=1700000000.000100"]);
    }

    #[test]
    fn form_values_are_percent_encoded_and_nested_values_are_json_text() {
        let body =
            form_encode(&args(json!({"text":"a b&c=d é","blocks":[{"type":"divider"}],"skip":null,"n":3})));
        let mut pairs: Vec<&str> = body.split('&').collect();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            ["blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D", "n=3", "text=a%20b%26c%3Dd%20%C3%A9"]
        );
    }

    #[test]
    fn bad_method_names_args_and_tokens_are_refused() {
        let base = ApiBase::default();
        let t = Token::new("xoxb-1");
        for bad in ["", "../admin", "chat.post Message", "chat/postMessage", ".x", "a?b=c"] {
            assert!(
                matches!(
                    build_web_request(&base, &t, bad, &Map::new()),
                    Err(WebBuildError::InvalidMethod(_))
                ),
                "{bad:?}"
            );
        }
        let err = build_web_request(&base, &t, "auth.test", &args(json!({"token":"xoxb-2"}))).unwrap_err();
        assert!(matches!(err, WebBuildError::InvalidArgs(_)));
        assert!(matches!(to_args(&[1, 2]), Err(WebBuildError::InvalidArgs(_))));
        assert_eq!(
            build_web_request(&base, &Token::new(""), "auth.test", &Map::new()).unwrap_err(),
            WebBuildError::Build(BuildError::InvalidToken)
        );
    }

    #[test]
    fn encodings_follow_the_method() {
        for m in [
            "chat.postMessage",
            "chat.update",
            "chat.delete",
            "chat.postEphemeral",
            "reactions.add",
            "views.open",
        ] {
            assert_eq!(body_encoding(m), BodyEncoding::Json, "{m}");
        }
        for m in ["conversations.history", "conversations.replies", "users.info", "auth.test", "team.info"] {
            assert_eq!(body_encoding(m), BodyEncoding::Form, "{m}");
        }
    }
}
