//! The [`Dispatcher`]: one request from a receiver to its listeners — ack rules, middleware,
//! concurrency bound, order per conversation, panics, shutdown.

use super::ack::AckCell;
use super::ack::AckError;
use super::context::{Context, RequestInfo, Shared};
use super::listeners::Route;
use super::matchers::Matches;
use super::middleware::{BoxFuture, End, ListenerResult, Middleware, Next};
use super::receiver::{AckFuture, Acknowledger, AppRequest, RequestKind};
use super::{App, AppConfig, ErrorHandler, FallbackHandler, ListenerError};
use crate::web::WebClient;
use slack_rtm_codec::BoxError;
use slack_rtm_types::socket_mode::{EnvelopeType, Payload};
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::Level;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

pub(crate) mod reuse;
mod seen;
mod slots;
mod start;
use slots::{Permit, Slots};
use start::Started;
pub(crate) use start::{Kit, TryDispatch};

/// Slack's ack deadline.
pub(crate) const ACK_DEADLINE: Duration = Duration::from_secs(3);

/// The dispatcher refuses new requests: it is shutting down. The request was not acked (its
/// acknowledger was dropped): Slack delivers it again, to this process or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the app is shutting down")]
pub struct ShuttingDown;

/// An [`App`] ready to take requests from receivers: [`Dispatcher::dispatch`]. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("listeners", &self.inner.routes.len())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

struct RouteRt {
    route: Route,
    chain: Arc<[Arc<dyn Middleware>]>,
}

struct Inner {
    shared: Arc<Shared>,
    routes: Vec<RouteRt>,
    /// The built-in middleware that are on (`ignore_self`, `ignore_bots`), in that order: a
    /// request one of them stops goes no further, as if they ran first in the global chain.
    filters: Vec<fn(&Context) -> bool>,
    global: Arc<[Arc<dyn Middleware>]>,
    fallback: Option<FallbackHandler>,
    error_handler: Option<ErrorHandler>,
    config: AppConfig,
    /// The concurrency bound's slots.
    permits: Arc<Slots>,
    closed: AtomicBool,
    order: Mutex<HashMap<String, (u64, oneshot::Receiver<()>)>>,
    seq: AtomicU64,
    fallback_seen: seen::FallbackSeen,
    installations: Option<super::oauth::Installations>,
    /// The spare box of a request started inline.
    spare: start::Spare,
}

/// A request's ack as it reaches its task: an event's already sent (or on its way), owed
/// for the other kinds.
enum Owed {
    /// A command or an interaction: acked by its listener, or empty by the app.
    Listener(Box<dyn Acknowledger>),
    /// An event, acked when it took its slot.
    Sent(Result<(), BoxError>),
    /// An event whose ack did not complete at once: awaited before its middleware runs.
    Sending(AckFuture),
}

/// Where a request waits for the one before it in its conversation.
struct OrderTicket {
    key: String,
    seq: u64,
    before: Option<oneshot::Receiver<()>>,
    _done: oneshot::Sender<()>,
}

impl Dispatcher {
    pub(crate) fn new(app: App, shared: Shared) -> Dispatcher {
        let App { routes, middleware, fallback, error_handler, config, installations } = app;
        // The built-in middleware are plain rules, checked before the app's middleware as if
        // first in its chain: no boxed call per request for them.
        let mut filters: Vec<fn(&Context) -> bool> = Vec::new();
        if config.ignore_self {
            filters.push(super::middleware::stops_own_event);
        }
        if config.ignore_bots {
            filters.push(super::middleware::stops_bot_message);
        }
        let global: Vec<Arc<dyn Middleware>> = middleware;
        let routes = routes
            .into_iter()
            .map(|route| {
                let chain = route.middleware.clone().into();
                RouteRt { route, chain }
            })
            .collect();
        Dispatcher {
            inner: Arc::new(Inner {
                shared: Arc::new(shared),
                routes,
                filters,
                global: global.into(),
                fallback,
                error_handler,
                permits: Arc::new(Slots::new(config.concurrency)),
                config,
                closed: AtomicBool::new(false),
                order: Mutex::new(HashMap::new()),
                seq: AtomicU64::new(0),
                fallback_seen: seen::FallbackSeen::default(),
                installations,
                spare: start::Spare::default(),
            }),
        }
    }

