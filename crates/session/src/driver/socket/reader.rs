//! The per-connection reader: opens the socket, hands the write half to the loop, then reads
//! frames until the socket ends, reassembling fragments under the size cap, turning each
//! message into the machine's input and batching what is already buffered.

use super::handshake::open;
use super::{ControlFrame, FromSocket, OpenConfig};
use crate::common::{ConnId, Reason, SkippedFrame, SocketInput};
use crate::driver::inbox::InboxTx;
use fastwebsockets::{Frame, OpCode, WebSocketError, WebSocketRead};
use std::future::Future;
use tokio::io::AsyncRead;

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
                read_loop::<I, _>(conn, read, config.max_message, &tx).await;
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
async fn read_loop<I: SocketInput + Send + 'static, S: AsyncRead + Unpin>(
    conn: ConnId,
    mut read: WebSocketRead<S>,
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
    let mut pending = Pending::<I>::default();
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
                pending.push(I::skipped(conn, SkippedFrame::InvalidUtf8 { len: None }), 0);
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
        // The bytes of a complete message, which the input holds a copy of.
        let mut bytes = 0;
        let input = match frame.opcode {
            OpCode::Text | OpCode::Binary if partial.is_some() => {
                break Reason::Io("a new message started inside a fragmented one".into());
            }
            OpCode::Text | OpCode::Binary if frame.fin => {
                bytes = frame.payload.len();
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
                    bytes = whole.1.len();
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
        pending.push(input, bytes);
        if pending.is_full() && !flush(tx, &mut pending).await {
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

/// Most bytes of messages handed to the loop at once: a batch ends at its first message that
/// reaches this, or at [`READ_BATCH`] frames. The loop stops taking batches once the session's
/// byte budget is spent, but polls the readers on: a full readers' queue (its few messages)
/// and each reader's pending batch wait past the budget. Counted in frames only, those were
/// up to 5 × 64 Slack-shaped events (~0.6 MB, as much again as the budget) on a busy session;
/// bounded so, ~5 × this. Two capped reads' worth: 16 KiB cost a busy loop measurably more
/// turns and hand-overs per frame (docs/perf/mem8.md).
const READ_BATCH_BYTES: usize = 2 * super::capped::MAX_READ;

/// The inputs read and not yet handed to the loop, and the bytes of their messages.
struct Pending<I> {
    inputs: Vec<I>,
    bytes: usize,
}

impl<I> Default for Pending<I> {
    fn default() -> Self {
        Self { inputs: Vec::new(), bytes: 0 }
    }
}

impl<I> Pending<I> {
    fn push(&mut self, input: I, bytes: usize) {
        self.inputs.push(input);
        self.bytes += bytes;
    }

    /// Hand it over before reading on.
    fn is_full(&self) -> bool {
        self.inputs.len() >= READ_BATCH || self.bytes >= READ_BATCH_BYTES
    }
}

/// Hands the pending inputs to the loop; `false` if the loop is gone.
async fn flush<T>(tx: &InboxTx<FromSocket<T>>, pending: &mut Pending<T>) -> bool {
    pending.bytes = 0;
    let pending = &mut pending.inputs;
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
    use crate::driver::inbox::inbox;
    use crate::socket_mode::{SocketModeIncoming, SocketModeInput};

    /// A server's unmasked, final text frame.
    fn text_frame(text: &str) -> Vec<u8> {
        let mut f = vec![0x81];
        match text.len() {
            n @ 0..=125 => f.push(n as u8),
            n => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        f.extend_from_slice(text.as_bytes());
        f
    }

    /// What a reader hands to the loop at once is bounded in bytes as well as in frames: on a
    /// socket with 200 frames of ~1 KB already buffered (a busy session's kernel buffer), every
    /// batch stops at its first frame reaching 32 KiB (64 frames, the frame bound, were 64 KB),
    /// and every frame still arrives once, in order, batched.
    #[tokio::test]
    async fn a_reader_batch_is_bounded_in_bytes() {
        let texts: Vec<String> =
            (0..200).map(|i| format!(r#"{{"type":"x","i":{i:03},"pad":"{}"}}"#, "p".repeat(1000))).collect();
        let wire: Vec<u8> = texts.iter().flat_map(|t| text_frame(t)).collect();
        let read = fastwebsockets::after_handshake_split(
            super::super::capped::CappedRead(&wire[..]),
            tokio::io::sink(),
            fastwebsockets::Role::Client,
        )
        .0;
        let (tx, rx) = inbox(1_000);
        read_loop::<SocketModeInput, _>(ConnId(1), read, 1 << 20, &tx).await;
        let mut got = Vec::new();
        rx.take(&mut got, usize::MAX);
        let text_of = |input: &SocketModeInput| match input {
            SocketModeInput::Frame { frame: SocketModeIncoming::Text(t), .. } => Some(t.clone()),
            _ => None,
        };
        let mut seen = Vec::new();
        let mut largest = 0;
        for msg in &got {
            match msg {
                FromSocket::Inputs(batch) => {
                    let batch: Vec<String> = batch.iter().filter_map(text_of).collect();
                    let bytes: usize = batch.iter().map(String::len).sum();
                    let last = batch.last().map_or(0, String::len);
                    assert!(bytes - last < 32 * 1024, "{} frames, {bytes} bytes in one batch", batch.len());
                    largest = largest.max(batch.len());
                    seen.extend(batch);
                }
                FromSocket::Input(one) => seen.extend(text_of(one)),
                _ => {}
            }
        }
        assert_eq!(seen, texts, "every frame once, in order");
        assert!(largest > 8, "frames already buffered are still batched ({largest} at most)");
    }

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), (None, String::new()));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), (Some(1000), "ok".into()));
        assert_eq!(parse_close(&[0x03]), (None, String::new()));
    }
}
