//! The receiver's rules (`http_mode::Verifier`): each request kind, each refusal with its
//! status, and the signature's integrity as a property.

use http::{HeaderMap, Method, Request, StatusCode};
use proptest::prelude::*;
use slack_rtm_codec::http_mode::{
    InboundKind, MalformedBody, Refusal, SignatureError, SigningSecret, Verifier,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "test-signing-secret-0123456789";
const NOW: u64 = 1_765_000_000;
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn verifier() -> Verifier {
    Verifier::new(SigningSecret::new(SECRET)).unwrap()
}

fn signed(content_type: &str, body: &[u8]) -> Request<()> {
    let ts = NOW.to_string();
    Request::post("/slack/events")
        .header("content-type", content_type)
        .header("content-length", body.len())
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", SigningSecret::new(SECRET).sign(&ts, body))
        .body(())
        .unwrap()
}

fn check(req: &Request<()>, body: &[u8]) -> Result<slack_rtm_codec::http_mode::Inbound, Refusal> {
    verifier().verify(req.method(), req.headers(), body, now())
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(fields).unwrap().into_bytes()
}

const EVENT: &str = r#"{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev1","event_time":1,"event":{"type":"app_mention","user":"U1","text":"hi","ts":"1.2","channel":"C1"}}"#;

#[test]
fn each_kind_is_classified_with_the_socket_mode_payload() {
    let body = br#"{"token":"x","challenge":"ch-123","type":"url_verification"}"#;
    let got = check(&signed(JSON, body), body).unwrap();
    assert_eq!((got.kind(), got.challenge()), (InboundKind::UrlVerification, Some("ch-123")));
    assert!(got.to_envelope("x").is_none());

    let got = check(&signed("application/json; charset=utf-8", EVENT.as_bytes()), EVENT.as_bytes()).unwrap();
    assert_eq!(
        (got.kind(), got.event_id(), got.type_name()),
        (InboundKind::Event, Some("Ev1"), Some("app_mention"))
    );
    assert_eq!(got.payload().as_str(), EVENT);
    let envelope = got.to_envelope("h-1").unwrap();
    assert!(!envelope.accepts_response_payload);
    assert!(matches!(envelope.decode_payload(), slack_rtm_codec::types::socket_mode::Payload::EventsApi(_)));

    let body = br#"{"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}"#;
    assert_eq!(check(&signed(JSON, body), body).unwrap().kind(), InboundKind::AppRateLimited);

    let body = form(&[
        ("command", "/echo"),
        ("text", "hello world"),
        ("user_id", "U1"),
        ("channel_id", "C1"),
        ("team_id", "T1"),
        ("response_url", "https://hooks.slack.com/commands/1"),
    ]);
    let got = check(&signed(FORM, &body), &body).unwrap();
    assert_eq!((got.kind(), got.type_name()), (InboundKind::SlashCommand, Some("/echo")));
    let envelope = got.to_envelope("h-2").unwrap();
    assert!(envelope.accepts_response_payload);
    match envelope.decode_payload() {
        slack_rtm_codec::types::socket_mode::Payload::SlashCommand(cmd) => {
            assert_eq!(cmd.text, "hello world")
        }
        other => panic!("{other:?}"),
    }

    let payload = r#"{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"approve","block_id":"b","type":"button"}],"response_url":"https://hooks.slack.com/actions/1"}"#;
    let body = form(&[("payload", payload)]);
    let got = check(&signed(FORM, &body), &body).unwrap();
    assert_eq!((got.kind(), got.type_name()), (InboundKind::Interactive, Some("block_actions")));
    assert_eq!(got.payload().as_str(), payload);

    let payload =
        r#"{"type":"block_suggestion","action_id":"pick","block_id":"b","value":"ap","user":{"id":"U1"}}"#;
    let body = form(&[("payload", payload)]);
    let got = check(&signed(FORM, &body), &body).unwrap();
    assert_eq!(got.kind(), InboundKind::Options);
    assert!(got.to_envelope("h").unwrap().accepts_response_payload);

    let body = form(&[("ssl_check", "1"), ("token", "x")]);
    assert_eq!(check(&signed(FORM, &body), &body).unwrap().kind(), InboundKind::SslCheck);
}

#[test]
fn retry_headers_are_exposed() {
    let mut req = signed(JSON, EVENT.as_bytes());
    req.headers_mut().insert("x-slack-retry-num", "2".parse().unwrap());
    req.headers_mut().insert("x-slack-retry-reason", "http_timeout".parse().unwrap());
    let got = check(&req, EVENT.as_bytes()).unwrap();
    let retry = got.retry().unwrap();
    assert_eq!((retry.num, retry.reason.as_str()), (2, "http_timeout"));
    let envelope = got.to_envelope("e").unwrap();
    assert_eq!((envelope.retry_attempt, envelope.retry_reason.as_deref()), (2, Some("http_timeout")));
    assert!(check(&signed(JSON, EVENT.as_bytes()), EVENT.as_bytes()).unwrap().retry().is_none());

    req.headers_mut().insert("x-slack-retry-num", "two".parse().unwrap());
    assert_eq!(check(&req, EVENT.as_bytes()), Err(Refusal::Malformed(MalformedBody::RetryNum)));
}

#[test]
fn each_refusal_has_its_status() {
    let body = EVENT.as_bytes();
    let status = |r: Result<_, Refusal>| r.map(|_| ()).unwrap_err().status();

    let mut get = signed(JSON, body);
    *get.method_mut() = Method::GET;
    assert_eq!(status(check(&get, body)), StatusCode::METHOD_NOT_ALLOWED);

    let mut unsigned = signed(JSON, body);
    unsigned.headers_mut().remove("x-slack-signature");
    assert_eq!(check(&unsigned, body), Err(Refusal::Signature(SignatureError::MissingSignature)));
    let mut no_ts = signed(JSON, body);
    no_ts.headers_mut().remove("x-slack-request-timestamp");
    assert_eq!(status(check(&no_ts, body)), StatusCode::UNAUTHORIZED);

    let stale = verifier().verify(
        &Method::POST,
        signed(JSON, body).headers(),
        body,
        now() + Duration::from_secs(301),
    );
    assert_eq!(stale, Err(Refusal::Signature(SignatureError::Stale { skew_secs: 301 })));

    let tampered = EVENT.replace("Ev1", "Ev2");
    assert_eq!(
        check(&signed(JSON, body), tampered.as_bytes()),
        Err(Refusal::Signature(SignatureError::Mismatch))
    );

    for ct in ["text/plain", "application/jsonx", "multipart/form-data"] {
        assert_eq!(check(&signed(ct, body), body), Err(Refusal::UnsupportedMediaType), "{ct}");
    }
    let mut no_ct = signed(JSON, body);
    no_ct.headers_mut().remove("content-type");
    assert_eq!(status(check(&no_ct, body)), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let small = verifier().max_body_bytes(100);
    // By Content-Length, before the body is read…
    let req = signed(JSON, body);
    assert_eq!(small.check_head(req.method(), req.headers(), now()), Err(Refusal::TooLarge { limit: 100 }));
    // … and by the bytes when Content-Length is absent or lies.
    let mut chunked = signed(JSON, body);
    chunked.headers_mut().remove("content-length");
    assert!(small.check_head(chunked.method(), chunked.headers(), now()).is_ok());
    assert_eq!(
        small.verify(chunked.method(), chunked.headers(), body, now()),
        Err(Refusal::TooLarge { limit: 100 })
    );
    assert_eq!(Refusal::TooLarge { limit: 1 }.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let mut bad_len = signed(JSON, body);
    bad_len.headers_mut().insert("content-length", "ten".parse().unwrap());
    assert_eq!(check(&bad_len, body), Err(Refusal::BadContentLength));
}

#[test]
fn malformed_bodies_are_400_after_the_signature() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (JSON, b"not json".to_vec()),
        (JSON, b"[1,2]".to_vec()),
        (JSON, b"{\"type\":\"something_else\"}".to_vec()),
        (JSON, b"{\"type\":\"url_verification\"}".to_vec()),
        (JSON, b"{\"type\":\"event_callback\",\"event\":{\"type\":\"x\"}}".to_vec()),
        (JSON, b"{\"type\":\"event_callback\",\"event_id\":\"Ev1\"}".to_vec()),
        (JSON, vec![0xff, 0xfe]),
        (JSON, format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes()),
        (FORM, b"payload=not-json".to_vec()),
        (FORM, b"payload=%7B%22no_type%22%3A1%7D".to_vec()),
        (FORM, b"user_id=U1&text=x".to_vec()),
        (FORM, b"ssl_check=0".to_vec()),
    ];
    for (ct, body) in cases {
        let got = check(&signed(ct, &body), &body);
        let err = got.map(|_| ()).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{ct} {:?}: {err}", String::from_utf8_lossy(&body));
        assert!(matches!(err, Refusal::Malformed(_)));
        // The message never quotes the body.
        assert!(!err.to_string().contains("something_else"), "{err}");
    }
    // Unsigned garbage is refused as unsigned: nothing is parsed first.
    let body = b"not json";
    let mut req = signed(JSON, body);
    req.headers_mut().insert("x-slack-signature", format!("v0={}", "0".repeat(64)).parse().unwrap());
    assert_eq!(check(&req, body), Err(Refusal::Signature(SignatureError::Mismatch)));
}

#[test]
fn an_empty_secret_is_refused() {
    assert!(Verifier::new(SigningSecret::new("  \n")).is_err());
}

fn headers(ts: &str, sig: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", JSON.parse().unwrap());
    h.insert("x-slack-request-timestamp", ts.parse().unwrap());
    h.insert("x-slack-signature", sig.parse().unwrap());
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any change to the body, the timestamp or the signature is refused with 401.
    #[test]
    fn any_change_is_refused(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        flip_at in any::<prop::sample::Index>(),
        bit in 0u8..8,
        ts_delta in 1i64..=300,
        what in 0u8..3,
    ) {
        let secret = SigningSecret::new(SECRET);
        let ts = NOW.to_string();
        let sig = secret.sign(&ts, &body);
        // The untouched request passes the signature check (it may then be malformed: 400).
        let ok = verifier().verify(&Method::POST, &headers(&ts, &sig), &body, now());
        prop_assert!(!matches!(ok, Err(Refusal::Signature(_))));
        let refused = match what {
            0 if !body.is_empty() => {
                let mut changed = body.clone();
                changed[flip_at.index(body.len())] ^= 1 << bit;
                verifier().verify(&Method::POST, &headers(&ts, &sig), &changed, now())
            }
            0 => {
                verifier().verify(&Method::POST, &headers(&ts, &sig), b"x", now())
            }
            1 => {
                // Still within the 5-minute window: only the signature can tell.
                let other = (NOW as i64 + if bit % 2 == 0 { ts_delta } else { -ts_delta }).to_string();
                verifier().verify(&Method::POST, &headers(&other, &sig), &body, now())
            }
            _ => {
                let mut hex = sig.into_bytes();
                let i = 3 + flip_at.index(64);
                hex[i] = if hex[i] == b'0' { b'1' } else { b'0' };
                let changed = String::from_utf8(hex).unwrap();
                verifier().verify(&Method::POST, &headers(&ts, &changed), &body, now())
            }
        };
        prop_assert_eq!(refused.map(|_| ()).unwrap_err(), Refusal::Signature(SignatureError::Mismatch));
    }

    /// Arbitrary bodies and headers never panic, and an unsigned request is never accepted.
    #[test]
    fn arbitrary_requests_never_pass_unsigned(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        ts in "[0-9]{0,12}",
        sig in "v0=[0-9a-f]{0,70}",
        form_body in any::<bool>(),
    ) {
        let mut h = headers(&ts, &sig);
        if form_body {
            h.insert("content-type", FORM.parse().unwrap());
        }
        let got = verifier().verify(&Method::POST, &h, &body, now());
        prop_assert!(got.is_err());
    }
}
