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
use slack_rtm::emulator::{ActError, Emulator, Sent, Surface};
use slack_rtm::types::ChannelId;
use slack_rtm::types::Ts;
use slack_rtm::types::UserId;
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
        Ok(Ok((method, path, body))) => route(emu, &method, &path, body),
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

/// A string field of the request, if given.
fn field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A required string field.
fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str, String> {
    field(body, key).ok_or_else(|| format!("`{key}` is required"))
}

/// Runs one request: status and answer.
fn route(emu: &Emulator, method: &str, path: &str, body: Value) -> (u16, Value) {
    let path = path.split('?').next().unwrap_or("").trim_end_matches('/');
    let result = match (method, path) {
        ("GET", "/posted") => Ok(posted(emu)),
        ("GET", "/acks") => Ok(acks(emu)),
        ("POST", action) => act(emu, action.trim_start_matches('/'), &body).map(|s| sent_json(&s)),
        _ => {
            return (404, json!({"ok": false, "error": format!("no {method} {path}: see docs/emulator.md")}));
        }
    };
    match result {
        Ok(v) => (200, v),
        Err(e) => (400, json!({"ok": false, "error": e})),
    }
}

/// Makes a user act. The user defaults to the emulator's second user, the channel to
/// `general`.
fn act(emu: &Emulator, action: &str, body: &Value) -> Result<Sent, String> {
    let user = field(body, "user").map(UserId::new).unwrap_or_else(|| emu.second_user().user);
    let channel = field(body, "channel").map(ChannelId::new).unwrap_or_else(|| emu.general_channel());
    let actor = emu.user(&user);
    let err = |e: ActError| e.to_string();
    match action {
        "say" => match field(body, "thread_ts") {
            Some(ts) => actor.say_in_thread(&channel, &Ts::new(ts), required(body, "text")?).map_err(err),
            None => actor.say(&channel, required(body, "text")?).map_err(err),
        },
        "mention" => actor.mention_bot(&channel, field(body, "text").unwrap_or("")).map_err(err),
        "command" => {
            Ok(actor.run_command(&channel, required(body, "command")?, field(body, "text").unwrap_or("")))
        }
        "click" => {
            let surface = match (field(body, "view_id"), field(body, "ts")) {
                (Some(view), _) => Surface::view(view),
                (None, Some(ts)) => Surface::message(&channel, &Ts::new(ts)),
                (None, None) => return Err("`ts` (a message) or `view_id` (a modal) is required".into()),
            };
            let action_id = required(body, "action_id")?;
            match field(body, "value") {
                Some(v) => actor.select(&surface, action_id, v).map_err(err),
                None => actor.click(&surface, action_id).map_err(err),
            }
        }
        "submit" => {
            let view = required(body, "view_id")?;
            let values: Vec<(&str, &str)> = match body.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        v.as_str().map(|v| (k.as_str(), v)).ok_or(format!("values.{k} must be a string"))
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("`values` must be an object: action id → value".into()),
            };
            actor.submit_view(view, &values).map_err(err)
        }
        "home" => Ok(actor.open_home(field(body, "tab").unwrap_or("home"))),
        other => Err(format!(
            "unknown action {other:?}: say, mention, command, click, submit, home (POST), posted, acks (GET)"
        )),
    }
}

fn sent_json(s: &Sent) -> Value {
    json!({
        "ok": true,
        "envelope": s.seq,
        "envelopes": s.envelopes,
        "channel": s.channel,
        "ts": s.ts,
        "trigger_id": s.trigger_id,
        "response_url": s.response_url,
        "view_id": s.view_id,
    })
}

/// The messages the app's bot posted, oldest first.
fn posted(emu: &Emulator) -> Value {
    let bot = emu.bot_user();
    let messages: Vec<Value> = emu
        .posted_messages()
        .into_iter()
        .filter(|m| m.user == bot)
        .map(|m| json!({"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": m.text}))
        .collect();
    json!({"ok": true, "messages": messages})
}

/// The acks the app sent, oldest first.
fn acks(emu: &Emulator) -> Value {
    let envelopes = emu.envelopes();
    let acks: Vec<Value> = emu
        .acks()
        .into_iter()
        .map(|a| {
            let record = envelopes.iter().find(|e| e.attempts.iter().any(|t| t.envelope_id == a.envelope_id));
            json!({
                "envelope_id": a.envelope_id,
                "type": record.map(|r| r.envelope_type.clone()),
                "late": a.late,
                "delay_ms": a.delay.map(|d| d.as_millis() as u64),
                "payload": a.payload,
            })
        })
        .collect();
    json!({"ok": true, "acks": acks})
}
