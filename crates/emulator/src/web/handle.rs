//! The emulator handle's Web API controls and records.

use super::store::Trigger;
use crate::faults::Rejection;
use crate::workspace::random_u64;
use crate::{Emulator, RateLimit};
use serde_json::Value;
use slack_rtm_types::UserId;
use std::time::{Duration, Instant};

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

/// A modal opened with `views.open` or `views.push` (and changed by `views.update` or a
/// `response_action`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OpenedView {
    /// The view id (`V…`).
    pub id: String,
    /// The user it was opened for (the one whose action made the trigger; for a trigger from
    /// [`Emulator::issue_trigger_id`], the caller of `views.open`).
    pub user: UserId,
    /// The trigger it was opened with (empty when a `response_action: push` opened it).
    pub trigger_id: String,
    /// The view as last set by the app.
    pub view: Value,
    /// The current `hash`.
    pub hash: String,
    /// How many times `views.update` (or `response_action: update`) changed it.
    pub updates: u32,
    /// The bottom view of its stack (itself for a root view).
    pub root_view_id: String,
    /// The view it was pushed on, if it was pushed.
    pub previous_view_id: Option<String>,
    /// Closed (by the user, a submission's ack, `clear`, or a new `views.open`).
    pub closed: bool,
    /// The `errors` of the last `response_action: errors` (block id → message), shown to the
    /// user until the next submission or update.
    pub errors: Option<Value>,
    /// The `state.values` of the last submission (`{}` before any).
    pub state_values: Value,
}

impl Emulator {
    /// A fresh `trigger_id` (as an interaction would carry), valid for
    /// [`crate::InteractionConfig::trigger_lifetime`] (3 s by default) and one `views.open`
    /// or `views.push`.
    pub fn issue_trigger_id(&self) -> String {
        self.issue_trigger_id_valid_for(self.shared.config.interactions.trigger_lifetime)
    }

    /// A `trigger_id` valid for `lifetime` (zero: already expired).
    pub fn issue_trigger_id_valid_for(&self, lifetime: Duration) -> String {
        self.shared.issue_trigger(None, lifetime)
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
            ("views.push", 100),
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

    /// The modals opened so far (open and closed), oldest first.
    pub fn opened_views(&self) -> Vec<OpenedView> {
        self.shared.lock().web.views.clone()
    }

    /// The modals open for `user` now, root first (the last one is the one the user sees).
    pub fn open_views(&self, user: &UserId) -> Vec<OpenedView> {
        let st = self.shared.lock();
        let ids = st.web.stacks.get(user).cloned().unwrap_or_default();
        ids.iter().filter_map(|id| st.web.views.iter().rev().find(|v| &v.id == id).cloned()).collect()
    }

    /// The view `view_id` (open or closed) as it is now, if still recorded.
    pub fn view(&self, view_id: &str) -> Option<OpenedView> {
        self.shared.lock().web.views.iter().rev().find(|v| v.id == view_id).cloned()
    }

    /// The `errors` the app answered to the last submission of `view_id` (block id → message),
    /// while they are shown (`None` once the view is closed, updated or submitted again).
    pub fn view_errors(&self, view_id: &str) -> Option<Value> {
        self.view(view_id).filter(|v| !v.closed).and_then(|v| v.errors)
    }
}

impl crate::Shared {
    /// Issues a `trigger_id` valid for `lifetime`, for `user` (whose modals it opens).
    pub(crate) fn issue_trigger(&self, user: Option<UserId>, lifetime: Duration) -> String {
        let id =
            format!("{}.{}.{:016x}", random_u64() % 100_000_000, random_u64() % 100_000_000, random_u64());
        let trigger = Trigger { expires: Instant::now() + lifetime, used: false, user };
        self.lock().web.add_trigger(id.clone(), trigger);
        id
    }
}
