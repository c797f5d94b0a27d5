//! The policy of a streamed reply (`chat.startStream` / `appendStream` / `stopStream`),
//! sans-IO: text arrives at times, [`StreamPlanner::poll`] says which call to make next and
//! when, [`StreamPlanner::on_result`] is told how it went. Time is passed in; there is no IO.
//!
//! What it guarantees, whatever Slack answers (short of a hard failure):
//!
//! - **The first text shows fast**: the reply's first call goes out once
//!   [`StreamConfig::first_chars`] characters are buffered or [`StreamConfig::first_delay`] after
//!   the first text arrived, whichever is first.
//! - **Few calls**: after that, buffered text is sent at most once per
//!   [`StreamConfig::append_interval`] (Slack's `chat.appendStream` is Tier 4, about 100 calls a
//!   minute per app and workspace, shared by every stream the app runs), each call carrying at
//!   most [`StreamConfig::max_call_chars`] characters (Slack refuses more than 12,000).
//! - **Nothing lost, nothing twice, in order**: a call's text leaves the buffer only when Slack
//!   accepted it. A 429 puts it back at the front and holds every call for `Retry-After`.
//! - **The stream's end of life is invisible**: a message whose stream Slack ended
//!   (`message_not_in_streaming_state`, e.g. after about five minutes) or that is full
//!   (`msg_too_long`) is left as it is (stopped, when it still streams) and the text goes on in
//!   a new streamed message. The planner also rolls over *before* those errors: when a message
//!   is older than [`StreamConfig::max_lifetime`] or would grow past
//!   [`StreamConfig::max_message_chars`], cutting at a line or word boundary when one is near.
//! - **Bounded memory**: [`StreamPlanner::has_room`] says when the buffer is full
//!   ([`StreamConfig::max_buffer_chars`]); a driver stops reading its input until it is not.

use slack_rtm_types::Ts;
use slack_rtm_types::web::MAX_STREAM_CALL_CHARS;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The limits a [`StreamPlanner`] keeps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Send the reply's first text once this many characters are buffered. Default 24.
    pub first_chars: usize,
    /// ... or this long after the first text arrived. Default 150 ms.
    pub first_delay: Duration,
    /// The least time between two appends of one stream. Default 1 s (60 a minute: room under
    /// Slack's ~100 for a second stream, status updates and retries).
    pub append_interval: Duration,
    /// The most characters one call carries. Default 10,000 (Slack refuses more than 12,000).
    pub max_call_chars: usize,
    /// The most characters one streamed message holds before the text goes on in the next.
    /// Default 30,000 (under Slack's 40,000 for a message's text).
    pub max_message_chars: usize,
    /// A streamed message older than this is stopped and the text goes on in the next.
    /// Default 4 min (Slack ends a stream after about 5).
    pub max_lifetime: Duration,
    /// The most characters buffered before [`StreamPlanner::has_room`] says no. Default 1 M.
    pub max_buffer_chars: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            first_chars: 24,
            first_delay: Duration::from_millis(150),
            append_interval: Duration::from_secs(1),
            max_call_chars: 10_000,
            max_message_chars: 30_000,
            max_lifetime: Duration::from_secs(240),
            max_buffer_chars: 1_000_000,
        }
    }
}

/// The next thing a driver does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamStep {
    /// Call `chat.startStream` with this first text (possibly empty).
    Start {
        /// `markdown_text`.
        text: String,
    },
    /// Call `chat.appendStream` on `ts` with this text.
    Append {
        /// The streamed message.
        ts: Ts,
        /// `markdown_text`.
        text: String,
    },
    /// Call `chat.stopStream` on `ts`. With `last`, it ends the whole reply (the place for
    /// final blocks); without, the reply goes on in a new message.
    Stop {
        /// The streamed message.
        ts: Ts,
        /// Whether this ends the reply.
        last: bool,
    },
    /// Nothing is due: ask again after this long, or when more text arrives.
    Wait(Duration),
    /// Nothing to do until more text arrives or the input ends.
    NeedInput,
    /// A call is under way: report it with [`StreamPlanner::on_result`] first.
    InFlight,
    /// The reply is complete (or cancelled, or failed: see [`StreamPlanner::failed`]).
    Done,
}

