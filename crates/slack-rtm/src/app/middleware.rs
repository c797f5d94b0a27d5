//! Middleware: an async function of the request's [`Context`] and [`Next`], like axum's
//! `from_fn`. It can observe (log, time), enrich ([`Context::extensions_mut`]) or stop a
//! request (return without calling `next.run`).
//!
//! ```
//! use slack_rtm::app::{App, Context, ListenerResult, Next};
//!
//! #[derive(Clone)]
//! struct Started(std::time::Instant);
//!
//! async fn timing(mut ctx: Context, next: Next) -> ListenerResult {
//!     ctx.extensions_mut().insert(Started(std::time::Instant::now()));
//!     let label = ctx.request_type().unwrap_or("?").to_owned();
//!     let result = next.run(ctx).await;
//!     tracing::info!(%label, "handled");
//!     result
//! }
//!
//! let mut app = App::new();
//! app.middleware(timing);
//! ```

use super::context::Context;
use super::dispatch::Ending;
use super::listeners::Handler;
use super::receiver::RequestKind;
use slack_rtm_codec::BoxError;
use slack_rtm_types::socket_mode::Payload;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What listeners and middleware return: an error goes to the app's error handler
/// ([`App::error_handler`](super::App::error_handler)).
pub type ListenerResult = Result<(), BoxError>;

/// A middleware. Async functions and closures `Fn(Context, Next) -> impl Future<Output =
/// ListenerResult>` are middleware.
pub trait Middleware: Send + Sync + 'static {
    /// Handles the request: call `next.run(ctx)` to go on, or return to stop it.
    fn call(&self, ctx: Context, next: Next) -> BoxFuture<ListenerResult>;
}

impl<F, Fut> Middleware for F
where
    F: Fn(Context, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ListenerResult> + Send + 'static,
{
    fn call(&self, ctx: Context, next: Next) -> BoxFuture<ListenerResult> {
        // The box first, then the future written into it: `Box::pin(self(ctx, next))` built
        // the future beside the box and copied it in (a `memcpy` per request, or two).
        let future: Box<Fut> = Box::write(Box::new_uninit(), self(ctx, next));
        Box::into_pin(future)
    }
}

/// The end of a chain, run once (a [`Next`] is consumed by its run): no closure or box of
/// its own per request.
pub(crate) enum End {
    /// After the global chain: the listeners matched for the request, or the fallback.
    Listeners(super::dispatch::Matched),
    /// After a route's chain: its listener.
    Handler(Handler, Arc<Payload>),
}

/// The rest of the chain, handed to a middleware.
pub struct Next {
    chain: Arc<[Arc<dyn Middleware>]>,
    at: usize,
    end: End,
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next").field("remaining", &(self.chain.len() - self.at)).finish()
    }
}

impl Next {
    /// Starts `chain` for a request, ending in `end`: as [`Next::start`] on a new `Next`, with
    /// the chain borrowed from its owner (the dispatcher) rather than a count of it taken for
    /// a `Next` that is taken apart at once (a count taken, another, and one given back).
    #[inline(always)]
    pub(crate) fn start_chain(chain: &Arc<[Arc<dyn Middleware>]>, end: End, ctx: Context) -> Ending {
        match chain.first() {
            Some(m) => Ending::Boxed(m.call(ctx, Next { chain: chain.clone(), at: 1, end })),
            None => end.run(ctx),
        }
    }

    /// Runs the rest of the chain and the listener.
    ///
    /// Started when first polled, as an `async fn` would be. The future holds the chain and
    /// the context until then, and what the chain's start returned after it, in the same
    /// place: 128 bytes, which the middleware's future moves without a `memcpy` call (an
    /// `async fn` kept its arguments beside what it awaits: 152 bytes, copied by two `memcpy`
    /// calls per request where the middleware made and awaited it).
    pub fn run(self, ctx: Context) -> impl Future<Output = ListenerResult> + Send + 'static {
        Run::Lazy(self, ctx)
    }

    /// Starts the rest of the chain now: calls its next middleware (or ends it: the
    /// listeners, the fallback, a route's listener) and returns what to await. For the
    /// dispatcher, which starts a chain where [`Next::run`]'s first poll would (inside the
    /// request's future, under its catch of panics): no future of `run`'s own around it.
    ///
    /// Inlined where it is called ([`Next::run`], [`Next::start_chain`]'s callers start a
    /// chain the same way): the next middleware is called from there, without a call of this
    /// function's own (its frame, and the `Next` and the context copied into its arguments);
    /// the chain's end is out of line.
    #[inline(always)]
    pub(crate) fn start(self, ctx: Context) -> Ending {
        let Next { chain, at, end } = self;
        match chain.get(at) {
            Some(m) => {
                let next = Next { chain: chain.clone(), at: at + 1, end };
                Ending::Boxed(m.call(ctx, next))
            }
            None => end.run(ctx),
        }
    }
}

