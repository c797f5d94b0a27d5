//! Property tests: the response parser and the frame decoder never panic, whatever they get.

use http::Response;
use proptest::prelude::*;
use slack_rtm_codec::{ApiFailure, ConnectConfig, decode_event, decode_event_bytes};
use std::time::Instant;

/// Arbitrary JSON values, a few levels deep, with keys the parser looks at.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("wss://h/x")),
        Just(serde_json::Value::from("ws://h/x")),
    ];
    let keys = prop_oneof![
        Just("ok".to_owned()),
        Just("error".to_owned()),
        Just("warning".to_owned()),
        Just("response_metadata".to_owned()),
        Just("warnings".to_owned()),
        Just("self".to_owned()),
        Just("team".to_owned()),
        Just("url".to_owned()),
        Just("id".to_owned()),
        Just("name".to_owned()),
        Just("domain".to_owned()),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn response(status: u16, retry_after: Option<String>, body: Vec<u8>) -> Option<Response<Vec<u8>>> {
    let mut b = Response::builder().status(status);
    if let Some(r) = retry_after {
        b = b.header("retry-after", r);
    }
    b.body(body).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512), ra in proptest::option::of("[ -~]{0,8}")) {
        if let Some(r) = response(status, ra, body) {
            let _ = ConnectConfig::default().parse_response(&r, Instant::now());
        }
    }

    #[test]
    fn parser_never_panics_on_json(v in json(), ok in any::<bool>()) {
        let mut v = v;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("ok".into(), ok.into());
        }
        let body = serde_json::to_vec(&v).unwrap();
        let r = response(200, None, body).unwrap();
        match ConnectConfig::default().parse_response(&r, Instant::now()) {
            // A success always has a wss:// URL from the body.
            Ok(c) => prop_assert!(c.connected.url.starts_with("wss://")),
            Err(e) if matches!(e.failure, ApiFailure::NotJson { .. }) => prop_assert!(false, "valid JSON reported as not JSON"),
            Err(_) => {}
        }
    }

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_event_bytes(&bytes);
    }

    #[test]
    fn decoder_accepts_any_valid_json(v in json()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert!(decode_event(&text).is_ok(), "{text}");
    }
}
