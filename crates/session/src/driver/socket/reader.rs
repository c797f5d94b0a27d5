//! The per-connection reader: opens the socket, hands the write half to the loop, then reads
//! frames until the socket ends, reassembling fragments under the size cap, turning each
//! message into the machine's input and batching what is already buffered.

use super::blocks::{BlockPool, PooledBlock};
use super::handshake::open;
use super::{ControlFrame, FromSocket, OpenConfig};
use crate::common::{ConnId, Reason, SkippedFrame, SocketInput};
use crate::driver::inbox::InboxTx;
use fastwebsockets::{Frame, OpCode, WebSocketError, WebSocketRead};
use slack_rtm_codec::types::socket_mode::{FrameText, TextBlock};
use std::future::Future;
use std::sync::Arc;
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
    let mut pending = Pending::<I>::new(conn);
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
                    pending.rest();
                    let result = next.await;
                    pending.wake();
                    result
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
        let input = match frame.opcode {
            OpCode::Text | OpCode::Binary if partial.is_some() => {
                break Reason::Io("a new message started inside a fragmented one".into());
            }
            OpCode::Text | OpCode::Binary if frame.fin => {
                pending.push_message(frame.opcode == OpCode::Text, &frame.payload);
                None
            }
            OpCode::Text | OpCode::Binary => {
                partial = Some(Partial { text: frame.opcode == OpCode::Text, data: frame.payload.to_vec() });
                Some(I::activity(conn))
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
                    pending.push_message(whole.0, &whole.1);
                    None
                } else {
                    Some(I::activity(conn))
                }
            }
            OpCode::Close => {
                let (code, text) = parse_close(&frame.payload);
                break Reason::Closed { code, reason: text };
            }
            OpCode::Ping | OpCode::Pong => Some(I::activity(conn)),
        };
        if let Some(input) = input {
            pending.push(input, 0);
        }
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
pub(super) const READ_BATCH_BYTES: usize = 2 * super::capped::MAX_READ;

/// The inputs read and not yet handed to the loop, and the bytes of their messages.
///
/// For a machine that [shares blocks](SocketInput::SHARES_BLOCKS), the batch's text messages
/// are copied into one block ([`super::blocks`]) as they are read, each with a placeholder
/// input, and turned into their inputs (ranges of the block) when the batch is handed over.
struct Pending<I> {
    inputs: Vec<I>,
    bytes: usize,
    conn: ConnId,
    /// The batch's text messages, one after the other (empty when none).
    block: String,
    /// Where each text message of `block` is: its input's index in `inputs`, its range.
    texts: Vec<(u32, u32, u32)>,
    /// Where blocks come from and go back to (`None`: the machine does not share blocks).
    pool: Option<Arc<BlockPool>>,
    /// The last batch handed over had a block shared by several messages (a busy socket).
    busy: bool,
}

impl<I: SocketInput> Pending<I> {
    fn new(conn: ConnId) -> Self {
        let pool = I::SHARES_BLOCKS.then(Arc::default);
        Self {
            inputs: Vec::new(),
            bytes: 0,
            conn,
            block: String::new(),
            texts: Vec::new(),
            pool,
            busy: false,
        }
    }

    fn push(&mut self, input: I, bytes: usize) {
        self.inputs.push(input);
        self.bytes += bytes;
    }

    /// A complete message: into the batch's block when it is text for a machine that shares
    /// blocks, else its input made now (a copy of its own).
    fn push_message(&mut self, text: bool, payload: &[u8]) {
        let block_text = match (&self.pool, crate::common::message_text(text, payload)) {
            (Some(pool), Ok(text)) if u32::try_from(self.block.len() + text.len()).is_ok() => {
                if self.block.capacity() == 0 {
                    self.block = pool.take();
                }
                Some(text)
            }
            _ => None,
        };
        match block_text {
            Some(text) => {
                let start = self.block.len();
                self.block.push_str(text);
                // Fits in 32 bits: checked above.
                self.texts.push((self.inputs.len() as u32, start as u32, self.block.len() as u32));
                // Replaced by the message's input when the batch is handed over.
                self.push(I::activity(self.conn), payload.len());
            }
            None => self.push(I::message(self.conn, text, payload), payload.len()),
        }
    }

    /// Turns the placeholders of the block's messages into their inputs: ranges of the block,
    /// shared. A block at most half full (a small batch: the socket is not busy) is not shared:
    /// its messages get a block (one message, a `String`) of their exact size, and the block is
    /// kept for the next batch, so what the frames keep stays within twice their bytes (which
    /// the session's byte budget counts).
    fn seal(&mut self) {
        let conn = self.conn;
        self.busy = self.texts.len() > 1;
        if self.texts.is_empty() {
            return;
        }
        let sparse = self.block.capacity().min(super::blocks::BLOCK) > 2 * self.block.len();
        if let [(at, start, end)] = self.texts[..] {
            let text = if sparse {
                let text = self.block[start as usize..end as usize].to_owned();
                self.block.clear();
                text
            } else {
                std::mem::take(&mut self.block)
            };
            self.inputs[at as usize] = I::text_in(conn, FrameText::from(text));
        } else {
            let pool = self.pool.clone().unwrap_or_default();
            let text = if sparse {
                let text = self.block.as_str().to_owned();
                self.block.clear();
                text
            } else {
                std::mem::take(&mut self.block)
            };
            let block: Arc<dyn TextBlock> = Arc::new(PooledBlock { text, pool });
            for &(at, start, end) in &self.texts {
                let range = start as usize..end as usize;
                let text = match FrameText::shared(block.clone(), range.clone()) {
                    Some(text) => text,
                    // Not reached: the ranges are those of the messages pushed.
                    None => FrameText::from(block.text().get(range).unwrap_or_default().to_owned()),
                };
                self.inputs[at as usize] = I::text_in(conn, text);
            }
        }
        self.texts.clear();
    }

