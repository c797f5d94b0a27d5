//! The standalone emulator's control API: a small HTTP server on 127.0.0.1 through which
//! another process (a shell, a test in another language) makes users act — say something,
//! mention the bot, run a slash command, click a button, submit a modal, open the Home tab —
//! and lists what the app posted and acked. `slack-rtm emulator say|mention|…` are its client
//! ([`super::client`]).
//!
//! Requests are `POST /ACTION` with a JSON object, or `GET /posted` and `GET /acks`; answers
//! are JSON: `{"ok":true,…}` or `{"ok":false,"error":"…"}` with status 400 or 404. Reading is
//! bounded (head and body sizes, a timeout): bad input gets a 400, never a panic.

use serde_json::{Value, json};
use slack_rtm::emulator::{Emulator, control};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body.
const MAX_BODY: usize = 64 * 1024;
/// Longest a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the control API on `listener` until the process ends.
pub async fn serve(emu: Arc<Emulator>, listener: TcpListener) {
    loop {
        let Ok((sock, _)) = listener.accept().await else { continue };
        let emu = emu.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(&emu, sock).await {
                tracing::debug!("control API connection: {e}");
            }
        });
    }
}

/// A request that could not be read, as a 400 answer.
struct BadRequest(String);

async fn handle(emu: &Emulator, mut sock: TcpStream) -> std::io::Result<()> {
    let (status, answer) = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut sock)).await {
        Err(_) => (400, json!({"ok": false, "error": "the request was not sent in time"})),
        Ok(Err(BadRequest(e))) => (400, json!({"ok": false, "error": e})),
        Ok(Ok((method, path, body))) => route(emu, &method, &path, body).await,
    };
    let body = answer.to_string();
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(body.as_bytes()).await?;
    sock.shutdown().await
}

/// Reads one request: its method, path and body (`null` when empty).
async fn read_request(sock: &mut TcpStream) -> Result<(String, String, Value), BadRequest> {
    let io = |e: std::io::Error| BadRequest(format!("reading the request: {e}"));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(BadRequest("the request head is too large".into()));
        }
        let n = sock.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(BadRequest("the request ended early".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head =
        std::str::from_utf8(&buf[..head_end]).map_err(|_| BadRequest("the head is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, path) = (first.next().unwrap_or("").to_owned(), first.next().unwrap_or("").to_owned());
    let mut length = 0usize;
    for line in lines {
        if let Some((k, v)) = line.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().map_err(|_| BadRequest("a bad content-length".into()))?;
        }
    }
    if length > MAX_BODY {
        return Err(BadRequest(format!("the body is larger than {MAX_BODY} bytes")));
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = sock.read(&mut chunk).await.map_err(io)?;
        if n == 0 {
            return Err(BadRequest("the body ended early".into()));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| BadRequest(format!("the body is not JSON: {e}")))?
    };
    Ok((method, path, value))
}

/// Runs one request: status and answer. The JSON → action translation is the emulator's
/// ([`control::act`]), shared with its binary's `--actions`.
async fn route(emu: &Emulator, method: &str, path: &str, body: Value) -> (u16, Value) {
    let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
    let result = match (method, path) {
        ("GET", "/posted") => Ok(control::posted(emu)),
        ("GET", "/acks") => Ok(control::acks(emu)),
        ("POST", action) => control::act(emu, action.trim_start_matches('/'), &body).await,
        _ => {
            return (404, json!({"ok": false, "error": format!("no {method} {path}: see docs/emulator.md")}));
        }
    };
    match result {
        Ok(v) => (200, v),
        Err(e) => (400, json!({"ok": false, "error": e})),
    }
}
