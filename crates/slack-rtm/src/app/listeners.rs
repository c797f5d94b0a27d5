//! Registering listeners on an [`App`]: what each kind takes, how it is matched.

use super::App;
use super::ack::Ack;
use super::context::Context;
use super::matchers::{ActionMatcher, IdPattern, Matches, TextPattern};
use super::middleware::{BoxFuture, ListenerResult, Middleware};
use super::receiver::RequestKind;
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
    /// Whether this selector may take a request of `kind` whose inner type is `subkind`
    /// (a superset of [`Selector::matches`]: decides whether the payload is worth decoding).
    pub(crate) fn may_take(&self, kind: &RequestKind, subkind: Option<&str>) -> bool {
        match self {
            Selector::Event(t) => *kind == RequestKind::EventsApi && subkind.is_none_or(|s| s == t),
            Selector::Message(_) => *kind == RequestKind::EventsApi && subkind.is_none_or(|s| s == "message"),
            Selector::Command(_) => *kind == RequestKind::SlashCommands,
            _ => *kind == RequestKind::Interactive,
        }
    }

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

/// A listener of one typed Events API event: `$method(f)`.
macro_rules! typed_event {
    ($(#[$doc:meta])* $method:ident, $wire:literal, $ty:ty, $pat:pat => $val:expr) => {
        $(#[$doc])*
        pub fn $method<F, Fut>(&mut self, f: F) -> &mut Route
        where
            F: Fn($ty, Context) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ListenerResult> + Send + 'static,
        {
            self.add(
                Selector::Event($wire.into()),
                Arc::new(move |p, ctx| match p {
                    Payload::EventsApi(cb) => match &cb.event {
                        $pat => boxed(f($val, ctx)),
                        _ => None,
                    },
                    _ => None,
                }),
            )
        }
    };
}

/// A listener of one kind of interaction, with its ack: `$method(pattern, f)`.
macro_rules! interaction {
    ($(#[$doc:meta])* $method:ident($arg:ident: $argty:ty) => $selector:ident, $variant:ident, $ty:ty, $ack:ty) => {
        $(#[$doc])*
        pub fn $method<F, Fut>(&mut self, $arg: $argty, f: F) -> &mut Route
        where
            F: Fn($ty, $ack, Context) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ListenerResult> + Send + 'static,
        {
            self.add(
                Selector::$selector($arg.into()),
                Arc::new(move |p, ctx| match p {
                    Payload::Interactive(i) => match &**i {
                        Interactive::$variant(x) => boxed(f(x.clone(), Ack::new(ctx.ack_cell()), ctx)),
                        _ => None,
                    },
                    _ => None,
                }),
            )
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

    typed_event! {
        /// `app_mention` events.
        app_mention, "app_mention", AppMention, ApiEvent::AppMention(m) => (**m).clone()
    }

    typed_event! {
        /// `reaction_added` events.
        reaction_added, "reaction_added", ReactionChange, ApiEvent::Rtm(Event::ReactionAdded(r)) => (**r).clone()
    }

    typed_event! {
        /// `app_home_opened` events.
        app_home_opened, "app_home_opened", AppHomeOpened, ApiEvent::AppHomeOpened(h) => (**h).clone()
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
                Payload::SlashCommand(c) => boxed(f((**c).clone(), Ack::new(ctx.ack_cell()), ctx)),
                _ => None,
            }),
        )
    }

    interaction! {
        /// Block actions by `action_id` (a string or a [`Regex`](super::Regex)), or by
        /// [`ActionMatcher`] for `block_id`s.
        action(matcher: impl Into<ActionMatcher>) => Action, BlockActions, BlockActions, Ack
    }

    interaction! {
        /// Global shortcuts by `callback_id`.
        shortcut(callback_id: impl Into<IdPattern>) => Shortcut, Shortcut, Shortcut, Ack
    }

    interaction! {
        /// Message shortcuts (`message_action`) by `callback_id`.
        message_shortcut(callback_id: impl Into<IdPattern>) => MessageShortcut, MessageAction, Shortcut, Ack
    }

    interaction! {
        /// View submissions by the view's `callback_id`. The ack may carry a `response_action`.
        view_submission(callback_id: impl Into<IdPattern>) => ViewSubmission, ViewSubmission, ViewAction, Ack<ViewResponse>
    }

    interaction! {
        /// Closed views (`view_closed`, for views with `notify_on_close`) by `callback_id`.
        view_closed(callback_id: impl Into<IdPattern>) => ViewClosed, ViewClosed, ViewAction, Ack
    }

    interaction! {
        /// Options requests (`block_suggestion`) of external selects by `action_id`. The ack
        /// carries the options.
        options(action_id: impl Into<IdPattern>) => Options, BlockSuggestion, BlockSuggestion, Ack<OptionsResponse>
    }
}
