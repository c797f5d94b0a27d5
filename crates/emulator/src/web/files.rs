//! The file upload flow: `files.getUploadURLExternal` reserves a file and gives an upload URL,
//! the URL takes the bytes (streamed: counted and hashed, never kept, the length checked),
//! `files.completeUploadExternal` shares the files (one message through the one posting path,
//! then `file_shared` per file), and `files.info` shows them. Bounded like the other records.

use super::{Args, Outcome};
use crate::Shared;
use crate::api::{RespBody, respond};
use crate::record::ConnectionId;
use crate::workspace::{format_message_text, random_alnum};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, UserId};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A file reserved with `files.getUploadURLExternal` (and, once its bytes arrived, uploaded).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedFileRecord {
    /// The file id (`F…`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its title (from `files.completeUploadExternal`).
    pub title: Option<String>,
    /// The declared length.
    pub length: u64,
    /// Bytes received at the upload URL, once a transfer finished with the declared length.
    pub received: Option<u64>,
    /// FNV-1a (64-bit) of the bytes received.
    pub fnv1a: u64,
    /// Who reserved it.
    pub user: UserId,
    /// Where it was shared.
    pub channels: Vec<ChannelId>,
    /// Completed with `files.completeUploadExternal`.
    pub completed: bool,
}

/// FNV-1a, 64-bit: a checksum a test can compute on its side.
pub fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// FNV-1a's starting value.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

pub(super) fn get_upload_url(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let name = args.str("filename").ok_or("invalid_arguments")?;
    let length: u64 =
        args.str("length").ok_or("invalid_arguments")?.parse().map_err(|_| "invalid_arguments")?;
    if length == 0 {
        return Err("invalid_arguments");
    }
    let id = format!("F{}", random_alnum(10).to_ascii_uppercase());
    let scheme = if shared.tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/upload/v1/{id}", shared.addr);
    let mut st = shared.lock();
    let files = &mut st.web.dir.files;
    if files.len() >= shared.config.record_limit.max(1) {
        files.remove(0);
    }
    files.push(UploadedFileRecord {
        id: id.clone(),
        name,
        title: None,
        length,
        received: None,
        fnv1a: FNV_OFFSET,
        user: user.clone(),
        channels: Vec::new(),
        completed: false,
    });
    Ok(json!({"upload_url": url, "file_id": id}))
}

/// Reads a body to its end (or its first error) and drops it, at most 64 MiB.
async fn drain(mut body: Incoming) {
    let mut left: u64 = 64 << 20;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            left = left.saturating_sub(data.len() as u64);
            if left == 0 {
                return;
            }
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<RespBody> {
    respond(status, "text/plain; charset=utf-8", RespBody::Full(Some(Bytes::from(body))))
}

/// The upload URL: takes the bytes of a reserved file, streamed, and checks their length.
pub(crate) async fn receive(shared: &Arc<Shared>, id: &str, req: Request<Incoming>) -> Response<RespBody> {
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "POST only".into());
    }
    let scripted = {
        let mut st = shared.lock();
        st.web.dir.upload_failures.pop_front()
    };
    if let Some(status) = scripted {
        // The bytes are read (and dropped) before the answer: a server that answers while the
        // client still writes would close on unread bytes, and the client would see a reset
        // instead of the scripted status.
        drain(req.into_body()).await;
        return text(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "scripted".into(),
        );
    }
    let declared = {
        let st = shared.lock();
        match st.web.dir.files.iter().find(|f| f.id == id && !f.completed) {
            Some(f) => f.length,
            None => return text(StatusCode::NOT_FOUND, "unknown upload".into()),
        }
    };
    let (mut count, mut hash) = (0u64, FNV_OFFSET);
    let mut body = req.into_body();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return text(StatusCode::BAD_REQUEST, "the body was cut".into());
        };
        if let Ok(data) = frame.into_data() {
            count += data.len() as u64;
            if count > declared {
                return text(StatusCode::BAD_REQUEST, format!("more than the declared {declared} bytes"));
            }
            hash = fnv1a(hash, &data);
        }
    }
    if count != declared {
        return text(StatusCode::BAD_REQUEST, format!("{count} bytes, declared {declared}"));
    }
    if let Some(f) = shared.lock().web.dir.files.iter_mut().find(|f| f.id == id) {
        f.received = Some(count);
        f.fnv1a = hash;
    }
    shared.notify();
    text(StatusCode::OK, format!("OK - {count}"))
}

fn render(st: &crate::shared::State, f: &UploadedFileRecord) -> Value {
    json!({
        "id": f.id, "created": now(), "timestamp": now(), "name": f.name,
        "title": f.title.clone().unwrap_or_else(|| f.name.clone()),
        "mimetype": "application/octet-stream", "filetype": "binary", "user": f.user,
        "size": f.received.unwrap_or(0), "channels": f.channels, "is_public": !f.channels.is_empty(),
        "url_private": format!("https://files.slack.com/files-pri/{}-{}/{}", st.ws.team.id, f.id, f.name),
    })
}