    /// The socket has nothing more buffered and the batch was handed over. After a batch of
    /// at most one text message (a quiet socket) nothing is kept for the next: no block, and
    /// the pool frees its blocks; a busy socket's wait for more keeps them.
    fn rest(&mut self) {
        if self.busy {
            return;
        }
        self.block = String::new();
        if self.texts.capacity() > 8 {
            self.texts = Vec::new();
        }
        if let Some(pool) = &self.pool {
            pool.rest();
        }
    }

    /// Reading again after a wait.
    fn wake(&self) {
        if let Some(pool) = &self.pool {
            pool.wake();
        }
    }

    /// Hand it over before reading on.
    fn is_full(&self) -> bool {
        self.inputs.len() >= READ_BATCH || self.bytes >= READ_BATCH_BYTES
    }
}

/// Hands the pending inputs to the loop; `false` if the loop is gone.
async fn flush<T: SocketInput>(tx: &InboxTx<FromSocket<T>>, pending: &mut Pending<T>) -> bool {
    pending.seal();
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

    /// A batch's envelopes are read into one block, each frame a range of it (one allocation
    /// per batch, not per frame), every frame once and in order; the block goes back to the
    /// reader's pool once the last frame using it is dropped; a message read alone is a copy
    /// of its own, and so is anything that is not an envelope.
    #[tokio::test]
    async fn a_batch_of_envelopes_shares_one_block() {
        let envelope =
            |i: usize| format!(r#"{{"envelope_id":"e{i}","type":"events_api","payload":{{"n":{i}}}}}"#);
        let texts: Vec<String> = (0..10).map(envelope).chain([r#"{"type":"hello"}"#.to_owned()]).collect();
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
        let mut frames = Vec::new();
        let mut others = Vec::new();
        for msg in got {
            let inputs = match msg {
                FromSocket::Inputs(batch) => batch,
                FromSocket::Input(one) => vec![one],
                _ => continue,
            };
            for input in inputs {
                match input {
                    SocketModeInput::Frame { frame: SocketModeIncoming::Envelope(f), .. } => frames.push(f),
                    SocketModeInput::Frame { frame: SocketModeIncoming::Text(t), .. } => others.push(t),
                    _ => {}
                }
            }
        }
        let read: Vec<&str> = frames.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            read,
            texts[..10].iter().map(String::as_str).collect::<Vec<_>>(),
            "every envelope once, in order"
        );
        assert_eq!(others, [texts[10].clone()]);
        // One block: each frame's text starts where the one before it ends.
        for pair in frames.windows(2) {
            let (a, b) = (pair[0].as_str(), pair[1].as_str());
            assert_eq!(a.as_ptr() as usize + a.len(), b.as_ptr() as usize, "{a} and {b} in one block");
        }
        // Taking a payload leaves the other frames as they were.
        let mut first = frames.remove(0);
        assert_eq!(first.take_payload().map(|p| p.as_str().to_owned()).as_deref(), Some(r#"{"n":0}"#));
        assert_eq!(frames[0].as_str(), texts[1]);
    }

    /// The pool keeps a block once its last frame is dropped, hands it out again, keeps none
    /// while the socket is quiet, and never more than its bounds.
    #[test]
    fn the_pool_takes_blocks_back_within_its_bounds() {
        use super::super::blocks::{POOLED, POOLED_CAPACITY};
        let pool = Arc::new(BlockPool::default());
        let block =
            |text: String| -> Arc<dyn TextBlock> { Arc::new(PooledBlock { text, pool: pool.clone() }) };
        let shared = block("{}{}".to_owned());
        let frames = [FrameText::shared(shared.clone(), 0..2), FrameText::shared(shared.clone(), 2..4)];
        drop(shared);
        assert_eq!(pool.kept(), 0, "still used by its frames");
        drop(frames);
        assert_eq!(pool.kept(), 1, "back once the last frame is dropped");
        let again = pool.take();
        assert!(again.is_empty() && again.capacity() >= 4, "handed out again, emptied");
        drop(block(String::with_capacity(POOLED_CAPACITY + 1)));
        assert_eq!(pool.kept(), 0, "a block grown too large is freed");
        let many: Vec<_> = (0..POOLED + 3).map(|_| block("x".to_owned())).collect();
        drop(many);
        assert_eq!(pool.kept(), POOLED, "at most POOLED blocks");
        pool.rest();
        assert_eq!(pool.kept(), 0, "a quiet socket keeps no block");
        drop(block("x".to_owned()));
        assert_eq!(pool.kept(), 0, "nor one that comes back while it is quiet");
        pool.wake();
        drop(block("x".to_owned()));
        assert_eq!(pool.kept(), 1);
    }

    #[test]
    fn close_payloads() {
        assert_eq!(parse_close(&[]), (None, String::new()));
        assert_eq!(parse_close(&[0x03, 0xE8, b'o', b'k']), (Some(1000), "ok".into()));
        assert_eq!(parse_close(&[0x03]), (None, String::new()));
    }
}