    /// The Web API client the listeners get.
    pub fn web(&self) -> &WebClient {
        &self.inner.shared.web
    }

    /// The bot, once `auth.test` answered.
    pub fn bot(&self) -> Option<&super::BotIdentity> {
        self.inner.shared.bot.get()
    }

    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.inner.shared.clone()
    }

    /// Listeners running now.
    pub fn in_flight(&self) -> usize {
        self.inner.permits.held()
    }

    /// Takes one request: waits for a free slot (at most [`App::concurrency`] requests are
    /// handled at once — a receiver awaiting this stops reading new requests meanwhile), then
    /// handles it on its own task and returns. The ack goes through `ack` exactly once.
    ///
    /// Events are acked at once, before middleware and listeners run. A command or an
    /// interaction is acked by its listener, or empty by the app when the listener has not
    /// acked 3 s minus [`App::ack_margin`] after this call, or when it returns or panics.
    ///
    /// With [`App::start_inline`] on, the request's middleware and listeners are first polled
    /// here, and a request that finished then needs no task.
    ///
    /// `ack` is any [`Acknowledger`] (a `Box<dyn Acknowledger>` too): it is boxed only when a
    /// listener owes the ack (a command, an interaction), not for an event acked at once
    /// ([`Acknowledger::ack_empty_now`]).
    pub async fn dispatch<A: Acknowledger>(&self, request: AppRequest, ack: A) -> Result<(), ShuttingDown> {
        self.start(request, ack).await.map(drop)
    }

    /// [`Dispatcher::dispatch`], then waits until the request was handled: `true` if every
    /// listener (and middleware) returned `Ok`, `false` after an error or a panic (already
    /// reported to the error handler). For receivers that confirm a request only once it was
    /// handled (a fleet worker acks its stream entry then; a failure is tried again).
    pub async fn dispatch_and_wait<A: Acknowledger>(
        &self,
        request: AppRequest,
        ack: A,
    ) -> Result<bool, ShuttingDown> {
        Ok(match self.start(request, ack).await? {
            Started::Done(ok) => ok,
            Started::Running(task) => task.await.unwrap_or(false),
        })
    }

    /// Stops taking requests ([`Dispatcher::dispatch`] returns [`ShuttingDown`]) and waits up
    /// to `grace` for the running listeners. `true` if they all finished; those still running
    /// after it go on until the runtime stops.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.closed.store(true, Ordering::Release);
        // Every slot, each in turn behind the requests already waiting (given back on return).
        let mut all = Vec::new();
        let every = async {
            while all.len() < self.inner.config.concurrency {
                all.push(self.inner.permits.acquire().await);
            }
        };
        let finished = tokio::time::timeout(grace, every).await.is_ok();
        // Given back before counting those still running.
        drop(all);
        if !finished {
            tracing::warn!(
                running = self.in_flight(),
                ?grace,
                "listeners still running after the shutdown grace"
            );
        }
        finished
    }
}

