//! Property tests: the Socket Mode frame decoder and the `apps.connections.open` parser never
//! panic, whatever they get; any valid JSON decodes; the light scan agrees with the decode.

use http::Response;
use proptest::prelude::*;
use slack_rtm_codec::{
    EnvelopeFrame, OpenConfig, SocketFrame, decode_envelope_frame, decode_socket_frame,
    decode_socket_frame_bytes,
};
use std::time::Instant;

/// Arbitrary JSON with the keys and values Socket Mode frames use, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u32>().prop_map(serde_json::Value::from),
        ".{0,10}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("hello"),
            Just("disconnect"),
            Just("events_api"),
            Just("slash_commands"),
            Just("interactive"),
            Just("event_callback"),
            Just("message"),
            Just("app_mention"),
            Just("link_shared"),
            Just("tokens_revoked"),
            Just("block_actions"),
            Just("view_submission"),
            Just("shortcut"),
            Just("refresh_requested"),
            Just("U1"),
            Just("C1"),
            Just("1.2"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("type".to_owned()),
        Just("envelope_id".to_owned()),
        Just("payload".to_owned()),
        Just("event".to_owned()),
        Just("reason".to_owned()),
        Just("retry_attempt".to_owned()),
        Just("accepts_response_payload".to_owned()),
        Just("debug_info".to_owned()),
        Just("num_connections".to_owned()),
        Just("user".to_owned()),
        Just("channel".to_owned()),
        Just("ts".to_owned()),
        Just("actions".to_owned()),
        Just("action_id".to_owned()),
        Just("view".to_owned()),
        Just("id".to_owned()),
        Just("command".to_owned()),
        Just("user_id".to_owned()),
        Just("channel_id".to_owned()),
        Just("team_id".to_owned()),
        Just("url".to_owned()),
        Just("ok".to_owned()),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..7)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Decodes the frame and, for an envelope, its payload (which must never fail either).
fn decode_all(text: &str) -> Result<SocketFrame, slack_rtm_codec::DecodeError> {
    let frame = decode_socket_frame(text)?;
    if let SocketFrame::Envelope(e) = &frame {
        let _ = e.decode_payload();
    }
    Ok(frame)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn frame_decoder_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(SocketFrame::Envelope(e)) = decode_socket_frame_bytes(&bytes) {
            let _ = e.decode_payload();
        }
    }

    #[test]
    fn frame_decoder_never_panics_on_cut_json(v in json(), cut in any::<prop::sample::Index>()) {
        let text = serde_json::to_string(&v).unwrap();
        let mut end = cut.index(text.len() + 1);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let _ = decode_all(&text[..end]);
    }

    #[test]
    fn any_valid_json_decodes_and_the_scan_agrees(v in json(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { serde_json::to_string(&v).unwrap() };
        let decoded = decode_all(&text);
        prop_assert!(decoded.is_ok(), "{text}");
        if let Ok(frame) = EnvelopeFrame::new(text.clone()) {
            // The scan's id and type are the envelope's own, and its decode is the same.
            prop_assert_eq!(decode_envelope_frame(&frame).ok(), decoded.ok());
            let top: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(top["envelope_id"].as_str(), Some(frame.envelope_id()));
            prop_assert_eq!(top["type"].as_str(), Some(frame.envelope_type()));
        }
    }

    #[test]
    fn open_parser_never_panics(status in 100u16..600, v in json(), raw in prop::collection::vec(any::<u8>(), 0..128), use_json in any::<bool>()) {
        let body = if use_json { serde_json::to_vec(&v).unwrap() } else { raw };
        if let Ok(r) = Response::builder().status(status).body(body)
            && let Ok(ok) = OpenConfig::default().parse_response(&r, Instant::now())
        {
            prop_assert!(ok.url.starts_with("wss://"));
        }
    }
}
