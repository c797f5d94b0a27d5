//! How a request takes its slot and starts: waiting for a slot ([`Dispatcher::dispatch`]) or
//! taking a free one at once ([`Dispatcher::try_dispatch`]), the event's ack, the request's
//! future run inline or on its task.

use super::{Dispatcher, OrderTicket, Owed, ShuttingDown, panic_message};
use crate::app::context::RequestInfo;
use crate::app::middleware::BoxFuture;
use crate::app::receiver::{Acknowledger, AppRequest, RequestKind};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context as TaskContext, Poll};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// What [`Dispatcher::try_dispatch`] did with a request.
pub(crate) enum TryDispatch<A> {
    /// Handed over: it holds a slot.
    Taken,
    /// Refused: the app is shutting down.
    ShuttingDown,
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
        let info = Arc::new(RequestInfo::new(request));
        // In arrival order: the ticket is taken before waiting for a slot.
        let ticket = self.ticket(&info);
        let permit = match self.inner.permits.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return Err(ShuttingDown),
        };
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ShuttingDown);
        }
        Ok(self.launch(info, ack, ticket, arrived, permit))
    }

    /// [`Dispatcher::dispatch`] when a slot is free now, without a future of its own (a
    /// receiver's loop calls it first: no future built, moved and polled per request); the
    /// request and its ack back, untouched, when no slot is free (then `dispatch` waits).
    pub(crate) fn try_dispatch<A: Acknowledger>(&self, (request, ack): (AppRequest, A)) -> TryDispatch<A> {
        if self.inner.closed.load(Ordering::Acquire) {
            return TryDispatch::ShuttingDown;
        }
        let Ok(permit) = self.inner.permits.clone().try_acquire_owned() else {
            return TryDispatch::Full(request, ack);
        };
        let arrived = (request.kind != RequestKind::EventsApi).then(Instant::now);
        let info = Arc::new(RequestInfo::new(request));
        // No wait between the ticket and the slot: the arrival order is kept as in `start`.
        let ticket = self.ticket(&info);
        self.launch(info, ack, ticket, arrived, permit);
        TryDispatch::Taken
    }

    fn ticket(&self, info: &RequestInfo) -> Option<OrderTicket> {
        if !self.inner.config.ordered {
            return None;
        }
        info.meta().channel_id.clone().map(|key| self.inner.ticket(key))
    }

    /// The request holds its slot: acks an event, then runs the request (inline first with
    /// [`App::start_inline`](crate::app::App::start_inline), else on its own task).
    fn launch<A: Acknowledger>(
        &self,
        info: Arc<RequestInfo>,
        ack: A,
        ticket: Option<OrderTicket>,
        arrived: Option<Instant>,
        permit: OwnedSemaphorePermit,
    ) -> Started {
        // An event is acked now that the app took it (it holds a slot), before its task
        // exists: an ack that completes at once (a Socket Mode session's queued ack, an HTTP
        // response handed over) costs no slot of its own and no await in the task.
        let owed = if info.kind == RequestKind::EventsApi {
            let mut ack = ack;
            if let Some(sent) = ack.ack_empty_now() {
                // Sent by that call: `ack` is dropped unused.
                Owed::Sent(sent)
            } else {
                Self::send_event_ack(Box::new(ack))
            }
        } else {
            Owed::Listener(Box::new(ack))
        };
        let inner = self.inner.clone();
        // Boxed: the request's future is a few KB, and the runtime moves a task's future
        // several times while spawning and finishing it (a copy each time); a box moves as
        // one pointer.
        let mut handled: BoxFuture<bool> = Box::pin(inner.handle(info, owed, ticket, arrived, permit));
        if self.inner.config.start_inline {
            // Polled once here; a request that has to wait goes on in its own task, whose first
            // poll registers that task's waker (a future keeps only the latest waker).
            let mut cx = TaskContext::from_waker(std::task::Waker::noop());
            match std::panic::catch_unwind(AssertUnwindSafe(|| handled.as_mut().poll(&mut cx))) {
                Ok(Poll::Ready(ok)) => return Started::Done(ok),
                Ok(Poll::Pending) => {}
                // Listeners' panics are caught inside; this is one of the dispatcher's own,
                // isolated as a task's would be (the request's slot is freed with it).
                Err(p) => {
                    tracing::error!(message = %panic_message(&*p), "a request panicked");
                    return Started::Done(false);
                }
            }
        }
        Started::Running(tokio::spawn(handled))
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
