//! What the application holds: the [`SessionHandle`] (send, shut down, read the published
//! [`Status`]) and the [`SessionEventStream`].

use crate::rtm::{LazySessionEvent, Reason, RtmAck, SendError, SessionEvent, State, StopReason};
use slack_rtm_codec::EventFrame;
use slack_rtm_codec::types::{ClientMessage, SelfInfo, TeamInfo};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot, watch};

/// What the session publishes to every handle, updated by the loop as it happens, whether or not
/// anyone reads the events.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Status {
    /// The overall state.
    pub state: State,
    /// The connecting user, as of the latest connection (`hello`).
    pub self_: Option<SelfInfo>,
    /// The workspace, as of the latest connection.
    pub team: Option<TeamInfo>,
    /// Why the last connection attempt failed or the last connection ended, if one did.
    pub last_problem: Option<Reason>,
    /// Why the session stopped, once it has (as [`SocketModeStatus::stopped`](super::SocketModeStatus::stopped)).
    pub stopped: Option<StopReason>,
}

impl Status {
    pub(crate) fn new() -> Self {
        Self { state: State::Connecting, self_: None, team: None, last_problem: None, stopped: None }
    }

    /// Records what an event says about the session; `true` if anything changed.
    pub(crate) fn note(&mut self, event: &SessionEvent) -> bool {
        match event {
            SessionEvent::Connected { self_, team, .. } => {
                self.self_ = Some(self_.clone());
                self.team = Some(team.clone());
            }
            SessionEvent::Reconnecting { reason, .. } | SessionEvent::Disconnected { reason } => {
                self.last_problem = Some(reason.clone());
            }
            SessionEvent::Stopped { reason } => self.stopped = Some(reason.clone()),
            _ => return false,
        }
        true
    }
}

pub(crate) enum Command {
    Submit {
        msg: ClientMessage,
        reply: oneshot::Sender<Result<RtmAck, SendError>>,
        permit: OwnedSemaphorePermit,
    },
    Shutdown {
        grace: Duration,
    },
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Submit { msg, .. } => write!(f, "Submit({})", msg.kind()),
            Command::Shutdown { grace } => write!(f, "Shutdown({grace:?})"),
        }
    }
}

/// Sends requests and controls the session. Cheap to clone; `Send + Sync`.
///
/// When every handle and the [`SessionEventStream`] are dropped, the session shuts down.
#[derive(Clone, Debug)]
pub struct SessionHandle {
    /// Shared by the clones: a clone (one per `send_message` in the facade) and its drop touch
    /// one count, not the five of a command sender, a semaphore and a status receiver.
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cmd: mpsc::UnboundedSender<Command>,
    permits: Arc<Semaphore>,
    status: watch::Receiver<Status>,
}

impl SessionHandle {
    pub(crate) fn new(
        cmd: mpsc::UnboundedSender<Command>,
        permits: Arc<Semaphore>,
        status: watch::Receiver<Status>,
    ) -> Self {
        Self { shared: Arc::new(Shared { cmd, permits, status }) }
    }

    /// Sends a message and waits for its outcome: the ack (`ts`, echoed text), or why it
    /// failed (see [`SendError::may_have_been_posted`]). Waits for room in the queue first.
    pub async fn send(&self, msg: ClientMessage) -> Result<RtmAck, SendError> {
        self.submit(msg).await?.await
    }

    /// [`send`](Self::send) as a named future that owns the handle (no boxing needed to store
    /// or name it): validates and queues the message when first polled, then waits for its
    /// outcome. Dropping it before it is queued sends nothing; after, the message is still sent
    /// once and only its outcome is not read (as with [`send`](Self::send)).
    pub fn send_owned(self, msg: ClientMessage) -> SendOwned {
        SendOwned { state: SendState::Start(self, msg) }
    }

