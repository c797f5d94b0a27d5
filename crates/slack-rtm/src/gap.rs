//! Gap refill: after a [`SessionEvent::Gap`], fetch the messages the socket missed with
//! `conversations.history`, in order, without repeating what was already delivered.

use crate::{ApiCallError, WebClient};
use slack_rtm_session::rtm::SessionEvent;
use slack_rtm_types::event::{Message, MessageSubtype};
use slack_rtm_types::web::HistoryQuery;
use slack_rtm_types::{ChannelId, Event, Ts};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Remembers, for the channels an application cares about, which messages it has seen, so
/// that after a [`SessionEvent::Gap`] the missed ones can be fetched and nothing is seen twice.
///
/// Feed it every event ([`GapRefill::observe`], which also says whether to skip a message
/// already delivered by a refill); on a `Gap`, call [`GapRefill::refill`] and take the
/// missed messages from the returned [`Refill`]:
///
/// ```no_run
/// # async fn f(client: slack_rtm::Client, mut events: slack_rtm::Events) -> Result<(), slack_rtm::ApiCallError> {
/// use slack_rtm::rtm::{Event, GapRefill, SessionEvent};
/// let mut seen = GapRefill::new(["C024BE91L"]);
/// while let Some(event) = events.next().await {
///     if !seen.observe(&event) {
///         continue; // already delivered by a refill
///     }
///     match event {
///         SessionEvent::Gap { from, .. } => {
///             let mut missed = seen.refill(client.web(), from);
///             while let Some(message) = missed.next().await {
///                 let message = message?; // oldest first, `channel` set
///                 println!("missed: {:?}", message.text);
///             }
///         }
///         SessionEvent::Rtm(Event::Message(m)) => println!("live: {:?}", m.text),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
///
/// For each channel, the refill asks for the messages after the newest `ts` seen there (or,
/// for a channel with nothing seen yet, after the newest `ts` seen in any channel, or, if no
/// message was seen at all, after the wall-clock time the gap began minus
/// [`GapRefill::CLOCK_SKEW`]). It covers
/// what `conversations.history` returns: channel messages, not thread replies that were not
/// broadcast. Memory is bounded: at most [`GapRefill::RECENT`] remembered messages per
/// channel, at most [`GapRefill::MAX_MESSAGES`] messages per channel per refill (the rest is
/// reported by [`Refill::truncated`]).
#[derive(Debug, Default)]
pub struct GapRefill {
    channels: HashMap<ChannelId, Seen>,
    /// The newest message `ts` seen in any channel: Slack's clock, for channels with nothing
    /// seen yet.
    newest_anywhere: Option<Ts>,
}

#[derive(Debug, Default)]
struct Seen {
    newest: Option<Ts>,
    recent: VecDeque<Ts>,
    set: HashSet<Ts>,
}

/// Orders timestamps as Slack does: seconds, then the fraction (as numbers, not strings).
fn ts_key(ts: &Ts) -> (u64, u64) {
    let (secs, frac) = ts.as_str().split_once('.').unwrap_or((ts.as_str(), "0"));
    (secs.parse().unwrap_or(0), frac.parse().unwrap_or(0))
}

impl Seen {
    fn remember(&mut self, ts: &Ts) -> bool {
        if self.set.contains(ts) {
            return false;
        }
        if self.recent.len() >= GapRefill::RECENT
            && let Some(old) = self.recent.pop_front()
        {
            self.set.remove(&old);
        }
        self.recent.push_back(ts.clone());
        self.set.insert(ts.clone());
        if self.newest.as_ref().is_none_or(|n| ts_key(ts) > ts_key(n)) {
            self.newest = Some(ts.clone());
        }
        true
    }
}

/// Subtypes whose `ts` is the time of a change, not a message that `conversations.history`
/// lists.
fn is_change(m: &Message) -> bool {
    matches!(
        m.subtype,
        Some(
            MessageSubtype::MessageChanged | MessageSubtype::MessageDeleted | MessageSubtype::MessageReplied
        )
    )
}

