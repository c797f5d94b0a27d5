//! Streamed messages: `chat.startStream`, `chat.appendStream`, `chat.stopStream` as a state
//! machine per message (streaming → stopped), with a lifetime and a maximum length
//! ([`StreamLimits`]) answered with Slack's errors (`message_not_in_streaming_state`,
//! `msg_too_long`).
//!
//! What listeners see: the start posts the message through the one posting path (a `message`
//! to RTM and Socket Mode, with the first text); each append changes the text history shows;
//! the stop — or the end of the lifetime, noticed at the next call or read — sends a
//! `message_changed` with the final text (RTM and Socket Mode), as `chat.update` does.

use super::chat::{check_target, post_error};
use super::history::{find, render};
use super::{Args, Outcome};
use crate::Shared;
use crate::record::ConnectionId;
use crate::socket_mode::state::{event_callback, event_id};
use crate::workspace::format_message_text;
use bytes::Bytes;
use serde_json::{Value, json};
use slack_rtm_types::UserId;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The most characters one call's `markdown_text` may carry (Slack: 12,000).
pub const MAX_STREAM_CALL_CHARS: usize = 12_000;

/// The limits of streamed messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamLimits {
    /// How long a message streams after its start. Default 5 min.
    pub lifetime: Duration,
    /// The most characters a streamed message holds. Default 40,000.
    pub max_chars: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        Self { lifetime: Duration::from_secs(300), max_chars: 40_000 }
    }
}

impl StreamLimits {
    /// These limits.
    pub fn new(lifetime: Duration, max_chars: usize) -> Self {
        Self { lifetime, max_chars }
    }
}

/// A streamed message as the emulator keeps it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StreamedMessage {
    /// The conversation.
    pub channel: String,
    /// The message.
    pub ts: String,
    /// The thread it replies in.
    pub thread_ts: Option<String>,
    /// Who streams it (the token's user).
    pub user: UserId,
    /// `recipient_user_id`, as given.
    pub recipient_user_id: Option<String>,
    /// `recipient_team_id`, as given.
    pub recipient_team_id: Option<String>,
    /// The markdown received so far, in order.
    pub text: String,
    /// When it started.
    pub started: Instant,
    /// Whether it still streams.
    pub streaming: bool,
    /// Each accepted call's time and characters (the start, the appends, the stop).
    pub parts: Vec<(Instant, usize)>,
    /// Non-text chunks (task and plan updates, …), in order.
    pub chunks: Vec<Value>,
    /// The blocks given at the stop.
    pub blocks: Option<Value>,
    /// Whether it ended by its lifetime rather than a stop.
    pub expired: bool,
}

impl StreamedMessage {
    fn chars(&self) -> usize {
        self.text.chars().count()
    }
}

/// The streams' part of the emulator state (bounded: the oldest are forgotten).
pub(crate) struct StreamState {
    cap: usize,
    pub limits: StreamLimits,
    pub messages: HashMap<(String, String), StreamedMessage>,
    order: VecDeque<(String, String)>,
}

impl StreamState {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            limits: StreamLimits::default(),
            messages: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, m: StreamedMessage) {
        let key = (m.channel.clone(), m.ts.clone());
        if self.order.len() >= self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.messages.remove(&old);
        }
        self.order.push_back(key.clone());
        self.messages.insert(key, m);
    }

    /// Every message kept, oldest first.
    pub fn list(&self) -> Vec<StreamedMessage> {
        self.order.iter().filter_map(|k| self.messages.get(k).cloned()).collect()
    }
}

/// `markdown_text` plus the text of `markdown_text` chunks, and the other chunks.
fn text_and_chunks(args: &Args) -> Result<(String, Vec<Value>), &'static str> {
    let mut text = args.str("markdown_text").unwrap_or_default();
    if text.chars().count() > MAX_STREAM_CALL_CHARS {
        return Err("msg_too_long");
    }
    let mut others = Vec::new();
    match args.json("chunks").map_err(|()| "invalid_chunks")? {
        None => {}
        Some(Value::Array(list)) => {
            for c in list {
                match (c.get("type").and_then(Value::as_str), c.get("text").and_then(Value::as_str)) {
                    (Some("markdown_text"), Some(t)) => text.push_str(t),
                    (Some("markdown_text"), None) | (None, _) => return Err("invalid_chunks"),
                    (Some(_), _) => others.push(c.clone()),
                }
            }
        }
        Some(_) => return Err("invalid_chunks"),
    }
    Ok((text, others))
}

/// Sends the final text of a stream that ended to the RTM and Socket Mode listeners.
fn announce_final(shared: &Shared, channel: &str, ts: &str) {
    let event_ts = shared.clock.next();
    let mut st = shared.lock();
    let Some(after) = find(&st, channel, ts).map(|m| render(&st, &m)) else { return };
    let event = json!({"type": "message", "subtype": "message_changed", "hidden": true, "channel": channel,
                       "ts": event_ts, "event_ts": event_ts, "message": after});
    crate::shared::fan_out_locked(&st, channel, None, &Bytes::from(event.to_string()));
    if st.sm.active {
        let (team, bot) = (st.ws.team.id.as_str().to_owned(), shared.bot.user.as_str().to_owned());
        let id = event_id();
        let payload = event_callback(&team, &st.sm.app_id.clone(), &bot, &id, event);
        st.sm.enqueue(&shared.config.socket_mode, "events_api", payload, Some(id));
        drop(st);
        shared.sm_timer.notify_one();
    }
}

