//! The RTM socket: upgrade, `hello`, client messages, fan-out, faults.
//!
//! Each connection has two tasks. The *reader* owns the read half and does nothing but read
//! frames (fastwebsockets' `read_frame` is not cancel-safe, so it is never raced in a
//! `select!`) and pass them through a small bounded channel. The *actor* owns the write half
//! and all per-connection state; it waits (in a `select!` over cancel-safe channel receives and
//! timers only) for client frames, commands from the handle and other connections, and timers.
//! Output is appended to one buffer as complete WebSocket frames and written with a single
//! `write_all` + `flush` per wake-up, so bursts are batched into few system calls.
//!
//! Server frames are never masked, so the actor encodes them itself ([`encode_frame_head`]),
//! which also lets faults send frames a correct library would refuse (invalid UTF-8 text).

use crate::faults::{Cmd, RawFrame, ReplyFault};
use crate::record::{CloseReason, ConnId, FrameKind};
use crate::workspace::format_message_text;
use crate::{Admission, Shared};
use bytes::Bytes;
use fastwebsockets::{OpCode, Role, WebSocketError, WebSocketRead};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// Slack's documented limit on a client message frame (16 KB): kept here, not taken from the
/// client's crates, so the emulator checks the client instead of agreeing with it.
const MAX_FRAME_BYTES: usize = 16 * 1024;

type Io = TokioIo<Upgraded>;

/// Largest single frame the reader accepts before failing (frames over 16 KB but under this are
/// read whole so their size can be reported, then the connection is closed).
const MAX_READ_FRAME: usize = 1 << 20;
/// How long to wait for the client's close frame after sending ours.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
/// Window over which send-rate refusals are counted for the disconnect.
const REFUSAL_WINDOW: Duration = Duration::from_secs(10);
/// Events written per blast chunk.
const BLAST_CHUNK: u64 = 512;
/// Most ids of one `presence_query` that are answered.
const MAX_QUERY_IDS: usize = 500;

static HELLO: &[u8] = br#"{"type":"hello"}"#;
static GOODBYE: &[u8] = br#"{"type":"goodbye"}"#;
static MIGRATION: &[u8] = br#"{"type":"team_migration_started"}"#;
static EXPIRED: &[u8] = br#"{"type":"error","error":{"code":1,"msg":"Socket URL has expired"}}"#;

