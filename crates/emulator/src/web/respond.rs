//! The `response_url` endpoints (`/commands/…` and `/actions/…`) the emulator hands out in
//! slash commands, block actions and message shortcuts, and the one place a message response
//! (on such a URL, or in a command's ack) takes effect: `response_type: in_channel` posts a
//! visible message, `ephemeral` (the default) shows one to the user, `replace_original` /
//! `delete_original` change the message the action came from. A URL is usable
//! [`crate::InteractionConfig::response_url_uses`] times within
//! [`crate::InteractionConfig::response_url_lifetime`] (Slack: 5 times in 30 minutes).

use super::history::find;
use crate::api::form::{BodyRead, read_body};
use crate::api::{RespBody, json_response};
use crate::interact::state::ResponseUrl;
use crate::interact::{EphemeralMessage, ResponseEffect, ResponseRecord};
use crate::record::ConnectionId;
use crate::shared::State;
use crate::workspace::format_message_text;
use crate::{Emulator, EmulatorError, Shared};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a message response came from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source {
    ResponseUrl,
    Ack,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::ResponseUrl => "response_url",
            Source::Ack => "ack",
        }
    }
}

/// Whether `path` is a `response_url` path.
pub(crate) fn is_response_path(path: &str) -> bool {
    path.starts_with("/commands/") || path.starts_with("/actions/")
}

fn flag(body: &Value, name: &str) -> bool {
    match &body[name] {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true",
        _ => false,
    }
}

/// Records an ephemeral message.
pub(crate) fn record_ephemeral(st: &mut State, msg: EphemeralMessage) {
    st.ix.ephemerals.push(msg);
}

/// Applies a message response for `target`.
pub(crate) fn apply_message(
    shared: &Shared,
    target: &ResponseUrl,
    body: &Value,
    source: Source,
) -> Result<ResponseEffect, &'static str> {
    let text = body["text"].as_str().filter(|t| !t.is_empty());
    let blocks = body.get("blocks").filter(|b| b.is_array()).cloned();
    let mut st = shared.lock();
    let original = target.original.clone().filter(|(c, ts)| find(&st, c.as_str(), ts).is_some());
    if flag(body, "delete_original") {
        let (channel, ts) = original.ok_or("message_not_found")?;
        st.web.extra_mut(channel.as_str(), &ts).deleted = true;
        return Ok(ResponseEffect::DeletedOriginal(Ts::new(ts)));
    }
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    if flag(body, "replace_original")
        && let Some((channel, ts)) = original
    {
        let extra = st.web.extra_mut(channel.as_str(), &ts);
        extra.new_text = Some(format_message_text(text.unwrap_or("")).into_owned());
        extra.blocks = blocks;
        return Ok(ResponseEffect::ReplacedOriginal(Ts::new(ts)));
    }
    if body["response_type"].as_str() == Some("in_channel") {
        let channel = target.channel.clone().ok_or("channel_not_found")?;
        drop(st);
        // Blocks without text still need a notification text to be stored.
        let text = text.unwrap_or(" ");
        let thread_ts = body["thread_ts"].as_str();
        let ts = shared
            .post_message(
                ConnectionId(0),
                &shared.bot.user,
                channel.as_str(),
                text,
                &format_message_text(text),
                thread_ts,
                None,
            )
            .map_err(|_| "channel_not_found")?;
        if blocks.is_some() {
            shared.lock().web.extra_mut(channel.as_str(), &ts).blocks = blocks;
        }
        return Ok(ResponseEffect::PostedInChannel(Ts::new(ts)));
    }
    record_ephemeral(
        &mut st,
        EphemeralMessage {
            at: Instant::now(),
            channel: target.channel.clone(),
            user: target.user.clone(),
            text: text.map(str::to_owned),
            blocks,
            source: source.name(),
        },
    );
    Ok(ResponseEffect::Ephemeral)
}