impl End {
    /// The chain's end: the listeners (or the fallback), a route's listener, or nothing.
    pub(crate) fn run(self, ctx: Context) -> Ending {
        match self {
            End::Listeners(matched) => matched.run(ctx),
            End::Handler(handler, payload) => match handler(&payload, ctx) {
                Some(f) => Ending::Boxed(f),
                None => Ending::Done,
            },
        }
    }
}

/// [`Next::run`]'s future: the chain not started yet, or what its start returned.
enum Run {
    Lazy(Next, Context),
    Started(Ending),
}

impl Future for Run {
    type Output = ListenerResult;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<ListenerResult> {
        let this = self.get_mut();
        if let Run::Lazy(..) = this {
            let Run::Lazy(next, ctx) = std::mem::replace(this, Run::Started(Ending::Done)) else {
                unreachable!("checked above")
            };
            let ending = next.start(ctx);
            if let Run::Started(slot) = this {
                // What it replaces is the `Done` written just above, which holds nothing: not
                // dropped (a call per request to find that out).
                std::mem::forget(std::mem::replace(slot, ending));
            }
        }
        match this {
            Run::Started(ending) => Pin::new(ending).poll(cx),
            Run::Lazy(..) => unreachable!("started above"),
        }
    }
}

/// Events whose `user` is the bot yet are not the bot speaking (it joined or left a channel).
const NOT_SPEECH: &[&str] = &["member_joined_channel", "member_left_channel"];

/// Stops events the app's own bot caused (its user or its `bot_id`), so a bot never answers
/// itself. On by default ([`App::ignore_self`](super::App::ignore_self)); joins and leaves of
/// the bot still pass.
pub async fn ignore_self(ctx: Context, next: Next) -> ListenerResult {
    if stops_own_event(&ctx) {
        return Ok(());
    }
    next.run(ctx).await
}

/// [`ignore_self`]'s rule: whether it stops this request.
pub(crate) fn stops_own_event(ctx: &Context) -> bool {
    let stop = *ctx.kind() == RequestKind::EventsApi
        && !NOT_SPEECH.contains(&ctx.request_type().unwrap_or(""))
        && ctx.caused_by_own_bot();
    if stop {
        tracing::trace!(event_type = ?ctx.request_type(), "ignoring the bot's own event");
    }
    stop
}

/// Stops messages posted by any bot (a `bot_id`, or the `bot_message` subtype). Off by default
/// ([`App::ignore_bots`](super::App::ignore_bots)).
pub async fn ignore_bots(ctx: Context, next: Next) -> ListenerResult {
    if stops_bot_message(&ctx) {
        return Ok(());
    }
    next.run(ctx).await
}

/// [`ignore_bots`]'s rule: whether it stops this request.
pub(crate) fn stops_bot_message(ctx: &Context) -> bool {
    if *ctx.kind() == RequestKind::EventsApi && ctx.request_type() == Some("message") {
        let event = &ctx.body()["event"];
        if event.get("bot_id").is_some_and(|b| !b.is_null()) || event["subtype"] == "bot_message" {
            tracing::trace!("ignoring a bot's message");
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Next::run`'s future is moved into the middleware's future it is awaited in: at 128
    /// bytes or less the move is a few register copies, above it a `memcpy` call (two per
    /// request).
    #[test]
    fn next_runs_future_fits_in_128_bytes() {
        assert!(std::mem::size_of::<Run>() <= 128, "{} bytes", std::mem::size_of::<Run>());
    }
}
