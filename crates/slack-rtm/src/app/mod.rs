//! The app layer: listeners, acks, `say` and `respond`, middleware — what Bolt gives, in Rust.
//!
//! An [`App`] holds listeners registered by what they answer (events by type, messages by
//! pattern, slash commands, block actions, shortcuts, views, options). A receiver runs it:
//! [`App::run_socket_mode`] on a Socket Mode session, a fleet worker, or an HTTP Request URL —
//! all through the same seam ([`receiver`]: an [`AppRequest`] and an [`Acknowledger`] handed
//! to [`Dispatcher::dispatch`]).
//!
//! ```
//! use slack_rtm::app::{App, MessageResponse};
//!
//! let mut app = App::new();
//! app.command("/echo", |cmd, ack, _ctx| async move {
//!     ack.ack_with(MessageResponse::text(cmd.text)).await?;
//!     Ok(())
//! });
//! app.app_mention(|m, ctx| async move {
//!     let user = m.user.map(|u| u.to_string()).unwrap_or_default();
//!     ctx.say(format!("hi <@{user}>")).await?;
//!     Ok(())
//! });
//! ```
//!
//! See `docs/app.md` for the model (acks, deadlines, concurrency, shutdown) and a table from
//! Bolt's concepts, and `docs/testing.md` for testing an app against the emulator.

mod ack;
mod assistant;
mod context;
mod dispatch;
#[cfg(feature = "hyper")]
pub mod http;
mod listeners;
mod matchers;
pub mod middleware;
pub mod oauth;
pub mod receiver;
mod respond;
mod responses;
mod self_read;
mod socket;

pub use ack::{Ack, AckError};
pub use assistant::{Assistant, AssistantThreadRef};
pub use context::{BotIdentity, Context};
pub use dispatch::{Dispatcher, ShuttingDown};
pub use listeners::Route;
pub use matchers::{ActionMatcher, IdPattern, Matches, Regex, TextPattern};
pub use middleware::{BoxFuture, ListenerResult, Middleware, Next};
pub use receiver::{AckFuture, Acknowledger, AppRequest, NoAck, RequestKind};
pub use respond::ReplyError;
pub use responses::{
    AckResponse, MessageResponse, OptionGroup, OptionsResponse, PlainText, ResponseType, SelectOption,
    ViewResponse,
};
/// The payloads listeners get (from the types crate), for naming them in your functions.
pub use slack_rtm_types::event::{Message, ReactionChange};
pub use slack_rtm_types::socket_mode::{
    ApiEvent, AppHomeOpened, AppMention, BlockAction, BlockActions, BlockSuggestion, Container, ElementKind,
    SelectedOption, Selection, Shortcut, SlashCommand, StateValue, View, ViewAction, ViewState,
};
pub use socket::SocketModeApp;

use crate::web::WebClient;
use context::Shared;
use slack_rtm_codec::BoxError;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// What went wrong in a listener, handed to the error handler ([`App::error_handler`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenerError {
    /// The listener (or a middleware) returned an error.
    #[error("listener `{listener}` failed: {error}")]
    Failed {
        /// Which listener.
        listener: String,
        /// Its error.
        error: BoxError,
    },
    /// The listener panicked (caught: its request was acked, the app goes on).
    #[error("listener `{listener}` panicked: {message}")]
    Panicked {
        /// Which listener.
        listener: String,
        /// The panic's message.
        message: String,
    },
}

pub(crate) type FallbackHandler = Arc<dyn Fn(Context) -> Box<dyn dispatch::reuse::Step> + Send + Sync>;
pub(crate) type ErrorHandler = Arc<dyn Fn(ListenerError) -> BoxFuture<()> + Send + Sync>;

/// The app's settings.
#[derive(Clone, Debug)]
pub(crate) struct AppConfig {
    pub(crate) concurrency: usize,
    pub(crate) ack_margin: Duration,
    pub(crate) ordered: bool,
    pub(crate) ignore_self: bool,
    pub(crate) ignore_bots: bool,
    pub(crate) start_inline: bool,
    /// Whether [`App::start_inline`] was called: a receiver may pick its own default otherwise
    /// (a Socket Mode app starts inline).
    pub(crate) start_inline_set: bool,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            concurrency: 64,
            ack_margin: Duration::from_millis(500),
            ordered: false,
            ignore_self: true,
            ignore_bots: false,
            start_inline: false,
            start_inline_set: false,
        }
    }
}