    /// Queues a message, waiting while the queue is full; returns a future of its outcome.
    pub async fn submit(&self, msg: ClientMessage) -> Result<PendingAck, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        // A free permit is taken at once (the semaphore hands released permits to its waiters
        // first, so this never jumps the queue); only a full queue builds the waiting future.
        let permit = match self.shared.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::Closed) => return Err(SendError::Stopped),
            Err(TryAcquireError::NoPermits) => {
                self.shared.permits.clone().acquire_owned().await.map_err(|_| SendError::Stopped)?
            }
        };
        self.enqueue(msg, permit)
    }

    /// Queues a message, failing with [`SendError::QueueFull`] instead of waiting.
    pub fn try_submit(&self, msg: ClientMessage) -> Result<PendingAck, SendError> {
        msg.validate().map_err(SendError::Invalid)?;
        let permit = self.shared.permits.clone().try_acquire_owned().map_err(|e| match e {
            TryAcquireError::Closed => SendError::Stopped,
            TryAcquireError::NoPermits => SendError::QueueFull,
        })?;
        self.enqueue(msg, permit)
    }

    fn enqueue(&self, msg: ClientMessage, permit: OwnedSemaphorePermit) -> Result<PendingAck, SendError> {
        let (reply, rx) = oneshot::channel();
        self.shared.cmd.send(Command::Submit { msg, reply, permit }).map_err(|_| SendError::Stopped)?;
        Ok(PendingAck { rx })
    }

    /// The session's current state.
    pub fn state(&self) -> State {
        self.shared.status.borrow().state
    }

    /// The connecting user, as of the latest connection.
    pub fn self_info(&self) -> Option<SelfInfo> {
        self.shared.status.borrow().self_.clone()
    }

    /// The workspace, as of the latest connection.
    pub fn team_info(&self) -> Option<TeamInfo> {
        self.shared.status.borrow().team.clone()
    }

    /// The whole published status now.
    pub fn status(&self) -> Status {
        self.shared.status.borrow().clone()
    }

    /// A watch of status changes ([`StatusWatch::changed`](super::StatusWatch::changed)).
    pub fn watch_status(&self) -> super::StatusWatch<Status> {
        super::StatusWatch::new(self.shared.status.clone())
    }

    /// Waits until the status satisfies `pred`, or the session is gone (then the last status).
    pub async fn wait_for_status(&self, pred: impl FnMut(&Status) -> bool) -> Status {
        wait_for(&self.shared.status, pred).await
    }

    /// Waits until the state satisfies `pred` (or the session is gone); returns the state.
    pub async fn wait_for_state(&self, mut pred: impl FnMut(&State) -> bool) -> State {
        let mut rx = self.shared.status.clone();
        match rx.wait_for(|s| pred(&s.state)).await {
            Ok(s) => s.state,
            Err(_) => State::Stopped,
        }
    }

    /// Shuts down gracefully: no new requests; queued ones are still sent for up to `grace`;
    /// then everything outstanding is resolved, sockets are closed with code 1000, and the event
    /// stream ends after [`SessionEvent::Stopped`]. Returns once the session has stopped.
    /// Idempotent; never hangs longer than `grace` plus a short close.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.shared.cmd.send(Command::Shutdown { grace });
        self.wait_for_state(|s| *s == State::Stopped).await;
    }
}

/// The future of [`SessionHandle::send_owned`]: the message's outcome.
#[must_use = "a message is queued only when polled"]
pub struct SendOwned {
    state: SendState,
}

enum SendState {
    /// Not polled yet.
    Start(SessionHandle, ClientMessage),
    /// Waiting for room in a full queue (boxed: built only then).
    Room(Pin<Box<dyn Future<Output = Result<PendingAck, SendError>> + Send>>),
    /// Queued: waiting for the outcome.
    Ack(PendingAck),
    /// The outcome was returned.
    Done,
}

impl fmt::Debug for SendOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            SendState::Start(..) => "start",
            SendState::Room(_) => "waiting for room",
            SendState::Ack(_) => "queued",
            SendState::Done => "done",
        };
        f.debug_struct("SendOwned").field("state", &state).finish()
    }
}

impl Future for SendOwned {
    type Output = Result<RtmAck, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match std::mem::replace(&mut self.state, SendState::Done) {
                SendState::Start(handle, msg) => {
                    if let Err(e) = msg.validate() {
                        return Poll::Ready(Err(SendError::Invalid(e)));
                    }
                    // As `submit`: a free permit at once, else the waiting future.
                    self.state = match handle.shared.permits.clone().try_acquire_owned() {
                        Ok(permit) => match handle.enqueue(msg, permit) {
                            Ok(ack) => SendState::Ack(ack),
                            Err(e) => return Poll::Ready(Err(e)),
                        },
                        Err(TryAcquireError::Closed) => return Poll::Ready(Err(SendError::Stopped)),
                        Err(TryAcquireError::NoPermits) => {
                            SendState::Room(Box::pin(async move { handle.submit(msg).await }))
                        }
                    };
                }
                SendState::Room(mut wait) => match wait.as_mut().poll(cx) {
                    Poll::Ready(Ok(ack)) => self.state = SendState::Ack(ack),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        self.state = SendState::Room(wait);
                        return Poll::Pending;
                    }
                },
                SendState::Ack(mut ack) => match Pin::new(&mut ack).poll(cx) {
                    Poll::Ready(out) => return Poll::Ready(out),
                    Poll::Pending => {
                        self.state = SendState::Ack(ack);
                        return Poll::Pending;
                    }
                },
                // Polled again after its outcome: there is none left to give.
                SendState::Done => return Poll::Ready(Err(SendError::Stopped)),
            }
        }
    }
}

