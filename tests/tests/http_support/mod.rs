//! A plain HTTP/1.1 client for the HTTP mode tests: it signs its requests itself (with the
//! codec's `SigningSecret::sign`, checked against Slack's documented example in the codec's
//! tests) and speaks HTTP over a raw TCP stream, so no HTTP client library stands between the
//! test and the receiver.
#![allow(dead_code)]

use slack_rtm::codec::http_mode::SigningSecret;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const SECRET: &str = "loopback-signing-secret-123";
pub const JSON: &str = "application/json";
pub const FORM: &str = "application/x-www-form-urlencoded";

/// An answer: status, headers (lower-case names), body (the shared parser of the workspace's tests).
pub type Answer = slack_rtm_test_support::http::HttpAnswer;

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The signature headers of `body` at `ts`.
pub fn signature(ts: u64, body: &[u8]) -> Vec<(String, String)> {
    let ts = ts.to_string();
    let sig = SigningSecret::new(SECRET).sign(&ts, body);
    vec![("X-Slack-Request-Timestamp".into(), ts), ("X-Slack-Signature".into(), sig)]
}

/// A signed POST of `body` with `content_type`, plus `extra` headers.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Answer {
    let mut headers = signature(unix_now(), body);
    headers.push(("Content-Type".into(), content_type.into()));
    headers.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    raw(addr, "POST", path, &headers, body).await
}

/// Any request, `Content-Length` added, `Connection: close`.
pub async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Answer {
    let mut headers = headers.to_vec();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        headers.push(("Content-Length".into(), body.len().to_string()));
    }
    let mut stream = open(addr, method, path, &headers).await;
    // The server may answer (413) and close before the whole body is written.
    let _ = stream.write_all(body).await;
    read_answer(&mut stream).await
}

/// Connects and writes a request's head (exactly these headers, `Connection: close`); the
/// caller writes the body.
pub async fn open(addr: SocketAddr, method: &str, path: &str, headers: &[(String, String)]) -> TcpStream {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads one HTTP/1.1 answer until the connection closes.
pub async fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    Answer::parse(&buf)
}

/// A URL-encoded form.
pub fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (k, v) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&enc(k));
        out.push('=');
        out.push_str(&enc(v));
    }
    out.into_bytes()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn event_body(event_id: &str, event: serde_json::Value) -> Vec<u8> {
    serde_json::json!({
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": 1, "authorizations": [], "event": event,
    })
    .to_string()
    .into_bytes()
}
