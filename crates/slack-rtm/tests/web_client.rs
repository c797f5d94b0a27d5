//! The Web API client's retry and rate-limit rules over real loopback sockets, against a tiny
//! scripted HTTP server (each connection gets the next scripted behaviour). What the emulator
//! cannot easily do on purpose: read a request, then drop the connection without answering.

use serde_json::json;
use slack_rtm::codec::web::RetryPolicy;
use slack_rtm::web::ApiFailure;
use slack_rtm::{Client, ErrorKind};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
enum Step {
    /// Read the whole request, then close without a byte of answer.
    Drop,
    /// Answer with this status, extra headers and body.
    Answer(u16, Vec<(&'static str, &'static str)>, &'static str),
}

/// Requests as received: (path, body).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = sock.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
            return Some((path, body));
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Serves `script` one connection at a time (the last step repeats). Returns the API URL.
async fn scripted(script: Vec<Step>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        let mut i = 0;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let step = script[i.min(script.len() - 1)].clone();
            i += 1;
            let Some(req) = read_request(&mut sock).await else { continue };
            log.lock().unwrap().push(req);
            match step {
                Step::Drop => drop(sock),
                Step::Answer(status, headers, body) => {
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                }
            }
        }
    });
    (url, seen)
}

fn web(url: &str) -> slack_rtm::WebClient {
    Client::builder("xoxb-test-token")
        .api_url(url)
        .allow_insecure(true)
        .proxy_from_env(false)
        .build_web()
        .unwrap()
        .with_retry_policy(RetryPolicy { backoff_base: Duration::from_millis(10), ..RetryPolicy::default() })
}

const POSTED: &str = r#"{"ok":true,"channel":"C1","ts":"1700000000.000100","message":{"type":"message","text":"hi","ts":"1700000000.000100"}}"#;

#[tokio::test]
async fn a_post_message_whose_connection_dies_after_sending_is_outcome_unknown_and_not_resent() {
    let (url, seen) = scripted(vec![Step::Drop, Step::Answer(200, vec![], POSTED)]).await;
    let err = web(&url).post_message("C1", "deploy finished").await.unwrap_err();
    assert!(
        matches!(err.failure, ApiFailure::OutcomeUnknown(_)) && err.method == "chat.postMessage",
        "{err:?}"
    );
    assert!(err.may_have_been_applied());
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "sent exactly once: {seen:?}");
    assert_eq!(seen[0].0, "/api/chat.postMessage");
    assert!(seen[0].1.contains("deploy finished"));
}

#[tokio::test]
async fn a_post_message_answered_5xx_is_outcome_unknown_and_not_resent() {
    let (url, seen) = scripted(vec![
        Step::Answer(503, vec![("x-slack-req-id", "req-503")], "<html>unavailable</html>"),
        Step::Answer(200, vec![], POSTED),
    ])
    .await;
    let err = web(&url).post_message("C1", "hi").await.unwrap_err();
    assert!(err.may_have_been_applied(), "{err:?}");
    assert_eq!(err.req_id(), Some("req-503"));
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_read_is_retried_after_a_dropped_connection_and_a_5xx() {
    let (url, seen) = scripted(vec![
        Step::Drop,
        Step::Answer(502, vec![], "bad gateway"),
        Step::Answer(200, vec![], r#"{"ok":true,"user":{"id":"U1","name":"ada"}}"#),
    ])
    .await;
    let user = web(&url).user_info("U1").await.unwrap();
    assert_eq!(user.user.name.as_deref(), Some("ada"));
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn retries_of_a_read_are_bounded() {
    let (url, seen) = scripted(vec![Step::Answer(500, vec![], "oops")]).await;
    let err = web(&url).auth_test().await.unwrap_err();
    assert!(matches!(err.failure, ApiFailure::Status { status: 500, .. }), "{err:?}");
    assert!(!err.may_have_been_applied());
    assert_eq!(seen.lock().unwrap().len(), 4, "one call and three retries");
}

#[tokio::test]
async fn a_429_is_waited_out_then_the_post_goes_through_once() {
    let (url, seen) = scripted(vec![
        Step::Answer(429, vec![("retry-after", "1")], r#"{"ok":false,"error":"ratelimited"}"#),
        Step::Answer(200, vec![], POSTED),
    ])
    .await;
    let started = std::time::Instant::now();
    let posted = web(&url).post_message("C1", "hi").await.unwrap();
    assert_eq!(posted.ts, "1700000000.000100");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After honoured");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn api_errors_are_typed_and_not_retried() {
    let (url, seen) = scripted(vec![Step::Answer(
        200,
        vec![("x-slack-req-id", "r-1")],
        r#"{"ok":false,"error":"channel_not_found"}"#,
    )])
    .await;
    let err = web(&url).post_message("C404", "hi").await.unwrap_err();
    assert_eq!(err.api_error().map(|e| e.as_str()), Some("channel_not_found"));
    assert_eq!(err.req_id(), Some("r-1"));
    assert_eq!(err.kind(), ErrorKind::Api);
    let err = web(&url).call("conversations.history", json!({"channel":"C404"})).await.unwrap_err();
    assert!(!err.may_have_been_applied());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn an_app_level_token_is_refused_for_the_web_api() {
    let err = Client::builder("xapp-1-A1-123-abc").build_web().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains(
            "an app-level token (xapp-) cannot call the Web API; use a bot (xoxb-) or user (xoxp-) token"
        ),
        "{text}"
    );
    assert!(!text.contains("abc"));
    assert!(Client::builder("xoxp-1-2").build_web().is_ok());
}

#[tokio::test]
async fn a_post_that_could_not_connect_was_not_sent_and_is_not_outcome_unknown() {
    // A port nobody listens on: connection refused, so the request never left.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/", listener.local_addr().unwrap());
    drop(listener);
    let err = web(&url).post_message("C1", "hi").await.unwrap_err();
    assert!(matches!(err.failure, ApiFailure::Transport(_)), "{err:?}");
    assert!(!err.may_have_been_applied());
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(!err.to_string().contains("xoxb-test-token"));
}
