//! Registering listeners on an [`App`]: what each kind takes, how it is matched.

use super::App;
use super::ack::Ack;
use super::context::Context;
use super::matchers::{ActionMatcher, IdPattern, Matches, TextPattern};
use super::middleware::{BoxFuture, ListenerResult, Middleware};
use super::responses::{MessageResponse, OptionsResponse, ViewResponse};
use slack_rtm_types::Event;
use slack_rtm_types::event::{Message, ReactionChange};
use slack_rtm_types::socket_mode::{
    ApiEvent, AppHomeOpened, AppMention, BlockActions, BlockSuggestion, Interactive, Payload, Shortcut,
    SlashCommand, ViewAction,
};
use std::future::Future;
use std::sync::Arc;

/// What a listener is registered for.
#[derive(Clone, Debug)]
pub(crate) enum Selector {
    Event(String),
    Message(TextPattern),
    Command(IdPattern),
    Action(ActionMatcher),
    Shortcut(IdPattern),
    MessageShortcut(IdPattern),
    ViewSubmission(IdPattern),
    ViewClosed(IdPattern),
    Options(IdPattern),
}

impl Selector {
    /// The captures if this selector takes `payload`.
    pub(crate) fn matches(&self, payload: &Payload) -> Option<Matches> {
        match (self, payload) {
            (Selector::Event(t), Payload::EventsApi(cb)) => {
                (cb.event.event_type() == t).then(Matches::default)
            }
            (Selector::Message(p), Payload::EventsApi(cb)) => match &cb.event {
                ApiEvent::Rtm(Event::Message(m)) => p.matches(m.text.as_deref()),
                _ => None,
            },
            (Selector::Command(p), Payload::SlashCommand(c)) => p.matches(&c.command),
            (selector, Payload::Interactive(i)) => match (selector, &**i) {
                (Selector::Action(m), Interactive::BlockActions(a)) => {
                    a.actions.iter().find_map(|x| m.matches(&x.action_id, x.block_id.as_deref()))
                }
                (Selector::Shortcut(p), Interactive::Shortcut(s)) => p.matches(&s.callback_id),
                (Selector::MessageShortcut(p), Interactive::MessageAction(s)) => p.matches(&s.callback_id),
                (Selector::ViewSubmission(p), Interactive::ViewSubmission(v)) => {
                    p.matches(v.view.callback_id.as_deref().unwrap_or(""))
                }
                (Selector::ViewClosed(p), Interactive::ViewClosed(v)) => {
                    p.matches(v.view.callback_id.as_deref().unwrap_or(""))
                }
                (Selector::Options(p), Interactive::BlockSuggestion(s)) => p.matches(&s.action_id),
                _ => None,
            },
            _ => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Selector::Event(t) => format!("event {t}"),
            Selector::Message(p) => format!("message {p:?}"),
            Selector::Command(p) => format!("command {p:?}"),
            Selector::Action(m) => format!("action {m:?}"),
            Selector::Shortcut(p) => format!("shortcut {p:?}"),
            Selector::MessageShortcut(p) => format!("message_shortcut {p:?}"),
            Selector::ViewSubmission(p) => format!("view_submission {p:?}"),
            Selector::ViewClosed(p) => format!("view_closed {p:?}"),
            Selector::Options(p) => format!("options {p:?}"),
        }
    }
}

/// Runs a listener on a request it matched (`None` if the payload is not its kind).
pub(crate) type Handler = Arc<dyn Fn(&Payload, Context) -> Option<BoxFuture<ListenerResult>> + Send + Sync>;

/// One registered listener. [`Route::middleware`] adds middleware that runs for it only,
/// after the app's global middleware.
pub struct Route {
    pub(crate) selector: Selector,
    pub(crate) handler: Handler,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) label: Arc<str>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("listener", &self.label)
            .field("middleware", &self.middleware.len())
            .finish()
    }
}

impl Route {
    /// Adds a middleware for this listener only (runs after the global ones, in the order
    /// added).
    pub fn middleware(&mut self, m: impl Middleware) -> &mut Route {
        self.middleware.push(Arc::new(m));
        self
    }
}

fn boxed<Fut: Future<Output = ListenerResult> + Send + 'static>(f: Fut) -> Option<BoxFuture<ListenerResult>> {
    Some(Box::pin(f))
}

macro_rules! interactive {
    ($payload:expr, $variant:ident) => {
        match $payload {
            Payload::Interactive(i) => match &**i {
                Interactive::$variant(x) => x.clone(),
                _ => return None,
            },
            _ => return None,
        }
    };
}

/// Registration of listeners. Each is an async function (or a closure returning a future)
/// returning [`ListenerResult`]; an error goes to the error handler.
///
/// Events (`event`, `message`, `app_mention`, …) are acked before their listeners run, and
/// every listener matching an event runs, in the order registered. A slash command or an
/// interaction goes to the first listener that matches it, which gets an [`Ack`].
impl App {
    fn add(&mut self, selector: Selector, handler: Handler) -> &mut Route {
        let label: Arc<str> = selector.label().into();
        self.routes.push(Route { selector, handler, middleware: Vec::new(), label });
        self.routes.last_mut().expect("just pushed")
    }