/// How the last call went, as the planner needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamOutcome {
    /// Slack accepted it; `ts` is the message's (from `chat.startStream`).
    Ok {
        /// The message's `ts`, if the answer carried one.
        ts: Option<Ts>,
    },
    /// 429: not applied; nothing goes out before `retry_after`.
    RateLimited {
        /// `Retry-After`.
        retry_after: Duration,
    },
    /// `message_not_in_streaming_state`: the message no longer streams; not applied.
    NotStreaming,
    /// `msg_too_long`: not applied.
    TooLong,
    /// Any other failure: the reply stops here.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Start(String),
    Append(String),
    Stop { last: bool },
}

#[derive(Clone, Debug)]
struct Open {
    ts: Ts,
    started: Instant,
    chars: usize,
}

/// The planner of one streamed reply. It guarantees, whatever Slack answers short of a hard
/// failure: the first text shows fast ([`StreamConfig::first_chars`] or
/// [`StreamConfig::first_delay`]); few calls (at most one per [`StreamConfig::append_interval`]);
/// nothing lost, nothing twice, in order (a 429 puts the text back and holds every call for
/// `Retry-After`); the stream's end of life invisible (a new streamed message when Slack ended
/// one or it is full, and before, at [`StreamConfig::max_lifetime`] or
/// [`StreamConfig::max_message_chars`]); bounded memory ([`StreamPlanner::has_room`]).
#[derive(Clone, Debug)]
pub struct StreamPlanner {
    config: StreamConfig,
    /// Text not yet accepted by Slack, in order (chunks as they came, so no copying).
    buffer: VecDeque<String>,
    buffered: usize,
    first_text_at: Option<Instant>,
    open: Option<Open>,
    /// Whether some message was started for this reply.
    started_any: bool,
    in_flight: Option<Call>,
    last_call_at: Option<Instant>,
    held_until: Option<Instant>,
    input_done: bool,
    cancelled: bool,
    failed: bool,
    done: bool,
    /// A message limit learned from `msg_too_long`.
    learned_max: Option<usize>,
    call_cap: usize,
    messages: Vec<Ts>,
    sent_chars: usize,
}

impl StreamPlanner {
    /// A planner keeping to `config`.
    pub fn new(config: StreamConfig) -> Self {
        let call_cap = config.max_call_chars.clamp(1, MAX_STREAM_CALL_CHARS);
        Self {
            config,
            buffer: VecDeque::new(),
            buffered: 0,
            first_text_at: None,
            open: None,
            started_any: false,
            in_flight: None,
            last_call_at: None,
            held_until: None,
            input_done: false,
            cancelled: false,
            failed: false,
            done: false,
            learned_max: None,
            call_cap,
            messages: Vec::new(),
            sent_chars: 0,
        }
    }

    /// Adds text produced at `now`. Ignored after [`StreamPlanner::finish`] or
    /// [`StreamPlanner::cancel`].
    pub fn push(&mut self, text: &str, now: Instant) {
        if text.is_empty() || self.input_done {
            return;
        }
        self.first_text_at.get_or_insert(now);
        self.buffered += text.chars().count();
        self.buffer.push_back(text.to_owned());
    }

    /// Whether the buffer has room for more text (a driver stops reading while it has not).
    pub fn has_room(&self) -> bool {
        self.buffered < self.config.max_buffer_chars
    }

    /// Characters buffered, not yet accepted by Slack.
    pub fn buffered_chars(&self) -> usize {
        self.buffered
    }

