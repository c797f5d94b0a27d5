//! The per-connection reader: opens the socket, hands the write half to the loop, then reads
//! frames until the socket ends, reassembling fragments under the size cap, turning each
//! message into the machine's input and batching what is already buffered.

use super::handshake::open;
use super::{ControlFrame, FromSocket, OpenConfig, Reader};
use crate::common::{ConnId, Reason, SkippedFrame, SocketInput};
use crate::driver::inbox::InboxTx;
use fastwebsockets::{Frame, OpCode, WebSocketError};
use std::future::Future;

/// Opens the socket, hands the write half to the loop, then reads until the socket ends.
pub(crate) async fn run_connection<I: SocketInput + Send + 'static>(
    conn: ConnId,
    url: String,
    config: OpenConfig,
    tx: InboxTx<FromSocket<I>>,
) {
    // Boxed: the handshake's future is large and needed once; unboxed, it would set the size of
    // this future, which every open connection keeps for its whole life.
    match Box::pin(open(&url, &config)).await {
        Ok((read, write)) => {
            if tx.send(FromSocket::Opened(conn, Box::new(write))).await.is_ok() {
                read_loop::<I>(conn, read, config.max_message, &tx).await;
            }
        }
        Err(e) => {
            let e = e.to_string();
            tracing::debug!(%conn, error = %e, "could not open the socket");
            let _ = tx.send(FromSocket::Input(I::closed(conn, Reason::OpenFailed(e)))).await;
        }
    }
}

/// A message being reassembled from fragments.
struct Partial {
    text: bool,
    data: Vec<u8>,
}

/// Reads frames until the socket ends: turns text messages into inputs, reports the rest. Runs
/// in its own future, which the loop polls on every turn and never drops half-way while the
/// connection is in use: `read_frame` is not cancel-safe, so it is never raced against anything.
async fn read_loop<I: SocketInput + Send + 'static>(
    conn: ConnId,
    mut read: Reader,
    max_message: usize,
    tx: &InboxTx<FromSocket<I>>,
) {
    let mut partial: Option<Partial> = None;
    // Frames the protocol obliges us to answer (ping → pong, close → close) go to the loop,
    // which owns the write half.
    let ctl_tx = tx.clone();
    let mut obligated = move |frame: Frame<'_>| {
        let msg = match frame.opcode {
            OpCode::Pong => Some(ControlFrame::Pong(frame.payload.to_vec())),
            OpCode::Close => Some(ControlFrame::CloseEcho(frame.payload.to_vec())),
            _ => None,
        };
        let tx = ctl_tx.clone();
        async move {
            if let Some(m) = msg {
                tx.send(FromSocket::Control(conn, m)).await.map_err(|_| LoopGone)?;
            }
            Ok::<(), LoopGone>(())
        }
    };
    // Inputs of frames read but not yet handed to the loop. Frames that are already buffered
    // are read without waiting; the batch goes to the loop when the next read would wait, or
    // when it is full.
    // Grown by the frames of a burst and given away with the batch: an idle session
    // (thousands in one process) keeps at most the room of a few single frames.
    let mut pending: Vec<I> = Vec::new();
    let reason = loop {
        let result = {
            let mut next = std::pin::pin!(read.read_frame(&mut obligated));
            match poll_now(next.as_mut()) {
                Some(r) => r,
                None => {
                    // The same future is awaited below (never dropped half-way: read_frame is
                    // not cancel-safe); hand over what we have before waiting.
                    if !flush(tx, &mut pending).await {
                        return;
                    }
                    next.await
                }
            }
        };
        let frame = match result {
            Ok(f) => f,
            Err(WebSocketError::InvalidUTF8) => {
                // A single text frame that is not UTF-8: its payload is already consumed, the
                // stream is still in sync. Report and go on.
                pending.push(I::skipped(conn, SkippedFrame::InvalidUtf8 { len: None }));
                continue;
            }
            Err(WebSocketError::FrameTooLarge) => break Reason::MessageTooLarge { limit: max_message },
            Err(WebSocketError::UnexpectedEOF) => {
                break Reason::Closed {
                    code: None,
                    reason: "the connection ended without a close frame".into(),
                };
            }
            Err(WebSocketError::SendError(_)) => return,
            Err(e) => break Reason::Io(e.to_string()),
        };
        let input = match frame.opcode {
            OpCode::Text | OpCode::Binary if partial.is_some() => {
                break Reason::Io("a new message started inside a fragmented one".into());
            }
            OpCode::Text | OpCode::Binary if frame.fin => {
                I::message(conn, frame.opcode == OpCode::Text, &frame.payload)
            }
            OpCode::Text | OpCode::Binary => {
                partial = Some(Partial { text: frame.opcode == OpCode::Text, data: frame.payload.to_vec() });
                I::activity(conn)
            }
            OpCode::Continuation => {
                let Some(p) = partial.as_mut() else {
                    break Reason::Io("a continuation frame without a message".into());
                };
                if p.data.len().saturating_add(frame.payload.len()) > max_message {
                    break Reason::MessageTooLarge { limit: max_message };
                }
                p.data.extend_from_slice(&frame.payload);
                if frame.fin {
                    let whole = partial.take().map(|p| (p.text, p.data)).unwrap_or_default();
                    I::message(conn, whole.0, &whole.1)
                } else {
                    I::activity(conn)
                }
            }
            OpCode::Close => {
                let (code, text) = parse_close(&frame.payload);
                break Reason::Closed { code, reason: text };
            }
            OpCode::Ping | OpCode::Pong => I::activity(conn),
        };
        pending.push(input);
        if pending.len() >= READ_BATCH && !flush(tx, &mut pending).await {
            return;
        }
    };
    if !flush(tx, &mut pending).await {
        return;
    }
    tracing::debug!(%conn, %reason, "socket ended");
    let _ = tx.send(FromSocket::Input(I::closed(conn, reason))).await;
}

#[derive(Debug)]
struct LoopGone;

impl std::fmt::Display for LoopGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the session loop is gone")
    }
}

impl std::error::Error for LoopGone {}

/// Most frames handed to the loop at once.
const READ_BATCH: usize = 64;

/// Hands the pending inputs to the loop; `false` if the loop is gone.
async fn flush<T>(tx: &InboxTx<FromSocket<T>>, pending: &mut Vec<T>) -> bool {
    match pending.len() {
        0 => true,
        1 => match pending.pop() {
            Some(one) => tx.send(FromSocket::Input(one)).await.is_ok(),
            None => true,
        },
        _ => {
            let batch = std::mem::take(pending);
            tx.send(FromSocket::Inputs(batch)).await.is_ok()
        }
    }
}

/// Polls a future once without a real waker: `Some` if it is ready now. The caller keeps the
/// future and awaits it properly if not (the next poll registers the real waker).
fn poll_now<F: Future>(fut: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

fn parse_close(payload: &[u8]) -> (Option<u16>, String) {
    if payload.len() < 2 {
        return (None, String::new());
    }
    let code = u16::from_be_bytes([payload[0], payload[1]]);
    let reason = String::from_utf8_lossy(&payload[2..]).chars().take(123).collect();
    (Some(code), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), (None, String::new()));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), (Some(1000), "ok".into()));
        assert_eq!(parse_close(&[0x03]), (None, String::new()));
    }
}
