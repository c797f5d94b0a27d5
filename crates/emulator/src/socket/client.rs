//! What the RTM socket does with a client's messages: `message`, `ping`, `typing`, presence.

use super::{Conn, FaultState, MAX_QUERY_IDS, REFUSAL_WINDOW};
use crate::faults::Cmd;
use crate::record::CloseReason;
use crate::wire::{push_close, push_frame};
use crate::workspace::format_message_text;
use bytes::Bytes;
use fastwebsockets::OpCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::time::Instant;

/// A client frame, decoded without copying the strings that need no unescaping.
#[derive(Deserialize)]
pub(super) struct ClientFrame<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thread_ts: Option<Cow<'a, str>>,
    #[serde(default)]
    ids: Option<Vec<String>>,
}

#[derive(Serialize)]
struct AckOut<'a> {
    ok: bool,
    reply_to: &'a RawValue,
    ts: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct ErrorReplyOut<'a> {
    ok: bool,
    reply_to: &'a RawValue,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i64,
    msg: &'a str,
}

/// The `message` event delivered to other connections.
#[derive(Serialize)]
pub(crate) struct MessageEventOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub channel: &'a str,
    pub user: &'a str,
    pub text: &'a str,
    pub ts: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<&'a str>,
    pub team: &'a str,
    pub event_ts: &'a str,
    /// Further top-level fields of this kind of message (a file share's `subtype` and `files`).
    #[serde(flatten)]
    pub more: &'a serde_json::Map<String, serde_json::Value>,
}

