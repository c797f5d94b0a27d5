//! The RTM socket: upgrade, `hello`, client messages, fan-out, faults.
//!
//! Each connection has two tasks: the reader ([`crate::wire::read_loop`]) and the *actor*, which owns the write half
//! and all per-connection state; it waits (in a `select!` over cancel-safe channel receives and
//! timers only) for client frames, commands from the handle and other connections, and timers.
//! Output is appended to one buffer as complete WebSocket frames and written with a single
//! `write_all` + `flush` per wake-up, so bursts are batched into few system calls.

mod client;

pub(crate) use client::{MessageEventOut, PostError};

use crate::faults::{Cmd, ReplyFault};
use crate::record::{CloseReason, ConnectionId, FrameKind};
use crate::wire::{CLOSE_WAIT, Inbound, Io, push_close, push_frame, sleep_until, tick};
use crate::{Admission, Shared};
use bytes::Bytes;
use fastwebsockets::OpCode;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, WriteHalf};
use tokio::sync::{Notify, mpsc};

const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Window over which send-rate refusals are counted for the disconnect.
pub(super) const REFUSAL_WINDOW: Duration = Duration::from_secs(10);
/// Most ids of one `presence_query` that are answered.
pub(super) const MAX_QUERY_IDS: usize = 500;

static HELLO: &[u8] = br#"{"type":"hello"}"#;
static GOODBYE: &[u8] = br#"{"type":"goodbye"}"#;
static MIGRATION: &[u8] = br#"{"type":"team_migration_started"}"#;
static EXPIRED: &[u8] = br#"{"type":"error","error":{"code":1,"msg":"Socket URL has expired"}}"#;

