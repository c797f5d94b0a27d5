//! The one driver loop: a task that owns a machine (RTM's or Socket Mode's, behind [`Driven`])
//! and, through [`Conns`] and [`Outbox`], its sockets and its hand-off to the application.
//! Each turn reads what the sockets have (up to the channel's room), the timer, a command or a
//! call's result; then drains the machine's outputs, hands over what it produced and publishes
//! the status.

use super::conns::Conns;
use super::flag::Gate;
use super::inbox::InboxRx;
use super::outbox::Outbox;
use super::socket::FromSocket;
use super::wake::LoopTimer;
use crate::common::{ConnId, Machine, Reason, SocketInput, State};
use fastwebsockets::Frame;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Most inputs handled (and items batched for the application) per loop turn.
pub(crate) const BATCH: usize = 64;
/// Reader messages handled per loop turn: each can carry a batch of up to 64 inputs, so this
/// bounds one turn's items to about 256 (the loops hand them to the application in batches of
/// at most [`BATCH`], so the hand-off channel, counted in batches, holds its capacity in items).
pub(crate) const SOCKET_MESSAGES_PER_TURN: usize = 4;

/// The next session's id: distinct within the process, so the logs of many sessions (a fleet
/// gateway's, or thousands in one process) can be told apart.
pub(crate) fn next_session_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The machine's inputs.
pub(crate) type In<L> = <<L as Driven>::M as Machine>::Input;

/// A loop's machine and what is particular to it; [`drive`] does the rest.
pub(crate) trait Driven: Send + Sized + 'static {
    /// The sans-IO machine (RTM's or Socket Mode's).
    type M: Machine<Input: Send + 'static> + Send;
    /// What handles send to the loop.
    type Cmd: Send + 'static;
    /// The result of the opening call (`rtm.connect`, `apps.connections.open`).
    type Call: Send + 'static;
    /// What the application receives.
    type Item: super::outbox::Weighed + Send + 'static;
    /// What the handles read.
    type Status: Published;

    /// The machine.
    fn machine(&mut self) -> &mut Self::M;
    /// The machine, to read.
    fn machine_ref(&self) -> &Self::M;
    /// The sockets.
    fn conns(&mut self) -> &mut Conns<In<Self>>;
    /// The hand-off to the application.
    fn outbox(&mut self) -> &mut Outbox<Self::Item>;
    /// The status published to the handles.
    fn publisher(&mut self) -> &mut Publisher<Self::Status>;
    /// The opening call answered.
    fn on_call(&mut self, result: Self::Call, now: Instant);
    /// Whether an opening call was started and its result not taken yet: the loop polls the
    /// calls' channel only then (each call sends exactly one result).
    fn awaiting_call(&self) -> bool;
    /// A handle's command.
    fn on_command(&mut self, cmd: Self::Cmd) -> impl Future<Output = ()> + Send;
    /// Carries out every output of the machine.
    fn drain_outputs(&mut self) -> impl Future<Output = ()> + Send;
    /// [`Driven::drain_outputs`] between two reader messages of one turn: a loop may leave
    /// writes buffered for the turn's end (its last drain is always `drain_outputs`).
    fn drain_within_turn(&mut self) -> impl Future<Output = ()> + Send {
        self.drain_outputs()
    }
    /// The machine stopped: resolves what is pending, closes the sockets, hands over the rest.
    fn finish(self) -> impl Future<Output = ()> + Send;

    /// Feeds the machine.
    fn handle(&mut self, input: In<Self>, now: Instant) {
        self.machine().handle(input, now);
    }
    /// Publishes the status to the handles if it changed.
    fn publish(&mut self) {
        let state = self.machine_ref().state();
        self.publisher().publish(state);
    }
}

/// Where a loop reads its handles' commands: a channel (RTM), or a channel beside a queue of
/// plain acks (Socket Mode).
pub(crate) trait Commands: Send + 'static {
    /// The command.
    type Cmd;
    /// The next command; `None` once every handle is gone and everything was read.
    fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Cmd>>;
    /// The next command if one is there now.
    fn try_recv(&mut self) -> Option<Self::Cmd>;
}