/// The outcome of a submitted request, as a future.
#[derive(Debug)]
pub struct PendingAck {
    rx: oneshot::Receiver<Result<RtmAck, SendError>>,
}

impl Future for PendingAck {
    type Output = Result<RtmAck, SendError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or(Err(SendError::Stopped)))
    }
}

/// What the loop hands to the application: an event, or an ordinary server event still to be
/// decoded (on the application's side, see [`SessionEvent::from_raw`]).
///
/// Decoded events are boxed: most deliveries of a busy session are raw frames (40 bytes), and a
/// batch of a few hundred stays small enough to be recycled by the allocator instead of growing
/// and trimming the heap.
#[derive(Debug)]
pub(crate) enum Delivery {
    Event(Box<SessionEvent>),
    Raw(EventFrame),
}

impl Delivery {
    /// The event, decoding it if needed (on the consumer's task: allocation and release of the
    /// decoded strings happen on the same thread, and in parallel with the socket reader).
    fn into_event(self) -> SessionEvent {
        match self {
            Delivery::Event(e) => *e,
            Delivery::Raw(frame) => SessionEvent::from_raw(&frame),
        }
    }

    /// The item without decoding anything.
    fn into_lazy(self) -> LazySessionEvent {
        match self {
            Delivery::Event(e) => LazySessionEvent::from(*e),
            Delivery::Raw(frame) => LazySessionEvent::from(frame),
        }
    }
}

/// The session's events, in order. Ends (`None`) after [`SessionEvent::Stopped`].
///
/// Ordinary server events are decoded here, as they are taken, on the application's task
/// ([`recv`](Self::recv)), or handed over undecoded ([`recv_lazy`](Self::recv_lazy)).
#[derive(Debug)]
pub struct SessionEventStream {
    pub(crate) batches: super::batches::Batches<Delivery>,
}

impl SessionEventStream {
    /// The next event; `None` once the session has stopped and everything was delivered.
    /// Cancel-safe.
    pub async fn recv(&mut self) -> Option<SessionEvent> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next event.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<SessionEvent>> {
        self.batches.poll_next(cx).map(|d| d.map(Delivery::into_event))
    }

    /// The next event if one is ready now.
    pub fn try_recv(&mut self) -> Option<SessionEvent> {
        self.batches.try_next().map(Delivery::into_event)
    }

    /// Bytes of the frames the session handed over and this stream has not given out yet
    /// (counted per batch of up to 64: a batch's bytes until its last event is taken). The
    /// session stops reading its sockets while this is at
    /// [`LoopConfig::capacity_bytes`](super::LoopConfig::capacity_bytes).
    pub fn queued_bytes(&self) -> usize {
        self.batches.queued_bytes()
    }

    /// The next event with server events left undecoded ([`LazySessionEvent`]); `None` once
    /// the session has stopped and everything was delivered. The same queue as
    /// [`recv`](Self::recv): the two can be mixed, each item is given once. Cancel-safe.
    pub async fn recv_lazy(&mut self) -> Option<LazySessionEvent> {
        std::future::poll_fn(|cx| self.poll_recv_lazy(cx)).await
    }

    /// Polls for the next event, server events undecoded.
    pub fn poll_recv_lazy(&mut self, cx: &mut Context<'_>) -> Poll<Option<LazySessionEvent>> {
        self.batches.poll_next(cx).map(|d| d.map(Delivery::into_lazy))
    }

    /// The next event, server events undecoded, if one is ready now.
    pub fn try_recv_lazy(&mut self) -> Option<LazySessionEvent> {
        self.batches.try_next().map(Delivery::into_lazy)
    }
}

/// Waits until a published status satisfies `pred`, or its session is gone (then the last
/// status): for every handle (RTM's, Socket Mode's).
pub(crate) async fn wait_for<S: Clone>(status: &watch::Receiver<S>, mut pred: impl FnMut(&S) -> bool) -> S {
    let mut rx = status.clone();
    let found = rx.wait_for(|s| pred(s)).await.map(|s| s.clone());
    found.unwrap_or_else(|_| rx.borrow().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clones_share_one_state_and_the_last_one_gone_closes_the_commands() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let (cmd, mut cmd_rx) = mpsc::unbounded_channel();
        let (_status_tx, status) = watch::channel(Status::new());
        let a = SessionHandle::new(cmd, Arc::new(Semaphore::new(1)), status);
        send_sync(&a);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.shared, &b.shared), "a clone is one count");
        drop(a);
        let pending = b.try_submit(ClientMessage::typing("C1")).expect("queued by the clone left");
        assert!(matches!(cmd_rx.recv().await, Some(Command::Submit { .. })));
        drop((b, pending));
        assert!(cmd_rx.recv().await.is_none(), "every handle gone: the loop sees the channel closed");
    }
}