/// Answers an upgraded connection whose socket URL was unknown, reused or expired: an `error`
/// event with code 1, then a close.
pub(crate) async fn reject_expired(io: Io) {
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut out = Vec::with_capacity(128);
    push_frame(&mut out, OpCode::Text, EXPIRED);
    push_close(&mut out, 1000, "");
    if wr.write_all(&out).await.is_err() || wr.flush().await.is_err() {
        return;
    }
    // Give the client a moment to answer the close, then drop the connection.
    let mut sink = [0u8; 512];
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Ok(n) = rd.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Runs one admitted connection until it ends, then records why.
pub(crate) async fn run_connection(shared: Arc<Shared>, io: Io, admission: Admission) {
    let (wr, in_rx, _reader) = crate::wire::start_reader(io, MAX_FRAME_BYTES);

    let (tx, rx) = mpsc::channel(shared.config.queue_capacity);
    let overflow = Arc::new(Notify::new());
    let id = shared.register(&admission, tx.clone(), overflow.clone());
    tracing::debug!(conn = %id, user = %admission.user, "RTM connection open");
    let mut conn = Conn::new(shared.clone(), id, admission, tx.downgrade(), wr);
    drop(tx);
    let reason = conn.run(rx, in_rx, overflow).await;
    tracing::debug!(conn = %id, ?reason, "RTM connection closed");
    shared.unregister(id, reason);
}

pub(super) enum FaultState {
    None,
    Withhold(u32),
    Delay(Duration),
    Reverse(u32, Vec<Bytes>),
}

pub(super) struct Conn {
    shared: Arc<Shared>,
    id: ConnectionId,
    admission: Admission,
    self_tx: mpsc::WeakSender<Cmd>,
    wr: Option<WriteHalf<Io>>,
    out: Vec<u8>,
    hello_sent: bool,
    hello_pending: bool,
    stalled: bool,
    held: VecDeque<Bytes>,
    tokens: f64,
    refill_at: Instant,
    refusals: VecDeque<Instant>,
    typing: HashMap<String, Instant>,
    fault: FaultState,
    withheld: Vec<Bytes>,
    #[cfg(feature = "blast")]
    blast_remaining: u64,
    #[cfg(feature = "blast")]
    blast_seq: u64,
    goodbye_deadline: Option<tokio::time::Instant>,
    ws_ping: Option<tokio::time::Interval>,
}

impl Conn {
    fn new(
        shared: Arc<Shared>,
        id: ConnectionId,
        admission: Admission,
        self_tx: mpsc::WeakSender<Cmd>,
        wr: WriteHalf<Io>,
    ) -> Self {
        let burst = shared.config.send_rate.map_or(0.0, |r| f64::from(r.burst));
        let ws_ping = shared.config.ws_ping_interval.filter(|d| !d.is_zero()).map(|d| {
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        #[cfg(feature = "blast")]
        let blast_remaining = shared.config.blast.unwrap_or(0);
        Self {
            shared,
            id,
            admission,
            self_tx,
            wr: Some(wr),
            out: Vec::with_capacity(16 * 1024),
            hello_sent: false,
            hello_pending: false,
            stalled: false,
            held: VecDeque::new(),
            tokens: burst,
            refill_at: Instant::now(),
            refusals: VecDeque::new(),
            typing: HashMap::new(),
            fault: FaultState::None,
            withheld: Vec::new(),
            #[cfg(feature = "blast")]
            blast_remaining,
            #[cfg(feature = "blast")]
            blast_seq: 0,
            goodbye_deadline: None,
            ws_ping,
        }
    }

    /// Writes the next chunk of the blast (benchmarks, feature `blast`).
    #[cfg(feature = "blast")]
    fn write_blast_chunk(&mut self) {
        let n = self.blast_remaining.min(crate::blast_pacing::frames_per_turn(&self.shared.config));
        if let Some(blast) = self.shared.blast.as_ref() {
            blast.write(&mut self.out, &self.shared.clock, self.blast_seq, n);
        }
        self.blast_seq += n;
        self.blast_remaining -= n;
    }

    /// Without the `blast` feature there is never a blast to write.
    #[cfg(not(feature = "blast"))]
    fn write_blast_chunk(&mut self) {}

    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Cmd>,
        mut in_rx: mpsc::Receiver<Inbound>,
        overflow: Arc<Notify>,
    ) -> CloseReason {
        match self.admission.hello {
            crate::HelloMode::Immediate => self.send_hello(),
            crate::HelloMode::Delay(d) => {
                self.hello_pending = true;
                let tx = self.self_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    if let Some(tx) = tx.upgrade() {
                        let _ = tx.send(Cmd::Hello).await;
                    }
                });
            }
            _ => {}
        }
        loop {
            if let Err(reason) = self.flush().await {
                return reason;
            }
            #[cfg(feature = "blast")]
            let blast_ready = self.blast_remaining > 0 && self.hello_sent && !self.stalled;
            #[cfg(not(feature = "blast"))]
            let blast_ready = false;
            let step = tokio::select! {
                biased;
                _ = overflow.notified() => Some(CloseReason::SlowConsumer),
                cmd = rx.recv() => match cmd {
                    None => Some(CloseReason::Shutdown),
                    Some(cmd) => {
                        let mut r = self.on_cmd(cmd);
                        let mut budget = 64;
                        while r.is_none() && budget > 0 {
                            match rx.try_recv() {
                                Ok(cmd) => r = self.on_cmd(cmd),
                                Err(_) => break,
                            }
                            budget -= 1;
                        }
                        r
                    }
                },
                msg = in_rx.recv(), if !self.stalled => match msg {
                    None => Some(CloseReason::ClientGone("reader stopped".into())),
                    Some(msg) => {
                        let mut r = self.on_inbound(msg);
                        let mut budget = 64;
                        while r.is_none() && budget > 0 && !self.stalled {
                            match in_rx.try_recv() {
                                Ok(msg) => r = self.on_inbound(msg),
                                Err(_) => break,
                            }
                            budget -= 1;
                        }
                        r
                    }
                },
                _ = tick(&mut self.ws_ping), if !self.stalled => {
                    push_frame(&mut self.out, OpCode::Ping, b"emulator");
                    None
                },
                _ = sleep_until(self.goodbye_deadline), if self.goodbye_deadline.is_some() => {
                    push_close(&mut self.out, 1001, "goodbye");
                    Some(CloseReason::ServerClosed(1001))
                },
                _ = std::future::ready(()), if blast_ready => {
                    self.write_blast_chunk();
                    None
                },
            };
            if let Some(reason) = step {
                return self.finish(reason, &mut in_rx).await;
            }
        }
    }

    async fn finish(&mut self, reason: CloseReason, in_rx: &mut mpsc::Receiver<Inbound>) -> CloseReason {
        crate::wire::finish(&mut self.wr, &mut self.out, self.shared.config.write_timeout, reason, in_rx)
            .await
    }

    async fn flush(&mut self) -> Result<(), CloseReason> {
        crate::wire::write_out(&mut self.wr, &mut self.out, self.shared.config.write_timeout).await
    }

    fn send_hello(&mut self) {
        push_frame(&mut self.out, OpCode::Text, HELLO);
        self.hello_sent = true;
        self.hello_pending = false;
        self.release_held();
    }

    fn release_held(&mut self) {
        if self.stalled || self.hello_pending {
            return;
        }
        while let Some(ev) = self.held.pop_front() {
            push_frame(&mut self.out, OpCode::Text, &ev);
        }
    }

    fn push_event(&mut self, ev: &[u8]) -> Option<CloseReason> {
        if self.stalled || self.hello_pending {
            if self.held.len() >= self.shared.config.queue_capacity {
                return Some(CloseReason::SlowConsumer);
            }
            self.held.push_back(Bytes::copy_from_slice(ev));
        } else {
            push_frame(&mut self.out, OpCode::Text, ev);
        }
        None
    }

    fn on_cmd(&mut self, cmd: Cmd) -> Option<CloseReason> {
        match cmd {
            Cmd::Event(ev) => {
                if self.stalled || self.hello_pending {
                    if self.held.len() >= self.shared.config.queue_capacity {
                        return Some(CloseReason::SlowConsumer);
                    }
                    self.held.push_back(ev);
                } else {
                    push_frame(&mut self.out, OpCode::Text, &ev);
                }
            }
            Cmd::Raw(frame) => return crate::wire::push_raw(&mut self.out, frame),
            Cmd::Hello => {
                if !self.hello_sent {
                    self.send_hello();
                }
            }
            Cmd::Goodbye => {
                push_frame(&mut self.out, OpCode::Text, GOODBYE);
                if let Some(grace) = self.shared.config.goodbye_grace {
                    self.goodbye_deadline = Some(tokio::time::Instant::now() + grace);
                }
            }
            Cmd::TeamMigration => {
                push_frame(&mut self.out, OpCode::Text, MIGRATION);
                push_close(&mut self.out, 1001, "team migration");
                return Some(CloseReason::ServerClosed(1001));
            }
            Cmd::Close(code, reason) => {
                push_close(&mut self.out, code, &reason);
                return Some(CloseReason::ServerClosed(code));
            }
            Cmd::Drop => return Some(CloseReason::Dropped),
            Cmd::Stall(on) => {
                self.stalled = on;
                self.release_held();
            }
            Cmd::ReplyFault(f) => {
                self.fault = match f {
                    ReplyFault::Withhold(n) if n > 0 => FaultState::Withhold(n),
                    ReplyFault::Delay(d) if !d.is_zero() => FaultState::Delay(d),
                    ReplyFault::Reverse(n) if n > 1 => FaultState::Reverse(n, Vec::new()),
                    _ => FaultState::None,
                }
            }
            Cmd::ReleaseWithheld => {
                for r in std::mem::take(&mut self.withheld) {
                    push_frame(&mut self.out, OpCode::Text, &r);
                }
            }
            Cmd::DelayedReply(r) => push_frame(&mut self.out, OpCode::Text, &r),
            #[cfg(feature = "blast")]
            Cmd::Blast(n) => self.blast_remaining = self.blast_remaining.saturating_add(n),
            Cmd::Shutdown => return Some(CloseReason::Shutdown),
        }
        None
    }

    fn on_inbound(&mut self, msg: Inbound) -> Option<CloseReason> {
        match msg {
            Inbound::Text(payload) => {
                self.shared.record_frame(self.id, FrameKind::Text, &payload);
                self.on_client_message(&payload)
            }
            Inbound::Binary(payload) => {
                self.shared.record_frame(self.id, FrameKind::Binary, &payload);
                None
            }
            Inbound::Ping(payload) => {
                push_frame(&mut self.out, OpCode::Pong, &payload);
                None
            }
            Inbound::Pong => {
                self.shared.update_conn(self.id, |c| c.ws_pongs += 1);
                None
            }
            other => crate::wire::client_ended(&mut self.out, other),
        }
    }
}
