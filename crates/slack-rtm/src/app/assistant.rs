//! The assistant listener set (like Bolt's `Assistant`): a thread started → offer prompts; a
//! user's message in an assistant thread → set a status, then stream the reply; the thread's
//! context changed → kept for the thread. With [`Context::set_status`] and
//! [`Context::say_stream`].

use super::middleware::{BoxFuture, ListenerResult};
use super::{App, Context, ReplyError};
use crate::web::ChatStream;
use slack_rtm_types::event::Message;
use slack_rtm_types::socket_mode::{ApiEvent, AssistantContext, AssistantThread};
use slack_rtm_types::{ChannelId, TeamId, Ts, UserId};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

type ThreadFn = Arc<dyn Fn(AssistantThread, Context) -> BoxFuture<ListenerResult> + Send + Sync>;
type MessageFn = Arc<dyn Fn(Message, Context) -> BoxFuture<ListenerResult> + Send + Sync>;

/// The assistant thread a request belongs to, as the listener set saw it: in the
/// [`Context`]'s extensions of the assistant's listeners ([`Context::assistant_thread`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssistantThreadRef {
    /// The conversation holding the thread.
    pub channel: ChannelId,
    /// The thread.
    pub thread_ts: Ts,
    /// The user.
    pub user: Option<UserId>,
    /// What the user was viewing, as last told (`assistant_thread_started` or `…_changed`).
    pub context: AssistantContext,
}

/// The contexts of the assistant threads seen, bounded (the oldest are forgotten).
#[derive(Debug, Default)]
struct Threads {
    map: HashMap<(ChannelId, Ts), AssistantContext>,
    order: VecDeque<(ChannelId, Ts)>,
}

const MAX_THREADS: usize = 10_000;

impl Threads {
    fn set(&mut self, key: (ChannelId, Ts), context: AssistantContext) {
        if !self.map.contains_key(&key) {
            if self.order.len() >= MAX_THREADS
                && let Some(old) = self.order.pop_front()
            {
                self.map.remove(&old);
            }
            self.order.push_back(key.clone());
        }
        self.map.insert(key, context);
    }
}

/// An assistant's listeners, registered together with [`App::assistant`].
///
/// ```
/// use slack_rtm::app::{App, Assistant};
/// use slack_rtm::types::web::SuggestedPrompt;
///
/// let mut app = App::new();
/// app.assistant(
///     Assistant::new()
///         .thread_started(|thread, ctx| async move {
///             let prompts = vec![SuggestedPrompt::new("Summarize", "Summarize this channel")];
///             ctx.web().set_suggested_prompts(thread.channel_id, thread.thread_ts, prompts, None).await?;
///             Ok(())
///         })
///         .user_message(|message, ctx| async move {
///             ctx.set_status("is thinking…", &[]).await?;
///             let mut reply = ctx.say_stream()?;
///             reply.append(format!("You said: {}", message.text.unwrap_or_default())).await?;
///             reply.finish(None).await?;
///             Ok(())
///         }),
/// );
/// ```
#[derive(Clone, Default)]
pub struct Assistant {
    started: Option<ThreadFn>,
    changed: Option<ThreadFn>,
    message: Option<MessageFn>,
    threads: Arc<Mutex<Threads>>,
}

impl std::fmt::Debug for Assistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assistant").finish_non_exhaustive()
    }
}

impl Assistant {
    /// An assistant with no listeners yet (contexts are still kept).
    pub fn new() -> Self {
        Self::default()
    }

    /// `assistant_thread_started`: usually offers suggested prompts.
    pub fn thread_started<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(AssistantThread, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.started = Some(Arc::new(move |t, c| Box::pin(f(t, c))));
        self
    }

    /// `assistant_thread_context_changed`, after the new context is kept.
    pub fn thread_context_changed<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(AssistantThread, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.changed = Some(Arc::new(move |t, c| Box::pin(f(t, c))));
        self
    }

