//! What every listener and middleware gets besides its payload: [`Context`].

use super::ack::AckCell;
use super::matchers::Matches;
use super::receiver::RequestKind;
use super::respond::{ReplyError, post_response};
use super::responses::MessageResponse;
use crate::web::{PostMessageCall, WebClient};
use serde_json::Value;
use slack_rtm_types::web::PostMessageResponse;
use slack_rtm_types::{BotId, RawJson, UserId};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Who the app's bot is: from `auth.test` at start-up when it answers, else from each event's
/// `authorizations`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BotIdentity {
    /// The bot user (`U…`).
    pub user_id: Option<UserId>,
    /// The bot (`B…`).
    pub bot_id: Option<BotId>,
}

/// What every request of an app shares.
pub(crate) struct Shared {
    pub(crate) web: WebClient,
    /// Set once `auth.test` answered.
    pub(crate) bot: OnceLock<BotIdentity>,
}

/// The ids and targets found in a request's payload.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta {
    pub(crate) team_id: Option<String>,
    pub(crate) enterprise_id: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) channel_id: Option<String>,
    pub(crate) thread_ts: Option<String>,
    pub(crate) response_url: Option<String>,
    pub(crate) trigger_id: Option<String>,
    /// The bot user the event was delivered to (`authorizations[].user_id` of a bot).
    pub(crate) authorized_bot: Option<String>,
    /// The inner event's or the interaction's `type`; the command for a slash command.
    pub(crate) subkind: Option<String>,
}

fn s(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn first(v: &Value, ptrs: &[&str]) -> Option<String> {
    ptrs.iter().find_map(|p| s(v, p))
}

impl Meta {
    /// Reads the ids out of a payload (any kind; missing fields stay `None`).
    pub(crate) fn read(kind: &RequestKind, v: &Value) -> Meta {
        match kind {
            RequestKind::EventsApi => Meta {
                team_id: first(v, &["/team_id", "/event/team"]),
                enterprise_id: s(v, "/enterprise_id"),
                user_id: first(v, &["/event/user", "/event/user/id", "/event/message/user"]),
                channel_id: first(
                    v,
                    &["/event/channel", "/event/channel/id", "/event/item/channel", "/event/channel_id"],
                ),
                thread_ts: first(v, &["/event/thread_ts", "/event/message/thread_ts"]),
                response_url: None,
                trigger_id: None,
                authorized_bot: v
                    .get("authorizations")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|x| x["is_bot"].as_bool() == Some(true)))
                    .and_then(|x| s(x, "/user_id"))
                    .or_else(|| s(v, "/authed_users/0")),
                subkind: s(v, "/event/type"),
            },
            _ => Meta {
                team_id: first(v, &["/team_id", "/team/id", "/user/team_id"]),
                enterprise_id: first(v, &["/enterprise_id", "/enterprise/id"]),
                user_id: first(v, &["/user_id", "/user/id"]),
                channel_id: first(v, &["/channel_id", "/channel/id", "/container/channel_id"]),
                thread_ts: first(v, &["/container/thread_ts", "/message/thread_ts"]),
                response_url: first(v, &["/response_url", "/response_urls/0/response_url"]),
                trigger_id: s(v, "/trigger_id"),
                authorized_bot: None,
                subkind: first(v, &["/type", "/command"]),
            },
        }
    }
}

/// One request as every listener of it sees it. The payload is parsed (as JSON, and for the
/// ids) only when something asks: an app whose listeners read nothing pays nothing for it.
pub(crate) struct RequestInfo {
    /// What every request of the app shares: here, not in each [`Context`] (a reused info
    /// keeps it, so a request takes no count of its own on it).
    pub(crate) app: Arc<Shared>,
    pub(crate) kind: RequestKind,
    pub(crate) payload: RawJson,
    pub(crate) envelope_id: Option<crate::socket_mode::EnvelopeId>,
    pub(crate) retry_attempt: u32,
    pub(crate) retry_reason: Option<String>,
    pub(crate) accepts_response_payload: bool,
    /// The inner event's or the interaction's `type`; the command: known at dispatch.
    pub(crate) subkind: Option<String>,
    body: OnceLock<Value>,
    /// Boxed: read only when asked (an event's, rarely), and a request's info is moved a few
    /// times on its way to its task (two hundred bytes less to copy each time).
    meta: OnceLock<Box<Meta>>,
}

