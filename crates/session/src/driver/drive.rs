//! The one driver loop: a task that owns a machine (RTM's or Socket Mode's, behind [`Driven`])
//! and, through [`Conns`] and [`Outbox`], its sockets and its hand-off to the application.
//! Each turn reads what the sockets have (up to the channel's room), the timer, a command or a
//! call's result; then drains the machine's outputs, hands over what it produced and publishes
//! the status.

use super::conns::{Conns, Outbox};
use super::run::SOCKET_MESSAGES_PER_TURN;
use super::socket::{FromSocket, Inputs};
use crate::machine::{ConnId, Reason, State};
use fastwebsockets::Frame;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The machine's inputs from the sockets.
pub(crate) type In<L> = <<L as Driven>::P as Inputs>::Input;

/// A loop's machine and what is particular to it; [`drive`] does the rest.
pub(crate) trait Driven: Send + Sized + 'static {
    /// How socket reads become the machine's inputs.
    type P: Inputs;
    /// What handles send to the loop.
    type Cmd: Send + 'static;
    /// The result of the opening call (`rtm.connect`, `apps.connections.open`).
    type Call: Send + 'static;
    /// What the application receives.
    type Item: Send + 'static;

    /// The sockets.
    fn conns(&mut self) -> &mut Conns<Self::P>;
    /// The hand-off to the application.
    fn outbox(&mut self) -> &mut Outbox<Self::Item>;
    /// The machine's state.
    fn state(&self) -> State;
    /// The machine's next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The machine's deadlines have passed.
    fn handle_timeout(&mut self, now: Instant);
    /// Feeds the machine.
    fn handle(&mut self, input: In<Self>, now: Instant);
    /// The opening call answered.
    fn on_call(&mut self, result: Self::Call, now: Instant);
    /// Stops at once (every handle and the stream are gone).
    fn shutdown_now(&mut self, now: Instant);
    /// A handle's command.
    fn on_command(&mut self, cmd: Self::Cmd) -> impl Future<Output = ()> + Send;
    /// Carries out every output of the machine.
    fn drain_outputs(&mut self) -> impl Future<Output = ()> + Send;
    /// Publishes the status to the handles if it changed.
    fn publish(&mut self);
    /// The machine stopped: resolves what is pending, closes the sockets, hands over the rest.
    fn finish(self) -> impl Future<Output = ()> + Send;
}

/// The plumbing of a [`Driven`] loop whose fields are named `machine`, `conns`, `outbox`
/// (given), `status`, `status_changed` and `status_tx`: the methods that only delegate.
macro_rules! driven_plumbing {
    ($outbox:ident) => {
        fn conns(&mut self) -> &mut $crate::driver::conns::Conns<Self::P> {
            &mut self.conns
        }
        fn outbox(&mut self) -> &mut $crate::driver::conns::Outbox<Self::Item> {
            &mut self.$outbox
        }
        fn state(&self) -> $crate::machine::State {
            self.machine.state()
        }
        fn poll_timeout(&self) -> Option<std::time::Instant> {
            self.machine.poll_timeout()
        }
        fn handle_timeout(&mut self, now: std::time::Instant) {
            self.machine.handle_timeout(now);
        }
        fn handle(&mut self, input: $crate::driver::drive::In<Self>, now: std::time::Instant) {
            self.machine.handle(input, now);
        }
        fn shutdown_now(&mut self, now: std::time::Instant) {
            self.machine.shutdown(now, std::time::Duration::ZERO);
        }
        fn publish(&mut self) {
            let state = self.machine.state();
            if state != self.status.state || self.status_changed {
                self.status.state = state;
                self.status_changed = false;
                self.status_tx.send_replace(self.status.clone());
            }
        }
    };
}
pub(crate) use driven_plumbing;

/// Runs `lp` until its machine stops.
pub(crate) async fn drive<L: Driven>(
    mut lp: L,
    mut cmd_rx: mpsc::UnboundedReceiver<L::Cmd>,
    mut sock_rx: mpsc::Receiver<FromSocket<In<L>>>,
    mut call_rx: mpsc::Receiver<L::Call>,
) {
    let mut inbox = Vec::with_capacity(SOCKET_MESSAGES_PER_TURN);
    let sleep = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(sleep);
    let mut armed: Option<Instant> = None;
    let mut cmds_open = true;
    let mut orphaned = false;
    // A second sender, so waiting for room does not borrow the loop.
    let out_tx = lp.outbox().sender();
    lp.drain_outputs().await;
    flush(&mut lp);
    while lp.state() != State::Stopped {
        let next = lp.poll_timeout();
        if next != armed {
            if let Some(t) = next {
                sleep.as_mut().reset(tokio::time::Instant::from_std(t));
            }
            armed = next;
        }
        let blocked = lp.outbox().is_blocked();
        tokio::select! {
            biased;
            // First, so every turn reads what the sockets have (up to the channel's room)
            // before handling it. Never completes.
            () = std::future::poll_fn(|cx| lp.conns().readers.poll(cx)) => {}
            _ = &mut sleep, if armed.is_some() => {
                armed = None;
                lp.handle_timeout(Instant::now());
            }
            cmd = cmd_rx.recv(), if cmds_open => match cmd {
                Some(c) => lp.on_command(c).await,
                None => cmds_open = false,
            },
            // Every handle is gone, and now the stream too (in either order).
            () = out_tx.closed(), if !cmds_open && !orphaned => {
                orphaned = true;
                tracing::debug!("every handle and the stream are gone: shutting down");
                lp.shutdown_now(Instant::now());
            }
            Some(result) = call_rx.recv() => lp.on_call(result, Instant::now()),
            permit = out_tx.reserve(), if blocked => {
                if !lp.outbox().unblock(permit) && !cmds_open {
                    lp.shutdown_now(Instant::now());
                }
                lp.handle(L::P::backpressure(false), Instant::now());
            }
            _ = sock_rx.recv_many(&mut inbox, SOCKET_MESSAGES_PER_TURN), if !blocked => {
                let now = Instant::now();
                let mut batch = std::mem::take(&mut inbox);
                for msg in batch.drain(..) {
                    on_socket(&mut lp, msg, now).await;
                }
                inbox = batch;
            }
        }
        lp.drain_outputs().await;
        flush(&mut lp);
        // `Stopped` is published by `finish`, once the sockets are closed.
        if lp.state() != State::Stopped {
            lp.publish();
        }
    }
    drop(out_tx);
    lp.finish().await;
}

/// What a reader reported.
async fn on_socket<L: Driven>(lp: &mut L, msg: FromSocket<In<L>>, now: Instant) {
    match msg {
        FromSocket::Opened(conn, writer) => {
            if lp.conns().opened(conn, writer) {
                lp.handle(L::P::opened(conn), now);
            }
        }
        FromSocket::Inputs(inputs) => {
            for input in inputs {
                lp.handle(input, now);
            }
        }
        FromSocket::Input(input) => {
            if let Some((conn, reason)) = L::P::closed_reason(&input) {
                lp.conns().ended(conn, reason);
            }
            lp.handle(input, now);
        }
        FromSocket::Control(conn, frame) => {
            let (frame, activity) = Conns::<L::P>::control(frame);
            write(lp, conn, frame).await;
            if activity {
                lp.handle(L::P::activity(conn), now);
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
            lp.handle(L::P::closed(conn, Reason::Io(error)), Instant::now());
            false
        }
    }
}

/// Hands over what the machine produced; a full channel turns backpressure on.
fn flush<L: Driven>(lp: &mut L) {
    if lp.outbox().flush() {
        lp.handle(L::P::backpressure(true), Instant::now());
    }
}
