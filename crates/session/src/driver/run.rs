//! The driver's loop: one task that owns the machine, the sockets' write halves and readers,
//! and hands events to the application.

use super::call::call_rtm_connect;
use super::config::DriverConfig;
use super::conns::{Conns, spawn_call};
use super::drive::{self, BATCH, Driven, Publisher, drive, next_session_id};
use super::handle::{Command, Delivery, SessionEventStream, SessionHandle, Status};
use super::outbox::{Outbox, Weighed};
use crate::common::IdMap;
use crate::rtm::{
    ConnId, ConnectFailure, Reason, RequestId, RtmAck, RtmInput, RtmOutput, SendError, Session, SessionEvent,
};
use fastwebsockets::{Frame, Payload};
use slack_rtm_codec::{ConnectConfig, ConnectResponse, DynHttpTransport, Token};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Spawns the loop of a new session on `runtime`.
pub(crate) fn spawn(
    config: DriverConfig,
    runtime: &tokio::runtime::Handle,
) -> (SessionHandle, SessionEventStream) {
    let capacity = config.session.sending.queue_capacity.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(capacity));
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (mut conns, sock_rx) = Conns::new(config.common.socket_open(), config.common.write_timeout);
    let (connect_tx, connect_rx) = mpsc::channel(4);
    let (events, batches) = Outbox::new(config.common.capacity, BATCH, config.common.capacity_bytes);
    conns.readers.hold_while_spent(events.budget());
    let (status_tx, status_rx) = watch::channel(Status::new());
    let machine = Session::new(config.session, Instant::now());
    let lp = Loop {
        machine,
        token: config.token,
        transport: config.transport,
        connect_cfg: config.connect,
        call_timeout: config.common.call_timeout,
        connect_tx,
        conns,
        waiters: IdMap::default(),
        events,
        status: Publisher::new(Status::new(), status_tx),
        permits: permits.clone(),
        connect_task: None,
        calls: 0,
    };
    // One span per session: its id now, its team once connected.
    let span = tracing::info_span!("rtm_session", session = next_session_id(), team = tracing::field::Empty);
    runtime.spawn(drive(lp, cmd_rx, sock_rx, connect_rx).instrument(span));
    let handle = SessionHandle::new(cmd_tx, permits, status_rx);
    (handle, SessionEventStream { batches })
}

struct Waiter {
    reply: oneshot::Sender<Result<RtmAck, SendError>>,
    _permit: OwnedSemaphorePermit,
}

struct Loop {
    machine: Session,
    token: Token,
    transport: Arc<dyn DynHttpTransport>,
    connect_cfg: ConnectConfig,
    call_timeout: Duration,
    connect_tx: mpsc::Sender<Box<Result<ConnectResponse, ConnectFailure>>>,
    /// The sockets: write halves, readers, close tasks.
    conns: Conns<RtmInput>,
    waiters: IdMap<RequestId, Waiter>,
    /// Events not yet handed to the application.
    events: Outbox<Delivery>,
    /// The status published to the handles.
    status: Publisher<Status>,
    permits: Arc<Semaphore>,
    connect_task: Option<JoinHandle<()>>,
    /// Opening calls started whose result was not taken yet.
    calls: usize,
}

impl Loop {
    fn call_connect(&mut self) {
        let (transport, token, config) =
            (self.transport.clone(), self.token.clone(), self.connect_cfg.clone());
        let call =
            async move { call_rtm_connect(&*transport, &token, &config).await.map_err(ConnectFailure::from) };
        self.connect_task = Some(spawn_call("rtm.connect", call, self.call_timeout, self.connect_tx.clone()));
        self.calls += 1;
    }
}

impl Loop {
    /// The outputs that come once per connection or rarer (every one but a send, a completion
    /// and a raw event).
    #[cold]
    fn rare_output(&mut self, output: RtmOutput) {
        match output {
            RtmOutput::CallConnect => self.call_connect(),
            RtmOutput::OpenSocket { conn, url } => self.conns.start(conn, url),
            RtmOutput::Close { conn, code } => self.conns.close(conn, code),
            RtmOutput::Event(e) => {
                if let SessionEvent::Connected { team, .. } = &*e {
                    tracing::Span::current().record("team", tracing::field::display(team.id.as_str()));
                }
                self.status.update(|s| s.note(&e));
                self.deliver(Delivery::Event(e));
            }
            // Never passed here: `drain_outputs` carries these out itself.
            RtmOutput::Send { .. } | RtmOutput::RawEvent { .. } | RtmOutput::Completed { .. } => {}
        }
    }