/// The typed payload, decoded from the request's text (not a copy of it).
fn decode(request: &RequestInfo) -> Payload {
    Payload::decode(&EnvelopeType::from_wire(request.kind.as_str()), &request.payload)
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

impl Inner {
    fn ticket(&self, key: String) -> OrderTicket {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let before = order.insert(key.clone(), (seq, rx)).map(|(_, rx)| rx);
        OrderTicket { key, seq, before, _done: tx }
    }

    fn release(&self, ticket: &OrderTicket) {
        let mut order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        if order.get(&ticket.key).is_some_and(|(seq, _)| *seq == ticket.seq) {
            order.remove(&ticket.key);
        }
    }

    /// The request's future: its work in its span (the listener recorded once matched). Not
    /// `async`: the future is the span's wrapper around the work, without a layer of its own
    /// around it (which held the arguments and the locals again: the request's future, boxed
    /// for its task, was 1.3 KB, an allocation outside the allocator's fast sizes). Always
    /// inlined into `launch`: the future is then written straight into its box, not built
    /// beside it and copied in (1 KB, ~120 instructions per request).
    #[inline(always)]
    fn handle(
        self: Arc<Self>,
        info: Arc<RequestInfo>,
        owed: Owed,
        mut ticket: Option<OrderTicket>,
        arrived: Option<Instant>,
        permit: Permit,
    ) -> tracing::instrument::Instrumented<impl Future<Output = bool> + Send + 'static> {
        let span = tracing::info_span!(
            "app",
            kind = info.kind.as_str(),
            request_type = info.subkind.as_deref(),
            listener = tracing::field::Empty
        );
        // A span no subscriber wants is not looked up again to record its listener.
        let recorded = !span.is_disabled();
        let request = async move {
            let event = info.kind == RequestKind::EventsApi;
            // The context's ack slot; the one the app acks on the listener's behalf (not an
            // event's: already acked, its context has no slot).
            // An event's ack is settled first (awaited if it did not complete at once), before
            // its middleware runs: no pending ack is carried through the rest (each local the
            // request's future keeps across an await costs it a drop flag and a move).
            let (cell, owed_cell) = match owed {
                Owed::Listener(acker) => {
                    let cell = AckCell::new(acker, info.accepts_response_payload);
                    (Some(cell.clone()), Some(cell))
                }
                Owed::Sent(sent) => {
                    Self::warn_unacked(sent);
                    (None, None)
                }
                Owed::Sending(sending) => {
                    Self::warn_unacked(sending.await);
                    (None, None)
                }
            };
            // The typed payload is decoded only when a listener may take this request (an event of
            // a type nobody listens to goes to the fallback undecoded).
            let subkind = info.subkind.as_deref();
            let may_match = self.routes.iter().any(|r| r.route.selector.may_take(&info.kind, subkind));
            let (payload, matched): (Option<Arc<Payload>>, Vec<(usize, Matches)>) = if may_match {
                let payload = decode(&info);
                let all = self
                    .routes
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.route.selector.matches(&payload).map(|m| (i, m)));
                let matched = if event { all.collect() } else { all.take(1).collect() };
                (Some(Arc::new(payload)), matched)
            } else {
                (None, Vec::new())
            };
            // Borrowed from the dispatcher the request's future holds (no count per request).
            let label: &str = match matched.first() {
                Some((i, _)) => &self.routes[*i].route.label,
                None => "fallback",
            };
            if recorded {
                tracing::Span::current().record("listener", tracing::field::display(&label));
            }
            let before = ticket.as_mut().and_then(|t| t.before.take());
            let me = self.clone();
            let outer: &Inner = &self;
            let work = async move {
                if let Some(before) = before {
                    let _ = before.await;
                }
                let mut auth = None;
                if let Some(installations) = &me.installations {
                    match installations.resolve(&info.kind, info.meta(), info.body()).await {
                        super::oauth::Resolution::Found(found) => auth = Some(found),
                        super::oauth::Resolution::NotNeeded => {}
                        // Acked (now for an event, empty when this returns otherwise), not handled.
                        super::oauth::Resolution::Missing => return Ok(()),
                    }
                }
                // The context is made here, after the last await before the chain starts: it is
                // then made where the chain's first call takes it, not kept in this future and
                // copied out (64 bytes, copied three times on its way to the first middleware).
                let ctx = Context {
                    req: info,
                    ack: cell,
                    extensions: None,
                    matches: Matches::default(),
                    listener: None,
                    auth,
                };
                me.run(outer, payload, matched, ctx).await
            };
            let mut work = CatchUnwind(std::pin::pin!(work));
            let result = if event {
                // Already acked: no deadline to keep.
                work.await
            } else {
                let window = ACK_DEADLINE.saturating_sub(self.config.ack_margin);
                tokio::select! {
                    r = &mut work => r,
                    _ = tokio::time::sleep_until(arrived.unwrap_or_else(Instant::now) + window) => {
                        if let Some(cell) = &owed_cell
                            && let Some(sent) = cell.send_for_listener(Some(window)).await
                        {
                            tracing::warn!(listener = %label, ?window, "the listener did not ack in time; acked empty");
                            if let Err(e) = sent {
                                tracing::warn!(error = %e, "the ack failed");
                            }
                        }
                        work.await
                    }
                }
            };
            let failure = match result {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(ListenerError::Failed { listener: label.to_string(), error }),
                Err(panic) => {
                    let message = panic_message(&*panic);
                    tracing::error!(listener = %label, %message, "the listener panicked");
                    Some(ListenerError::Panicked { listener: label.to_string(), message })
                }
            };
            if let Some(cell) = &owed_cell
                && let Some(sent) = cell.send_for_listener(None).await
            {
                tracing::debug!("the listener returned without acking; acked empty");
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "the ack failed");
                }
            }
            let ok = failure.is_none();
            if let Some(failure) = failure {
                self.report(failure).await;
            }
            // The slot was held until now (dropped in place: not moved into a local of its
            // own, which the future would hold beside it), then the order ticket (the next
            // request of its conversation goes on), as when the future ended. Moved out on
            // both paths: a request without a ticket has no drop of one left at its end (an
            // out-of-line call per request).
            match ticket {
                Some(t) => {
                    self.release(&t);
                    drop(permit);
                    drop(t);
                }
                None => drop(permit),
            }
            ok
        };
        tracing::Instrument::instrument(request, span)
    }

    /// An event's ack that failed is logged; the event is handled anyway. Inlined: the check
    /// of a sent ack is a call otherwise.
    #[inline(always)]
    fn warn_unacked(sent: Result<(), BoxError>) {
        if let Err(e) = sent {
            tracing::warn!(error = %AckError::Failed(e), "could not ack the event; handling it anyway");
        }
    }

    async fn report(&self, failure: ListenerError) {
        match &self.error_handler {
            Some(h) => {
                if let Err(p) = CatchUnwind(h(failure)).await {
                    tracing::error!(message = %panic_message(&*p), "the error handler panicked");
                }
            }
            None => tracing::error!(error = %failure, "listener failed"),
        }
    }

    /// The middleware chain, then the listeners (or the fallback). Not `async`: the
    /// request's future holds the chain's future, without a layer of its own around it (each
    /// layer held another copy of the context). Always inlined into the request's work: the
    /// chain's future is then made where the work holds it, not made and moved in (two copies
    /// of ~300 bytes per request).
    ///
    /// `outer` is the dispatcher as the request's future holds it (the same as `self`, which
    /// the chain's end takes): the global chain is borrowed from it.
    #[inline(always)]
    fn run(
        self: Arc<Self>,
        outer: &Inner,
        payload: Option<Arc<Payload>>,
        matched: Vec<(usize, Matches)>,
        ctx: Context,
    ) -> impl Future<Output = ListenerResult> + Send + 'static {
        if outer.filters.iter().any(|stops| stops(&ctx)) {
            // Stopped before the app's middleware: nothing runs.
            return Ending::Done;
        }
        // Started here (this runs in the request's first poll, where `next.run`'s first poll
        // would start it): the request awaits the middleware's future itself.
        let end = End::Listeners(Matched { inner: self, payload, matched });
        Next::start_chain(&outer.global, end, ctx)
    }

    /// The matched listeners (at least one), each through its route's chain.
    async fn listeners(
        &self,
        payload: Arc<Payload>,
        matched: &[(usize, Matches)],
        ctx: Context,
    ) -> ListenerResult {
        let last = matched.len() - 1;
        for (n, (i, matches)) in matched.iter().enumerate() {
            let rt = &self.routes[*i];
            let mut ctx = ctx.clone();
            ctx.matches = matches.clone();
            ctx.listener = Some(rt.route.label.clone());
            let end = End::Handler(rt.route.handler.clone(), payload.clone());
            let result = Next::start_chain(&rt.chain, end, ctx).await;
            match result {
                Err(error) if n < last => {
                    self.report(ListenerError::Failed { listener: rt.route.label.to_string(), error }).await;
                }
                other if n == last => return other,
                _ => {}
            }
        }
        Ok(())
    }

    /// The fallback's future (`None`: no fallback). Not `async`: the bookkeeping is done
    /// at once, and the chain's futures that end here hold the fallback's boxed future, not a
    /// state machine of their own (each such layer held its own copy of the context: the
    /// request's future was 2 KB).
    fn fallback(&self, ctx: Context) -> Option<Box<dyn reuse::Step>> {
        // The bookkeeping is the log's: none while no subscriber records info events at all
        // (a kind seen meanwhile is logged once they are).
        if Level::INFO <= STATIC_MAX_LEVEL && Level::INFO <= LevelFilter::current() {
            self.log_fallback(&ctx);
        }
        match &self.fallback {
            Some(f) => Some(f(ctx)),
            None => None,
        }
    }

    /// Logs a kind of request the first time it goes to the fallback. Out of line and cold:
    /// inlined, its lookup made the chain's end a 1 KB frame, even with info events off.
    #[cold]
    #[inline(never)]
    fn log_fallback(&self, ctx: &Context) {
        let subkind = ctx.request_type().unwrap_or("?");
        if self.fallback_seen.first(ctx.kind(), subkind) {
            let kind = ctx.kind().as_str();
            tracing::info!(kind = %format_args!("{kind}/{subkind}"), "no listener for this kind of request; acked (logged once per kind)");
        }
    }
}

