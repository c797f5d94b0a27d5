//! The Web API methods a real-time bot calls next to its socket, served against the
//! workspace state: `chat.postMessage` (through the one message-posting path, so the message
//! reaches the sockets like any other), `chat.update`, `chat.delete`, `chat.postEphemeral`,
//! `reactions.add`/`remove`, `conversations.history`/`replies`/`info` with cursors,
//! `users.info`, `views.open` (a fresh `trigger_id` only) and `views.update`; `views.publish`,
//! `chat.scheduleMessage` (posted at its time), `chat.getPermalink`, `pins.add`,
//! `conversations.list`/`members`/`open`/`join`/`create`/`invite`, `users.list`/
//! `lookupByEmail`/`conversations`, `team.info`, `bots.info`; the upload flow
//! (`files.getUploadURLExternal`, the upload URL, `files.completeUploadExternal`, `files.info`).
//! `users.info`, `views.open` (a fresh `trigger_id` only) and `views.update`; streamed messages
//! (`chat.startStream`/`appendStream`/`stopStream`) and the assistant thread methods.
//!
//! Every call goes through the same steps: a scripted rejection if one is queued
//! ([`crate::Emulator::reject_next_web_calls`]), the method's rate limit if one is set (429 +
//! `Retry-After`, [`crate::Emulator::set_web_rate_limit`]), the arguments (a form, multipart,
//! or a JSON body), the token (`not_authed`, `invalid_auth`, `account_inactive`), then the
//! method's own checks. Every call is recorded ([`WebCall`]) without its token.

mod assistant;
mod chat;
mod conversations;
mod directory;
pub(crate) mod files;
mod handle;
mod history;
mod home;
mod schedule;
mod store;
mod users;

pub use directory::ScheduledMessage;
pub use files::{FNV_OFFSET, UploadedFileRecord, fnv1a};
mod stream;
pub(crate) mod views;

pub use assistant::AssistantThreadRecord;
pub use handle::{OpenedView, WebCall};
pub(crate) use store::WebState;
pub use stream::{MAX_STREAM_CALL_CHARS, StreamLimits, StreamedMessage};

// The interactions (crate::interact) read messages and change modals through these.
pub(crate) mod respond;
pub(crate) use history::{find as find_message, render as render_message};
pub(crate) use views::{check_modal, push_view, render_view, replace_view};

use crate::Shared;
use crate::api::connect::{Auth, authenticate, over_limit, rate_limited, rejection_response};
use crate::api::form::{
    BodyRead, bearer_token, parse_content_type, parse_multipart, parse_urlencoded, read_body, redacted_args,
    with_warnings,
};
use crate::api::{RespBody, api_error, json_response};
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};
use slack_rtm_types::UserId;
use std::sync::Arc;
use std::time::Instant;

/// The methods served here.
const METHODS: &[&str] = &[
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "chat.postEphemeral",
    "reactions.add",
    "reactions.remove",
    "conversations.history",
    "conversations.replies",
    "conversations.info",
    "users.info",
    "views.open",
    "views.update",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
    "assistant.threads.setStatus",
    "assistant.threads.setSuggestedPrompts",
    "assistant.threads.setTitle",
    "views.push",
    "views.publish",
    "chat.scheduleMessage",
    "chat.getPermalink",
    "conversations.list",
    "conversations.members",
    "conversations.open",
    "conversations.join",
    "conversations.create",
    "conversations.invite",
    "users.list",
    "users.lookupByEmail",
    "users.conversations",
    "pins.add",
    "team.info",
    "bots.info",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
    "files.info",
];

/// Whether `method` is one of the Web API methods served here.
pub(crate) fn serves(method: &str) -> bool {
    METHODS.contains(&method)
}

/// A call's arguments, from a form or a JSON body.
pub(crate) struct Args(Map<String, Value>);