impl<C: Send + 'static> Commands for mpsc::UnboundedReceiver<C> {
    type Cmd = C;

    fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<C>> {
        mpsc::UnboundedReceiver::poll_recv(self, cx)
    }

    fn try_recv(&mut self) -> Option<C> {
        mpsc::UnboundedReceiver::try_recv(self).ok()
    }
}

/// A status the handles read: it carries the machine's [`State`].
pub(crate) trait Published: Clone + Send + Sync + 'static {
    /// The state it shows.
    fn state_mut(&mut self) -> &mut State;
}

/// The status as published (or about to be) to the handles, and whether it changed since.
pub(crate) struct Publisher<S> {
    status: S,
    changed: bool,
    tx: watch::Sender<S>,
}

impl<S: Published> Publisher<S> {
    pub(crate) fn new(status: S, tx: watch::Sender<S>) -> Self {
        Self { status, changed: false, tx }
    }

    /// Updates the status; `f` says whether it changed.
    pub(crate) fn update(&mut self, f: impl FnOnce(&mut S) -> bool) {
        self.changed |= f(&mut self.status);
    }

    /// Sends the status with `state` if anything changed.
    pub(crate) fn publish(&mut self, state: State) {
        if state != *self.status.state_mut() || self.changed {
            *self.status.state_mut() = state;
            self.changed = false;
            self.tx.send_replace(self.status.clone());
        }
    }
}

/// Runs `lp` until its machine stops.
///
/// Not an `async fn`: an `async fn` keeps its arguments twice in its future (where they were
/// passed and where the body moved them), and the loop's state is a few KB that every session
/// holds for its whole life. An `async move` block uses its captures in place.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(crate) fn drive<L: Driven>(
    mut lp: L,
    mut cmd_rx: impl Commands<Cmd = L::Cmd>,
    sock_rx: InboxRx<FromSocket<In<L>>>,
    mut call_rx: mpsc::Receiver<Box<L::Call>>,
) -> impl Future<Output = ()> + Send {
    async move {
        let mut inbox = Vec::with_capacity(1);
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        let mut timer = LoopTimer::new(sleep);
        let mut cmds_open = true;
        // The commands' channel is polled only when its waker was woken (a command sent, the
        // last handle dropped) or after it gave a command: a turn started by a socket or the
        // timer does not pay for a `recv` that finds nothing.
        let mut cmd_gate = Gate::new();
        let mut orphaned = false;
        // A second sender, so waiting for room does not borrow the loop.
        let out_tx = lp.outbox().sender();
        let budget = lp.outbox().budget();
        lp.drain_outputs().await;
        flush(&mut lp);
        while lp.machine_ref().state() != State::Stopped {
            timer.set(lp.machine_ref().poll_timeout());
            let blocked = lp.outbox().is_blocked();
            // The frames handed over and not yet taken reached the byte budget: no more reading
            // until the application takes some (a full channel is waited for first).
            let over = !blocked && lp.outbox().is_over();
            tokio::select! {
                biased;
                // First, so every turn reads what the sockets have (up to the channel's room)
                // before handling it. Never completes.
                () = std::future::poll_fn(|cx| lp.conns().readers.poll(cx)) => {}
                () = std::future::poll_fn(|cx| timer.poll_due(cx)), if timer.is_armed() => {
                    lp.machine().handle_timeout(Instant::now());
                }
                cmd = std::future::poll_fn(|cx| cmd_gate.poll(cx, |cx| cmd_rx.poll_recv(cx))), if cmds_open => match cmd {
                    Some(c) => {
                        lp.on_command(c).await;
                        // The others already queued (acks of many listeners) in the same turn.
                        for _ in 1..BATCH {
                            match cmd_rx.try_recv() {
                                Some(c) => lp.on_command(c).await,
                                None => break,
                            }
                        }
                    }
                    None => cmds_open = false,
                },
                // Every handle is gone, and now the stream too (in either order).
                () = out_tx.closed(), if !cmds_open && !orphaned => {
                    orphaned = true;
                    tracing::debug!("every handle and the stream are gone: shutting down");
                    lp.machine().shutdown(Instant::now(), Duration::ZERO);
                }
                Some(result) = call_rx.recv(), if lp.awaiting_call() => lp.on_call(*result, Instant::now()),
                permit = out_tx.reserve(), if blocked => {
                    if !lp.outbox().unblock(permit) && !cmds_open {
                        lp.machine().shutdown(Instant::now(), Duration::ZERO);
                    }
                    // Backpressure off (unless the budget is spent) at the end of the turn.
                }
                // Woken when the application took enough; checked again after the turn.
                () = budget.room(), if over => {}
                // Never waits: what the readers queued in this poll (or while a write polled them).
                () = sock_rx.ready(), if !blocked && !over => {
                    let now = Instant::now();
                    // One reader message at a time, its outputs handed over before the next:
                    // once the channel is full or the byte budget spent, the rest stays queued
                    // (and the readers wait), so the loop goes past the budget by at most one
                    // reader batch.
                    for i in 0..SOCKET_MESSAGES_PER_TURN {
                        if i > 0 {
                            lp.drain_within_turn().await;
                            if lp.outbox().is_blocked() || lp.outbox().is_over() {
                                break;
                            }
                        }
                        sock_rx.take(&mut inbox, 1);
                        let Some(msg) = inbox.pop() else { break };
                        on_socket(&mut lp, msg, now).await;
                    }
                }
            }
            lp.drain_outputs().await;
            flush(&mut lp);
            // `Stopped` is published by `finish`, once the sockets are closed.
            if lp.machine_ref().state() != State::Stopped {
                lp.publish();
            }
        }
        drop(out_tx);
        // Boxed: needed once, and it holds the loop's state again while it runs.
        Box::pin(lp.finish()).await;
    }
}

