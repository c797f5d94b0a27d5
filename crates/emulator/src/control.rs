//! Users' actions as JSON, for callers outside Rust: one translation from a JSON action to the
//! actor API ([`Emulator::user`]) and back to a JSON answer, shared by the standalone binary's
//! `--actions` (one JSON line per action on stdin) and the `slack-rtm emulator` control API
//! (`POST /ACTION` with a JSON body).
//!
//! An action is a name and a JSON object of its fields:
//!
//! | action | fields |
//! |---|---|
//! | `say` | `text`, `thread_ts`? |
//! | `mention` | `text`? |
//! | `command` | `command`, `text`? |
//! | `click` | `action_id`, `ts` (a message in `channel`) or `view_id` (a modal), `value`? (then as `select`) |
//! | `select` / `type` | `action_id`, `value`, `ts` or `view_id` |
//! | `shortcut` | `callback_id` |
//! | `message_shortcut` | `callback_id`, `ts` |
//! | `submit` | `view_id`, `values`? (action id → value) |
//! | `close` | `view_id` |
//! | `home` | `tab`? (`home` by default) |
//! | `wait_ack` | `seq`, `timeout_ms`? (3000 by default) |
//! | `views` | — (the user's open modals) |
//!
//! Every action is done as `user` (a name or an id; default: the second user, `alice`) in
//! `channel` (a name or an id; default: `general`). An action that made envelopes answers
//! `{"ok":true,"seq":…,"envelopes":[…],"channel":…,"ts":…,"trigger_id":…,"response_url":…,
//! "view_id":…}`; a refused one is an `Err` with a sentence.

use crate::{ActError, ActionSurface, Emulator, Sent};
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::time::Duration;

/// The actions [`act`] knows, for error messages and help.
pub const ACTIONS: &[&str] = &[
    "say",
    "mention",
    "command",
    "click",
    "select",
    "type",
    "shortcut",
    "message_shortcut",
    "submit",
    "close",
    "home",
    "wait_ack",
    "views",
];

/// Longest `wait_ack` waits (a caller's `timeout_ms` is capped to it).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A string field, if given and not empty.
fn field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A required string field.
fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str, String> {
    field(body, key).ok_or_else(|| format!("`{key}` is required"))
}

/// The acting user: `user` as a name or an id, else the second user.
fn user(emu: &Emulator, body: &Value) -> UserId {
    match field(body, "user") {
        None => emu.second_user().user,
        Some(wanted) => emu
            .users()
            .into_iter()
            .find(|u| u.name == wanted || u.id.as_str() == wanted)
            .map_or_else(|| UserId::new(wanted), |u| u.id),
    }
}

/// The channel: `channel` as a name or an id (a direct message's id too), else `general`.
fn channel(emu: &Emulator, body: &Value) -> ChannelId {
    match field(body, "channel") {
        None => emu.general_channel(),
        Some(wanted) => emu
            .channels()
            .into_iter()
            .find(|c| c.name == wanted || c.id.as_str() == wanted)
            .map_or_else(|| ChannelId::new(wanted), |c| c.id),
    }
}

/// A message (`ts` in the channel) or a modal (`view_id`).
fn surface(emu: &Emulator, body: &Value) -> Result<ActionSurface, String> {
    match (field(body, "view_id"), field(body, "ts")) {
        (Some(view), _) => Ok(ActionSurface::view(view)),
        (None, Some(ts)) => Ok(ActionSurface::message(&channel(emu, body), &Ts::new(ts))),
        (None, None) => Err("`ts` (a message) or `view_id` (a modal) is required".into()),
    }
}

/// `values`: action id → value (a string, or a number or boolean written as one).
fn values(body: &Value) -> Result<Vec<(String, String)>, String> {
    match body.get("values") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                _ => Err(format!("values.{k} must be a string")),
            })
            .collect(),
        Some(_) => Err("`values` must be an object: action id → value".into()),
    }
}

/// The JSON answer of an action that made envelopes.
pub fn sent_json(s: &Sent) -> Value {
    json!({
        "ok": true,
        "seq": s.seq,
        "envelopes": s.envelopes,
        "channel": s.channel,
        "ts": s.ts,
        "trigger_id": s.trigger_id,
        "response_url": s.response_url,
        "view_id": s.view_id,
    })
}