/// The inner event's `type` of an `events_api` payload, read without building anything.
fn peek_event_type(payload: &RawJson) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Inner<'a> {
        #[serde(borrow, default, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow, default)]
        event: Option<Inner<'a>>,
    }
    let outer: Outer<'_> = payload.parse().ok()?;
    outer.event?.kind.filter(|k| !k.is_empty()).map(std::borrow::Cow::into_owned)
}

impl RequestInfo {
    /// The request as a receiver handed it over, shared: built where its `Arc` holds it (not
    /// built, returned and copied in), or written into `spare` (a finished request's info)
    /// when nothing else holds that one: no allocation.
    /// An event's type comes from the receiver (a Socket Mode session reads it with the
    /// `event_id`) or from a light read; the other kinds are parsed now (they are few, and
    /// their type is inside their JSON). Inlined into its two callers: the request is moved
    /// from the caller's place into the info (not copied into this call's argument first).
    #[inline(always)]
    pub(crate) fn shared(
        request: super::receiver::AppRequest,
        mut spare: Option<Arc<RequestInfo>>,
        app: &Arc<Shared>,
    ) -> Arc<RequestInfo> {
        // Taken apart at once: each field is then moved from where the receiver put it (the
        // request whole was copied into this call's argument first, ~150 bytes).
        let super::receiver::AppRequest {
            kind,
            payload,
            envelope_id,
            retry_attempt,
            retry_reason,
            accepts_response_payload,
            event_type,
        } = request;
        let event = kind == RequestKind::EventsApi;
        let subkind = if event { event_type.or_else(|| peek_event_type(&payload)) } else { None };
        let mut info = match spare.as_mut().and_then(Arc::get_mut) {
            // A spare info filled field by field: the old values are dropped in place, and
            // nothing is built beside the info and copied in. What was read from the old
            // payload (body and ids) goes: nothing of that request can be read through this.
            // The ids are read from the body: none without it (one check for both).
            Some(info) => {
                if info.body.take().is_some() {
                    info.meta.take();
                }
                // The same app's, but for a spare handed to another dispatcher.
                if !Arc::ptr_eq(&info.app, app) {
                    info.app = app.clone();
                }
                info.kind = kind;
                info.payload = payload;
                info.envelope_id = envelope_id;
                info.retry_attempt = retry_attempt;
                info.retry_reason = retry_reason;
                info.accepts_response_payload = accepts_response_payload;
                info.subkind = subkind;
                spare.unwrap_or_else(|| unreachable!("filled"))
            }
            // Built where its `Arc` holds it (not built beside it and copied in).
            None => Arc::new(RequestInfo {
                app: app.clone(),
                kind,
                payload,
                envelope_id,
                retry_attempt,
                retry_reason,
                accepts_response_payload,
                subkind,
                body: OnceLock::new(),
                meta: OnceLock::new(),
            }),
        };
        if !event {
            // Read from the parsed payload (kept for later reads); not shared yet, so set here.
            let subkind = info.meta().subkind.clone();
            if let Some(info) = Arc::get_mut(&mut info) {
                info.subkind = subkind;
            }
        }
        info
    }

    /// The payload as JSON (parsed on first use).
    pub(crate) fn body(&self) -> &Value {
        self.body.get_or_init(|| self.payload.to_value())
    }

    /// The ids and targets of the payload (read on first use).
    pub(crate) fn meta(&self) -> &Meta {
        self.meta.get_or_init(|| Box::new(Meta::read(&self.kind, self.body())))
    }
}

