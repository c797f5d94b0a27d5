//! Assistant threads: `assistant.threads.setStatus`, `setSuggestedPrompts`, `setTitle`, and
//! the handle's controls that play the user's side (open a thread, change its context, say
//! something in it), sending the events Slack sends (`assistant_thread_started`,
//! `assistant_thread_context_changed`, `app_context_changed`, and the `message`).

use super::{Args, Outcome};
use crate::Shared;
use crate::record::ConnectionId;
use crate::workspace::format_message_text;
use serde_json::{Value, json};
use slack_rtm_types::{ChannelId, Ts, UserId};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Slack's limits: 10 loading messages, 4 prompts.
const MAX_LOADING: usize = 10;
const MAX_PROMPTS: usize = 4;

/// An assistant thread as the emulator keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssistantThreadRecord {
    /// The user who opened it.
    pub user: Option<UserId>,
    /// The channel the user views (the thread's context).
    pub context_channel: Option<ChannelId>,
    /// The status now shown ("" or `None`: none).
    pub status: Option<String>,
    /// The loading messages given with it.
    pub loading_messages: Vec<String>,
    /// Every status set, in order, with when (the empty string clears).
    pub statuses: Vec<(Instant, String)>,
    /// The suggested prompts: (title, message).
    pub prompts: Vec<(String, String)>,
    /// The prompts' heading.
    pub prompts_title: Option<String>,
    /// The thread's title.
    pub title: Option<String>,
}

/// The assistant threads (bounded: the oldest are forgotten).
pub(crate) struct AssistantState {
    cap: usize,
    threads: HashMap<(String, String), AssistantThreadRecord>,
    order: VecDeque<(String, String)>,
}

impl AssistantState {
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), threads: HashMap::new(), order: VecDeque::new() }
    }

    pub fn has_thread(&self, channel: &str, ts: &str) -> bool {
        self.threads.contains_key(&(channel.to_owned(), ts.to_owned()))
    }

    fn entry(&mut self, channel: &str, ts: &str) -> &mut AssistantThreadRecord {
        let key = (channel.to_owned(), ts.to_owned());
        if !self.threads.contains_key(&key) {
            if self.order.len() >= self.cap
                && let Some(old) = self.order.pop_front()
            {
                self.threads.remove(&old);
            }
            self.order.push_back(key.clone());
        }
        self.threads.entry(key).or_default()
    }

    pub fn clear_status(&mut self, channel: &str, ts: &str) {
        if let Some(t) = self.threads.get_mut(&(channel.to_owned(), ts.to_owned())) {
            t.status = None;
            t.loading_messages.clear();
        }
    }
}

fn thread(shared: &Shared, args: &Args) -> Result<(String, String), &'static str> {
    let channel = args.str("channel_id").ok_or("channel_not_found")?;
    let ts = args.str("thread_ts").ok_or("invalid_thread_ts")?;
    if !shared.lock().ws.has_channel(&channel) {
        return Err("channel_not_found");
    }
    Ok((channel, ts))
}

fn strings(v: Option<Value>, max: usize) -> Result<Vec<String>, &'static str> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= max => {
            list.iter().map(|s| s.as_str().map(str::to_owned).ok_or("invalid_arguments")).collect()
        }
        Some(_) => Err("invalid_arguments"),
    }
}

pub(super) fn set_status(shared: &Shared, args: &Args) -> Outcome {
    let (channel, ts) = thread(shared, args)?;
    let loading = strings(args.json("loading_messages").map_err(|()| "invalid_arguments")?, MAX_LOADING)?;
    let status = args.str("status").unwrap_or_default();
    let mut st = shared.lock();
    let t = st.web.assistant.entry(&channel, &ts);
    t.statuses.push((Instant::now(), status.clone()));
    if t.statuses.len() > 1000 {
        t.statuses.remove(0);
    }
    t.status = (!status.is_empty()).then_some(status);
    t.loading_messages = loading;
    Ok(json!({}))
}