fn answer(status: StatusCode, error: Option<&str>) -> Response<RespBody> {
    match error {
        Some(e) => json_response(status, &json!({"ok": false, "error": e})),
        None => json_response(status, &json!({"ok": true})),
    }
}

/// Serves a POST to a `response_url`.
pub(crate) async fn handle(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<RespBody> {
    let path = req.uri().path().to_owned();
    let mut record = ResponseRecord {
        at: Instant::now(),
        path: path.clone(),
        body: None,
        status: 200,
        error: None,
        effect: None,
    };
    let (status, error) = serve(shared, req, &path, &mut record).await;
    record.status = status.as_u16();
    record.error = error.map(str::to_owned);
    shared.lock().ix.responses.push(record);
    shared.notify();
    answer(status, error)
}

async fn serve(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    path: &str,
    record: &mut ResponseRecord,
) -> (StatusCode, Option<&'static str>) {
    if req.method() != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"));
    }
    let cfg = &shared.config.interactions;
    let target = {
        let st = shared.lock();
        match st.ix.urls.get(&path.to_owned()) {
            None => return (StatusCode::NOT_FOUND, Some("no_service")),
            Some(u) if u.expires <= Instant::now() => return (StatusCode::NOT_FOUND, Some("expired_url")),
            Some(u) if u.uses >= cfg.response_url_uses => return (StatusCode::NOT_FOUND, Some("used_url")),
            Some(u) => u.clone(),
        }
    };
    let body = match read_body(req.into_body(), shared.config.body_timeout).await {
        BodyRead::Complete(b) => b,
        BodyRead::Truncated => return (StatusCode::BAD_REQUEST, Some("request_timeout")),
        BodyRead::TooLarge => return (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")),
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, Some("invalid_payload"));
    };
    if !body.is_object() {
        return (StatusCode::BAD_REQUEST, Some("invalid_payload"));
    }
    record.body = Some(body.clone());
    match apply_message(shared, &target, &body, Source::ResponseUrl) {
        Ok(effect) => {
            if let Some(u) = shared.lock().ix.urls.get_mut(&path.to_owned()) {
                u.uses += 1;
            }
            record.effect = Some(effect);
            (StatusCode::OK, None)
        }
        Err(code) => (StatusCode::BAD_REQUEST, Some(code)),
    }
}

impl Emulator {
    /// Every POST to a `response_url` the emulator handed out, oldest first (bounded).
    pub fn responses(&self) -> Vec<ResponseRecord> {
        self.shared.lock().ix.responses.to_vec()
    }

    /// Waits until at least `n` POSTs to `response_url`s were answered (ever, bounded record).
    pub async fn wait_for_responses(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} response_url posts"), timeout, |st| st.ix.responses.total() >= n)
            .await
    }

    /// The ephemeral messages shown so far (from `response_url`s, commands' acks and
    /// `chat.postEphemeral`), oldest first (bounded).
    pub fn ephemeral_messages(&self) -> Vec<EphemeralMessage> {
        self.shared.lock().ix.ephemerals.to_vec()
    }

    /// Waits until at least `n` ephemeral messages were shown (ever).
    pub async fn wait_for_ephemeral_messages(&self, n: u64, timeout: Duration) -> Result<(), EmulatorError> {
        self.wait_until(|| format!("{n} ephemeral messages"), timeout, |st| st.ix.ephemerals.total() >= n)
            .await
    }

    /// A message as the Web API shows it now (text after edits, blocks, `edited`, reactions),
    /// `None` when unknown or deleted.
    pub fn message(&self, channel: &ChannelId, ts: &Ts) -> Option<Value> {
        let st = self.shared.lock();
        find(&st, channel.as_str(), ts.as_str()).map(|m| super::history::render(&st, &m))
    }

    /// The ephemeral messages shown to `user`, oldest first.
    pub fn ephemeral_messages_for(&self, user: &UserId) -> Vec<EphemeralMessage> {
        self.ephemeral_messages().into_iter().filter(|m| &m.user == user).collect()
    }
}