impl Args {
    /// A string argument (numbers and booleans as their text); `None` when absent or empty.
    pub fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A boolean argument (`true`, `1`, …).
    pub fn bool(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => crate::api::form::parse_bool(s).unwrap_or(false),
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            _ => false,
        }
    }

    /// A JSON argument: given as JSON in a JSON body, or as JSON text in a form. `Err` when it
    /// is text that is not JSON.
    pub fn json(&self, name: &str) -> Result<Option<Value>, ()> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|_| ()),
            Some(other) => Ok(Some(other.clone())),
        }
    }
}

/// What a method answers: the success body (without `ok`), or an error code.
pub(crate) type Outcome = Result<Value, &'static str>;

/// What a call carried: its token, its arguments, and the warnings its body earns.
struct Read {
    token: Option<String>,
    args: Args,
    warnings: Vec<&'static str>,
}

async fn read_args(shared: &Shared, req: Request<Incoming>) -> Result<Read, &'static str> {
    let (parts, body) = req.into_parts();
    let mut args = Map::new();
    let mut warnings = Vec::new();
    if let Some(q) = parts.uri.query() {
        for (k, v) in parse_urlencoded(q.as_bytes(), false).ok_or("invalid_form_data")? {
            args.insert(k, Value::String(v));
        }
    }
    if parts.method == Method::POST {
        let body = match read_body(body, shared.config.body_timeout).await {
            BodyRead::Complete(b) => b,
            BodyRead::Truncated => return Err("request_timeout"),
            BodyRead::TooLarge => return Err("invalid_form_data"),
        };
        if !body.is_empty() {
            let ct = parts.headers.get(CONTENT_TYPE).ok_or("missing_post_type")?;
            let ct = parse_content_type(ct.to_str().map_err(|_| "invalid_post_type")?);
            // Slack's charset rules: JSON should declare one, forms should not.
            match (ct.mime.as_str(), &ct.charset) {
                ("application/json", None) => warnings.push("missing_charset"),
                ("application/x-www-form-urlencoded" | "multipart/form-data", Some(_)) => {
                    warnings.push("superfluous_charset")
                }
                _ => {}
            }
            match ct.mime.as_str() {
                "application/json" => match serde_json::from_slice(&body) {
                    Ok(Value::Object(map)) => args.extend(map),
                    _ => return Err("invalid_json"),
                },
                "application/x-www-form-urlencoded" => {
                    for (k, v) in parse_urlencoded(&body, false).ok_or("invalid_form_data")? {
                        args.insert(k, Value::String(v));
                    }
                }
                "multipart/form-data" => {
                    let boundary = ct.boundary.as_deref().unwrap_or("");
                    for (k, v) in parse_multipart(&body, boundary, false).ok_or("invalid_form_data")? {
                        args.insert(k, Value::String(v));
                    }
                }
                _ => return Err("invalid_post_type"),
            }
        }
    }
    let token = bearer_token(&parts.headers).or_else(|| match args.remove("token") {
        Some(Value::String(t)) => Some(t),
        _ => None,
    });
    args.remove("token");
    Ok(Read { token, args: Args(args), warnings })
}

fn redact(args: &Args) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = args
        .0
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();
    redacted_args(&pairs)
}

/// Serves one call of `method`.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    method: String,
    req: Request<Incoming>,
) -> Response<RespBody> {
    let mut record = WebCall {
        at: Instant::now(),
        method: method.clone(),
        user: None,
        args: Vec::new(),
        status: 200,
        error: None,
    };
    let resp = serve(shared, &method, req, &mut record).await;
    record.status = resp.status().as_u16();
    shared.lock().web.calls.push(record);
    shared.notify();
    resp
}