pub(super) fn set_suggested_prompts(shared: &Shared, args: &Args) -> Outcome {
    let (channel, ts) = thread(shared, args)?;
    let prompts = match args.json("prompts").map_err(|()| "invalid_arguments")? {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_PROMPTS => list
            .iter()
            .map(|p| {
                match (p.get("title").and_then(Value::as_str), p.get("message").and_then(Value::as_str)) {
                    (Some(t), Some(m)) => Ok((t.to_owned(), m.to_owned())),
                    _ => Err("invalid_arguments"),
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("invalid_arguments"),
    };
    let title = args.str("title");
    let mut st = shared.lock();
    let t = st.web.assistant.entry(&channel, &ts);
    t.prompts = prompts;
    t.prompts_title = title;
    Ok(json!({}))
}

pub(super) fn set_title(shared: &Shared, args: &Args) -> Outcome {
    let (channel, ts) = thread(shared, args)?;
    let title = args.str("title").ok_or("invalid_arguments")?;
    shared.lock().web.assistant.entry(&channel, &ts).title = Some(title);
    Ok(json!({}))
}

fn context(channel: Option<&ChannelId>, team: &str) -> Value {
    match channel {
        Some(c) => json!({"channel_id": c, "team_id": team}),
        None => json!({}),
    }
}

impl crate::Emulator {
    /// A user opens a new assistant thread in `channel` (the app's conversation with them)
    /// while viewing `context_channel`: Socket Mode gets `assistant_thread_started`. Returns
    /// the thread's `ts`.
    pub fn start_assistant_thread(
        &self,
        user: &UserId,
        channel: &ChannelId,
        context_channel: Option<&ChannelId>,
    ) -> Ts {
        let ts = self.shared.clock.next();
        let team = self.team().id;
        {
            let mut st = self.shared.lock();
            let t = st.web.assistant.entry(channel.as_str(), &ts);
            t.user = Some(user.clone());
            t.context_channel = context_channel.cloned();
        }
        self.send_api_event(json!({
            "type": "assistant_thread_started", "event_ts": self.shared.clock.next(),
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": ts,
                                 "context": context(context_channel, team.as_str())},
        }));
        Ts::new(ts)
    }

    /// The user of an assistant thread moves to `context_channel`: Socket Mode gets
    /// `assistant_thread_context_changed`.
    pub fn change_assistant_context(&self, channel: &ChannelId, thread_ts: &Ts, context_channel: &ChannelId) {
        let team = self.team().id;
        let user = {
            let mut st = self.shared.lock();
            let t = st.web.assistant.entry(channel.as_str(), thread_ts.as_str());
            t.context_channel = Some(context_channel.clone());
            t.user.clone()
        };
        self.send_api_event(json!({
            "type": "assistant_thread_context_changed", "event_ts": self.shared.clock.next(),
            "assistant_thread": {"user_id": user, "channel_id": channel, "thread_ts": thread_ts,
                                 "context": context(Some(context_channel), team.as_str())},
        }));
    }

    /// The agent view: the user now views `entities` (e.g. a channel id):
    /// `app_context_changed`.
    pub fn change_app_context(&self, user: &UserId, channel: &ChannelId, viewing: Option<&ChannelId>) {
        let team = self.team().id;
        let context = match viewing {
            Some(c) => {
                json!({"entities": [{"type": "slack#/types/channel_id", "value": c, "team_id": team}]})
            }
            None => json!({}),
        };
        self.send_api_event(json!({
            "type": "app_context_changed", "user": user, "channel": channel,
            "event_ts": self.shared.clock.next(), "context": context,
        }));
    }

    /// The user writes `text` in an assistant thread: a `message` reply in the thread, to RTM
    /// and Socket Mode listeners and history.
    pub fn say_in_thread(
        &self,
        user: &UserId,
        channel: &ChannelId,
        thread_ts: &Ts,
        text: &str,
    ) -> Option<Ts> {
        let formatted = format_message_text(text);
        self.shared
            .post_message(
                ConnectionId(0),
                user,
                channel.as_str(),
                text,
                &formatted,
                Some(thread_ts.as_str()),
                None,
            )
            .ok()
            .map(Ts::new)
    }

    /// An assistant thread's status, prompts and title, if the thread is known.
    pub fn assistant_thread(&self, channel: &ChannelId, thread_ts: &Ts) -> Option<AssistantThreadRecord> {
        let st = self.shared.lock();
        st.web.assistant.threads.get(&(channel.as_str().to_owned(), thread_ts.as_str().to_owned())).cloned()
    }
}
