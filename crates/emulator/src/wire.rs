//! WebSocket plumbing shared by the RTM and Socket Mode sockets: server frame encoding and the
//! reader task.
//!
//! Server frames are never masked, so the actors encode them themselves ([`encode_frame_head`]),
//! which also lets faults send frames a correct library would refuse (invalid UTF-8 text).
//!
//! The *reader* owns the read half and does nothing but read frames (fastwebsockets'
//! `read_frame` is not cancel-safe, so it is never raced in a `select!`) and pass them through
//! a small bounded channel to the connection's actor.

use crate::faults::RawFrame;
use crate::record::CloseReason;
use bytes::Bytes;
use fastwebsockets::{OpCode, Role, WebSocketError, WebSocketRead};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) type Io = TokioIo<Upgraded>;

/// Largest single frame the reader accepts before failing (frames over the per-socket limit but
/// under this are read whole so their size can be reported, then the connection is closed).
pub(crate) const MAX_READ_FRAME: usize = 1 << 20;
/// How long to wait for the client's close frame after sending ours.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(1);

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

pub(crate) fn push_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    encode_frame_head(out, opcode, payload.len());
    out.extend_from_slice(payload);
}

/// A text message as a first frame plus continuation frames of at most `chunk` bytes.
pub(crate) fn push_fragmented(out: &mut Vec<u8>, payload: &[u8], chunk: usize) {
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

pub(crate) fn push_close(out: &mut Vec<u8>, code: u16, reason: &str) {
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
pub(crate) struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the reader passes to the actor.
pub(crate) enum Inbound {
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

/// Reads frames until the connection ends; data messages over `max_message` bytes end it.
pub(crate) async fn read_loop(
    mut rd: WebSocketRead<ReadHalf<Io>>,
    tx: mpsc::Sender<Inbound>,
    max_message: usize,
) {
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
                } else if payload_len > max_message {
                    Inbound::TooLarge(payload_len)
                } else {
                    data_message(frame.opcode, payload_bytes(frame.payload))
                }
            }
            OpCode::Text | OpCode::Binary => {
                if fragments.is_some() {
                    Inbound::Protocol(1002, "a new message inside a fragmented one".into())
                } else if payload_len > max_message {
                    Inbound::TooLarge(payload_len)
                } else {
                    fragments = Some((frame.opcode, frame.payload.to_vec()));
                    continue;
                }
            }
            OpCode::Continuation => match fragments.as_mut() {
                None => Inbound::Protocol(1002, "a continuation frame without a message".into()),
                Some((_, buf)) if buf.len() + payload_len > max_message => {
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

pub(crate) async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

pub(crate) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Writes `out` (complete frames) with one `write_all` + `flush`, then clears it. A write that
/// takes longer than `timeout` makes the client a slow consumer, and the write half (which may
/// hold a partial frame) is never used again.
pub(crate) async fn write_out(
    wr: &mut Option<WriteHalf<Io>>,
    out: &mut Vec<u8>,
    timeout: Duration,
) -> Result<(), CloseReason> {
    if out.is_empty() {
        return Ok(());
    }
    let Some(w) = wr.as_mut() else {
        out.clear();
        return Ok(());
    };
    let res = tokio::time::timeout(timeout, async {
        w.write_all(out).await?;
        w.flush().await
    })
    .await;
    out.clear();
    if out.capacity() > (1 << 20) {
        out.shrink_to(64 * 1024);
    }
    match res {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(CloseReason::WriteFailed(e.to_string())),
        Err(_) => {
            *wr = None;
            Err(CloseReason::SlowConsumer)
        }
    }
}

/// Starts a socket's reader over an upgraded connection: the read half goes to its own task
/// ([`read_loop`]; data messages over `max_message` bytes end the connection). Returns the
/// write half, what the reader reads, and the guard that stops the reader with the socket.
pub(crate) fn start_reader(
    io: Io,
    max_message: usize,
) -> (WriteHalf<Io>, mpsc::Receiver<Inbound>, AbortOnDrop) {
    let (rd, wr) = tokio::io::split(io);
    let (mut ws_read, _) = fastwebsockets::after_handshake_split(rd, tokio::io::sink(), Role::Server);
    ws_read.set_auto_close(false);
    ws_read.set_auto_pong(false);
    ws_read.set_max_message_size(MAX_READ_FRAME);
    let (in_tx, in_rx) = mpsc::channel(64);
    let reader = AbortOnDrop(tokio::spawn(read_loop(ws_read, in_tx, max_message)));
    (wr, in_rx, reader)
}

/// Appends a scripted raw frame to `out`. `Some` when the socket ends once `out` is written:
/// after a close frame (`ServerClosed`), or after half a frame (`Dropped`, then the TCP
/// connection is dropped).
pub(crate) fn push_raw(out: &mut Vec<u8>, frame: RawFrame) -> Option<CloseReason> {
    match frame {
        RawFrame::Text(b) => push_frame(out, OpCode::Text, &b),
        RawFrame::Binary(b) => push_frame(out, OpCode::Binary, &b),
        RawFrame::Ping(b) => push_frame(out, OpCode::Ping, &b[..b.len().min(125)]),
        RawFrame::Close(code, reason) => {
            push_close(out, code, &reason);
            return Some(CloseReason::ServerClosed(code));
        }
        RawFrame::CutMidFrame(b) => {
            encode_frame_head(out, OpCode::Text, b.len());
            out.extend_from_slice(&b[..b.len() / 2]);
            return Some(CloseReason::Dropped);
        }
        RawFrame::Fragmented { payload, chunk } => push_fragmented(out, &payload, chunk),
    }
    None
}

/// What the client's side did that ends a socket, the same for RTM and Socket Mode: a close
/// frame (answered), a message too large (closed with 1009), a protocol error (closed with its
/// code), or a connection gone. `None` for the frames each protocol handles itself (data,
/// pings, pongs).
pub(crate) fn client_ended(out: &mut Vec<u8>, msg: Inbound) -> Option<CloseReason> {
    match msg {
        Inbound::Close(code) => {
            push_close(out, code.unwrap_or(1000), "");
            Some(CloseReason::ClientClosed(code))
        }
        Inbound::TooLarge(n) => {
            push_close(out, 1009, "frame too large");
            Some(CloseReason::FrameTooLarge(n))
        }
        Inbound::Protocol(code, why) => {
            push_close(out, code, "protocol error");
            Some(CloseReason::ClientGone(why))
        }
        Inbound::Gone(why) => Some(CloseReason::ClientGone(why)),
        Inbound::Text(_) | Inbound::Binary(_) | Inbound::Ping(_) | Inbound::Pong => None,
    }
}

/// Ends a socket for `reason`: a drop writes what is pending (a cut frame's first half) and
/// drops; a slow consumer is dropped at once; otherwise what is pending is written (a close
/// frame first on shutdown) and, for a close the server started, the client's close frame is
/// awaited briefly before the write half is shut down.
pub(crate) async fn finish(
    wr: &mut Option<WriteHalf<Io>>,
    out: &mut Vec<u8>,
    write_timeout: Duration,
    reason: CloseReason,
    in_rx: &mut mpsc::Receiver<Inbound>,
) -> CloseReason {
    match reason {
        CloseReason::Dropped => {
            let _ = write_out(wr, out, write_timeout).await;
            return reason;
        }
        CloseReason::SlowConsumer => return reason,
        CloseReason::Shutdown => push_close(out, 1001, "server shutting down"),
        _ => {}
    }
    if write_out(wr, out, write_timeout).await.is_err() {
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
    if let Some(w) = wr.as_mut() {
        let _ = w.shutdown().await;
    }
    reason
}