/// The stream `channel`/`ts` of `user`, ended first if its lifetime is over (announcing it).
fn live(shared: &Shared, user: &UserId, args: &Args) -> Result<(String, String), &'static str> {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let ts = args.str("ts").ok_or("message_not_found")?;
    let mut st = shared.lock();
    if !st.ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    let lifetime = st.web.streams.limits.lifetime;
    let m = st.web.streams.messages.get_mut(&(channel.clone(), ts.clone())).ok_or("message_not_found")?;
    if &m.user != user {
        return Err("message_not_found");
    }
    if !m.streaming {
        return Err("message_not_in_streaming_state");
    }
    if m.started.elapsed() >= lifetime {
        m.streaming = false;
        m.expired = true;
        drop(st);
        announce_final(shared, &channel, &ts);
        return Err("message_not_in_streaming_state");
    }
    Ok((channel, ts))
}

/// Sets the text history shows for a streamed message.
fn show(st: &mut crate::shared::State, channel: &str, ts: &str) {
    let Some(text) =
        st.web.streams.messages.get(&(channel.to_owned(), ts.to_owned())).map(|m| m.text.clone())
    else {
        return;
    };
    st.web.extra_mut(channel, ts).new_text = Some(format_message_text(&text).into_owned());
}

pub(super) fn start(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let channel = args.str("channel").ok_or("channel_not_found")?;
    let (text, chunks) = text_and_chunks(args)?;
    let thread_ts = args.str("thread_ts");
    {
        let st = shared.lock();
        check_target(&st, &channel, thread_ts.as_deref(), |st, t| st.web.assistant.has_thread(&channel, t))?;
        if text.chars().count() > st.web.streams.limits.max_chars {
            return Err("msg_too_long");
        }
    }
    // The posting path needs some text: an empty start shows an ellipsis until the first append.
    let first = if text.is_empty() { "…" } else { text.as_str() };
    let formatted = format_message_text(first);
    let ts = shared
        .post_message(ConnectionId(0), user, &channel, first, &formatted, thread_ts.as_deref(), None)
        .map_err(post_error)?;
    let now = Instant::now();
    let mut st = shared.lock();
    st.web.streams.insert(StreamedMessage {
        channel: channel.clone(),
        ts: ts.clone(),
        thread_ts: thread_ts.clone(),
        user: user.clone(),
        recipient_user_id: args.str("recipient_user_id"),
        recipient_team_id: args.str("recipient_team_id"),
        parts: vec![(now, text.chars().count())],
        text,
        started: now,
        streaming: true,
        chunks,
        blocks: None,
        expired: false,
    });
    show(&mut st, &channel, &ts);
    // Replying ends the thread's "is thinking…" status, as in Slack.
    if let Some(parent) = &thread_ts {
        st.web.assistant.clear_status(&channel, parent);
    }
    Ok(json!({"channel": channel, "ts": ts}))
}

fn add(shared: &Shared, channel: &str, ts: &str, text: &str, chunks: Vec<Value>) -> Result<(), &'static str> {
    let mut st = shared.lock();
    let max = st.web.streams.limits.max_chars;
    let m =
        st.web.streams.messages.get_mut(&(channel.to_owned(), ts.to_owned())).ok_or("message_not_found")?;
    if m.chars() + text.chars().count() > max {
        return Err("msg_too_long");
    }
    m.text.push_str(text);
    m.parts.push((Instant::now(), text.chars().count()));
    m.chunks.extend(chunks);
    show(&mut st, channel, ts);
    Ok(())
}

pub(super) fn append(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let (text, chunks) = text_and_chunks(args)?;
    if text.is_empty() && chunks.is_empty() {
        return Err("no_text");
    }
    let (channel, ts) = live(shared, user, args)?;
    add(shared, &channel, &ts, &text, chunks)?;
    Ok(json!({"channel": channel, "ts": ts}))
}

pub(super) fn stop(shared: &Shared, user: &UserId, args: &Args) -> Outcome {
    let (text, chunks) = text_and_chunks(args)?;
    let blocks = super::chat::blocks_arg(args)?;
    let (channel, ts) = live(shared, user, args)?;
    if !text.is_empty() || !chunks.is_empty() {
        add(shared, &channel, &ts, &text, chunks)?;
    }
    {
        let mut st = shared.lock();
        if let Some(m) = st.web.streams.messages.get_mut(&(channel.clone(), ts.clone())) {
            m.streaming = false;
            m.blocks.clone_from(&blocks);
        }
        if blocks.is_some() {
            st.web.extra_mut(&channel, &ts).blocks = blocks;
        }
    }
    announce_final(shared, &channel, &ts);
    let st = shared.lock();
    let message = find(&st, &channel, &ts).map_or(Value::Null, |m| render(&st, &m));
    Ok(json!({"channel": channel, "ts": ts, "message": message}))
}

impl crate::Emulator {
    /// Sets the lifetime and maximum length of streamed messages (default 5 min, 40,000
    /// characters). Streams already running keep their start time and get the new limits.
    pub fn set_stream_limits(&self, limits: StreamLimits) {
        self.shared.lock().web.streams.limits = limits;
    }

    /// The streamed messages (bounded like the other records), oldest first, each with every
    /// accepted call's time and size. A stream past its lifetime shows as ended here.
    pub fn streamed_messages(&self) -> Vec<StreamedMessage> {
        let st = self.shared.lock();
        let lifetime = st.web.streams.limits.lifetime;
        let mut list = st.web.streams.list();
        for m in &mut list {
            if m.streaming && m.started.elapsed() >= lifetime {
                m.streaming = false;
                m.expired = true;
            }
        }
        list
    }
}