/// What a reader reported.
async fn on_socket<L: Driven>(lp: &mut L, msg: FromSocket<In<L>>, now: Instant) {
    match msg {
        FromSocket::Opened(conn, writer) => {
            if lp.conns().opened(conn, writer) {
                lp.handle(In::<L>::opened(conn), now);
            }
        }
        FromSocket::Inputs(inputs) => {
            for input in inputs {
                lp.handle(input, now);
            }
        }
        FromSocket::Input(input) => {
            if let Some((conn, reason)) = input.closed_reason() {
                lp.conns().ended(conn, reason);
            }
            lp.handle(input, now);
        }
        FromSocket::Control(conn, frame) => {
            let (frame, activity) = Conns::<In<L>>::control(frame);
            write(lp, conn, frame).await;
            if activity {
                lp.handle(In::<L>::activity(conn), now);
            }
        }
    }
}

/// Writes one frame; a failure or a stuck write kills the socket (told to the machine).
/// `false` if it was not written.
pub(crate) async fn write<L: Driven>(lp: &mut L, conn: ConnId, frame: Frame<'_>) -> bool {
    match lp.conns().write(conn, frame).await {
        Ok(written) => written,
        Err(error) => {
            lp.handle(In::<L>::closed(conn, Reason::Io(error)), Instant::now());
            false
        }
    }
}

/// Hands over what the machine produced; a full channel or a spent byte budget turns
/// backpressure on, room in both turns it off.
fn flush<L: Driven>(lp: &mut L) {
    lp.outbox().flush();
    tell_backpressure(lp);
}

/// Tells the machine when backpressure changed (it freezes its liveness deadlines meanwhile).
pub(crate) fn tell_backpressure<L: Driven>(lp: &mut L) {
    if let Some(on) = lp.outbox().backpressure_change() {
        lp.handle(In::<L>::backpressure(on), Instant::now());
    }
}
