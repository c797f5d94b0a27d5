//! `ConnectConfig::parse_response` on an arbitrary HTTP answer, never panics, and a URL it
//! accepts is one the config allows.
//!
//! Input layout: two bytes of status (big endian, mapped into 100..=999), then header lines
//! `name: value` up to the first empty line (`\n\n`), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common/headers.rs"]
mod headers;
use slack_rtm_codec::ConnectConfig;
use std::time::Instant;

fn response(data: &[u8]) -> Option<http::Response<Vec<u8>>> {
    let (status, rest) = data.split_first_chunk::<2>()?;
    let status = 100 + u16::from_be_bytes(*status) % 900;
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (&[][..], rest),
    };
    let mut builder = http::Response::builder().status(status);
    for (n, v) in headers::header_lines(head) {
        builder = builder.header(n, v);
    }
    builder.body(body.to_vec()).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(resp) = response(data) else { return };
    let secure = ConnectConfig::default();
    let Ok(insecure) = ConnectConfig::with_api_base("http://127.0.0.1:1/api/", true) else { return };
    for config in [&secure, &insecure] {
        match config.parse_response(&resp, Instant::now()) {
            Ok(ok) => assert!(config.check_socket_url(&ok.connected.url).is_ok(), "accepted an unsafe URL"),
            Err(e) => {
                let _ = (e.to_string(), e.is_retryable(), e.retry_after(), e.req_id());
            }
        }
    }
});