/// Does `action` with the fields of `body` (a JSON object; `null` for none) and answers in
/// JSON, or says why it was refused.
pub async fn act(emu: &Emulator, action: &str, body: &Value) -> Result<Value, String> {
    let actor = emu.user(&user(emu, body));
    let done = |r: Result<Sent, ActError>| r.map(|s| sent_json(&s)).map_err(|e| e.to_string());
    match action {
        "say" => {
            let (ch, text) = (channel(emu, body), required(body, "text")?);
            match field(body, "thread_ts") {
                Some(ts) => done(actor.say_in_thread(&ch, &Ts::new(ts), text)),
                None => done(actor.say(&ch, text)),
            }
        }
        "mention" => done(actor.mention_bot(&channel(emu, body), field(body, "text").unwrap_or(""))),
        "command" => {
            let command = required(body, "command")?;
            Ok(sent_json(&actor.run_command(&channel(emu, body), command, field(body, "text").unwrap_or(""))))
        }
        "click" => {
            let (surface, action_id) = (surface(emu, body)?, required(body, "action_id")?);
            match field(body, "value") {
                Some(v) => done(actor.select(&surface, action_id, v)),
                None => done(actor.click(&surface, action_id)),
            }
        }
        "select" => {
            let (surface, action_id) = (surface(emu, body)?, required(body, "action_id")?);
            done(actor.select(&surface, action_id, required(body, "value")?))
        }
        "type" => {
            let (surface, action_id) = (surface(emu, body)?, required(body, "action_id")?);
            done(actor.type_in_select(&surface, action_id, required(body, "value")?))
        }
        "shortcut" => Ok(sent_json(&actor.global_shortcut(required(body, "callback_id")?))),
        "message_shortcut" => {
            let ts = Ts::new(required(body, "ts")?);
            done(actor.message_shortcut(&channel(emu, body), &ts, required(body, "callback_id")?))
        }
        "submit" => {
            let view = required(body, "view_id")?;
            let values = values(body)?;
            let inputs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            done(actor.submit_view(view, &inputs))
        }
        "close" => match actor.close_view(required(body, "view_id")?) {
            Ok(Some(s)) => Ok(sent_json(&s)),
            Ok(None) => Ok(json!({"ok": true, "notified": false})),
            Err(e) => Err(e.to_string()),
        },
        "home" => Ok(sent_json(&actor.open_home(field(body, "tab").unwrap_or("home")))),
        "wait_ack" => {
            let seq = body.get("seq").and_then(Value::as_u64).ok_or("`seq` (a number) is required")?;
            let wait = body
                .get("timeout_ms")
                .and_then(Value::as_u64)
                .map_or(Duration::from_secs(3), Duration::from_millis);
            let ack = emu.wait_for_ack(seq, wait.min(MAX_WAIT)).await.map_err(|e| e.to_string())?;
            Ok(json!({"ok": true, "payload": ack.payload, "late": ack.late}))
        }
        "views" => {
            let views: Vec<Value> = emu
                .open_views(actor.id())
                .into_iter()
                .map(|v| json!({"id": v.id, "view": v.view, "errors": v.errors, "hash": v.hash}))
                .collect();
            Ok(json!({"ok": true, "views": views}))
        }
        other => Err(format!("unknown action {other:?}: {}", ACTIONS.join(", "))),
    }
}

/// The messages the app's bot posted, oldest first: `{"ok":true,"messages":[{channel, ts,
/// thread_ts, text}…]}`.
pub fn posted(emu: &Emulator) -> Value {
    let bot = emu.bot_user();
    let messages: Vec<Value> = emu
        .posted_messages()
        .into_iter()
        .filter(|m| m.user == bot)
        .map(|m| json!({"channel": m.channel, "ts": m.ts, "thread_ts": m.thread_ts, "text": m.text}))
        .collect();
    json!({"ok": true, "messages": messages})
}

/// The acks the app sent, oldest first: `{"ok":true,"acks":[{envelope_id, type, late,
/// delay_ms, payload}…]}`.
pub fn acks(emu: &Emulator) -> Value {
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