    /// The input is complete: send the rest, then stop the message (`Stop { last: true }`).
    pub fn finish(&mut self) {
        self.input_done = true;
    }

    /// Cancel: drop the text not yet sent, stop the open message as it is.
    pub fn cancel(&mut self) {
        self.input_done = true;
        self.cancelled = true;
        self.buffer.clear();
        self.buffered = 0;
    }

    /// Whether the reply ended on a failure (not all of the text was posted).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The messages of the reply so far, oldest first.
    pub fn messages(&self) -> &[Ts] {
        &self.messages
    }

    /// The message currently streaming, if any.
    pub fn current(&self) -> Option<&Ts> {
        self.open.as_ref().map(|o| &o.ts)
    }

    /// Characters Slack accepted.
    pub fn sent_chars(&self) -> usize {
        self.sent_chars
    }

    fn message_cap(&self) -> usize {
        let cap = self.config.max_message_chars.max(1);
        self.learned_max.map_or(cap, |l| l.min(cap)).max(1)
    }

    /// Takes up to `max` characters from the front of the buffer. With `at_boundary`, when
    /// more text follows, cuts after the piece's last newline or space (the rest goes back), so
    /// a message that ends there does not end inside a word; a piece with no boundary is
    /// returned whole.
    fn take(&mut self, max: usize, at_boundary: bool) -> String {
        let mut out = String::new();
        let mut n = 0;
        while n < max {
            let Some(front) = self.buffer.front_mut() else { break };
            let len = front.chars().count();
            if n + len <= max {
                n += len;
                out.push_str(front);
                self.buffer.pop_front();
            } else {
                let cut = front.char_indices().nth(max - n).map_or(front.len(), |(i, _)| i);
                out.push_str(&front[..cut]);
                front.replace_range(..cut, "");
                n = max;
            }
        }
        self.buffered -= n;
        if at_boundary
            && !self.buffer.is_empty()
            && let Some(i) = out.rfind(['\n', ' ']).map(|i| i + 1)
            && i < out.len()
        {
            let rest = out.split_off(i);
            self.put_back(rest);
        }
        out
    }

    fn put_back(&mut self, text: String) {
        if !text.is_empty() {
            self.buffered += text.chars().count();
            self.buffer.push_front(text);
        }
    }

    /// The next step at `now`.
    pub fn poll(&mut self, now: Instant) -> StreamStep {
        if self.done {
            return StreamStep::Done;
        }
        if self.in_flight.is_some() {
            return StreamStep::InFlight;
        }
        if let Some(until) = self.held_until {
            if until > now {
                return StreamStep::Wait(until - now);
            }
            self.held_until = None;
        }
        let step = self.next_call(now);
        if let StreamStep::Start { text } = &step {
            self.in_flight = Some(Call::Start(text.clone()));
        } else if let StreamStep::Append { text, .. } = &step {
            self.in_flight = Some(Call::Append(text.clone()));
        } else if let StreamStep::Stop { last, .. } = &step {
            self.in_flight = Some(Call::Stop { last: *last });
        }
        if self.in_flight.is_some() {
            self.last_call_at = Some(now);
        }
        step
    }

    fn next_call(&mut self, now: Instant) -> StreamStep {
        if self.cancelled {
            return match &self.open {
                Some(o) => StreamStep::Stop { ts: o.ts.clone(), last: true },
                None => self.end(),
            };
        }
        let Some(open) = self.open.clone() else {
            return self.next_start(now);
        };
        if self.buffer.is_empty() {
            return if self.input_done {
                StreamStep::Stop { ts: open.ts, last: true }
            } else {
                StreamStep::NeedInput
            };
        }
        let room = self.message_cap().saturating_sub(open.chars);
        if room == 0 || now.saturating_duration_since(open.started) >= self.config.max_lifetime {
            return StreamStep::Stop { ts: open.ts, last: false };
        }
        let due = self.last_call_at.map_or(now, |t| t + self.config.append_interval);
        if due > now {
            return StreamStep::Wait(due - now);
        }
        let max = room.min(self.call_cap);
        let ends_message = room <= self.call_cap && self.buffered > room;
        let text = self.take(max, ends_message);
        if ends_message && !text.ends_with([' ', '\n']) && open.chars > 0 {
            // No word boundary fits: end this message here and go on in the next.
            self.put_back(text);
            return StreamStep::Stop { ts: open.ts, last: false };
        }
        StreamStep::Append { ts: open.ts, text }
    }