/// The wall-clock `ts` of an instant in the past.
fn wall_ts(at: Instant) -> Ts {
    let ago = Instant::now().saturating_duration_since(at);
    let when = SystemTime::now().checked_sub(ago).unwrap_or(UNIX_EPOCH);
    let d = when.duration_since(UNIX_EPOCH).unwrap_or_default();
    Ts::new(format!("{}.{:06}", d.as_secs(), d.subsec_micros()))
}

impl GapRefill {
    /// Messages remembered per channel, to recognise one delivered twice.
    pub const RECENT: usize = 2048;
    /// Messages fetched per channel per refill.
    pub const MAX_MESSAGES: usize = 1000;
    /// How far the local clock may be ahead of Slack's, when only the local clock can say
    /// where a gap began.
    pub const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(5);

    /// Watches these channels.
    pub fn new<C: Into<ChannelId>>(channels: impl IntoIterator<Item = C>) -> Self {
        let mut me = Self::default();
        for c in channels {
            me.watch(c);
        }
        me
    }

    /// Watches one more channel.
    pub fn watch(&mut self, channel: impl Into<ChannelId>) {
        self.channels.entry(channel.into()).or_default();
    }

    /// The newest message `ts` seen in a channel.
    pub fn newest_seen(&self, channel: &ChannelId) -> Option<&Ts> {
        self.channels.get(channel)?.newest.as_ref()
    }

    /// Records an event. Returns `false` for a message of a watched channel that was already
    /// delivered (by a refill, or twice by the socket): skip it. Every other event is `true`.
    pub fn observe(&mut self, event: &SessionEvent) -> bool {
        match event {
            SessionEvent::Rtm(Event::Message(m)) => self.observe_message(m),
            _ => true,
        }
    }

    /// [`GapRefill::observe`] for one message.
    pub fn observe_message(&mut self, m: &Message) -> bool {
        let (Some(channel), Some(ts)) = (&m.channel, &m.ts) else { return true };
        if is_change(m) {
            return true;
        }
        if self.newest_anywhere.as_ref().is_none_or(|n| ts_key(ts) > ts_key(n)) {
            self.newest_anywhere = Some(ts.clone());
        }
        match self.channels.get_mut(channel) {
            Some(seen) => seen.remember(ts),
            None => true,
        }
    }

    /// Starts fetching what was missed since `gap_from` (the `from` of a
    /// [`SessionEvent::Gap`]) in every watched channel.
    pub fn refill<'a>(&'a mut self, web: &WebClient, gap_from: Instant) -> Refill<'a> {
        let fallback = self
            .newest_anywhere
            .clone()
            .unwrap_or_else(|| wall_ts(gap_from.checked_sub(Self::CLOCK_SKEW).unwrap_or(gap_from)));
        let mut pending: Vec<(ChannelId, Ts)> = self
            .channels
            .iter()
            .map(|(c, seen)| (c.clone(), seen.newest.clone().unwrap_or_else(|| fallback.clone())))
            .collect();
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        Refill {
            tracker: self,
            web: web.clone(),
            pending,
            ready: VecDeque::new(),
            fetched: false,
            truncated: false,
        }
    }
}

/// The messages a [`GapRefill`] found missing: oldest first, each with its `channel` set.
#[derive(Debug)]
pub struct Refill<'a> {
    tracker: &'a mut GapRefill,
    web: WebClient,
    pending: Vec<(ChannelId, Ts)>,
    ready: VecDeque<Message>,
    fetched: bool,
    truncated: bool,
}