    /// Events API events of this `type`, typed as far as the types crate models them (the raw
    /// JSON is in [`Context::body`]).
    pub fn event<F, Fut>(&mut self, event_type: &str, f: F) -> &mut Route
    where
        F: Fn(ApiEvent, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Event(event_type.to_owned()),
            Arc::new(move |p, ctx| match p {
                Payload::EventsApi(cb) => boxed(f(cb.event.clone(), ctx)),
                _ => None,
            }),
        )
    }

    /// `message` events whose text matches `pattern`: a string as a substring, a
    /// [`Regex`](super::Regex) as a regular expression (captures in [`Context::matches`]);
    /// `""` takes every message, subtypes (edits, joins, bot messages) included.
    pub fn message<F, Fut>(&mut self, pattern: impl Into<TextPattern>, f: F) -> &mut Route
    where
        F: Fn(Message, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Message(pattern.into()),
            Arc::new(move |p, ctx| match p {
                Payload::EventsApi(cb) => match &cb.event {
                    ApiEvent::Rtm(Event::Message(m)) => boxed(f((**m).clone(), ctx)),
                    _ => None,
                },
                _ => None,
            }),
        )
    }

    /// `app_mention` events.
    pub fn app_mention<F, Fut>(&mut self, f: F) -> &mut Route
    where
        F: Fn(AppMention, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Event("app_mention".into()),
            Arc::new(move |p, ctx| match p {
                Payload::EventsApi(cb) => match &cb.event {
                    ApiEvent::AppMention(m) => boxed(f((**m).clone(), ctx)),
                    _ => None,
                },
                _ => None,
            }),
        )
    }

    /// `reaction_added` events.
    pub fn reaction_added<F, Fut>(&mut self, f: F) -> &mut Route
    where
        F: Fn(ReactionChange, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Event("reaction_added".into()),
            Arc::new(move |p, ctx| match p {
                Payload::EventsApi(cb) => match &cb.event {
                    ApiEvent::Rtm(Event::ReactionAdded(r)) => boxed(f((**r).clone(), ctx)),
                    _ => None,
                },
                _ => None,
            }),
        )
    }

    /// `app_home_opened` events.
    pub fn app_home_opened<F, Fut>(&mut self, f: F) -> &mut Route
    where
        F: Fn(AppHomeOpened, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Event("app_home_opened".into()),
            Arc::new(move |p, ctx| match p {
                Payload::EventsApi(cb) => match &cb.event {
                    ApiEvent::AppHomeOpened(h) => boxed(f((**h).clone(), ctx)),
                    _ => None,
                },
                _ => None,
            }),
        )
    }

    /// Slash commands by name (`"/echo"`, or a [`Regex`](super::Regex)). The ack may carry
    /// the reply.
    pub fn command<F, Fut>(&mut self, name: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(SlashCommand, Ack<MessageResponse>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Command(name.into()),
            Arc::new(move |p, ctx| match p {
                Payload::SlashCommand(c) => boxed(f((**c).clone(), Ack::new(ctx.ack.clone()), ctx)),
                _ => None,
            }),
        )
    }

    /// Block actions by `action_id` (a string or a [`Regex`](super::Regex)), or by
    /// [`ActionMatcher`] for `block_id`s.
    pub fn action<F, Fut>(&mut self, matcher: impl Into<ActionMatcher>, f: F) -> &mut Route
    where
        F: Fn(BlockActions, Ack, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Action(matcher.into()),
            Arc::new(move |p, ctx| {
                let a = interactive!(p, BlockActions);
                boxed(f(a, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }

    /// Global shortcuts by `callback_id`.
    pub fn shortcut<F, Fut>(&mut self, callback_id: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(Shortcut, Ack, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Shortcut(callback_id.into()),
            Arc::new(move |p, ctx| {
                let s = interactive!(p, Shortcut);
                boxed(f(s, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }

    /// Message shortcuts (`message_action`) by `callback_id`.
    pub fn message_shortcut<F, Fut>(&mut self, callback_id: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(Shortcut, Ack, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::MessageShortcut(callback_id.into()),
            Arc::new(move |p, ctx| {
                let s = interactive!(p, MessageAction);
                boxed(f(s, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }

    /// View submissions by the view's `callback_id`. The ack may carry a `response_action`.
    pub fn view_submission<F, Fut>(&mut self, callback_id: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(ViewAction, Ack<ViewResponse>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::ViewSubmission(callback_id.into()),
            Arc::new(move |p, ctx| {
                let v = interactive!(p, ViewSubmission);
                boxed(f(v, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }

    /// Closed views (`view_closed`, for views with `notify_on_close`) by `callback_id`.
    pub fn view_closed<F, Fut>(&mut self, callback_id: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(ViewAction, Ack, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::ViewClosed(callback_id.into()),
            Arc::new(move |p, ctx| {
                let v = interactive!(p, ViewClosed);
                boxed(f(v, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }

    /// Options requests (`block_suggestion`) of external selects by `action_id`. The ack
    /// carries the options.
    pub fn options<F, Fut>(&mut self, action_id: impl Into<IdPattern>, f: F) -> &mut Route
    where
        F: Fn(BlockSuggestion, Ack<OptionsResponse>, Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        self.add(
            Selector::Options(action_id.into()),
            Arc::new(move |p, ctx| {
                let s = interactive!(p, BlockSuggestion);
                boxed(f(s, Ack::new(ctx.ack.clone()), ctx))
            }),
        )
    }
}
