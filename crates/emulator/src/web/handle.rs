//! The emulator handle's Web API controls and records.

use super::store::Trigger;
use crate::faults::Rejection;
use crate::workspace::random_u64;
use crate::{Emulator, RateLimit};
use serde_json::Value;
use slack_rtm_types::UserId;
use std::time::{Duration, Instant};

/// How long a `trigger_id` stays valid (Slack: 3 s).
pub const TRIGGER_LIFETIME: Duration = Duration::from_secs(3);

/// One Web API call as the emulator saw it (never with its token).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebCall {
    /// When it arrived.
    pub at: Instant,
    /// The method, e.g. `chat.postMessage`.
    pub method: String,
    /// Who the token belonged to, once authenticated.
    pub user: Option<UserId>,
    /// The arguments (JSON values as their text; a `token` argument redacted).
    pub args: Vec<(String, String)>,
    /// The HTTP status answered.
    pub status: u16,
    /// The error code answered, if any.
    pub error: Option<String>,
}

impl WebCall {
    /// The argument `name`, if it was given.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A modal opened with `views.open` (and changed by `views.update`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OpenedView {
    /// The view id (`V…`).
    pub id: String,
    /// Who opened it.
    pub user: UserId,
    /// The trigger it was opened with.
    pub trigger_id: String,
    /// The view as last set by the app.
    pub view: Value,
    /// The current `hash`.
    pub hash: String,
    /// How many times `views.update` changed it.
    pub updates: u32,
}

impl Emulator {
    /// A fresh `trigger_id` (as an interaction would carry), valid for 3 s and one
    /// `views.open`.
    pub fn issue_trigger_id(&self) -> String {
        self.issue_trigger_id_valid_for(TRIGGER_LIFETIME)
    }

    /// A `trigger_id` valid for `lifetime` (zero: already expired).
    pub fn issue_trigger_id_valid_for(&self, lifetime: Duration) -> String {
        let id =
            format!("{}.{}.{:016x}", random_u64() % 100_000_000, random_u64() % 100_000_000, random_u64());
        let trigger = Trigger { expires: Instant::now() + lifetime, used: false };
        self.shared.lock().web.add_trigger(id.clone(), trigger);
        id
    }

    /// Limits calls of a Web API method (429 + `Retry-After` past it); `None` removes the
    /// limit. No method is limited by default.
    pub fn set_web_rate_limit(&self, method: &str, limit: Option<RateLimit>) {
        let mut st = self.shared.lock();
        match limit {
            Some(l) => {
                st.web.limits.insert(method.to_owned(), l);
            }
            None => {
                st.web.limits.remove(method);
                st.web.windows.remove(method);
            }
        }
    }

    /// Limits every Web API method served to Slack's published tier rates, per minute:
    /// `chat.postMessage` 60 (Slack: about one per second per channel; here per method),
    /// `chat.postEphemeral`, `users.info`, `views.*` 100 (Tier 4), `chat.update`, `chat.delete`,
    /// `reactions.add`, `conversations.*` 50 (Tier 3), `reactions.remove` 20 (Tier 2);
    /// `chat.appendStream` and `assistant.threads.setStatus` 100, `chat.startStream`,
    /// `chat.stopStream` and the other assistant methods 20.
    pub fn use_slack_web_rate_limits(&self) {
        const PER_MINUTE: &[(&str, u32)] = &[
            ("chat.postMessage", 60),
            ("chat.postEphemeral", 100),
            ("users.info", 100),
            ("views.open", 100),
            ("views.update", 100),
            ("chat.update", 50),
            ("chat.delete", 50),
            ("reactions.add", 50),
            ("conversations.history", 50),
            ("conversations.replies", 50),
            ("conversations.info", 50),
            ("reactions.remove", 20),
            ("chat.appendStream", 100),
            ("chat.startStream", 20),
            ("chat.stopStream", 20),
            ("assistant.threads.setStatus", 100),
            ("assistant.threads.setSuggestedPrompts", 20),
            ("assistant.threads.setTitle", 20),
        ];
        for (method, n) in PER_MINUTE {
            self.set_web_rate_limit(method, Some(RateLimit::new(*n, Duration::from_secs(60))));
        }
    }

    /// Answers the next `n` calls of a Web API method with `rejection` (an API error, a
    /// status, an HTML page, a truncated body, a 429) instead of serving them.
    pub fn reject_next_web_calls(&self, method: &str, n: usize, rejection: Rejection) {
        let mut st = self.shared.lock();
        let queue = st.web.rejections.entry(method.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(rejection, n.min(10_000)));
    }

    /// Every Web API call served (bounded like the other records), oldest first.
    pub fn web_calls(&self) -> Vec<WebCall> {
        self.shared.lock().web.calls.to_vec()
    }

    /// The calls of one method, oldest first.
    pub fn web_calls_of(&self, method: &str) -> Vec<WebCall> {
        self.web_calls().into_iter().filter(|c| c.method == method).collect()
    }

    /// The modals opened so far, oldest first.
    pub fn opened_views(&self) -> Vec<OpenedView> {
        self.shared.lock().web.views.clone()
    }
}
