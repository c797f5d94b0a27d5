//! The AI assistant surface's events: `assistant_thread_started`,
//! `assistant_thread_context_changed` (the split view), and the agent view's
//! `app_context_changed`. `app_home_opened` with `tab: "messages"` is
//! [`AppHomeOpened::is_messages_tab`](super::AppHomeOpened::is_messages_tab); a user's message in
//! an assistant thread is an ordinary `message` whose `assistant_thread` field
//! [`assistant_thread_of`] reads.

use crate::event::Message;
use crate::{ChannelId, EnterpriseId, TeamId, Ts, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the user was looking at when the assistant thread was opened (or since).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantContext {
    /// The channel the user is viewing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// Its workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// Its organisation (Enterprise Grid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<EnterpriseId>,
}

/// An assistant thread: the user, the conversation (the app's direct message), the thread and
/// the context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantThread {
    /// The user who opened it.
    pub user_id: UserId,
    /// The conversation holding the thread.
    pub channel_id: ChannelId,
    /// The thread's parent `ts`: where the app replies, sets the status and the prompts.
    pub thread_ts: Ts,
    /// What the user is looking at.
    #[serde(default)]
    pub context: AssistantContext,
}

/// `assistant_thread_started`: a user opened a new assistant thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantThreadStarted {
    /// The thread.
    pub assistant_thread: AssistantThread,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}

/// `assistant_thread_context_changed`: the user moved to another channel while the assistant
/// thread was open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantThreadContextChanged {
    /// The thread, with the new context.
    pub assistant_thread: AssistantThread,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}

/// One thing the user is looking at, in `app_context_changed`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContextEntity {
    /// `slack#/types/channel_id`, `slack#/types/canvas_id`, `slack#/types/list_id`,
    /// `slack#/types/message_context`, `slack#/types/thread_ts`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The value: an id, or an object for `message_context`.
    #[serde(default)]
    pub value: Value,
    /// The entity's workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
}

impl ContextEntity {
    /// The channel id, for a `slack#/types/channel_id` entity.
    pub fn channel_id(&self) -> Option<ChannelId> {
        (self.kind == "slack#/types/channel_id").then(|| self.value.as_str().map(ChannelId::from)).flatten()
    }
}

/// The `context` of `app_context_changed`: entities, most relevant first (empty when the user
/// looks at nothing the app may know about).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppContext {
    /// The entities.
    #[serde(default)]
    pub entities: Vec<ContextEntity>,
}

/// `app_context_changed` (agent view): what the user views changed while the app was visible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppContextChanged {
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// The app's conversation with the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// What the user is viewing.
    #[serde(default)]
    pub context: AppContext,
    /// When the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<Ts>,
}

/// The assistant thread a `message` belongs to, when Slack says so (its `assistant_thread`
/// field: the thread's context). `None` for other messages, or an unreadable field.
pub fn assistant_thread_of(message: &Message) -> Option<AssistantContext> {
    let raw = message.assistant_thread.as_ref()?;
    let v: Value = serde_json::from_str(raw.as_str()).ok()?;
    // Slack nests the context under `context` (newer payloads) or sends it flat.
    let ctx = v.get("context").cloned().unwrap_or(v);
    serde_json::from_value(ctx).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RawJson;
    use crate::socket_mode::ApiEvent;

    fn api(json: &str) -> ApiEvent {
        ApiEvent::from_raw(&RawJson::from_json(json).unwrap())
    }

    #[test]
    fn assistant_events_are_typed() {
        let started = api(r#"{"type":"assistant_thread_started","assistant_thread":{"user_id":"U1",
               "context":{"channel_id":"C9","team_id":"T1","enterprise_id":null},
               "channel_id":"D1","thread_ts":"1729999327.187299"},"event_ts":"1.5","extra":1}"#);
        let ApiEvent::AssistantThreadStarted(e) = &started else { panic!("{started:?}") };
        assert_eq!(e.assistant_thread.thread_ts, "1729999327.187299");
        assert_eq!(e.assistant_thread.context.channel_id.as_ref().map(|c| c.as_str()), Some("C9"));
        assert_eq!(started.event_type(), "assistant_thread_started");
        let back: ApiEvent = serde_json::from_value(serde_json::to_value(&started).unwrap()).unwrap();
        assert_eq!(back, started);

        let changed = api(r#"{"type":"assistant_thread_context_changed","assistant_thread":{"user_id":"U1",
               "context":{"channel_id":"C2"},"channel_id":"D1","thread_ts":"1.1"},"event_ts":"2.5"}"#);
        assert!(matches!(&changed, ApiEvent::AssistantThreadContextChanged(e)
            if e.assistant_thread.context.channel_id.as_ref().map(|c| c.as_str()) == Some("C2")));

        let app = api(r#"{"type":"app_context_changed","user":"U1","channel":"D1","event_ts":"3.5",
               "context":{"entities":[{"type":"slack#/types/channel_id","value":"C7","team_id":"T1"},
               {"type":"slack#/types/message_context","value":{"channel_id":"C7","message_ts":"1.2"}}]}}"#);
        let ApiEvent::AppContextChanged(e) = &app else { panic!("{app:?}") };
        assert_eq!(e.context.entities[0].channel_id().map(|c| c.as_str().to_owned()), Some("C7".into()));
        assert_eq!(e.context.entities[1].channel_id(), None);
        let empty = api(r#"{"type":"app_context_changed","context":{}}"#);
        assert!(matches!(&empty, ApiEvent::AppContextChanged(e) if e.context.entities.is_empty()));

        // A known type in an unreadable shape is kept, never lost.
        let bad = api(r#"{"type":"assistant_thread_started","assistant_thread":7}"#);
        assert!(matches!(bad, ApiEvent::Rtm(crate::Event::Unknown { .. })));
    }

    #[test]
    fn messages_tab_and_assistant_messages_are_recognised() {
        let home = api(r#"{"type":"app_home_opened","user":"U1","channel":"D1","tab":"messages"}"#);
        let ApiEvent::AppHomeOpened(h) = &home else { panic!() };
        assert!(h.is_messages_tab());
        let msg = crate::Event::from_json(
            r#"{"type":"message","channel":"D1","user":"U1","text":"hi","ts":"2.1","thread_ts":"1.1",
               "assistant_thread":{"context":{"channel_id":"C3"}}}"#,
        )
        .unwrap();
        let crate::Event::Message(m) = &msg else { panic!("{msg:?}") };
        assert_eq!(
            assistant_thread_of(m).and_then(|c| c.channel_id).map(|c| c.as_str().to_owned()),
            Some("C3".into())
        );
    }
}