    fn next_start(&mut self, now: Instant) -> StreamStep {
        if self.buffer.is_empty() {
            if !self.input_done {
                return StreamStep::NeedInput;
            }
            if self.started_any {
                return self.end();
            }
            // A reply with no text still gets its message (its blocks go there).
            return StreamStep::Start { text: String::new() };
        }
        if !self.started_any && !self.input_done && self.buffered < self.config.first_chars {
            let due = self.first_text_at.unwrap_or(now) + self.config.first_delay;
            if due > now {
                return StreamStep::Wait(due - now);
            }
        }
        let max = self.message_cap().min(self.call_cap);
        let text = self.take(max, self.buffered > max);
        StreamStep::Start { text }
    }

    fn end(&mut self) -> StreamStep {
        self.done = true;
        StreamStep::Done
    }

    /// Reports how the call of the last step went, at `now`.
    pub fn on_result(&mut self, outcome: StreamOutcome, now: Instant) {
        let Some(call) = self.in_flight.take() else { return };
        match (call, outcome) {
            (Call::Start(text), StreamOutcome::Ok { ts }) => {
                let Some(ts) = ts else {
                    // An answer without the message's ts: nothing can be appended to it.
                    self.put_back(text);
                    return self.fail();
                };
                let chars = text.chars().count();
                self.sent_chars += chars;
                self.messages.push(ts.clone());
                self.started_any = true;
                self.open = Some(Open { ts, started: now, chars });
            }
            (Call::Append(text), StreamOutcome::Ok { .. }) => {
                let chars = text.chars().count();
                self.sent_chars += chars;
                if let Some(o) = &mut self.open {
                    o.chars += chars;
                }
            }
            (Call::Stop { last }, StreamOutcome::Ok { .. } | StreamOutcome::NotStreaming) => {
                self.open = None;
                if last {
                    self.done = true;
                }
            }
            (Call::Start(text) | Call::Append(text), StreamOutcome::RateLimited { retry_after }) => {
                self.put_back(text);
                self.held_until = Some(now + retry_after);
            }
            (Call::Stop { .. }, StreamOutcome::RateLimited { retry_after }) => {
                self.held_until = Some(now + retry_after);
            }
            (Call::Append(text), StreamOutcome::NotStreaming) => {
                // Slack ended this message (it shows what it got): go on in a new one.
                self.put_back(text);
                self.open = None;
            }
            (Call::Append(text), StreamOutcome::TooLong) => {
                // The message is full: stop it and go on in a new one, with the limit learned.
                self.put_back(text);
                if let Some(o) = &self.open {
                    self.learned_max = Some(o.chars.max(1));
                }
            }
            (Call::Start(text), StreamOutcome::TooLong) => {
                // Even a fresh message refused it: send less per call.
                self.put_back(text);
                self.call_cap = (self.call_cap / 2).max(1);
                self.learned_max = self.learned_max.map(|l| l.min(self.call_cap));
                if self.call_cap == 1 {
                    self.fail();
                }
            }
            (Call::Stop { .. }, StreamOutcome::TooLong) => {
                self.open = None;
            }
            (Call::Start(text), StreamOutcome::NotStreaming) => {
                self.put_back(text);
                self.fail();
            }
            (_, StreamOutcome::Failed) => self.fail(),
        }
    }

    fn fail(&mut self) {
        self.failed = true;
        self.done = true;
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
