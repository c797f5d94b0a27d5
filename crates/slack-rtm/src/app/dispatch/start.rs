//! How a request takes its slot and starts: waiting for a slot ([`Dispatcher::dispatch`]) or
//! taking a free one at once ([`Dispatcher::try_dispatch`]), the event's ack, the request's
//! future run inline or on its task.

use super::{Dispatcher, OrderTicket, Owed, Permit, ShuttingDown, panic_message};
use crate::app::context::RequestInfo;
use crate::app::middleware::BoxFuture;
use crate::app::receiver::{Acknowledger, AppRequest, DispatcherOnly, RequestKind};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskContext, Poll};
use tokio::time::Instant;

/// What [`Dispatcher::try_dispatch`] did with a request.
pub(crate) enum TryDispatch<A> {
    /// Handed over: it holds a slot.
    Taken,
    /// Refused: the app is shutting down. The request and its ack, untouched (dropped by the
    /// receiver, the ack releases the envelope).
    ShuttingDown(AppRequest, A),
    /// No slot free now: the request and its ack, untouched.
    Full(AppRequest, A),
}

/// A request handed over: finished when it was started inline
/// ([`App::start_inline`](crate::app::App::start_inline)), or running on its task.
pub(super) enum Started {
    Done(bool),
    Running(tokio::task::JoinHandle<bool>),
}

impl Dispatcher {
    pub(super) async fn start<A: Acknowledger>(
        &self,
        request: AppRequest,
        ack: A,
    ) -> Result<Started, ShuttingDown> {
        // The ack deadline's start, for the requests whose listener acks (an event's is sent
        // when it takes its slot: no clock read for it).
        let arrived = (request.kind != RequestKind::EventsApi).then(Instant::now);
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ShuttingDown);
        }
        // Shared from here: the request's future holds a pointer, not the info.
        let info = RequestInfo::shared(request, None, &self.inner.shared);
        // In arrival order: the ticket is taken before waiting for a slot.
        let ticket = self.ticket(&info);
        let permit = self.inner.permits.acquire().await;
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ShuttingDown);
        }
        // The spare box (its info is not needed: this request's is shared already), held until
        // the request was started; a box of its own when another request holds it.
        if !self.inner.config.start_inline {
            return Ok(self.launch(info, ticket, None, ack, arrived, permit));
        }
        let mut spare = self.inner.spare.hold();
        let mut own = Kit::default();
        let kit = spare.as_deref_mut().unwrap_or(&mut own);
        Ok(self.launch(info, ticket, Some(kit), ack, arrived, permit))
    }

    /// [`Dispatcher::dispatch`] when a slot is free now, without a future of its own (a
    /// receiver's loop calls it first: no future built, moved and polled per request); the
    /// request and its ack back, untouched, when no slot is free (then `dispatch` waits).
    ///
    /// `kit`: the caller's own spare box and info, for a receiver that starts its requests one
    /// at a time from one task (the Socket Mode pump): no lock per request (the dispatcher's
    /// own spare, for `dispatch`, is taken under a lock).
    pub(crate) fn try_dispatch<A: Acknowledger>(
        &self,
        kit: &mut Kit,
        request: AppRequest,
        ack: A,
    ) -> TryDispatch<A> {
        if self.inner.closed.load(Ordering::Acquire) {
            return TryDispatch::ShuttingDown(request, ack);
        }
        let Some(permit) = self.inner.permits.try_acquire() else {
            return TryDispatch::Full(request, ack);
        };
        let arrived = (request.kind != RequestKind::EventsApi).then(Instant::now);
        let mut kit = if self.inner.config.start_inline { Some(kit) } else { None };
        // Shared here (in the spare info when there is one), with its ticket: no wait between
        // the ticket and the slot, so the arrival order is kept as in `start`. The request is
        // moved from where the receiver handed it over straight into its info (not wrapped
        // and unwrapped on its way: a copy of ~150 bytes each).
        let spare = kit.as_mut().and_then(|k| k.info.take());
        let info = RequestInfo::shared(request, spare, &self.inner.shared);
        let ticket = self.ticket(&info);
        self.launch(info, ticket, kit, ack, arrived, permit);
        TryDispatch::Taken
    }

    /// The request's order ticket, when the app orders by conversation. The check inlined
    /// (most apps do not: no call per request for it), the ticket itself taken out of line.
    #[inline(always)]
    fn ticket(&self, info: &RequestInfo) -> Option<OrderTicket> {
        if !self.inner.config.ordered {
            return None;
        }
        self.ordered_ticket(info)
    }

    fn ordered_ticket(&self, info: &RequestInfo) -> Option<OrderTicket> {
        info.meta().channel_id.clone().map(|key| self.inner.ticket(key))
    }

    /// The request holds its slot: acks an event, then runs the request (inline first with
    /// [`App::start_inline`](crate::app::App::start_inline), else on its own task). Inlined
    /// into its two callers: the request is then read where the receiver handed it over, not
    /// copied into this call's arguments first (~150 bytes, a `memcpy` per request).
    ///
    /// `kit`: the spare ([`App::start_inline`](crate::app::App::start_inline)), `None` to start
    /// the request on its task. Its box is taken here and made for the future's type (known
    /// here), so that the future can be written in place rather than made beside it and copied
    /// in (1 KB).
    #[inline(always)]
    fn launch<A: Acknowledger>(
        &self,
        info: Arc<RequestInfo>,
        ticket: Option<OrderTicket>,
        kit: Option<&mut Kit>,
        ack: A,
        arrived: Option<Instant>,
        permit: Permit,
    ) -> Started {
        // An event is acked now that the app took it (it holds a slot), before its task
        // exists: an ack that completes at once (a Socket Mode session's queued ack, an HTTP
        // response handed over) costs no slot of its own and no await in the task.
        let owed = if info.kind == RequestKind::EventsApi {
            match ack.ack_empty_now_of(info.envelope_id.as_ref(), DispatcherOnly(())) {
                // Sent by that call, which took the ack.
                Ok(sent) => Owed::Sent(sent),
                Err(ack) => Self::send_event_ack(Box::new(ack)),
            }
        } else {
            Owed::Listener(Box::new(ack))
        };
        let Some(kit) = kit else {
            // Boxed: the request's future is about 1 KB, and the runtime moves a task's future
            // several times while spawning and finishing it (a copy each time); a box moves as
            // one pointer.
            let handled: BoxFuture<bool> =
                Box::pin(self.inner.clone().handle(info, owed, ticket, arrived, permit));
            return Started::Running(tokio::spawn(handled));
        };
        // Polled once here, in the dispatcher's spare box (no allocation per request); a
        // request that has to wait goes on in its own task, with that box, whose first poll
        // registers that task's waker (a future keeps only the latest waker). The info is
        // kept here too: once the future is done with it, it is the next request's.
        let info_back = info.clone();
        let mut slot = Kit::slot(kit.future.take());
        Pin::as_mut(&mut *slot).set(Some(self.inner.clone().handle(info, owed, ticket, arrived, permit)));
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        let polled =
            std::panic::catch_unwind(AssertUnwindSafe(|| match Pin::as_mut(&mut *slot).as_pin_mut() {
                Some(f) => f.poll(&mut cx),
                None => Poll::Ready(false),
            }));
        match polled {
            Ok(Poll::Ready(ok)) => {
                // Finished: dropped in place, and the box kept for the next request, with the
                // info (which the next request reuses only if nothing else holds it then: a
                // listener may have kept its context; not checked here, once is enough).
                Pin::as_mut(&mut *slot).set(None);
                kit.put(slot, Some(info_back));
                Started::Done(ok)
            }
            Ok(Poll::Pending) => {
                // The future goes on in its task, in its box; the spare gets an empty box now
                // (the one allocation a request made before), so that its holder is kept.
                let mut running = std::mem::replace(&mut *slot, Box::pin(None));
                drop(info_back);
                kit.put(slot, None);
                Started::Running(tokio::spawn(async move {
                    match running.as_mut().as_pin_mut() {
                        Some(f) => f.await,
                        None => false,
                    }
                }))
            }
            // Listeners' panics are caught inside; this is one of the dispatcher's own,
            // isolated as a task's would be (the request's slot is freed with it: the box and
            // the future in it are dropped).
            Err(p) => {
                tracing::error!(message = %panic_message(&*p), "a request panicked");
                Started::Done(false)
            }
        }
    }

    /// An event's empty ack through [`Acknowledger::ack`]: sent if it completes at once,
    /// else awaited in the request's task.
    fn send_event_ack(ack: Box<dyn Acknowledger>) -> Owed {
        let mut sending = ack.ack(None);
        let mut cx = TaskContext::from_waker(std::task::Waker::noop());
        match sending.as_mut().poll(&mut cx) {
            Poll::Ready(sent) => Owed::Sent(sent),
            Poll::Pending => Owed::Sending(sending),
        }
    }
}