pub(super) fn complete(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let files = args.json("files").map_err(|()| "invalid_arguments")?.ok_or("invalid_arguments")?;
    let list = files.as_array().filter(|l| !l.is_empty()).ok_or("invalid_arguments")?;
    let mut wanted = Vec::new();
    for f in list {
        let id = f.get("id").and_then(Value::as_str).ok_or("invalid_arguments")?;
        wanted.push((id.to_owned(), f.get("title").and_then(Value::as_str).map(str::to_owned)));
    }
    let channel = args.str("channel_id");
    let thread_ts = args.str("thread_ts");
    {
        let st = shared.lock();
        for (id, _) in &wanted {
            let f = st.web.dir.files.iter().find(|f| &f.id == id).ok_or("file_not_found")?;
            if f.user != *user || f.received.is_none() || f.completed {
                return Err("file_not_found");
            }
        }
        if let Some(c) = &channel {
            if !st.ws.has_channel(c) {
                return Err("channel_not_found");
            }
            if let Some(t) = &thread_ts
                && super::history::find(&st, c, t).is_none()
            {
                return Err("invalid_thread_ts");
            }
        }
    }
    let mut st = shared.lock();
    for (id, title) in &wanted {
        if let Some(f) = st.web.dir.files.iter_mut().find(|f| &f.id == id) {
            f.completed = true;
            f.title = title.clone();
            if let Some(c) = &channel {
                f.channels.push(ChannelId::new(c.clone()));
            }
        }
    }
    let shown: Vec<Value> = wanted
        .iter()
        .filter_map(|(id, _)| st.web.dir.files.iter().find(|f| &f.id == id).map(|f| render(&st, f)))
        .collect();
    drop(st);
    if let Some(c) = &channel {
        share(shared, user, c, thread_ts.as_deref(), args.str("initial_comment"), &shown)?;
    }
    Ok(json!({"files": shown}))
}

/// Posts the file-share message through the one posting path, marks it `file_share` with its
/// files (as history shows it), then sends `file_shared` for each file (RTM and Socket Mode).
fn share(
    shared: &Shared,
    user: &UserId,
    channel: &str,
    thread_ts: Option<&str>,
    comment: Option<String>,
    files: &[Value],
) -> Result<(), &'static str> {
    let names: Vec<&str> = files.iter().filter_map(|f| f["title"].as_str()).collect();
    // The emulator's posting path needs a text: the comment, else the titles.
    let text = comment.unwrap_or_else(|| names.join(", "));
    let formatted = format_message_text(&text);
    // Slack's live `message` event for a share: subtype `file_share`, the files, `upload`.
    let mut more = serde_json::Map::new();
    more.insert("subtype".into(), json!("file_share"));
    more.insert("files".into(), json!(files));
    more.insert("upload".into(), json!(true));
    let ts = shared
        .post_message_with(ConnectionId(0), user, channel, &text, &formatted, thread_ts, None, &more)
        .map_err(|_| "not_in_channel")?;
    shared.lock().web.extra_mut(channel, &ts).files = Some(json!(files));
    for f in files {
        let event = json!({
            "type": "file_shared", "file_id": f["id"], "file": {"id": f["id"]}, "user_id": user,
            "channel_id": channel, "event_ts": ts,
        });
        shared.fan_out(channel, None, Bytes::from(event.to_string()));
        socket_mode_event(shared, event);
    }
    Ok(())
}

/// An Events API event for the app's sockets (once the app has used Socket Mode).
fn socket_mode_event(shared: &Shared, event: Value) {
    use crate::socket_mode::state::{event_callback, event_id};
    let mut st = shared.lock();
    if !st.sm.active {
        return;
    }
    let (team, app_id, id) = (st.ws.team.id.as_str().to_owned(), st.sm.app_id.clone(), event_id());
    let payload = event_callback(&team, &app_id, shared.bot.user.as_str(), &id, event);
    st.sm.enqueue(&shared.config.socket_mode, "events_api", payload, Some(id));
    drop(st);
    shared.sm_timer.notify_one();
}

impl crate::Emulator {
    /// The files reserved or uploaded so far, oldest first.
    pub fn uploaded_files(&self) -> Vec<UploadedFileRecord> {
        self.shared.lock().web.dir.files.clone()
    }

    /// Answers the next `n` byte transfers to an upload URL with HTTP `status` (their bytes
    /// are read and dropped first), e.g. 503 to test a client's retry.
    pub fn fail_next_uploads(&self, n: usize, status: u16) {
        self.shared.lock().web.dir.upload_failures.extend(std::iter::repeat_n(status, n.min(10_000)));
    }
}

pub(super) fn info(shared: &Shared, args: &Args) -> Outcome {
    let id = args.str("file").ok_or("file_not_found")?;
    let st = shared.lock();
    let f = st.web.dir.files.iter().find(|f| f.id == id && f.completed).ok_or("file_not_found")?;
    Ok(json!({"file": render(&st, f), "comments": [], "response_metadata": {"next_cursor": ""}}))
}