    /// A request's socket is not open (or already gone): the machine requeues the request.
    #[cold]
    fn not_open(&mut self, conn: ConnId) {
        self.machine.handle(
            RtmInput::SocketClosed { conn, reason: Box::new(Reason::Io("the socket is not open".into())) },
            Instant::now(),
        );
    }

    /// Queues an event for the application in batches of at most [`BATCH`]: the channel's bound
    /// is counted in batches, so it then holds in events (one turn reads up to 256 frames; in
    /// batches of that size the channel held four times its capacity).
    fn deliver(&mut self, d: Delivery) {
        self.events.push(d);
        if self.events.batch_is_full() {
            self.events.flush();
            drive::tell_backpressure(self);
        }
    }
}

impl Weighed for Delivery {
    fn weight(&self) -> usize {
        match self {
            Delivery::Raw(frame) => frame.as_str().len(),
            Delivery::Event(_) => 0,
        }
    }
}

impl Driven for Loop {
    type M = Session;
    type Cmd = Command;
    type Call = Result<ConnectResponse, ConnectFailure>;
    type Item = Delivery;
    type Status = Status;

    fn machine(&mut self) -> &mut Session {
        &mut self.machine
    }
    fn machine_ref(&self) -> &Session {
        &self.machine
    }
    fn conns(&mut self) -> &mut Conns<RtmInput> {
        &mut self.conns
    }
    fn outbox(&mut self) -> &mut Outbox<Delivery> {
        &mut self.events
    }
    fn publisher(&mut self) -> &mut Publisher<Status> {
        &mut self.status
    }

    fn awaiting_call(&self) -> bool {
        self.calls > 0
    }

    fn on_call(&mut self, result: Self::Call, now: Instant) {
        self.connect_task = None;
        self.calls = self.calls.saturating_sub(1);
        self.machine.handle(RtmInput::ConnectResult(Box::new(result)), now);
    }

    async fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Submit { msg, reply, permit } => match self.machine.submit(msg, now) {
                Ok(id) => {
                    self.waiters.insert(id, Waiter { reply, _permit: permit });
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Command::Shutdown { grace } => self.machine.shutdown(now, grace),
        }
    }

    async fn drain_outputs(&mut self) {
        // The outputs of a round trip (a send, a completion) and of an event read here; the
        // others out of line, so this poll runs through fewer cache lines (docs/perf/rtt7.md).
        while let Some(output) = self.machine.poll_output() {
            match output {
                RtmOutput::Send { conn, text, id } => {
                    if drive::write(self, conn, Frame::text(Payload::Owned(text.into_bytes()))).await {
                        self.machine.handle(RtmInput::Written { conn, id }, Instant::now());
                    } else if !self.conns.knows(conn) {
                        self.not_open(conn);
                    }
                }
                RtmOutput::RawEvent { frame } => self.deliver(Delivery::Raw(frame)),
                RtmOutput::Completed { request, result } => {
                    if let Some(w) = self.waiters.remove(&request) {
                        let _ = w.reply.send(result);
                    }
                }
                other => self.rare_output(other),
            }
        }
    }

    async fn finish(mut self) {
        self.permits.close();
        if let Some(t) = self.connect_task.take() {
            t.abort();
        }
        for (_, w) in self.waiters.drain() {
            let _ = w.reply.send(Err(SendError::Stopped));
        }
        // Close frames are written before the handles learn the session stopped, so a program
        // that exits right after `shutdown().await` still closes its sockets cleanly.
        self.conns.close_all().await;
        self.publish();
        self.events.linger().await;
        tracing::debug!("session loop finished");
    }
}

impl super::drive::Published for Status {
    fn state_mut(&mut self) -> &mut crate::common::State {
        &mut self.state
    }
}