impl Conn {
    pub(super) fn on_client_message(&mut self, payload: &[u8]) -> Option<CloseReason> {
        let Ok(frame) = serde_json::from_slice::<ClientFrame<'_>>(payload) else {
            tracing::debug!(conn = %self.id, len = payload.len(), "ignoring an undecodable client frame");
            return None;
        };
        match frame.kind.as_deref() {
            Some("message") => self.on_message(&frame),
            Some("ping") => {
                self.on_ping(payload, frame.id);
                None
            }
            Some("typing") => {
                self.on_typing(&frame);
                None
            }
            Some("presence_sub") => {
                self.on_presence(frame.ids.unwrap_or_default(), true);
                None
            }
            Some("presence_query") => {
                self.on_presence(frame.ids.unwrap_or_default(), false);
                None
            }
            _ => None,
        }
    }

    fn reply(&mut self, bytes: Bytes) {
        match &mut self.fault {
            FaultState::None => push_frame(&mut self.out, OpCode::Text, &bytes),
            FaultState::Withhold(n) => {
                self.withheld.push(bytes);
                *n -= 1;
                if *n == 0 {
                    self.fault = FaultState::None;
                }
            }
            FaultState::Delay(d) => {
                let (d, tx) = (*d, self.self_tx.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    if let Some(tx) = tx.upgrade() {
                        let _ = tx.send(Cmd::DelayedReply(bytes)).await;
                    }
                });
            }
            FaultState::Reverse(n, buf) => {
                buf.push(bytes);
                if buf.len() >= *n as usize {
                    let replies = std::mem::take(buf);
                    self.fault = FaultState::None;
                    for r in replies.iter().rev() {
                        push_frame(&mut self.out, OpCode::Text, r);
                    }
                }
            }
        }
    }

    fn reply_error(&mut self, id: Option<&RawValue>, code: i64, msg: &str) {
        let Some(id) = id else { return };
        let out = ErrorReplyOut { ok: false, reply_to: id, error: ErrorBody { code, msg } };
        if let Ok(v) = serde_json::to_vec(&out) {
            self.reply(Bytes::from(v));
        }
    }

    /// Takes a send-rate token; `Err` when refused (with whether to disconnect).
    fn take_token(&mut self) -> Result<(), bool> {
        let Some(rate) = self.shared.config.send_rate else { return Ok(()) };
        let now = Instant::now();
        let elapsed = now.duration_since(self.refill_at).as_secs_f64();
        self.refill_at = now;
        self.tokens = (self.tokens + elapsed * rate.per_second).min(f64::from(rate.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        while self.refusals.front().is_some_and(|t| now.duration_since(*t) > REFUSAL_WINDOW) {
            self.refusals.pop_front();
        }
        self.refusals.push_back(now);
        Err(self.refusals.len() as u32 > rate.disconnect_after)
    }

    fn on_message(&mut self, f: &ClientFrame<'_>) -> Option<CloseReason> {
        if let Err(disconnect) = self.take_token() {
            if disconnect {
                push_close(&mut self.out, 1008, "too many messages");
                return Some(CloseReason::RateLimited);
            }
            self.reply_error(f.id, -1, "slow down, too many messages...");
            return None;
        }
        let channel = f.channel.as_deref().unwrap_or("");
        let text = f.text.as_deref().unwrap_or("");
        if text.is_empty() {
            // Slack checks the channel first.
            if self.shared.lock().ws.is_member(channel, &self.admission.user) {
                self.reply_error(f.id, 2, "message text is missing");
            } else {
                self.reply_error(f.id, 0, "invalid channel id");
            }
            return None;
        }
        let formatted = format_message_text(text);
        let posted = self.shared.post_message(
            self.id,
            &self.admission.user,
            channel,
            text,
            &formatted,
            f.thread_ts.as_deref(),
            f.id.map(|r| r.get()),
        );
        match posted {
            Err(PostError::Channel) => self.reply_error(f.id, 0, "invalid channel id"),
            Ok(ts) => {
                if let Some(id) = f.id
                    && let Ok(v) =
                        serde_json::to_vec(&AckOut { ok: true, reply_to: id, ts: &ts, text: &formatted })
                {
                    self.reply(Bytes::from(v));
                }
            }
        }
        None
    }

    fn on_ping(&mut self, payload: &[u8], id: Option<&RawValue>) {
        let Ok(fields) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(payload) else {
            return;
        };
        let mut pong = serde_json::Map::with_capacity(fields.len() + 1);
        pong.insert("type".into(), "pong".into());
        if let Some(id) = id
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(id.get())
        {
            pong.insert("reply_to".into(), v);
        }
        for (k, v) in fields {
            if k != "id" && k != "type" && !v.is_array() && !v.is_object() {
                pong.insert(k, v);
            }
        }
        if let Ok(v) = serde_json::to_vec(&pong) {
            self.reply(Bytes::from(v));
        }
    }

    fn on_typing(&mut self, f: &ClientFrame<'_>) {
        let channel = f.channel.as_deref().unwrap_or("");
        if !self.shared.is_member(channel, &self.admission.user) {
            self.reply_error(f.id, 0, "invalid channel id");
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.typing.get(channel)
            && now.duration_since(*last) < self.shared.config.typing_interval
        {
            return;
        }
        if self.typing.len() > 1024 {
            self.typing.clear();
        }
        self.typing.insert(channel.to_owned(), now);
        #[derive(Serialize)]
        struct Typing<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            channel: &'a str,
            user: &'a str,
        }
        let ev = Typing { kind: "user_typing", channel, user: self.admission.user.as_str() };
        if let Ok(v) = serde_json::to_vec(&ev) {
            self.shared.fan_out(channel, Some(self.id), Bytes::from(v));
        }
    }

    fn on_presence(&mut self, ids: Vec<String>, subscribe: bool) {
        let report = if subscribe {
            self.shared.presence_subscribe(self.id, ids)
        } else {
            let mut ids = ids;
            ids.truncate(MAX_QUERY_IDS);
            self.shared.presence_of(&ids)
        };
        for ev in crate::presence_events(&report, self.admission.options.batch_presence_aware) {
            let _ = self.push_event(&ev);
        }
    }
}

/// Why a posted message was refused.
pub(crate) enum PostError {
    Channel,
}