    /// A user's message in an assistant thread (a thread started while the app ran, a direct
    /// message thread, or a message Slack marks with `assistant_thread`). Edits, bot messages
    /// and top-level messages are not.
    pub fn user_message<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Message, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.message = Some(Arc::new(move |m, c| Box::pin(f(m, c))));
        self
    }

    /// The context kept for a thread.
    pub fn context_of(&self, channel: &ChannelId, thread_ts: &Ts) -> Option<AssistantContext> {
        let threads = self.threads.lock().ok()?;
        threads.map.get(&(channel.clone(), thread_ts.clone())).cloned()
    }

    fn on_thread(&self, t: &AssistantThread, mut ctx: Context) -> Context {
        if let Ok(mut threads) = self.threads.lock() {
            threads.set((t.channel_id.clone(), t.thread_ts.clone()), t.context.clone());
        }
        ctx.extensions_mut().insert(AssistantThreadRef {
            channel: t.channel_id.clone(),
            thread_ts: t.thread_ts.clone(),
            user: Some(t.user_id.clone()),
            context: t.context.clone(),
        });
        ctx
    }

    /// The thread of a user's message, when it is an assistant thread.
    fn thread_of(&self, m: &Message, ctx: &Context) -> Option<AssistantThreadRef> {
        if m.subtype.is_some() || m.bot_id.is_some() {
            return None;
        }
        let (channel, thread_ts, user) = (m.channel.clone()?, m.thread_ts.clone()?, m.user.clone()?);
        let kept = self.context_of(&channel, &thread_ts);
        let in_dm = ctx.body().pointer("/event/channel_type").and_then(|v| v.as_str()) == Some("im");
        let marked = slack_rtm_types::socket_mode::assistant_thread_of(m);
        if kept.is_none() && !in_dm && marked.is_none() {
            return None;
        }
        let context = marked.or(kept).unwrap_or_default();
        Some(AssistantThreadRef { channel, thread_ts, user: Some(user), context })
    }
}

impl App {
    /// Registers an [`Assistant`]'s listeners.
    pub fn assistant(&mut self, assistant: Assistant) -> &mut Self {
        let a = assistant.clone();
        self.event("assistant_thread_started", move |ev, ctx| {
            let a = a.clone();
            async move {
                let ApiEvent::AssistantThreadStarted(e) = ev else { return Ok(()) };
                let ctx = a.on_thread(&e.assistant_thread, ctx);
                match &a.started {
                    Some(f) => f(e.assistant_thread, ctx).await,
                    None => Ok(()),
                }
            }
        });
        let a = assistant.clone();
        self.event("assistant_thread_context_changed", move |ev, ctx| {
            let a = a.clone();
            async move {
                let ApiEvent::AssistantThreadContextChanged(e) = ev else { return Ok(()) };
                let ctx = a.on_thread(&e.assistant_thread, ctx);
                match &a.changed {
                    Some(f) => f(e.assistant_thread, ctx).await,
                    None => Ok(()),
                }
            }
        });
        let a = assistant;
        self.message("", move |m, mut ctx| {
            let a = a.clone();
            async move {
                let (Some(f), Some(thread)) = (&a.message, a.thread_of(&m, &ctx)) else { return Ok(()) };
                ctx.extensions_mut().insert(thread);
                f(m, ctx).await
            }
        });
        self
    }
}

impl Context {
    /// The assistant thread of this request (in the assistant's listeners).
    pub fn assistant_thread(&self) -> Option<&AssistantThreadRef> {
        self.extensions().get::<AssistantThreadRef>()
    }

    /// Where a reply goes: the assistant thread, else the request's channel and thread (or the
    /// message itself, for a top-level message).
    fn reply_target(&self) -> Result<(ChannelId, Ts), ReplyError> {
        if let Some(t) = self.assistant_thread() {
            return Ok((t.channel.clone(), t.thread_ts.clone()));
        }
        let channel = self.req.meta().channel_id.clone().ok_or(ReplyError::NoChannel)?;
        let thread = self
            .req
            .meta()
            .thread_ts
            .clone()
            .or_else(|| self.body().pointer("/event/ts").and_then(|v| v.as_str()).map(str::to_owned))
            .ok_or(ReplyError::NoChannel)?;
        Ok((ChannelId::new(channel), Ts::new(thread)))
    }

    /// `assistant.threads.setStatus` on the request's thread ("is thinking…"), with loading
    /// messages shown in turn; an empty status clears it. [`ReplyError::NoChannel`] when the
    /// request has no thread.
    pub async fn set_status(
        &self,
        status: impl Into<String>,
        loading_messages: &[&str],
    ) -> Result<(), ReplyError> {
        let (channel, thread) = self.reply_target()?;
        Ok(self.web().set_status(channel, thread, status, loading_messages).await?)
    }

    /// A streamed reply ([`ChatStream`]) in the request's thread, for the request's user (the
    /// recipient Slack requires outside a direct message). Append to it or pipe a model's
    /// stream into it, then `finish`.
    pub fn say_stream(&self) -> Result<ChatStream, ReplyError> {
        let (channel, thread) = self.reply_target()?;
        let user =
            self.assistant_thread().and_then(|t| t.user.clone()).or_else(|| self.user_id().map(UserId::from));
        let mut b = self.web().chat_stream(channel).in_thread(thread);
        if let Some(user) = user {
            b = b.recipient(user, self.team_id().map(TeamId::from));
        }
        Ok(b.start())
    }
}
