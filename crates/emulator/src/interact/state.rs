//! The interactions' part of the shared state: the `response_url`s handed out, the record of
//! their use, ephemeral messages, and the resolved acks [`crate::Emulator::wait_for_ack`]
//! reads. Everything is bounded by [`crate::EmulatorConfig::record_limit`].

use super::{EphemeralMessage, ResponseRecord};
use crate::record::Ring;
use crate::socket_mode::AckRecord;
use slack_rtm_types::{ChannelId, UserId};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// A `response_url` handed out: where its messages go.
#[derive(Clone, Debug)]
pub(crate) struct ResponseUrl {
    /// The channel of the command or action (`None` for a modal).
    pub channel: Option<ChannelId>,
    /// The user who acted.
    pub user: UserId,
    /// The message the action came from (`replace_original` / `delete_original` act on it).
    pub original: Option<(ChannelId, String)>,
    /// Times used.
    pub uses: u32,
    /// Usable until.
    pub expires: Instant,
}

/// A bounded map, oldest entries forgotten past its cap.
pub(crate) struct Bounded<K, V> {
    cap: usize,
    map: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: std::hash::Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), map: HashMap::new(), order: VecDeque::new() }
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            if self.order.len() >= self.cap
                && let Some(old) = self.order.pop_front()
            {
                self.map.remove(&old);
            }
            self.order.push_back(key);
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }
}

pub(crate) struct IxState {
    /// By URL path.
    pub urls: Bounded<String, ResponseUrl>,
    pub responses: Ring<ResponseRecord>,
    pub ephemerals: Ring<EphemeralMessage>,
    /// The first ack of each envelope, by envelope number, once applied.
    pub resolved: Bounded<u64, AckRecord>,
}

impl IxState {
    pub fn new(cap: usize) -> Self {
        Self {
            urls: Bounded::new(cap),
            responses: Ring::new(cap),
            ephemerals: Ring::new(cap),
            resolved: Bounded::new(cap),
        }
    }
}
