//! Property tests of the Web API codec: the answer parser never panics and always yields a
//! typed result; form encoding is lossless; the retry rules never resend a write that may
//! have arrived; the limiter never lets more through than the tier allows.

use proptest::prelude::*;
use serde_json::{Map, Value};
use slack_rtm_codec::ApiFailure;
use slack_rtm_codec::web::{
    Decision, Failure, RateLimiter, RetryPolicy, form_encode, method_tier, parse_web_response,
};
use slack_rtm_types::web::{HistoryPage, PostMessageResponse};
use std::time::{Duration, Instant};

/// Percent-decoding, written independently of the encoder.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

const METHODS: &[&str] =
    &["chat.postMessage", "chat.update", "conversations.history", "users.info", "views.open", "x.y"];

proptest! {
    #[test]
    fn any_answer_parses_to_a_typed_result(
        status in prop_oneof![Just(200u16), Just(429), Just(500), Just(503), Just(404), 100u16..600],
        body in prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..200),
            Just(br#"{"ok":true,"messages":[{"ts":"1.1"}],"response_metadata":{"next_cursor":"x"}}"#.to_vec()),
            Just(br#"{"ok":false,"error":"something_new"}"#.to_vec()),
        ],
        retry_after in prop::option::of(".{0,6}"),
        method in prop::sample::select(METHODS),
    ) {
        let mut b = http::Response::builder().status(status);
        if let Some(r) = retry_after.as_deref().filter(|r| http::HeaderValue::from_str(r).is_ok()) {
            b = b.header("retry-after", r);
        }
        let resp = b.body(body).unwrap();
        match parse_web_response(method, &resp) {
            Ok(answer) => {
                prop_assert_eq!(status, 200);
                let _ = answer.parse::<HistoryPage>();
                let _ = answer.parse::<PostMessageResponse>();
            }
            Err(e) => {
                prop_assert_eq!(e.method(), method);
                if status == 429 {
                    prop_assert!(e.retry_after().is_some());
                }
            }
        }
    }

    #[test]
    fn form_encoding_is_lossless(pairs in prop::collection::btree_map("[a-z_]{1,10}", ".{0,30}", 0..6)) {
        let map: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let encoded = form_encode(&map);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic()), "{}", encoded);
        let decoded: std::collections::BTreeMap<String, String> = encoded
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (decode(k), decode(v))
            })
            .collect();
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn a_write_that_may_have_arrived_is_never_resent(
        steps in prop::collection::vec(0u8..6, 1..12),
    ) {
        let server = ApiFailure::Status { status: 502, content_type: String::new(), snippet: String::new() };
        let limited = ApiFailure::RateLimited { retry_after: Duration::from_secs(1) };
        let mut state = RetryPolicy::default().start("chat.postMessage");
        for step in steps {
            let failure = match step {
                0 => Failure::MaybeSent,
                1 => Failure::Answer(&server),
                2 => Failure::NotSent,
                _ => Failure::Answer(&limited),
            };
            let decision = state.on_failure(failure);
            if matches!(failure, Failure::MaybeSent | Failure::Answer(ApiFailure::Status { .. })) {
                prop_assert_eq!(decision, Decision::OutcomeUnknown);
            }
            if !matches!(decision, Decision::Retry { .. }) {
                break;
            }
        }
    }

    #[test]
    fn the_limiter_never_exceeds_the_tier(
        method in prop::sample::select(METHODS),
        gaps_ms in prop::collection::vec(0u64..3000, 1..60),
    ) {
        let mut l = RateLimiter::new();
        let tier = method_tier(method);
        let t0 = Instant::now();
        let mut now = t0;
        let mut sent = 0u32;
        for g in gaps_ms {
            now += Duration::from_millis(g);
            if l.try_acquire(method, Some("C1"), now).is_ok() {
                sent += 1;
            }
        }
        // Never more than the burst plus what the rate refilled meanwhile.
        let secs = (now - t0).as_secs_f64();
        let allowed = f64::from(tier.burst()) + secs * f64::from(tier.per_minute()) / 60.0;
        prop_assert!(f64::from(sent) <= allowed + 1e-9, "{sent} > {allowed}");
    }
}