/// One spare box for a request's future ([`App::start_inline`](crate::app::App::start_inline))
/// and one spare request info ([`Kit`]), held by a request while it starts (one lock): a
/// request that finishes in its first poll leaves the box empty for the next, so the common
/// case allocates nothing for its future; one that has to wait takes it to its task and leaves
/// a new empty one (one allocation per such request, as before). The info is left too, and
/// reused by the next request when nothing else holds it then (a listener may keep its
/// context): what was read from its payload is dropped then, the rest replaced; at most one
/// request's is kept. A request that finds the spare held (another receiver's, or a request
/// started from inside a listener) gets a box and an info of its own, and the spare keeps at
/// most one of each. The Socket Mode pump keeps a [`Kit`] of its own
/// ([`Dispatcher::try_dispatch`]): no lock at all.
#[derive(Default)]
pub(super) struct Spare(std::sync::Mutex<Kit>);

/// A spare box and info ([`Spare`]). The box is typed at run time (the future's type has no
/// name: it is `Inner::handle`'s): a `Pin<Box<Option<F>>>` in a holder made once, behind
/// `dyn Any`.
#[derive(Default)]
pub(crate) struct Kit {
    future: Option<Box<dyn std::any::Any + Send>>,
    info: Option<Arc<RequestInfo>>,
}

/// A box for a request's future, empty between requests (the future is dropped in place).
type Slot<F> = Box<Pin<Box<Option<F>>>>;

/// The spare box as taken, still untyped (`None`: none yet).
type Untyped = Option<Box<dyn std::any::Any + Send>>;

impl Spare {
    /// The spare, unless another request holds it (or a panic left it poisoned: then every
    /// request has a box of its own, as before there was a spare).
    #[inline(always)]
    fn hold(&self) -> Option<std::sync::MutexGuard<'_, Kit>> {
        self.0.try_lock().ok()
    }
}

impl Kit {
    /// The taken box for a future of type `F`, or a new one.
    #[inline(always)]
    fn slot<F: Future + Send + 'static>(future: Untyped) -> Slot<F> {
        match future.map(|b| b.downcast::<Pin<Box<Option<F>>>>()) {
            Some(Ok(slot)) => slot,
            _ => Box::new(Box::pin(None)),
        }
    }

    #[inline(always)]
    fn put<F: Future + Send + 'static>(&mut self, slot: Slot<F>, info: Option<Arc<RequestInfo>>) {
        if self.future.is_none() {
            self.future = Some(slot);
        }
        if self.info.is_none() {
            self.info = info;
        }
    }
}
