//! One HTTP/1.1 POST to a Request URL, with a timeout, over a fresh loopback connection (the
//! emulator's side of Slack's delivery; plain `http://` only).

use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};

/// The largest answer body read (an ack is small).
const MAX_ANSWER: usize = 1024 * 1024;

/// Where requests go: a parsed `http://host:port/path` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub url: String,
    authority: String,
    path: String,
}

impl Target {
    /// Parses an `http://` URL; `Err` says why it cannot be used.
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err("only http:// Request URLs are supported".into());
        }
        let host = uri.host().ok_or("no host")?;
        let authority = format!("{host}:{}", uri.port_u16().unwrap_or(80));
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Ok(Target { url: url.to_owned(), authority, path })
    }
}

/// How a request ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// An answer (a body over 1 MB counts as a broken connection).
    Answered { status: u16, headers: HeaderMap, body: Bytes },
    /// No complete answer within the timeout.
    Timeout,
    /// No connection, or it broke before a complete answer.
    ConnectionFailed(String),
}

/// POSTs `body` with `headers` to `target`; the outcome and how long it took.
pub(crate) async fn post(
    target: &Target,
    headers: &[(String, String)],
    body: Vec<u8>,
    method: &str,
    timeout: Duration,
) -> (Outcome, Duration) {
    let start = Instant::now();
    let outcome = match tokio::time::timeout(timeout, exchange(target, headers, body, method)).await {
        Ok(Ok((status, headers, body))) => Outcome::Answered { status, headers, body },
        Ok(Err(e)) => Outcome::ConnectionFailed(e),
        Err(_) => Outcome::Timeout,
    };
    (outcome, start.elapsed())
}

async fn exchange(
    target: &Target,
    headers: &[(String, String)],
    body: Vec<u8>,
    method: &str,
) -> Result<(u16, HeaderMap, Bytes), String> {
    let tcp = tokio::net::TcpStream::connect(&target.authority).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(&target.path).header("host", &target.authority);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let req = req.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
    let result = async {
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let body = Limited::new(body, MAX_ANSWER).collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, parts.headers, body))
    }
    .await;
    conn.abort();
    result
}
