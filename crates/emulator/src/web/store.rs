//! The Web API's part of the emulator state. Messages themselves live in the workspace's one
//! message record (posted through the one posting path); this keeps what the Web API adds to
//! them (blocks, edits, deletions, reactions, broadcast replies), the views and triggers, the
//! per-method limits and scripted rejections, and the record of calls. Everything is bounded.

use super::handle::{OpenedView, WebCall};
use crate::RateLimit;
use crate::faults::Rejection;
use crate::record::Ring;
use serde_json::Value;
use slack_rtm_types::UserId;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// What the Web API added to a posted message.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    pub blocks: Option<Value>,
    pub broadcast: bool,
    pub edited: Option<(String, String)>,
    pub new_text: Option<String>,
    pub deleted: bool,
    /// (emoji, users) in the order first used.
    pub reactions: Vec<(String, Vec<UserId>)>,
    /// A file-share message's files.
    pub files: Option<Value>,
}

/// A `trigger_id` handed out: who for, until when, whether used.
#[derive(Clone, Debug)]
pub(crate) struct Trigger {
    pub expires: Instant,
    pub used: bool,
    /// The user whose action made it (their modals open with it); `None` for one issued by
    /// [`crate::Emulator::issue_trigger_id`].
    pub user: Option<UserId>,
}

/// Slack's limit on a user's stack of modals.
pub(crate) const MAX_STACK: usize = 3;

pub(crate) struct WebState {
    cap: usize,
    extras: HashMap<(String, String), Extra>,
    order: VecDeque<(String, String)>,
    pub triggers: HashMap<String, Trigger>,
    trigger_order: VecDeque<String>,
    pub views: Vec<OpenedView>,
    /// Each user's open modals, root first (at most [`MAX_STACK`]).
    pub stacks: HashMap<UserId, Vec<String>>,
    pub limits: HashMap<String, RateLimit>,
    pub windows: HashMap<String, VecDeque<Instant>>,
    pub rejections: HashMap<String, VecDeque<Rejection>>,
    pub calls: Ring<WebCall>,
    /// Memberships, kinds, emails, pins, Home tabs, scheduled messages.
    pub dir: super::directory::Directory,
    pub streams: super::stream::StreamState,
    pub assistant: super::assistant::AssistantState,
}

impl WebState {
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            extras: HashMap::new(),
            order: VecDeque::new(),
            triggers: HashMap::new(),
            trigger_order: VecDeque::new(),
            views: Vec::new(),
            stacks: HashMap::new(),
            limits: HashMap::new(),
            windows: HashMap::new(),
            rejections: HashMap::new(),
            calls: Ring::new(cap),
            dir: Default::default(),
            streams: super::stream::StreamState::new(cap),
            assistant: super::assistant::AssistantState::new(cap),
        }
    }

    pub fn extra(&self, channel: &str, ts: &str) -> Option<&Extra> {
        self.extras.get(&(channel.to_owned(), ts.to_owned()))
    }

    /// The extra of a message, made if needed (the oldest is forgotten past the cap).
    pub fn extra_mut(&mut self, channel: &str, ts: &str) -> &mut Extra {
        let key = (channel.to_owned(), ts.to_owned());
        if !self.extras.contains_key(&key) {
            if self.order.len() >= self.cap
                && let Some(old) = self.order.pop_front()
            {
                self.extras.remove(&old);
            }
            self.order.push_back(key.clone());
        }
        self.extras.entry(key).or_default()
    }

    pub fn add_trigger(&mut self, id: String, trigger: Trigger) {
        if self.trigger_order.len() >= self.cap
            && let Some(old) = self.trigger_order.pop_front()
        {
            self.triggers.remove(&old);
        }
        self.trigger_order.push_back(id.clone());
        self.triggers.insert(id, trigger);
    }

    pub fn add_view(&mut self, view: OpenedView) {
        if self.views.len() >= self.cap {
            self.views.remove(0);
        }
        self.views.push(view);
    }

    /// The view `id` (open or closed), if still recorded.
    pub fn view_mut(&mut self, id: &str) -> Option<&mut OpenedView> {
        self.views.iter_mut().rev().find(|v| v.id == id)
    }

    /// Takes a trigger: `Ok(user it was issued for)` if it is known, unused and unexpired.
    pub fn take_trigger(&mut self, id: &str, now: Instant) -> Result<Option<UserId>, &'static str> {
        let trigger = self.triggers.get_mut(id).ok_or("invalid_trigger_id")?;
        if trigger.used {
            return Err("exchanged_trigger_id");
        }
        if trigger.expires <= now {
            return Err("expired_trigger_id");
        }
        trigger.used = true;
        Ok(trigger.user.clone())
    }

    /// Closes `view_id` and every view pushed above it; returns the closed views, top first.
    pub fn close_view(&mut self, view_id: &str) -> Vec<OpenedView> {
        let Some(user) =
            self.views.iter().rev().find(|v| v.id == view_id && !v.closed).map(|v| v.user.clone())
        else {
            return Vec::new();
        };
        let stack = self.stacks.entry(user.clone()).or_default();
        let from = stack.iter().position(|v| v == view_id).unwrap_or(stack.len());
        let ids: Vec<String> = stack.drain(from..).rev().collect();
        if stack.is_empty() {
            self.stacks.remove(&user);
        }
        let mut closed = Vec::new();
        for id in ids.iter().chain(std::iter::once(&view_id.to_owned())) {
            if let Some(v) = self.view_mut(id)
                && !v.closed
            {
                v.closed = true;
                closed.push(v.clone());
            }
        }
        closed
    }

    /// Closes every open modal of `user`; returns them, top first.
    pub fn close_all(&mut self, user: &UserId) -> Vec<OpenedView> {
        match self.stacks.get(user).and_then(|s| s.first()).cloned() {
            Some(root) => self.close_view(&root),
            None => Vec::new(),
        }
    }
}