async fn serve(
    shared: &Arc<Shared>,
    method: &str,
    req: Request<Incoming>,
    record: &mut WebCall,
) -> Response<RespBody> {
    if req.method() != Method::GET && req.method() != Method::POST {
        record.error = Some("method_not_allowed".into());
        return json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"ok": false, "error": "method_not_allowed"}),
        );
    }
    let (rejection, limited) = {
        let mut st = shared.lock();
        let rejection = st.web.rejections.get_mut(method).and_then(|q| q.pop_front());
        let limited = match (rejection.is_none(), st.web.limits.get(method).copied()) {
            (true, Some(limit)) => {
                let window = st.web.windows.entry(method.to_owned()).or_default();
                over_limit(window, limit, Instant::now())
            }
            _ => None,
        };
        (rejection, limited)
    };
    if let Some(rejection) = rejection {
        let (resp, error) = rejection_response(&rejection, shared);
        record.error = error;
        return resp;
    }
    if let Some(secs) = limited {
        record.error = Some("ratelimited".into());
        return rate_limited(secs);
    }
    let Read { token, args, warnings } = match read_args(shared, req).await {
        Ok(x) => x,
        Err(code) => {
            record.error = Some(code.into());
            return api_error(code);
        }
    };
    record.args = redact(&args);
    let user = match authenticate(shared, method, token.as_deref()) {
        Auth::Ok { user, .. } => user,
        Auth::Err(code) => {
            record.error = Some(code.into());
            return json_response(
                StatusCode::OK,
                &with_warnings(json!({"ok": false, "error": code}), &warnings),
            );
        }
    };
    record.user = Some(user.clone());
    let body = match dispatch(shared, method, &user, &args) {
        Ok(mut body) => {
            body["ok"] = json!(true);
            body
        }
        Err(code) => {
            record.error = Some(code.into());
            json!({"ok": false, "error": code})
        }
    };
    json_response(StatusCode::OK, &with_warnings(body, &warnings))
}

fn dispatch(shared: &Arc<Shared>, method: &str, user: &UserId, args: &Args) -> Outcome {
    match method {
        "chat.postMessage" => chat::post_message(shared, user, args),
        "chat.update" => chat::update(shared, user, args),
        "chat.delete" => chat::delete(shared, user, args),
        "chat.postEphemeral" => chat::post_ephemeral(shared, args),
        "reactions.add" => chat::react(shared, user, args, true),
        "reactions.remove" => chat::react(shared, user, args, false),
        "conversations.history" => history::history(shared, args),
        "conversations.replies" => history::replies(shared, args),
        "conversations.info" => conversations::info(shared, user, args),
        "users.info" => users::info(shared, args),
        "views.open" => views::open(shared, user, args),
        "views.update" => views::update(shared, args),
        "chat.startStream" => stream::start(shared, user, args),
        "chat.appendStream" => stream::append(shared, user, args),
        "chat.stopStream" => stream::stop(shared, user, args),
        "assistant.threads.setStatus" => assistant::set_status(shared, args),
        "assistant.threads.setSuggestedPrompts" => assistant::set_suggested_prompts(shared, args),
        "assistant.threads.setTitle" => assistant::set_title(shared, args),
        "views.push" => views::push(shared, user, args),
        "views.publish" => home::publish(shared, args),
        "chat.scheduleMessage" => schedule::schedule(shared, user, args),
        "chat.getPermalink" => schedule::permalink(shared, args),
        "pins.add" => schedule::pin(shared, args),
        "conversations.list" => conversations::list(shared, user, args),
        "conversations.members" => conversations::members(shared, args),
        "conversations.open" => conversations::open(shared, user, args),
        "conversations.join" => conversations::join(shared, user, args),
        "conversations.create" => conversations::create(shared, user, args),
        "conversations.invite" => conversations::invite(shared, user, args),
        "users.conversations" => conversations::user_conversations(shared, user, args),
        "users.list" => users::list(shared, args),
        "users.lookupByEmail" => users::lookup_by_email(shared, args),
        "team.info" => users::team_info(shared, user, args),
        "bots.info" => users::bot_info(shared, args),
        "files.getUploadURLExternal" => files::get_upload_url(shared, user, args),
        "files.completeUploadExternal" => files::complete(shared, user, args),
        "files.info" => files::info(shared, args),
        _ => Err("unknown_method"),
    }
}