impl Refill<'_> {
    /// The next missed message, oldest first across the watched channels; `None` when all
    /// were given. A failed fetch is returned once, then the refill ends.
    pub async fn next(&mut self) -> Option<Result<Message, ApiCallError>> {
        if !self.fetched {
            self.fetched = true;
            if let Err(e) = self.fetch_all().await {
                self.ready.clear();
                return Some(Err(e));
            }
        }
        while let Some(m) = self.ready.pop_front() {
            if self.tracker.observe_message(&m) {
                return Some(Ok(m));
            }
        }
        None
    }

    /// Whether a channel had more than [`GapRefill::MAX_MESSAGES`] missed messages (only the
    /// newest were fetched).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    async fn fetch_all(&mut self) -> Result<(), ApiCallError> {
        let mut all = Vec::new();
        for (channel, oldest) in std::mem::take(&mut self.pending) {
            let mut query = HistoryQuery::new(channel.clone());
            query.oldest = Some(oldest.clone());
            query.inclusive = Some(false);
            query.limit = Some(200);
            let mut pages = self.web.history(query);
            let mut n = 0;
            // This channel's cap was reached (`self.truncated` also remembers earlier channels').
            let mut cut = false;
            while let Some(page) = pages.next().await {
                for mut m in page?.messages {
                    let Some(ts) = &m.ts else { continue };
                    if ts_key(ts) <= ts_key(&oldest) {
                        continue;
                    }
                    if n == GapRefill::MAX_MESSAGES {
                        cut = true;
                        break;
                    }
                    m.channel.get_or_insert_with(|| channel.clone());
                    all.push(m);
                    n += 1;
                }
                if cut {
                    self.truncated = true;
                    break;
                }
            }
        }
        all.sort_by_key(|m| m.ts.as_ref().map(ts_key));
        self.ready = all.into();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(channel: &str, ts: &str) -> Message {
        Message {
            channel: Some(channel.into()),
            ts: Some(ts.into()),
            text: Some("x".into()),
            ..Message::default()
        }
    }

    #[test]
    fn observing_tracks_the_newest_and_flags_repeats() {
        let mut g = GapRefill::new(["C1"]);
        assert!(g.observe_message(&msg("C1", "9.000001")));
        assert!(g.observe_message(&msg("C1", "10.000001")), "numeric order, not string order");
        assert_eq!(g.newest_seen(&"C1".into()).map(Ts::as_str), Some("10.000001"));
        assert!(!g.observe_message(&msg("C1", "9.000001")), "a repeat is flagged");
        assert!(g.observe_message(&msg("C2", "1.0")), "unwatched channels pass");
        let mut edit = msg("C1", "99.0");
        edit.subtype = Some(MessageSubtype::MessageChanged);
        assert!(g.observe_message(&edit));
        assert_eq!(g.newest_seen(&"C1".into()).map(Ts::as_str), Some("10.000001"), "edits do not count");
    }

    #[test]
    fn a_channel_with_nothing_seen_starts_at_the_newest_ts_seen_anywhere() {
        #[derive(Debug)]
        struct Never;
        impl std::fmt::Display for Never {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("never")
            }
        }
        impl std::error::Error for Never {}
        let transport = |_req: http::Request<Vec<u8>>| async { Err::<http::Response<Vec<u8>>, _>(Never) };
        let web = WebClient::unchecked(
            std::sync::Arc::new(transport),
            slack_rtm_types::Token::new("xoxb-1"),
            slack_rtm_codec::ApiBase::default(),
        );
        let mut g = GapRefill::new(["C1", "C2"]);
        g.observe_message(&msg("C1", "1700000005.000001"));
        g.observe_message(&msg("C9", "1700000009.000001"));
        let refill = g.refill(&web, Instant::now());
        let starts: Vec<(&str, &str)> =
            refill.pending.iter().map(|(c, t)| (c.as_str(), t.as_str())).collect();
        assert_eq!(starts, [("C1", "1700000005.000001"), ("C2", "1700000009.000001")]);
        let mut empty = GapRefill::new(["C1"]);
        let refill = empty.refill(&web, Instant::now());
        let start = ts_key(&refill.pending[0].1).0;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(now - start >= GapRefill::CLOCK_SKEW.as_secs(), "the local clock, minus the skew");
    }

    #[test]
    fn memory_per_channel_is_bounded() {
        let mut g = GapRefill::new(["C1"]);
        for i in 0..(GapRefill::RECENT * 2) {
            g.observe_message(&msg("C1", &format!("{i}.000001")));
        }
        let seen = &g.channels[&ChannelId::new("C1")];
        assert_eq!(seen.recent.len(), GapRefill::RECENT);
        assert_eq!(seen.set.len(), GapRefill::RECENT);
    }

    #[test]
    fn wall_clock_ts_of_an_instant() {
        let ts = wall_ts(Instant::now());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(ts_key(&ts).0.abs_diff(now) <= 1, "{ts:?}");
        assert_eq!(ts.as_str().split_once('.').unwrap().1.len(), 6);
    }
}
