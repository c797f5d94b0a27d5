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
}

/// A `trigger_id` handed out: who for, until when, whether used.
#[derive(Clone, Debug)]
pub(crate) struct Trigger {
    pub expires: Instant,
    pub used: bool,
}

pub(crate) struct WebState {
    cap: usize,
    extras: HashMap<(String, String), Extra>,
    order: VecDeque<(String, String)>,
    pub triggers: HashMap<String, Trigger>,
    trigger_order: VecDeque<String>,
    pub views: Vec<OpenedView>,
    pub limits: HashMap<String, RateLimit>,
    pub windows: HashMap<String, VecDeque<Instant>>,
    pub rejections: HashMap<String, VecDeque<Rejection>>,
    pub calls: Ring<WebCall>,
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
            limits: HashMap::new(),
            windows: HashMap::new(),
            rejections: HashMap::new(),
            calls: Ring::new(cap),
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
}
