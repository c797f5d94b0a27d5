//! WebSocket plumbing shared by the RTM and Socket Mode sockets: server frame encoding and the
//! reader task.
//!
//! Server frames are never masked, so the actors encode them themselves ([`encode_frame_head`]),
//! which also lets faults send frames a correct library would refuse (invalid UTF-8 text).
//!
//! The *reader* owns the read half and does nothing but read frames (fastwebsockets'
//! `read_frame` is not cancel-safe, so it is never raced in a `select!`) and pass them through
//! a small bounded channel to the connection's actor.

use bytes::Bytes;
use fastwebsockets::{OpCode, WebSocketError, WebSocketRead};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::ReadHalf;
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
