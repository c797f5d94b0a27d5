//! `apps.connections.open` (request, answers, every error code and its class), Socket Mode
//! frame decoding and the 20 KB ack limit.

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Response};
use slack_rtm_codec::types::socket_mode::MAX_ACK_BYTES;
use slack_rtm_codec::{
    AckEncodeError, ApiFailure, AppToken, EnvelopeAck, EnvelopeFrame, OpenConfig, SocketFrame,
    decode_envelope_frame, decode_socket_frame, decode_socket_frame_bytes, encode_ack, encode_ack_of,
    encode_ack_of_into,
};
use slack_rtm_types::{ApiError, RawJson};
use std::time::{Duration, Instant};

const SECRET: &str = "xapp-1-A0EXAMPLE-1234-SeCrEtVaLuE";

fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Vec<u8>> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

fn open(r: &Response<Vec<u8>>) -> Result<slack_rtm_codec::OpenResponse, slack_rtm_codec::ApiCallError> {
    OpenConfig::default().parse_response(r, Instant::now())
}

#[test]
fn request_is_a_post_without_arguments_and_the_token_only_in_authorization() {
    let req = OpenConfig::default().build_request(&AppToken::new(SECRET).unwrap()).unwrap();
    assert_eq!(req.method(), Method::POST);
    assert_eq!(req.uri().to_string(), "https://slack.com/api/apps.connections.open");
    assert!(req.body().is_empty());
    assert_eq!(req.headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
    assert_eq!(req.headers()[AUTHORIZATION], format!("Bearer {SECRET}").as_str());
    assert!(req.headers()[AUTHORIZATION].is_sensitive());
    for (k, v) in req.headers() {
        if k != AUTHORIZATION {
            assert!(!String::from_utf8_lossy(v.as_bytes()).contains("SeCrEt"), "{k}");
        }
    }
    assert!(!format!("{req:?}").contains("SeCrEt"));
    let local = OpenConfig::with_api_base("http://127.0.0.1:9/api", true).unwrap();
    let req = local.build_request(&AppToken::new(SECRET).unwrap()).unwrap();
    assert_eq!(req.uri().to_string(), "http://127.0.0.1:9/api/apps.connections.open");
    assert!(OpenConfig::with_api_base("http://127.0.0.1:9/api", false).is_err());
}

#[test]
fn success_gives_the_url_and_request_id_and_hides_the_ticket_in_debug() {
    let now = Instant::now();
    let body = r#"{"ok":true,"url":"wss:\/\/wss-primary.slack.com\/link\/?ticket=12345678-aaaa-bbbb&app_id=A0EXAMPLE"}"#;
    let r =
        OpenConfig::default().parse_response(&resp(200, &[("x-slack-req-id", "req-9")], body), now).unwrap();
    assert_eq!(r.url, "wss://wss-primary.slack.com/link/?ticket=12345678-aaaa-bbbb&app_id=A0EXAMPLE");
    assert_eq!(r.req_id.as_deref(), Some("req-9"));
    assert_eq!(r.obtained_at, now);
    let shown = format!("{r:?}");
    assert!(!shown.contains("12345678") && shown.contains("wss-primary.slack.com"), "{shown}");
}

#[test]
fn socket_url_must_be_wss_unless_insecure_is_allowed_on_a_local_base() {
    let ws = r#"{"ok":true,"url":"ws://127.0.0.1:1/link/?ticket=t"}"#;
    let e = open(&resp(200, &[], ws)).unwrap_err();
    assert!(matches!(e.failure, ApiFailure::InvalidSocketUrl { .. }), "{e}");
    let local = OpenConfig::with_api_base("http://127.0.0.1:1/api/", true).unwrap();
    assert!(local.parse_response(&resp(200, &[], ws), Instant::now()).is_ok());
    let e = open(&resp(200, &[], r#"{"ok":true,"url":"https://x/"}"#)).unwrap_err();
    assert!(e.to_string().contains("apps.connections.open returned an unusable socket URL"), "{e}");
    for body in [r#"{"ok":true}"#, r#"{"ok":true,"url":7}"#] {
        let e = open(&resp(200, &[], body)).unwrap_err();
        assert!(matches!(&e.failure, ApiFailure::Decode { field: Some(field), .. } if field == "url"), "{e}");
    }
}

#[test]
fn every_error_code_is_classified() {
    let fatal = [
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
    ];
    for code in fatal {
        let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
        let e = open(&resp(200, &[("x-slack-req-id", "r1")], &body)).unwrap_err();
        assert_eq!(e.api_error(), Some(&ApiError::from_code(code)));
        assert!(!e.is_retryable(), "{code} must be fatal");
        assert_eq!(e.req_id(), Some("r1"));
        let msg = e.to_string();
        assert!(msg.starts_with("apps.connections.open failed: ") && msg.contains(code), "{msg}");
    }
    for code in ["internal_error", "fatal_error", "request_timeout", "service_unavailable", "something_new"] {
        let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
        let e = open(&resp(200, &[], &body)).unwrap_err();
        assert!(e.is_retryable(), "{code} must be retryable");
    }
    // The token errors say what token is needed.
    let e = open(&resp(200, &[], r#"{"ok":false,"error":"not_allowed_token_type"}"#)).unwrap_err();
    assert!(e.to_string().contains("app-level token (xapp-…) with connections:write"), "{e}");
}

#[test]
fn rate_limits_server_errors_and_html_are_retryable() {
    let e = open(&resp(
        429,
        &[("retry-after", "17"), ("x-slack-req-id", "r2")],
        r#"{"ok":false,"error":"ratelimited"}"#,
    ))
    .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(17)));
    assert!(e.is_retryable());
    assert!(
        e.to_string().contains("apps.connections.open was rate limited: retry after 17s (x-slack-req-id r2)")
    );
    let e =
        open(&resp(503, &[("content-type", "text/html")], "<html><body>Service Unavailable</body></html>"))
            .unwrap_err();
    assert!(matches!(e.failure, ApiFailure::Status { status: 503, .. }) && e.is_retryable(), "{e}");
    let e =
        open(&resp(200, &[("content-type", "text/html")], "<!DOCTYPE html><html>oops</html>")).unwrap_err();
    assert!(matches!(e.failure, ApiFailure::NotJson { .. }) && e.is_retryable(), "{e}");
    assert!(e.to_string().contains("oops"));
    let e = open(&resp(404, &[], "not found")).unwrap_err();
    assert!(matches!(e.failure, ApiFailure::Status { status: 404, .. }) && !e.is_retryable());
}

#[test]
fn frames_decode_and_bad_ones_are_typed_errors() {
    assert!(matches!(
        decode_socket_frame(r#"{"type":"hello","num_connections":1}"#),
        Ok(SocketFrame::Hello(_))
    ));
    let e = decode_socket_frame(r#"{"type":"disconnect","#).unwrap_err();
    assert!(e.to_string().contains("undecodable frame"), "{e}");
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(decode_socket_frame(&deep).unwrap_err().reason.contains("nested deeper"));
    assert!(decode_socket_frame_bytes(b"{\"type\":\"hello\xff\"}").unwrap_err().reason.contains("UTF-8"));
    let text = r#"{"envelope_id":"e1","type":"events_api","payload":{"type":"event_callback","event_id":"Ev1","event":{"type":"app_uninstalled"}}}"#;
    let frame = EnvelopeFrame::new(text.to_owned()).unwrap();
    assert_eq!(decode_envelope_frame(&frame).unwrap(), decode_socket_frame(text).unwrap());
}

#[test]
fn acks_are_encoded_and_the_20kb_limit_is_enforced_before_sending() {
    assert_eq!(encode_ack(&EnvelopeAck::new("e-1")).unwrap(), r#"{"envelope_id":"e-1"}"#);
    assert_eq!(encode_ack(&EnvelopeAck::new("")), Err(AckEncodeError::EmptyEnvelopeId));
    // {"envelope_id":"e","payload":{"text":"…"}} is 40 bytes of frame around the text.
    let ack_of = |n: usize| {
        let payload = RawJson::from_json(&format!(r#"{{"text":"{}"}}"#, "a".repeat(n))).unwrap();
        EnvelopeAck::with_payload("e", payload)
    };
    let frame = |n: usize| serde_json::to_string(&ack_of(n)).unwrap().len();
    let fits = MAX_ACK_BYTES - 1 - (frame(0));
    assert_eq!(frame(fits), MAX_ACK_BYTES - 1);
    assert_eq!(encode_ack(&ack_of(fits)).unwrap().len(), MAX_ACK_BYTES - 1);
    assert_eq!(encode_ack(&ack_of(fits + 1)), Err(AckEncodeError::TooLarge { bytes: MAX_ACK_BYTES }));
    assert!(AckEncodeError::TooLarge { bytes: MAX_ACK_BYTES }.to_string().contains("20480"));
}

#[test]
fn an_ack_is_the_text_serde_json_writes_for_every_kind_of_id() {
    let payload = RawJson::from_json(r#"{"text":"ok \"quoted\""}"#).unwrap();
    let ids = [
        "e-1",
        "dbdd0ef3-1543-4f94-bfb4-133d0ac5ddf7",
        "a\"b",
        "back\\slash",
        "tab\there",
        "nul\u{0}",
        "del\u{7f}",
        "é/ü→😀",
        "</script>",
        // Specials past the first eight bytes, and in a whole word's last byte.
        "dbdd0ef3-1543-4f94-\"bfb4-133d0ac5ddf7",
        "dbdd0ef3-1543-4f94-bfb4-133d0ac5ddf\\",
        "0123456\u{1f}89abcdef",
    ];
    // One buffer reused for every ack: each text replaces the one before.
    let mut reused = String::from("left over from an earlier ack");
    for id in ids {
        for payload in [None, Some(&payload)] {
            let ack = EnvelopeAck { envelope_id: id.to_owned(), payload: payload.cloned() };
            let text = encode_ack_of(id, payload).unwrap();
            assert_eq!(text, serde_json::to_string(&ack).unwrap(), "{id:?}");
            assert_eq!(encode_ack(&ack).unwrap(), text);
            encode_ack_of_into(id, payload, &mut reused).unwrap();
            assert_eq!(reused, text, "{id:?}");
            let back: EnvelopeAck = serde_json::from_str(&text).unwrap();
            assert_eq!(back, ack);
        }
    }
    assert_eq!(encode_ack_of("", None), Err(AckEncodeError::EmptyEnvelopeId));
    assert_eq!(encode_ack_of_into("", None, &mut reused), Err(AckEncodeError::EmptyEnvelopeId));
    let long = "x".repeat(MAX_ACK_BYTES);
    assert!(matches!(encode_ack_of(&long, None), Err(AckEncodeError::TooLarge { .. })));
}