/// What a request's global chain ends in: its matched listeners, or the fallback.
pub(crate) struct Matched {
    inner: Arc<Inner>,
    payload: Option<Arc<Payload>>,
    matched: Vec<(usize, Matches)>,
}

impl Matched {
    /// Runs the listeners (each through its route's chain), or the fallback when none matched.
    /// Not `async`: the listeners' future (which runs route chains, which end here again) is
    /// boxed in a plain function, so no future's type contains itself; the fallback's is the
    /// one its handler returns (no future of this function's own in the request's future).
    pub(crate) fn run(self, ctx: Context) -> Ending {
        let Matched { inner, payload, matched } = self;
        match payload {
            Some(payload) if !matched.is_empty() => {
                Ending::Boxed(Box::pin(async move { inner.listeners(payload, &matched, ctx).await }))
            }
            // The fallback is called before anything here is dropped (`payload.filter(…)`
            // dropped the payload first: the context was copied aside around that drop), and
            // in a `match`, not `map_or(Ending::Done, …)` (the unused default was dropped out of
            // line per request).
            _ => match inner.fallback(ctx) {
                Some(step) => Ending::Fallback(step),
                None => Ending::Done,
            },
        }
    }
}

/// What a started chain ([`Next::start`]) runs: a middleware's, the listeners' or a listener's
/// future, or the fallback's (`Done`: nothing, `Ok` at once). The fallback's box is kept for
/// the next request once it returned.
pub(crate) enum Ending {
    Boxed(BoxFuture<ListenerResult>),
    Fallback(Box<dyn reuse::Step>),
    Done,
}

impl Future for Ending {
    type Output = ListenerResult;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<ListenerResult> {
        let result = match &mut *self {
            Ending::Boxed(f) => return f.as_mut().poll(cx),
            Ending::Fallback(step) => std::task::ready!(step.poll_step(cx)),
            Ending::Done => return Poll::Ready(Ok(())),
        };
        if let Ending::Fallback(step) = std::mem::replace(&mut *self, Ending::Done) {
            step.recycle();
        }
        Poll::Ready(result)
    }
}

/// A pinned future whose panics are caught (it is not polled again after one). Pinned where
/// it lives (`pin!` in the request's task, or a boxed future): no allocation of its own.
struct CatchUnwind<P>(Pin<P>);

impl<P> Future for CatchUnwind<P>
where
    P: std::ops::DerefMut<Target: Future> + Unpin,
{
    type Output = Result<<P::Target as Future>::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let fut = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}