/// What a listener (and a middleware) gets besides its payload: where the request came from,
/// `say` and `respond`, the [`WebClient`], the request's extensions (what middleware added)
/// and the pattern's captures. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub(crate) req: Arc<RequestInfo>,
    /// The request's ack slot (`None`: an event's, acked before anything of the app ran: no
    /// slot and no count per event).
    pub(crate) ack: Option<Arc<AckCell>>,
    /// `None` until a middleware adds one (the context's drop then has nothing to call: an
    /// empty `http::Extensions`' drop is a call per request).
    pub(crate) extensions: Option<Box<http::Extensions>>,
    pub(crate) matches: Matches,
    /// The listener's label once one is chosen (`None`: `middleware`, no count per request).
    pub(crate) listener: Option<Arc<str>>,
    /// The request's installation (an app with [`App::installations`](super::App::installations)).
    pub(crate) auth: Option<Arc<super::oauth::Authorized>>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("kind", &self.req.kind)
            .field("envelope_id", &self.req.envelope_id)
            .field("request_type", &self.req.subkind)
            .field("listener", &self.listener())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// The Web API client, with the bot token (the request's workspace's token for an app
    /// with [`App::installations`](super::App::installations)).
    pub fn web(&self) -> &WebClient {
        match &self.auth {
            Some(auth) => auth.web(),
            None => &self.req.app.web,
        }
    }

    /// The request's installation, for an app with
    /// [`App::installations`](super::App::installations).
    pub fn installation(&self) -> Option<&super::oauth::Authorized> {
        self.auth.as_deref()
    }

    /// `chat.postMessage` in the request's channel — in its thread when it has one.
    pub async fn say(&self, text: impl Into<String>) -> Result<PostMessageResponse, ReplyError> {
        Ok(self.say_call(text)?.await?)
    }

    /// [`Context::say`], to be customised (`.blocks(…)`, `.in_thread(…)`) then awaited.
    pub fn say_call(&self, text: impl Into<String>) -> Result<PostMessageCall, ReplyError> {
        let channel = self.req.meta().channel_id.clone().ok_or(ReplyError::NoChannel)?;
        let call = self.web().post_message(channel, text);
        Ok(match &self.req.meta().thread_ts {
            Some(ts) => call.in_thread(ts.as_str()),
            None => call,
        })
    }

    /// Posts to the payload's `response_url` (slash commands, block actions in messages,
    /// message shortcuts): an ephemeral or in-channel message, or a replacement or deletion of
    /// the original. No token is sent; a 429 is waited out (`Retry-After`) and sent again.
    pub async fn respond(&self, message: impl Into<MessageResponse>) -> Result<(), ReplyError> {
        let url = self.req.meta().response_url.as_deref().ok_or(ReplyError::NoResponseUrl)?;
        let body = serde_json::to_vec(&message.into()).map_err(ReplyError::Encode)?;
        post_response(&self.req.app.web, url, body).await
    }

    /// What Slack sent: `events_api`, `slash_commands`, `interactive`, or another kind.
    pub fn kind(&self) -> &RequestKind {
        &self.req.kind
    }

    /// The inner event's type (`message`, `app_mention`, …), the interaction's type
    /// (`block_actions`, `view_submission`, …) or the slash command (`/echo`).
    pub fn request_type(&self) -> Option<&str> {
        self.req.subkind.as_deref()
    }

    /// The payload, verbatim.
    pub fn payload(&self) -> &RawJson {
        &self.req.payload
    }

    /// The payload as JSON.
    pub fn body(&self) -> &Value {
        self.req.body()
    }

    /// The Socket Mode envelope id, if it came in one.
    pub fn envelope_id(&self) -> Option<&str> {
        self.req.envelope_id.as_deref()
    }

    /// 0 for a first delivery, Slack's retry number otherwise.
    pub fn retry_attempt(&self) -> u32 {
        self.req.retry_attempt
    }

    /// Why Slack retried (`timeout`, …).
    pub fn retry_reason(&self) -> Option<&str> {
        self.req.retry_reason.as_deref()
    }

    /// The workspace.
    pub fn team_id(&self) -> Option<&str> {
        self.req.meta().team_id.as_deref()
    }

    /// The Enterprise Grid organisation.
    pub fn enterprise_id(&self) -> Option<&str> {
        self.req.meta().enterprise_id.as_deref()
    }

    /// The user who acted (the event's `user`, the command's or interaction's user).
    pub fn user_id(&self) -> Option<&str> {
        self.req.meta().user_id.as_deref()
    }

    /// The conversation, when there is one.
    pub fn channel_id(&self) -> Option<&str> {
        self.req.meta().channel_id.as_deref()
    }

    /// The thread, when the request came from one.
    pub fn thread_ts(&self) -> Option<&str> {
        self.req.meta().thread_ts.as_deref()
    }

    /// The `response_url`, when the payload has one.
    pub fn response_url(&self) -> Option<&str> {
        self.req.meta().response_url.as_deref()
    }

    /// The `trigger_id` (opens a modal within 3 s), when the payload has one.
    pub fn trigger_id(&self) -> Option<&str> {
        self.req.meta().trigger_id.as_deref()
    }

    /// The app's bot: from `auth.test`, else (its user only) from the event's
    /// `authorizations`.
    pub fn bot(&self) -> BotIdentity {
        self.bot_or(|| self.req.meta().authorized_bot.clone())
    }

    /// [`Context::bot`], with the event's bot user (when no other source named it) from
    /// `authorized`.
    pub(crate) fn bot_or(&self, authorized: impl FnOnce() -> Option<String>) -> BotIdentity {
        let installed = self.auth.as_ref().and_then(|a| a.installation.bot.as_ref());
        let mut bot = match installed {
            Some(b) => BotIdentity { user_id: Some(b.user_id.clone()), bot_id: b.bot_id.clone() },
            None => self.req.app.bot.get().cloned().unwrap_or_default(),
        };
        if bot.user_id.is_none() {
            bot.user_id = authorized().map(UserId::from);
        }
        bot
    }

    /// The label of the listener running (`command /echo`, `action approve`, …); `middleware`
    /// before one is chosen.
    pub fn listener(&self) -> &str {
        self.listener.as_deref().unwrap_or("middleware")
    }

    /// The captures of the listener's pattern (a regular expression's groups; empty for an
    /// exact or substring pattern).
    pub fn matches(&self) -> &Matches {
        &self.matches
    }

    /// What middleware added to this request.
    pub fn extensions(&self) -> &http::Extensions {
        static NONE: OnceLock<http::Extensions> = OnceLock::new();
        match &self.extensions {
            Some(extensions) => extensions,
            None => NONE.get_or_init(http::Extensions::new),
        }
    }

    /// Adds to the request (in a middleware): later middleware and the listener see it.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        self.extensions.get_or_insert_default()
    }

    /// The ack slot for a listener's [`Ack`](super::Ack) (a command's, an interaction's: always
    /// one; an event's is an acked one).
    pub(crate) fn ack_cell(&self) -> Arc<AckCell> {
        self.ack.clone().unwrap_or_else(AckCell::acked)
    }

    /// Whether the request was acked yet.
    pub fn is_acked(&self) -> bool {
        self.ack.as_ref().is_none_or(|cell| cell.is_acked())
    }

    /// Acks the request empty now (a middleware that stops an interaction may do so; a
    /// request a middleware stops without acking is acked empty when it returns).
    pub async fn ack(&self) -> Result<(), super::AckError> {
        match &self.ack {
            Some(cell) => cell.send(None).await,
            None => Err(super::AckError::AlreadyAcked),
        }
    }
}