/// Appends a server (unmasked, final) frame header for a payload of `len` bytes.
pub(crate) fn encode_frame_head(out: &mut Vec<u8>, opcode: OpCode, len: usize) {
    out.push(0x80 | opcode as u8);
    if len < 126 {
        out.push(len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

fn push_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    encode_frame_head(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// A text message as a first frame plus continuation frames of at most `chunk` bytes.
fn push_fragmented(out: &mut Vec<u8>, payload: &[u8], chunk: usize) {
    let mut parts = payload.chunks(chunk.max(1)).peekable();
    let mut first = true;
    if payload.is_empty() {
        push_frame(out, OpCode::Text, payload);
        return;
    }
    while let Some(part) = parts.next() {
        let opcode = if first { OpCode::Text } else { OpCode::Continuation };
        let fin = parts.peek().is_none();
        let start = out.len();
        encode_frame_head(out, opcode, part.len());
        if !fin {
            // Clear FIN (encode_frame_head always sets it).
            out[start] &= 0x7f;
        }
        out.extend_from_slice(part);
        first = false;
    }
}

fn push_close(out: &mut Vec<u8>, code: u16, reason: &str) {
    // A close reason is at most 123 bytes; cut on a character boundary.
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let reason = &reason.as_bytes()[..cut];
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason);
    push_frame(out, OpCode::Close, &payload);
}

/// Aborts a task when dropped (the reader dies with its actor, even when the actor is aborted).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the reader passes to the actor.
enum Inbound {
    Text(Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong,
    Close(Option<u16>),
    TooLarge(usize),
    /// A protocol violation: close with this code.
    Protocol(u16, String),
    Gone(String),
}

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
    let (rd, wr) = tokio::io::split(io);
    let (mut ws_read, _) = fastwebsockets::after_handshake_split(rd, tokio::io::sink(), Role::Server);
    ws_read.set_auto_close(false);
    ws_read.set_auto_pong(false);
    ws_read.set_max_message_size(MAX_READ_FRAME);
    let (in_tx, in_rx) = mpsc::channel(64);
    let _reader = AbortOnDrop(tokio::spawn(read_loop(ws_read, in_tx)));

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

async fn read_loop(mut rd: WebSocketRead<ReadHalf<Io>>, tx: mpsc::Sender<Inbound>) {
    let mut fragments: Option<(OpCode, Vec<u8>)> = None;
    let mut no_send = |_frame| std::future::ready(Ok::<(), std::io::Error>(()));
    loop {
        let frame = match rd.read_frame(&mut no_send).await {
            Ok(frame) => frame,
            Err(e) => {
                let msg = match e {
                    WebSocketError::FrameTooLarge => Inbound::TooLarge(MAX_READ_FRAME),
                    WebSocketError::InvalidUTF8 => Inbound::Protocol(1007, "invalid UTF-8".into()),
                    WebSocketError::UnexpectedEOF => Inbound::Gone("EOF without a close frame".into()),
                    WebSocketError::IoError(e) => Inbound::Gone(format!("I/O error: {e}")),
                    other => Inbound::Protocol(1002, other.to_string()),
                };
                let _ = tx.send(msg).await;
                return;
            }
        };
        let payload_len = frame.payload.len();
        let msg = match frame.opcode {
            OpCode::Text | OpCode::Binary if frame.fin => {
                if fragments.is_some() {
                    Inbound::Protocol(1002, "a new message inside a fragmented one".into())
                } else if payload_len > MAX_FRAME_BYTES {
                    Inbound::TooLarge(payload_len)
                } else {
                    data_message(frame.opcode, payload_bytes(frame.payload))
                }
            }
            OpCode::Text | OpCode::Binary => {
                if fragments.is_some() {
                    Inbound::Protocol(1002, "a new message inside a fragmented one".into())
                } else if payload_len > MAX_FRAME_BYTES {
                    Inbound::TooLarge(payload_len)
                } else {
                    fragments = Some((frame.opcode, frame.payload.to_vec()));
                    continue;
                }
            }
            OpCode::Continuation => match fragments.as_mut() {
                None => Inbound::Protocol(1002, "a continuation frame without a message".into()),
                Some((_, buf)) if buf.len() + payload_len > MAX_FRAME_BYTES => {
                    Inbound::TooLarge(buf.len() + payload_len)
                }
                Some((_, buf)) => {
                    buf.extend_from_slice(&frame.payload);
                    if !frame.fin {
                        continue;
                    }
                    match fragments.take() {
                        Some((OpCode::Text, buf)) if std::str::from_utf8(&buf).is_err() => {
                            Inbound::Protocol(1007, "invalid UTF-8".into())
                        }
                        Some((op, buf)) => data_message(op, Bytes::from(buf)),
                        None => continue,
                    }
                }
            },
            OpCode::Ping => Inbound::Ping(payload_bytes(frame.payload)),
            OpCode::Pong => Inbound::Pong,
            OpCode::Close => {
                let code =
                    (payload_len >= 2).then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                Inbound::Close(code)
            }
        };
        let last = matches!(
            msg,
            Inbound::Close(_) | Inbound::TooLarge(_) | Inbound::Protocol(..) | Inbound::Gone(_)
        );
        if tx.send(msg).await.is_err() || last {
            return;
        }
    }
}

fn data_message(opcode: OpCode, payload: Bytes) -> Inbound {
    if opcode == OpCode::Text { Inbound::Text(payload) } else { Inbound::Binary(payload) }
}

fn payload_bytes(p: fastwebsockets::Payload<'_>) -> Bytes {
    match p {
        fastwebsockets::Payload::Bytes(b) => b.freeze(),
        fastwebsockets::Payload::Owned(v) => Bytes::from(v),
        other => Bytes::copy_from_slice(&other),
    }
}

/// A client frame, decoded without copying the strings that need no unescaping.
#[derive(Deserialize)]
struct ClientFrame<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thread_ts: Option<Cow<'a, str>>,
    #[serde(default)]
    ids: Option<Vec<String>>,
}

#[derive(Serialize)]
struct AckOut<'a> {
    ok: bool,
    reply_to: &'a RawValue,
    ts: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
struct ErrorReplyOut<'a> {
    ok: bool,
    reply_to: &'a RawValue,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i64,
    msg: &'a str,
}

/// The `message` event delivered to other connections.
#[derive(Serialize)]
pub(crate) struct MessageEventOut<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub channel: &'a str,
    pub user: &'a str,
    pub text: &'a str,
    pub ts: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_ts: Option<&'a str>,
    pub team: &'a str,
    pub event_ts: &'a str,
}

enum FaultState {
    None,
    Withhold(u32),
    Delay(Duration),
    Reverse(u32, Vec<Bytes>),
}

struct Conn {
    shared: Arc<Shared>,
    id: ConnId,
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
    blast_remaining: u64,
    blast_seq: u64,
    goodbye_deadline: Option<tokio::time::Instant>,
    ws_ping: Option<tokio::time::Interval>,
    /// Drop the connection once `out` is flushed ([`RawFrame::CutMidFrame`]).
    cut_after_flush: bool,
}

impl Conn {
    fn new(
        shared: Arc<Shared>,
        id: ConnId,
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
            blast_remaining,
            blast_seq: 0,
            goodbye_deadline: None,
            ws_ping,
            cut_after_flush: false,
        }
    }

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
            if self.cut_after_flush {
                return self.finish(CloseReason::Dropped, &mut in_rx).await;
            }
            let blast_ready = self.blast_remaining > 0 && self.hello_sent && !self.stalled;
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
                    let n = self.blast_remaining.min(BLAST_CHUNK);
                    if let Some(blast) = self.shared.blast.as_ref() {
                        blast.write(&mut self.out, &self.shared.clock, self.blast_seq, n);
                    }
                    self.blast_seq += n;
                    self.blast_remaining -= n;
                    None
                },
            };
            if let Some(reason) = step {
                return self.finish(reason, &mut in_rx).await;
            }
        }
    }

    /// Ends the connection: writes what is pending (unless dropping), waits briefly for the
    /// client's close frame when the server initiated a close.
    async fn finish(&mut self, reason: CloseReason, in_rx: &mut mpsc::Receiver<Inbound>) -> CloseReason {
        match reason {
            CloseReason::Dropped | CloseReason::SlowConsumer => {
                self.out.clear();
                return reason;
            }
            CloseReason::Shutdown => push_close(&mut self.out, 1001, "server shutting down"),
            _ => {}
        }
        if self.flush().await.is_err() {
            return reason;
        }
        let server_initiated = matches!(
            reason,
            CloseReason::ServerClosed(_)
                | CloseReason::FrameTooLarge(_)
                | CloseReason::RateLimited
                | CloseReason::Shutdown
        );
        if server_initiated {
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(msg) = in_rx.recv().await {
                    if matches!(msg, Inbound::Close(_) | Inbound::Gone(_) | Inbound::Protocol(..)) {
                        break;
                    }
                }
            })
            .await;
        }
        if let Some(wr) = self.wr.as_mut() {
            let _ = wr.shutdown().await;
        }
        reason
    }

    async fn flush(&mut self) -> Result<(), CloseReason> {
        if self.out.is_empty() {
            return Ok(());
        }
        let Some(wr) = self.wr.as_mut() else {
            self.out.clear();
            return Ok(());
        };
        let res = tokio::time::timeout(self.shared.config.write_timeout, async {
            wr.write_all(&self.out).await?;
            wr.flush().await
        })
        .await;
        self.out.clear();
        if self.out.capacity() > (1 << 20) {
            self.out.shrink_to(64 * 1024);
        }
        match res {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CloseReason::WriteFailed(e.to_string())),
            Err(_) => {
                // The write half may hold a partial frame: never write to it again.
                self.wr = None;
                Err(CloseReason::SlowConsumer)
            }
        }
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
            Cmd::Raw(frame) => match frame {
                RawFrame::Text(b) => push_frame(&mut self.out, OpCode::Text, &b),
                RawFrame::Binary(b) => push_frame(&mut self.out, OpCode::Binary, &b),
                RawFrame::Ping(b) => push_frame(&mut self.out, OpCode::Ping, &b[..b.len().min(125)]),
                RawFrame::Close(code, reason) => {
                    push_close(&mut self.out, code, &reason);
                    return Some(CloseReason::ServerClosed(code));
                }
                RawFrame::CutMidFrame(b) => {
                    encode_frame_head(&mut self.out, OpCode::Text, b.len());
                    self.out.extend_from_slice(&b[..b.len() / 2]);
                    self.cut_after_flush = true;
                }
                RawFrame::Fragmented { payload, chunk } => push_fragmented(&mut self.out, &payload, chunk),
            },
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
            Inbound::Close(code) => {
                push_close(&mut self.out, code.unwrap_or(1000), "");
                Some(CloseReason::ClientClosed(code))
            }
            Inbound::TooLarge(n) => {
                push_close(&mut self.out, 1009, "frame too large");
                Some(CloseReason::FrameTooLarge(n))
            }
            Inbound::Protocol(code, why) => {
                push_close(&mut self.out, code, "protocol error");
                Some(CloseReason::ClientGone(why))
            }
            Inbound::Gone(why) => Some(CloseReason::ClientGone(why)),
        }
    }

    fn on_client_message(&mut self, payload: &[u8]) -> Option<CloseReason> {
        let Ok(frame) = serde_json::from_slice::<ClientFrame<'_>>(payload) else {
            tracing::debug!(conn = %self.id, len = payload.len(), "ignoring an undecodable client frame");
            return None;
        };
        match frame.kind.as_deref() {
            Some("message") => self.on_message(&frame),
            Some("ping") => {
                self.on_ping(payload, frame.id);
                None
            }
            Some("typing") => {
                self.on_typing(&frame);
                None
            }
            Some("presence_sub") => {
                self.on_presence(frame.ids.unwrap_or_default(), true);
                None
            }
            Some("presence_query") => {
                self.on_presence(frame.ids.unwrap_or_default(), false);
                None
            }
            _ => None,
        }
    }

    fn reply(&mut self, bytes: Bytes) {
        match &mut self.fault {
            FaultState::None => push_frame(&mut self.out, OpCode::Text, &bytes),
            FaultState::Withhold(n) => {
                self.withheld.push(bytes);
                *n -= 1;
                if *n == 0 {
                    self.fault = FaultState::None;
                }
            }
            FaultState::Delay(d) => {
                let (d, tx) = (*d, self.self_tx.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(d).await;
                    if let Some(tx) = tx.upgrade() {
                        let _ = tx.send(Cmd::DelayedReply(bytes)).await;
                    }
                });
            }
            FaultState::Reverse(n, buf) => {
                buf.push(bytes);
                if buf.len() >= *n as usize {
                    let replies = std::mem::take(buf);
                    self.fault = FaultState::None;
                    for r in replies.iter().rev() {
                        push_frame(&mut self.out, OpCode::Text, r);
                    }
                }
            }
        }
    }

    fn reply_error(&mut self, id: Option<&RawValue>, code: i64, msg: &str) {
        let Some(id) = id else { return };
        let out = ErrorReplyOut { ok: false, reply_to: id, error: ErrorBody { code, msg } };
        if let Ok(v) = serde_json::to_vec(&out) {
            self.reply(Bytes::from(v));
        }
    }

    /// Takes a send-rate token; `Err` when refused (with whether to disconnect).
    fn take_token(&mut self) -> Result<(), bool> {
        let Some(rate) = self.shared.config.send_rate else { return Ok(()) };
        let now = Instant::now();
        let elapsed = now.duration_since(self.refill_at).as_secs_f64();
        self.refill_at = now;
        self.tokens = (self.tokens + elapsed * rate.per_second).min(f64::from(rate.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        while self.refusals.front().is_some_and(|t| now.duration_since(*t) > REFUSAL_WINDOW) {
            self.refusals.pop_front();
        }
        self.refusals.push_back(now);
        Err(self.refusals.len() as u32 > rate.disconnect_after)
    }

    fn on_message(&mut self, f: &ClientFrame<'_>) -> Option<CloseReason> {
        if let Err(disconnect) = self.take_token() {
            if disconnect {
                push_close(&mut self.out, 1008, "too many messages");
                return Some(CloseReason::RateLimited);
            }
            self.reply_error(f.id, -1, "slow down, too many messages...");
            return None;
        }
        let channel = f.channel.as_deref().unwrap_or("");
        let text = f.text.as_deref().unwrap_or("");
        let formatted = format_message_text(text);
        let posted = self.shared.post_message(
            self.id,
            &self.admission.user,
            channel,
            text,
            &formatted,
            f.thread_ts.as_deref(),
            f.id.map(|r| r.get()),
        );
        match posted {
            Err(PostError::Channel) => self.reply_error(f.id, 0, "invalid channel id"),
            Err(PostError::Text) => self.reply_error(f.id, 2, "message text is missing"),
            Ok(ts) => {
                if let Some(id) = f.id
                    && let Ok(v) =
                        serde_json::to_vec(&AckOut { ok: true, reply_to: id, ts: &ts, text: &formatted })
                {
                    self.reply(Bytes::from(v));
                }
            }
        }
        None
    }

    fn on_ping(&mut self, payload: &[u8], id: Option<&RawValue>) {
        let Ok(fields) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(payload) else {
            return;
        };
        let mut pong = serde_json::Map::with_capacity(fields.len() + 1);
        pong.insert("type".into(), "pong".into());
        if let Some(id) = id
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(id.get())
        {
            pong.insert("reply_to".into(), v);
        }
        for (k, v) in fields {
            if k != "id" && k != "type" && !v.is_array() && !v.is_object() {
                pong.insert(k, v);
            }
        }
        if let Ok(v) = serde_json::to_vec(&pong) {
            self.reply(Bytes::from(v));
        }
    }

    fn on_typing(&mut self, f: &ClientFrame<'_>) {
        let channel = f.channel.as_deref().unwrap_or("");
        if !self.shared.is_member(channel, &self.admission.user) {
            self.reply_error(f.id, 0, "invalid channel id");
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.typing.get(channel)
            && now.duration_since(*last) < self.shared.config.typing_interval
        {
            return;
        }
        if self.typing.len() > 1024 {
            self.typing.clear();
        }
        self.typing.insert(channel.to_owned(), now);
        #[derive(Serialize)]
        struct Typing<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            channel: &'a str,
            user: &'a str,
        }
        let ev = Typing { kind: "user_typing", channel, user: self.admission.user.as_str() };
        if let Ok(v) = serde_json::to_vec(&ev) {
            self.shared.fan_out(channel, Some(self.id), Bytes::from(v));
        }
    }

    fn on_presence(&mut self, ids: Vec<String>, subscribe: bool) {
        let report = if subscribe {
            self.shared.presence_subscribe(self.id, ids)
        } else {
            let mut ids = ids;
            ids.truncate(MAX_QUERY_IDS);
            self.shared.presence_of(&ids)
        };
        for ev in crate::presence_events(&report, self.admission.options.batch_presence_aware) {
            let _ = self.push_event(&ev);
        }
    }
}

/// Why a posted message was refused.
pub(crate) enum PostError {
    Channel,
    Text,
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