/// A Slack app: listeners, middleware and settings. Register listeners (see the methods
/// `event`, `message`, `command`, `action`, …), then run it on a receiver.
#[derive(Default)]
pub struct App {
    pub(crate) routes: Vec<Route>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) fallback: Option<FallbackHandler>,
    pub(crate) error_handler: Option<ErrorHandler>,
    pub(crate) config: AppConfig,
    pub(crate) installations: Option<oauth::Installations>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("routes", &self.routes)
            .field("middleware", &self.middleware.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app without listeners: ignores its bot's own events, runs up to 64 listeners at
    /// once, acks for a slow listener 2.5 s after a request came.
    pub fn new() -> App {
        App::default()
    }

    /// A global middleware: runs for every request, in the order added, before the
    /// listener's own ([`Route::middleware`]). The built-in [`middleware::ignore_self`] (and
    /// [`middleware::ignore_bots`] when on) run first.
    pub fn middleware(&mut self, m: impl Middleware) -> &mut App {
        self.middleware.push(Arc::new(m));
        self
    }

    /// What runs when no listener matched (after the global middleware). The request is acked
    /// empty, and each kind is logged once, with or without it.
    pub fn fallback<F, Fut>(&mut self, f: F) -> &mut App
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ListenerResult> + Send + 'static,
    {
        // In a box kept for the next request once the future returned (per thread).
        self.fallback = Some(Arc::new(move |ctx| dispatch::reuse::boxed(f(ctx))));
        self
    }

    /// What runs when a listener returns an error or panics. Default: log it.
    pub fn error_handler<F, Fut>(&mut self, f: F) -> &mut App
    where
        F: Fn(ListenerError) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.error_handler = Some(Arc::new(move |e| Box::pin(f(e))));
        self
    }

    /// Requests handled at once (at least 1). Default 64. When all are busy,
    /// [`Dispatcher::dispatch`] waits, so the receiver stops reading: see `docs/app.md`.
    pub fn concurrency(&mut self, n: usize) -> &mut App {
        self.config.concurrency = n.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// Starts each request on the receiver's task instead of a task of its own: its
    /// middleware and listeners run up to their first `.await` that has to wait before
    /// [`Dispatcher::dispatch`] returns (so before the receiver reads the next request), and
    /// only a request not finished by then is moved to a task of its own. Default: on for
    /// [`App::start_socket_mode`] (its receiver only hands envelopes over: the session reads,
    /// acks and keeps the sockets alive on a task of its own), off for the other receivers
    /// (over HTTP an event's response would wait for its listener's synchronous part).
    ///
    /// It saves a task per request for listeners that finish without waiting (they count,
    /// route, queue work elsewhere). Every rule still holds: an event is acked before its
    /// middleware runs, a panic is caught and reported, the [`App::concurrency`] bound counts
    /// these requests too. The cost: whatever a listener computes before its first wait holds
    /// up the receiver — no envelope is read meanwhile, and over HTTP the response to an event
    /// is sent only then — so turn it on only for listeners that are quick until they await.
    pub fn start_inline(&mut self, on: bool) -> &mut App {
        self.config.start_inline = on;
        self.config.start_inline_set = true;
        self
    }

    /// How long before Slack's 3 s deadline the app acks empty for a listener that has not
    /// acked yet. Default 500 ms (so at 2.5 s).
    pub fn ack_margin(&mut self, margin: Duration) -> &mut App {
        self.config.ack_margin = margin;
        self
    }

    /// Handle the requests of one conversation (channel) one at a time, in the order they
    /// came. Default: off (all concurrent).
    pub fn ordered_by_conversation(&mut self, on: bool) -> &mut App {
        self.config.ordered = on;
        self
    }

    /// Ignore events caused by the app's own bot. Default: on.
    pub fn ignore_self(&mut self, on: bool) -> &mut App {
        self.config.ignore_self = on;
        self
    }

    /// Ignore messages posted by any bot. Default: off.
    pub fn ignore_bots(&mut self, on: bool) -> &mut App {
        self.config.ignore_bots = on;
        self
    }

    /// Serves many workspaces: each request's token comes from `installations` (its store,
    /// through its cache) instead of the dispatcher's Web client, which then only lends its
    /// transport and API base. See [`oauth`].
    pub fn installations(&mut self, installations: oauth::Installations) -> &mut App {
        self.installations = Some(installations);
        self
    }

    /// Makes the dispatcher receivers call, with `web` (the bot token) for the listeners.
    /// Asks `auth.test` for the bot's ids in the background (requests are taken at once);
    /// until it answers — or if it never does — the bot is found from each event's
    /// `authorizations` and the app's `api_app_id`.
    pub async fn into_dispatcher(self, web: WebClient) -> Dispatcher {
        if let Some(i) = &self.installations {
            i.start(&web);
        }
        let multi = self.installations.is_some();
        let dispatcher = Dispatcher::new(self, Shared { web: web.clone(), bot: OnceLock::new() });
        if multi {
            // Each workspace has its own bot: no single `auth.test`.
            return dispatcher;
        }
        let shared = dispatcher.shared();
        tokio::spawn(async move {
            let once = web.with_retry_policy(crate::web::RetryPolicy::never());
            match tokio::time::timeout(Duration::from_secs(10), once.auth_test()).await {
                Ok(Ok(a)) => {
                    let _ = shared.bot.set(BotIdentity { user_id: a.user_id, bot_id: a.bot_id });
                }
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "auth.test failed: the bot is found from each event's authorizations")
                }
                Err(_) => tracing::info!(
                    "auth.test did not answer: the bot is found from each event's authorizations"
                ),
            }
        });
        dispatcher
    }

    /// [`App::into_dispatcher`] with the bot's ids given (no `auth.test`).
    pub fn into_dispatcher_with(self, web: WebClient, bot: BotIdentity) -> Dispatcher {
        if let Some(i) = &self.installations {
            i.start(&web);
        }
        Dispatcher::new(self, Shared { web, bot: OnceLock::from(bot) })
    }
}

/// The largest concurrency bound.
const MAX_CONCURRENCY: usize = 1 << 20;
