//! `http_mode::Verifier::verify` on an arbitrary request never panics; a request it accepts
//! was signed, and is classified consistently.
//!
//! Input layout: one control byte (bit 0: sign the body with the test secret, so the parsing
//! after the signature is reached; bit 1: form content type instead of JSON; bit 2: GET), then
//! extra header lines `name: value` up to the first empty line (`\n\n`), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/headers.rs"]
mod headers;
use slack_rtm_codec::http_mode::{InboundKind, SigningSecret, Verifier};
use std::time::{Duration, UNIX_EPOCH};

const NOW: u64 = 1_765_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&[][..], rest),
    };
    let secret = SigningSecret::new("fuzz-signing-secret");
    let method = if control & 4 != 0 { http::Method::GET } else { http::Method::POST };
    let mut builder = http::Request::builder().method(method).uri("/slack/events").header(
        "content-type",
        if control & 2 != 0 { "application/x-www-form-urlencoded" } else { "application/json" },
    );
    let ts = NOW.to_string();
    if control & 1 != 0 {
        builder = builder.header("x-slack-request-timestamp", &ts).header("x-slack-signature", secret.sign(&ts, body));
    }
    for (n, v) in headers::header_lines(head) {
        builder = builder.header(n, v);
    }
    let Ok(req) = builder.body(()) else { return };
    let verifier = Verifier::new(secret).unwrap().max_body_bytes(4096);
    let now = UNIX_EPOCH + Duration::from_secs(NOW);
    match verifier.verify(req.method(), req.headers(), body, now) {
        Ok(inbound) => {
            assert!(control & 1 != 0 || req.headers().contains_key("x-slack-signature"), "accepted unsigned");
            assert!(body.len() <= 4096);
            let envelope = inbound.to_envelope("fuzz");
            match inbound.kind() {
                InboundKind::UrlVerification => assert!(inbound.challenge().is_some()),
                InboundKind::Event => assert!(inbound.event_id().is_some() && envelope.is_some()),
                _ => {}
            }
            if let Some(e) = envelope {
                let _ = e.decode_payload();
            }
        }
        Err(refusal) => {
            let _ = (refusal.to_string(), refusal.status());
        }
    }
});
